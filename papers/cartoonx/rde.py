"""CartoonX and Pixel RDE: rate-distortion explanations (Kolek et al., 2022, Algorithm 1).

Both methods optimise a mask s in [0, 1]^k on a representation x = f(h) of the
image (Definition 3 of the paper):

    min_s  E_v[ d(Phi(x), Phi(clamp(f(s * h + (1 - s) * v), 0, 1))) ] + lambda ||s||_1 / k

with Adam, clamping s back into [0, 1] after every step, from s = 1. CartoonX
takes h = the DWT coefficients of x (``Wavelet``), Pixel RDE the pixels
(``Pixels``); one mask entry covers all colour channels of its position. One
loop (``explain_rde``) serves both: a representation only says how to analyse,
synthesise and visualise. The model takes images in [0, 1] and normalises them
itself.

Choices where the paper is silent or loose, and why:

- The paper's J = 5 scales (at 256 px) is the most a transform uses: a smaller
  image gets only as many as its side supports (``Wavelet.levels_for``, PyWavelets'
  dwt_max_level rule), so that small images are not decomposed into coefficients
  of the zero padding.
- ``sparsity`` is the paper's "lambda k": the l1 term is lambda ||s||_1 / k with
  k the number of mask entries of one image (the authors' code divides by k too).
- Adaptive Gaussian noise (Eq. 5, population std) has one partition per part of
  the representation: yl, and each DWT level over its channels and three
  orientations; for Pixel RDE all pixels and channels of the image.
- ``perturbation="uniform"`` draws U[mu - sigma, mu + sigma] per partition, as in
  the authors' ECCV-era code (the paper never defines it). The range [min, max]
  of the coefficients was rejected: detail coefficients are heavy-tailed, so that
  range spans many standard deviations and would destroy far more than the
  Gaussian noise it is meant to be an alternative to.
- Distortions (Sec. 4.1, Fig. 8d), with p the softmax and c the explained label:
  "label" (p_c(x) - p_c(y))^2 (paper default); "maximize" (1 - p_c(y))^2, i.e.
  d = |p_c(y) - 1| of Fig. 8d squared as in Algorithm 1 and the authors' code
  (rather than -p_c(y), whose minimum is not zero); "l2" ||p(x) - p(y)||_2,
  unsquared as in the authors' code and Fig. 7; "kl" KL(p(y) || p(x)), the
  direction of the authors' code. Each is averaged over the L noise samples.
- The standard draws behind the noise are shared by the images of a batch, each
  image scaling them by its own mean and std, so an image's explanation does not
  depend on the batch it is in. Images are optimised independently: the loss is
  the sum of the images' losses and Adam updates each entry on its own gradient.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import Any

import torch
from torch import Tensor, nn
from tqdm import tqdm

from common import budget
from papers.cartoonx.representations import Pixels, Representation, Size, Wavelet

PERTURBATIONS = ("gaussian", "uniform", "zero")


# --------------------------------------------------------------------------- distortion


def _label_probability(log_probs: Tensor, labels: Tensor) -> Tensor:
    """p_c(y) for each image's label c: (B, L) from log-probabilities (B, L, K)."""
    index = labels.view(-1, 1, 1).expand(-1, log_probs.shape[1], 1)
    return log_probs.gather(2, index).squeeze(2).exp()


def _label(log_probs, reference, labels):
    """(p_c(x) - p_c(y))^2: the paper's default."""
    reference_probability = reference.gather(1, labels.view(-1, 1)).exp()
    return (reference_probability - _label_probability(log_probs, labels)) ** 2


def _maximize(log_probs, reference, labels):
    """(1 - p_c(y))^2: pushes the label's probability up (Fig. 8d (2))."""
    return (1 - _label_probability(log_probs, labels)) ** 2


def _l2(log_probs, reference, labels):
    """||p(x) - p(y)||_2 over all classes."""
    return torch.linalg.vector_norm(log_probs.exp() - reference.exp().unsqueeze(1), dim=-1)


def _kl(log_probs, reference, labels):
    """KL(p(y) || p(x)), from log-probabilities (stable where p underflows)."""
    return (log_probs.exp() * (log_probs - reference.unsqueeze(1))).sum(-1)


DISTORTIONS: dict[str, Callable[[Tensor, Tensor, Tensor], Tensor]] = {
    "label": _label, "l2": _l2, "kl": _kl, "maximize": _maximize}


