"""LIME for images (Ribeiro et al. 2016): a weighted ridge fit on superpixel on/off samples.

For each image: segment it into superpixels; draw binary vectors z over the
superpixels (the first one all ones, the image itself); replace the switched-off
superpixels by a baseline; weight each sample by LIME's kernel on its cosine
distance to the all-ones vector; fit ``Ridge(alpha=1)`` with an intercept of the
model's target probability on z; paint every superpixel with its coefficient.

This follows the reference implementation (``lime/lime_image.py`` and
``lime/lime_base.py``, ``LimeImageExplainer``) with its defaults: 1000 samples,
``hide_color=None`` (each superpixel replaced by its mean colour), cosine
distance, kernel ``sqrt(exp(-d**2 / 0.25**2))`` as the sample weight, and
``Ridge(alpha=1, fit_intercept=True)`` on all superpixels. (LIME's default
``num_features=100000`` makes its ``feature_selection='auto'`` pick
``highest_weights``, which keeps every superpixel, so its final fit is this one.)

Deviations, each for a stated reason:

* Superpixels come from SLIC by default, not LIME's quickshift
  (``kernel_size=4, max_dist=200, ratio=0.2``): those quickshift parameters are
  tuned for 224-pixel ImageNet photographs and give one or two segments on a
  32-pixel image, while SLIC takes a segment count and so scales to any size
  (Captum's image tutorial also explains on SLIC-like feature masks).
  ``segmentation="quickshift"`` restores LIME's default for paper-scale runs.
* The given ``target`` is explained, not LIME's ``top_labels=5`` labels: the
  repository's contract is one map per image and target.
* Random numbers come from a seeded ``torch.Generator`` (LIME: numpy's
  ``randint(0, 2)``, i.e. ``keep=0.5``); every image gets the same stream.
* The ridge problem is solved in closed form in float64, batched over images,
  on the input's device (sklearn solves the same normal equations per image).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from common import budget

# LIME's default segmentation: SegmentationAlgorithm('quickshift', kernel_size=4, max_dist=200,
# ratio=0.2) in LimeImageExplainer.explain_instance.
QUICKSHIFT_DEFAULTS = {"kernel_size": 4, "max_dist": 200, "ratio": 0.2}


def _segment(image: np.ndarray, method: str, segments: int, compactness: float,
             seed: int) -> np.ndarray:
    """Segment ids of one (H, W, C) image in [0, 1]; a grey image is made RGB as LIME does."""
    from skimage.segmentation import quickshift, slic

    if image.shape[-1] == 1:
        image = np.repeat(image, 3, axis=-1)  # LIME calls skimage's gray2rgb on 2-D images
    if method == "slic":
        return slic(image, n_segments=segments, compactness=compactness, start_label=0,
                    channel_axis=-1)
    if method == "quickshift":
        return quickshift(image, **QUICKSHIFT_DEFAULTS, rng=seed, channel_axis=-1,
                          convert2lab=image.shape[-1] == 3)
    raise ValueError(f"unknown segmentation {method!r}; use 'slic', 'quickshift' or a tensor")


def relabel(segmentation: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Segment ids made 0..n-1 per image (B, H, W), and each image's count n (B,)."""
    labels = [torch.unique(ids, return_inverse=True) for ids in segmentation]
    ids = torch.stack([inverse for _, inverse in labels]).long()
    return ids, torch.tensor([len(values) for values, _ in labels], device=ids.device)


def superpixels(x: torch.Tensor, segments: int = 50, compactness: float = 10.0,
                method: str = "slic", seed: int = 0) -> torch.Tensor:
    """Superpixels of every image of ``x`` (B, C, H, W): (B, H, W) ids 0..n-1 on x's device.

    ``method="slic"`` asks for about ``segments`` segments with skimage's SLIC
    (``compactness`` trades colour for space; 10 is skimage's default, meant for
    Lab colours, into which SLIC converts RGB). ``"quickshift"`` uses LIME's
    default parameters and ignores ``segments`` and ``compactness``; ``seed``
    breaks its ties. Both run on CPU numpy and are deterministic. Images are
    clipped to [0, 1], the range skimage's Lab conversion expects, for the
    segmentation only.
    """
    images = x.detach().clamp(0, 1).permute(0, 2, 3, 1).cpu().double().numpy()
    ids = [torch.from_numpy(_segment(image, method, segments, compactness, seed))
           for image in images]
    return relabel(torch.stack(ids).to(x.device))[0]


def coalitions(count: int, samples: int, keep: float = 0.5, seed: int = 0) -> torch.Tensor:
    """LIME's samples: (samples, count) binary float64 rows, the first all ones (the image).

    Drawn column by column from a CPU generator seeded with ``seed`` (which fills
    tensors serially), so superpixel j gets the same column whatever ``count`` is:
    an image's samples do not depend on the other images of its batch.
    """
    generator = torch.Generator().manual_seed(seed)
    z = (torch.rand(count, samples, generator=generator) < keep).double().T.contiguous()
    z[0] = 1
    return z


def kernel_weights(z: torch.Tensor, counts: torch.Tensor, kernel_width: float) -> torch.Tensor:
    """LIME's sample weights sqrt(exp(-d^2 / width^2)) for z (B, S, M) with padding zeros.

    d is sklearn's cosine distance between z and the all-ones vector over the
    image's ``counts`` superpixels: 1 - k / sqrt(k n) = 1 - sqrt(k / n) for k ones
    (1 for the empty coalition, as sklearn's zero-norm handling gives).
    """
    distance = 1 - torch.sqrt(z.sum(2) / counts.unsqueeze(1).to(z.dtype))
    return torch.sqrt(torch.exp(-distance ** 2 / kernel_width ** 2))


