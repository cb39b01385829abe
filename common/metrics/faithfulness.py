"""Faithfulness: does removing what a map calls important change the prediction?

All curves share one mechanism, :func:`removal_curve`: features (pixels, or any
flattened representation such as wavelet coefficients) are ranked by importance
per image, the top fraction is swapped between the original and a replacement,
and the model scores each partially replaced input. Deletion starts from the
image and removes the most important features first (a steep drop, low AUC, is
good); insertion starts from the replacement and restores them first (a quick
rise, high AUC, is good); AOPC (Samek et al. 2017) averages the score drop of
most-relevant-first perturbation; the DXAI curve subtracts beta times the
class-distinct part and records accuracy.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from common import budget

SCORES = ("probability", "logit", "correct")


def replacement(x: torch.Tensor, kind: str = "zero", sigma: float | None = None,
                seed: int = 0) -> torch.Tensor:
    """What removed pixels become: "zero", "mean" (per image and channel), "blur"
    (Gaussian, sigma = 1/16 of the side by default, as in RISE's insertion), "uniform"
    (U[0, 1] noise, Samek et al.'s perturbation) or "noise" (Gaussian with each image's
    mean and std). Random kinds draw one pattern from their own generator seeded with
    ``seed`` and use it for every image, so a score never depends on the batch.
    """
    if kind == "zero":
        return torch.zeros_like(x)
    if kind == "mean":
        return x.mean((2, 3), keepdim=True).expand_as(x).clone()
    if kind == "blur":
        return gaussian_blur(x, sigma or x.shape[-1] / 16)
    generator = torch.Generator(device=x.device).manual_seed(seed)
    shape = (1, *x.shape[1:])  # one draw shared by all images: independent of the batch
    if kind == "uniform":
        return torch.rand(shape, generator=generator, device=x.device, dtype=x.dtype).expand_as(x)
    if kind == "noise":
        mean, std = x.mean((1, 2, 3), keepdim=True), x.std((1, 2, 3), keepdim=True)
        return mean + std * torch.randn(shape, generator=generator, device=x.device,
                                        dtype=x.dtype)
    raise ValueError(f"unknown replacement {kind!r}; known: zero, mean, blur, uniform, noise")


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur with a kernel of +-3 sigma and reflected borders."""
    radius = max(1, min(int(3 * sigma + 0.5), x.shape[-1] // 2 - 1, x.shape[-2] // 2 - 1))
    offsets = torch.arange(-radius, radius + 1, device=x.device, dtype=x.dtype)
    kernel = torch.exp(-offsets**2 / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    channels = x.shape[1]
    padded = F.pad(x, (radius, radius, radius, radius), mode="reflect")
    rows = F.conv2d(padded, kernel.view(1, 1, 1, -1).repeat(channels, 1, 1, 1), groups=channels)
    return F.conv2d(rows, kernel.view(1, 1, -1, 1).repeat(channels, 1, 1, 1), groups=channels)


def importance_ranks(importance: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """Rank of every feature per image (0 = most important), ties broken at random.

    ``importance`` is (B, ...); ties are broken by a seeded random permutation so
    that constant maps give a random order rather than raster order.
    """
    flat = importance.flatten(1)
    generator = torch.Generator(device=flat.device).manual_seed(seed)
    shuffle = torch.randperm(flat.shape[1], generator=generator, device=flat.device)
    order = shuffle[flat[:, shuffle].argsort(dim=1, descending=True, stable=True)]
    ranks = torch.empty_like(order)
    ranks.scatter_(1, order, torch.arange(flat.shape[1], device=flat.device).expand_as(order))
    return ranks.view(importance.shape)


def target_scores(model: nn.Module, x: torch.Tensor, target: torch.Tensor,
                  score: str) -> torch.Tensor:
    """The model's target probability, target logit, or 1.0/0.0 for a correct top-1 prediction."""
    logits = model(x)
    if score == "logit":
        return logits.gather(1, target.view(-1, 1)).squeeze(1)
    if score == "probability":
        return logits.softmax(1).gather(1, target.view(-1, 1)).squeeze(1)
    if score == "correct":
        return (logits.argmax(1) == target).to(logits.dtype)
    raise ValueError(f"unknown score {score!r}; known: {SCORES}")


def removal_curve(model: nn.Module, original: torch.Tensor, ranks: torch.Tensor,
                  target: torch.Tensor, replaced: torch.Tensor, cutoffs: list[int],
                  score: str = "probability", render: Callable | None = None) -> torch.Tensor:
    """Scores (B, len(cutoffs)) as the features ranked below each cutoff are replaced.

    ``ranks`` (from :func:`importance_ranks`) has the shape of ``original`` or
    broadcasts to it: a one-channel pixel ranking moves all channels of a pixel
    together, and region ranks repeated over their pixels move whole regions.
    ``render`` maps a feature tensor to the model's input (identity for pixels, an
    inverse wavelet transform for coefficients). Insertion is the same curve with
    ``original`` and ``replaced`` exchanged. Each pass holds one chunk of the images at
    one cutoff, the chunk as large as the memory budget allows.
    """
    render = render or (lambda features: features)
    ranks = ranks.expand(len(original), *ranks.shape[1:])
    replaced = replaced.expand_as(original)
    curves = []
    with torch.no_grad():
        for cutoff in cutoffs:
            curves.append(torch.cat([
                target_scores(model, render(_removed(original[part], replaced[part],
                                                     ranks[part], cutoff)), target[part], score)
                for part in budget.image_chunks(len(original))]))
    return torch.stack(curves, dim=1)


def _removed(original: torch.Tensor, replaced: torch.Tensor, ranks: torch.Tensor,
             cutoff: int) -> torch.Tensor:
    """``original`` with the features ranked below ``cutoff`` taken from ``replaced``."""
    removed = (ranks < cutoff).to(original.dtype)
    return original * (1 - removed) + replaced * removed


def fraction_cutoffs(ranks: torch.Tensor, fractions: torch.Tensor) -> list[int]:
    """How many top-ranked features each fraction of one image's features is."""
    return [round(fraction * ranks[0].numel()) for fraction in fractions.tolist()]


def area_under_curve(curve: torch.Tensor, fractions: torch.Tensor) -> torch.Tensor:
    """Trapezoid area of each row of ``curve`` over ``fractions`` (per image)."""
    return torch.trapezoid(curve, fractions.to(curve), dim=1)


def pixel_importance(attribution: torch.Tensor) -> torch.Tensor:
    """One importance per pixel: the channel sum of the attribution (B, 1, H, W)."""
    return attribution.sum(1, keepdim=True)


def deletion_auc(model, x, attribution, target, steps: int = 20, replace: str = "zero",
                 score: str = "probability", seed: int = 0) -> torch.Tensor:
    """Area under the score as the most important pixels are removed first (lower is better).

    Petsiuk et al. (RISE) call this the deletion metric; with ``score="correct"``
    it is DXAI's Table 2 (accuracy vs number of pixels removed).
    """
    fractions = torch.linspace(0, 1, steps + 1, device=x.device)
    ranks = importance_ranks(pixel_importance(attribution), seed)
    curve = removal_curve(model, x, ranks, target, replacement(x, replace, seed=seed),
                          fraction_cutoffs(ranks, fractions), score)
    return area_under_curve(curve, fractions)


def insertion_auc(model, x, attribution, target, steps: int = 20, replace: str = "blur",
                  score: str = "probability", seed: int = 0) -> torch.Tensor:
    """Area under the score as the most important pixels are restored first (higher is better).

    Starts from the replacement (a blurred image, as Petsiuk et al.) and inserts
    the original's pixels in order of importance.
    """
    fractions = torch.linspace(0, 1, steps + 1, device=x.device)
    ranks = importance_ranks(pixel_importance(attribution), seed)
    curve = removal_curve(model, replacement(x, replace, seed=seed), ranks, target, x,
                          fraction_cutoffs(ranks, fractions), score)
    return area_under_curve(curve, fractions)


def region_ranks(attribution: torch.Tensor, patch: int, seed: int = 0) -> torch.Tensor:
    """Rank of each ``patch`` x ``patch`` region by summed relevance, repeated over its pixels."""
    pooled = F.avg_pool2d(pixel_importance(attribution), patch, ceil_mode=True)
    ranks = F.interpolate(importance_ranks(pooled, seed).float(), scale_factor=patch,
                          mode="nearest")
    return ranks[..., :attribution.shape[-2], :attribution.shape[-1]]


def aopc(model, x, attribution, target, steps: int = 100, patch: int = 9,
         replace: str = "uniform", score: str = "logit", seed: int = 0) -> torch.Tensor:
    """Area over the MoRF perturbation curve (Samek et al. 2017), higher is better.

    AOPC = 1/(L+1) sum_{k=0..L} f(x) - f(x_MoRF^(k)): regions of ``patch`` x ``patch``
    pixels (9 x 9 in the paper) ranked by summed relevance are replaced by uniform
    noise one region per step, for L = ``steps`` steps (capped at the number of
    regions); f is the target logit, the score the explanation methods explain.
    """
    ranks = region_ranks(attribution, patch, seed)
    steps = min(steps, int(ranks.max()) + 1)
    curve = removal_curve(model, x, ranks, target, replacement(x, replace, seed=seed),
                          list(range(steps + 1)), score)
    return (curve[:, :1] - curve).mean(1)


def decomposition_auc(model, x, distinct, target, betas: torch.Tensor | None = None,
                      score: str = "correct") -> torch.Tensor:
    """DXAI's Table 1 metric: area under accuracy of x - beta * x_distinct, beta = 0..1.

    Per image this is the area under its 0/1 correctness, so the batch mean is
    the AUC of accuracy vs beta (lower is better: removing the class-distinct
    part should destroy the evidence for the class). Beta steps of 0.1 as in the paper.
    """
    betas = torch.linspace(0, 1, 11, device=x.device) if betas is None else betas.to(x.device)
    with torch.no_grad():
        curve = torch.stack([
            torch.cat([target_scores(model, x[part] - beta * distinct[part], target[part], score)
                       for part in budget.image_chunks(len(x))])
            for beta in betas.tolist()], dim=1)
    return area_under_curve(curve, betas)


def distinct_part(attribution: torch.Tensor, x: torch.Tensor,
                  reference: float = 0.0) -> torch.Tensor:
    """A heatmap as a DXAI-style decomposition: x_distinct = (attr / max|attr|) * (x - reference).

    What :func:`decomposition_auc` scores of a heatmap. The normalisation is per
    image; a one-channel map is broadcast over the image's channels; x - x_distinct
    is the agnostic part. ``reference`` is the value a fully removed pixel tends to:
    the DXAI authors work on images in [-1, 1] and scale x itself, so on [0, 1]
    images their decomposition is ``reference=0.5`` (grey); 0 (black) is the paper's
    formula read on [0, 1].
    """
    peak = attribution.abs().amax(dim=(1, 2, 3), keepdim=True).clamp(min=1e-12)
    return attribution / peak * (x - reference)