def distortion(logits: Tensor, reference: Tensor, labels: Tensor, kind: str) -> Tensor:
    """d(Phi(x), Phi(y)) per image and sample, (B, L).

    ``logits`` (B, L, K) of the obfuscations, ``reference`` (B, K) the
    log-probabilities of the images, ``labels`` (B,) the explained classes.
    """
    return DISTORTIONS[kind](logits.log_softmax(-1), reference, labels)


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class RDEConfig:
    """Settings of one RDE optimisation; the defaults are the paper's (Sec. 5.2).

    Paper scale: Adam with ``lr`` 1e-3, L = ``samples`` = 64 noise samples,
    N = ``steps`` = 2000 on 256 x 256 images (resize before calling); ``sparsity``
    ("lambda k") in [20, 80] for CartoonX and [3, 20] for Pixel RDE, so the
    default 20 lies in both ranges; db3 wavelet, J = 5 scales, zero padding
    (``wavelet``, ``levels`` and ``mode`` are ignored by Pixel RDE). ``levels`` is
    the most scales: smaller images get fewer (``Wavelet.levels_for``), 5 at 256 px.
    How many images and noise samples go through the model at once is the memory
    budget's (:mod:`common.budget`), not a setting: it does not change the result.
    ``progress`` shows a tqdm bar.
    """

    sparsity: float = 20.0
    steps: int = 2000
    samples: int = 64
    lr: float = 1e-3
    perturbation: str = "gaussian"
    distortion: str = "label"
    wavelet: str = "db3"
    levels: int = 5
    mode: str = "zero"
    seed: int = 0
    progress: bool = True

    def __post_init__(self):
        for name, value, known in (("perturbation", self.perturbation, PERTURBATIONS),
                                   ("distortion", self.distortion, tuple(DISTORTIONS))):
            if value not in known:
                raise ValueError(f"unknown {name} {value!r}; known: {known}")
        for name, low in (("steps", 0), ("samples", 1), ("levels", 1)):
            if getattr(self, name) < low:
                raise ValueError(f"{name} must be at least {low}, got {getattr(self, name)}")
        if self.lr <= 0 or self.sparsity < 0:
            raise ValueError(f"need lr > 0 and sparsity >= 0, got {self.lr}, {self.sparsity}")


def config_from_dict(settings: Mapping[str, Any]) -> RDEConfig:
    """An ``RDEConfig`` from a plain dict (a config slice); unknown keys are errors."""
    known = sorted(field.name for field in fields(RDEConfig))
    unknown = sorted(set(settings) - set(known))
    if unknown:
        raise KeyError(f"unknown CartoonX/RDE setting(s) {unknown}; known: {known}")
    return RDEConfig(**settings)


# --------------------------------------------------------------------------- noise


def noise_statistics(parts: Sequence[Tensor]) -> list[tuple[Tensor, Tensor]]:
    """Per image, the mean and population std (Eq. 5) of each part, each of shape (B,)."""
    return [(part.flatten(1).mean(1), part.flatten(1).std(1, correction=0)) for part in parts]


def _noise_affine(parts: Sequence[Tensor], perturbation: str) -> list[tuple[Tensor, Tensor]]:
    """(loc, scale) per part with noise = loc + scale * standard draw, per image (B,)."""
    statistics = noise_statistics(parts)
    if perturbation == "gaussian":
        return statistics
    if perturbation == "uniform":
        return [(mean - std, 2 * std) for mean, std in statistics]
    return [(torch.zeros_like(mean), torch.zeros_like(std)) for mean, std in statistics]


def standard_draws(parts: Sequence[Tensor], samples: int, perturbation: str,
                   generator: torch.Generator) -> list[Tensor]:
    """Standard draws (samples, C, *positions) per part, shared by the images of a batch.

    N(0, 1) for "gaussian", U[0, 1) for "uniform", zeros for "zero" (which draws
    nothing from the generator).
    """
    shapes = [(samples, *part.shape[1:]) for part in parts]
    options = {"device": parts[0].device, "dtype": parts[0].dtype}
    if perturbation == "zero":
        return [torch.zeros(shape, **options) for shape in shapes]
    draw = torch.randn if perturbation == "gaussian" else torch.rand
    return [draw(shape, generator=generator, **options) for shape in shapes]


def scale_draws(draws: Sequence[Tensor], affine: Sequence[tuple[Tensor, Tensor]]) -> list[Tensor]:
    """Each image's noise (B, samples, C, *positions): its loc + scale * the shared draws."""
    noise = []
    for draw, (loc, scale) in zip(draws, affine, strict=True):
        shape = (len(loc),) + (1,) * draw.dim()
        noise.append(loc.view(shape) + scale.view(shape) * draw.unsqueeze(0))
    return noise


def sample_noise(parts: Sequence[Tensor], samples: int, perturbation: str,
                 generator: torch.Generator) -> list[Tensor]:
    """``samples`` perturbations v per image and part, (B, samples, C, *positions)."""
    draws = standard_draws(parts, samples, perturbation, generator)
    return scale_draws(draws, _noise_affine(parts, perturbation))