def weighted_ridge(z: torch.Tensor, y: torch.Tensor, weights: torch.Tensor,
                   alpha: float = 1.0) -> torch.Tensor:
    """Coefficients (B, M) of sklearn's ``Ridge(alpha, fit_intercept=True)`` with sample weights.

    As sklearn does: centre z (B, S, M) and y (B, S) on their weighted means (the
    intercept is not penalised), then solve (Zc' W Zc + alpha I) b = Zc' W yc. An
    all-zero (padding) column gets b = 0 exactly from the alpha I term.
    """
    total = weights.sum(1, keepdim=True)
    z_centred = z - (weights.unsqueeze(2) * z).sum(1, keepdim=True) / total.unsqueeze(2)
    y_centred = y - (weights * y).sum(1, keepdim=True) / total
    weighted = weights.unsqueeze(2) * z_centred
    eye = torch.eye(z.shape[2], dtype=z.dtype, device=z.device)
    gram = weighted.transpose(1, 2) @ z_centred + alpha * eye
    return torch.linalg.solve(gram, (weighted.transpose(1, 2) @ y_centred.unsqueeze(2)))[..., 0]


def fill(x: torch.Tensor, ids: torch.Tensor, counts: torch.Tensor,
         baseline: str | float) -> torch.Tensor:
    """What a switched-off superpixel shows: its mean colour (``"mean"``, LIME's
    ``hide_color=None``) or a constant (LIME's ``hide_color=value``)."""
    if isinstance(baseline, str) and baseline != "mean":
        raise ValueError(f"baseline must be 'mean' or a number, not {baseline!r}")
    if baseline != "mean":
        return torch.full_like(x, float(baseline))
    flat = ids.flatten(1)
    ones = torch.ones_like(flat, dtype=x.dtype)
    sizes = x.new_zeros(len(x), int(counts.max())).scatter_add_(1, flat, ones).clamp(min=1)
    flat = flat.unsqueeze(1).expand(-1, x.shape[1], -1)
    sums = x.new_zeros(len(x), x.shape[1], sizes.shape[1]).scatter_add_(2, flat, x.flatten(2))
    return (sums / sizes.unsqueeze(1)).gather(2, flat).view_as(x)


def responses(model: nn.Module, x: torch.Tensor, hidden: torch.Tensor, ids: torch.Tensor,
              z: torch.Tensor, target: torch.Tensor, output: str) -> torch.Tensor:
    """The model's target probability (or logit) on every perturbed image: (B, S) float64.

    Sample s of image b shows x where z[b, s, segment] is 1 and ``hidden`` elsewhere;
    As many samples of every image go through the model at once as the memory budget
    allows (:mod:`common.budget`).
    """
    if output not in ("probability", "logit"):
        raise ValueError(f"output must be 'probability' or 'logit', not {output!r}")
    flat = ids.flatten(1)
    scores = []
    with torch.no_grad():
        for chunk in z.transpose(0, 1).split(budget.copies_per_pass(len(x))):  # (s, B, M)
            on = chunk.gather(2, flat.expand(len(chunk), -1, -1)).bool()
            probed = torch.where(on.view(len(chunk), len(x), 1, *x.shape[2:]), x, hidden)
            out = model(probed.flatten(0, 1))
            out = out.softmax(1) if output == "probability" else out
            picked = out.view(len(chunk), len(x), -1).gather(
                2, target.view(1, -1, 1).expand(len(chunk), -1, 1))
            scores.append(picked[..., 0])
    return torch.cat(scores).T.double()


def lime(model: nn.Module, x: torch.Tensor, target: torch.Tensor, samples: int = 1000,
         segments: int = 50, keep: float = 0.5, kernel_width: float = 0.25,
         baseline: str | float = "mean", segmentation: str | torch.Tensor = "slic",
         compactness: float = 10.0, alpha: float = 1.0, output: str = "probability",
         seed: int = 0) -> torch.Tensor:
    """LIME's superpixel coefficients painted over each image: (B, 1, H, W) on x's device.

    ``samples`` (LIME: ``num_samples=1000``) binary vectors per image, each
    superpixel on with probability ``keep`` (LIME: 0.5), the first vector all
    ones; ``baseline`` "mean" (LIME's ``hide_color=None``) or a fill value;
    ``kernel_width`` 0.25 and ``alpha`` 1 as LIME. ``segmentation`` is "slic"
    (about ``segments`` superpixels, ``compactness``), "quickshift" (LIME's
    default) or precomputed (B, H, W) ids. ``output`` "probability" explains the
    softmax probability as LIME explains ``predict_proba``; "logit" the logit.
    Images with fewer superpixels than the batch's most are padded with all-zero
    columns, whose coefficient is 0 (so ``alpha`` must be positive) and which are
    never painted.
    """
    if isinstance(segmentation, str):
        segmentation = superpixels(x, segments, compactness, segmentation, seed)
    ids, counts = relabel(segmentation.to(x.device))
    width = int(counts.max())
    real = torch.arange(width, device=x.device) < counts.unsqueeze(1)  # (B, M), False = padding
    z = coalitions(width, samples, keep, seed).to(x.device).unsqueeze(0) * real.unsqueeze(1)
    y = responses(model, x, fill(x, ids, counts, baseline), ids, z, target, output)
    coefficients = weighted_ridge(z, y, kernel_weights(z, counts, kernel_width), alpha)
    return coefficients.gather(1, ids.flatten(1)).view(len(x), 1, *x.shape[2:]).to(x.dtype)