def obfuscate(parts: Sequence[Tensor], masks: Sequence[Tensor], noise: Sequence[Tensor],
              representation: Representation, size: Size) -> Tensor:
    """Obfuscations clamp(f(s * h + (1 - s) * v), 0, 1), (B * samples, C, H, W), image-major."""
    mixed = [mask.unsqueeze(1) * part.unsqueeze(1) + (1 - mask.unsqueeze(1)) * perturbation
             for part, mask, perturbation in zip(parts, masks, noise, strict=True)]
    return representation.synthesise([m.flatten(0, 1) for m in mixed], size).clamp(0, 1)


def normalised_l1(masks: Sequence[Tensor]) -> Tensor:
    """||s||_1 / k per image (B,), k the number of mask entries of one image."""
    total = sum(mask.abs().flatten(1).sum(1) for mask in masks)
    return total / sum(mask[0].numel() for mask in masks)


# --------------------------------------------------------------------------- optimisation


@dataclass
class RDEResult:
    """What one RDE run returns, every tensor on the device of x.

    ``masks``: one per part, (B, 1, *positions): CartoonX [yl, yh_1, ..., yh_J],
    Pixel RDE [pixels]. ``explanation``: (B, 1, H, W) in [0, 1]. ``distortion`` and
    ``l1``: (steps, B), the distortion estimate and ||s||_1 / k of the mask that
    step ``i`` started from (Fig. 7c). ``labels``: (B,) the explained classes.
    """

    masks: list[Tensor]
    explanation: Tensor
    distortion: Tensor
    l1: Tensor
    labels: Tensor
    representation: Representation

    @property
    def yl_mask(self) -> Tensor:
        """CartoonX's mask on the coarsest approximation coefficients, (B, 1, h, w)."""
        return self.masks[0]

    @property
    def yh_masks(self) -> list[Tensor]:
        """CartoonX's masks on the detail coefficients, finest first, (B, 1, 3, h_j, w_j)."""
        return self.masks[1:]


@dataclass
class _Problem:
    """What the optimisation needs to know about the images, computed once."""

    parts: list[Tensor]
    affine: list[tuple[Tensor, Tensor]]
    reference: Tensor
    labels: Tensor
    size: Size


@contextmanager
def _frozen(model: nn.Module) -> Iterator[None]:
    """Eval mode and no parameter gradients inside; every module's mode and flag restored."""
    modes = [module.training for module in model.modules()]
    flags = [parameter.requires_grad for parameter in model.parameters()]
    model.eval().requires_grad_(False)
    try:
        yield
    finally:
        for module, mode in zip(model.modules(), modes, strict=True):
            module.training = mode
        for parameter, flag in zip(model.parameters(), flags, strict=True):
            parameter.requires_grad_(flag)


def _prepare(model: nn.Module, x: Tensor, representation: Representation, perturbation: str,
             target: Tensor | int | None) -> _Problem:
    """Coefficients, noise parameters, reference log-probabilities and labels of x."""
    with torch.no_grad():
        parts = representation.analyse(x)
        reference = model(x).log_softmax(-1)
    if target is None:
        labels = reference.argmax(1)
    else:
        labels = torch.as_tensor(target, device=x.device).long().expand(len(x))
    return _Problem(parts, _noise_affine(parts, perturbation), reference, labels, x.shape[-2:])


def _distortion_estimate(model: nn.Module, problem: _Problem, masks: Sequence[Tensor],
                         draws: Sequence[Tensor], representation: Representation,
                         config: RDEConfig, backward: bool) -> Tensor:
    """Mean distortion over the draws per image (B,), as many draws at a time as the memory
    budget allows for B images.

    With ``backward`` each chunk's share of the summed loss is back-propagated at
    once, so that memory holds one chunk's graph while the gradient equals that of
    the whole estimate.
    """
    samples = draws[0].shape[0]
    chunk = budget.copies_per_pass(len(problem.labels))
    total = torch.zeros_like(problem.labels, dtype=problem.reference.dtype)
    for start in range(0, samples, chunk):
        noise = scale_draws([draw[start:start + chunk] for draw in draws], problem.affine)
        images = obfuscate(problem.parts, masks, noise, representation, problem.size)
        logits = model(images).view(len(total), -1, problem.reference.shape[1])
        share = distortion(logits, problem.reference, problem.labels, config.distortion)
        share = share.sum(1) / samples
        if backward:
            share.sum().backward()
        total += share.detach()
    return total


def explain_rde(model: nn.Module, x: Tensor, representation: Representation,
                config: RDEConfig, target: Tensor | int | None = None) -> RDEResult:
    """Algorithm 1 on any representation for images x (B, C, H, W) in [0, 1].

    ``target``: the class whose output is preserved (default: each image's
    predicted label). Seeded by ``config.seed`` through an own generator on the
    device of x; the model is used in eval mode and left as it came. The images are
    optimised in chunks that fit the memory budget; every chunk sees the same noise
    draws, so an image's explanation does not depend on its chunk.
    """
    results = [_explain_chunk(model, x[part], representation, config, _part_of(target, part))
               for part in budget.image_chunks(len(x))]
    return RDEResult(
        [torch.cat(masks) for masks in zip(*(result.masks for result in results), strict=True)],
        torch.cat([result.explanation for result in results]),
        torch.cat([result.distortion for result in results], dim=1),
        torch.cat([result.l1 for result in results], dim=1),
        torch.cat([result.labels for result in results]), representation)


def _part_of(target: Tensor | int | None, part: slice) -> Tensor | int | None:
    """The targets of the images in ``part`` (a per-image tensor is sliced, a class kept)."""
    if isinstance(target, Tensor) and target.dim() > 0:
        return target[part]
    return target


def _explain_chunk(model: nn.Module, x: Tensor, representation: Representation,
                   config: RDEConfig, target: Tensor | int | None) -> RDEResult:
    """Algorithm 1 for images that fit the memory budget together (see :func:`explain_rde`)."""
    generator = torch.Generator(device=x.device).manual_seed(config.seed)
    with _frozen(model):
        problem = _prepare(model, x, representation, config.perturbation, target)
        masks = [torch.ones(len(x), 1, *part.shape[2:], device=x.device, dtype=x.dtype,
                            requires_grad=True) for part in problem.parts]
        optimiser = torch.optim.Adam(masks, lr=config.lr)
        history = torch.zeros(2, config.steps, len(x), device=x.device)
        for step in tqdm(range(config.steps), desc=type(representation).__name__ + " RDE",
                         disable=not config.progress):
            optimiser.zero_grad()
            draws = standard_draws(problem.parts, config.samples, config.perturbation, generator)
            history[0, step] = _distortion_estimate(model, problem, masks, draws,
                                                    representation, config, backward=True)
            l1 = normalised_l1(masks)
            (config.sparsity * l1).sum().backward()
            history[1, step] = l1.detach()
            optimiser.step()
            with torch.no_grad():
                for mask in masks:
                    mask.clamp_(0, 1)
    masks = [mask.detach() for mask in masks]
    with torch.no_grad():
        explanation = representation.visualise(masks, x)
    return RDEResult(masks, explanation, history[0], history[1], problem.labels, representation)


def expected_distortion(model: nn.Module, x: Tensor, masks: Sequence[Tensor],
                        representation: Representation, config: RDEConfig,
                        target: Tensor | int | None = None) -> Tensor:
    """Monte-Carlo estimate (B,) of D(x, s, V, Phi) with ``config.samples`` fresh draws,
    the images in chunks that fit the memory budget (each chunk with the same draws)."""
    return torch.cat([_expected_distortion_chunk(model, x[part], [mask[part] for mask in masks],
                                                 representation, config, _part_of(target, part))
                      for part in budget.image_chunks(len(x))])


def _expected_distortion_chunk(model, x, masks, representation, config, target) -> Tensor:
    generator = torch.Generator(device=x.device).manual_seed(config.seed)
    with _frozen(model), torch.no_grad():
        problem = _prepare(model, x, representation, config.perturbation, target)
        draws = standard_draws(problem.parts, config.samples, config.perturbation, generator)
        return _distortion_estimate(model, problem, masks, draws, representation, config,
                                    backward=False)


def representation_for(method: str, config: RDEConfig) -> Representation:
    """The representation of "cartoonx" (the configured DWT) or "pixel_rde" (pixels)."""
    if method == "cartoonx":
        return Wavelet(config.wavelet, config.levels, config.mode)
    if method == "pixel_rde":
        return Pixels()
    raise KeyError(f"unknown RDE method {method!r}; known: ['cartoonx', 'pixel_rde']")


def cartoonx(model: nn.Module, x: Tensor, config: RDEConfig | None = None,
             target: Tensor | int | None = None) -> RDEResult:
    """CartoonX: RDE on the DWT coefficients; the explanation is the masked greyscale image."""
    config = config or RDEConfig()
    return explain_rde(model, x, representation_for("cartoonx", config), config, target)


def pixel_rde(model: nn.Module, x: Tensor, config: RDEConfig | None = None,
              target: Tensor | int | None = None) -> RDEResult:
    """Pixel RDE (Macdonald et al.): RDE on the pixels; the explanation is the mask."""
    config = config or RDEConfig()
    return explain_rde(model, x, representation_for("pixel_rde", config), config, target)
