"""Keep or randomise the most relevant coefficients: the rate-distortion curves of Fig. 7.

A mask ranks the coefficient positions of its representation: CartoonX's wavelet
masks (``RDEResult.masks`` with ``Wavelet``), Pixel RDE's mask, or any other
method's (B, 1, H, W) heatmap used as a pixel mask (with ``Pixels``). Fig. 7a keeps
the top fraction of positions and randomises the rest (``keep_top``); Fig. 7b
randomises the top fraction and keeps the rest (``randomise_top``). A position
keeps or loses all its colour channels together, like the RDE masks, and the
randomised positions get the same adaptive noise as during the optimisation
(``rde.sample_noise``). Ties are ranked in a random order drawn from the given
generator, so a constant mask gives the random-ordering baseline of Fig. 7.
``distortion_curves`` measures a method's curves (the softmax l2 distortion of
Fig. 7, per image, averaged over noise draws); ``components_per_pixel`` says how
many positions a representation ranks per pixel of the image, the factor between
its fractions and a budget of kept components per pixel.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import torch
from torch import Tensor, nn

from papers.cartoonx.evaluation import softmax_l2, softmax_outputs
from papers.cartoonx.rde import obfuscate, sample_noise
from papers.cartoonx.representations import Representation

Masks = Tensor | Sequence[Tensor]


def _as_parts(masks: Masks) -> list[Tensor]:
    """A single mask tensor as a one-part list."""
    return [masks] if isinstance(masks, Tensor) else list(masks)


def rank_positions(masks: Masks, generator: torch.Generator) -> Tensor:
    """Flat indices (B, k) of all mask entries, highest mask value first, ties in random order.

    The entries of the parts are concatenated in order, each flattened. One random
    permutation (shared by the batch) sets the order among equal values.
    """
    values = torch.cat([mask.flatten(1) for mask in _as_parts(masks)], 1)
    shuffle = torch.randperm(values.shape[1], generator=generator, device=values.device)
    order = values[:, shuffle].argsort(dim=1, descending=True, stable=True)
    return shuffle[order]


def top_selection(masks: Masks, fraction: float, generator: torch.Generator) -> list[Tensor]:
    """Binary masks, shaped like ``masks``, selecting the top round(fraction * k) positions."""
    parts = _as_parts(masks)
    ranking = rank_positions(parts, generator)
    count = round(min(max(fraction, 0.0), 1.0) * ranking.shape[1])
    chosen = torch.zeros(ranking.shape, dtype=parts[0].dtype, device=ranking.device)
    chosen.scatter_(1, ranking[:, :count], 1.0)
    sizes = [mask[0].numel() for mask in parts]
    return [piece.view(mask.shape) for piece, mask in zip(chosen.split(sizes, 1), parts,
                                                           strict=True)]


def _obfuscate_selection(x: Tensor, keep: Sequence[Tensor], generator: torch.Generator,
                         representation: Representation, perturbation: str) -> Tensor:
    """x with its unkept positions replaced by one draw of adaptive noise, (B, C, H, W)."""
    parts = representation.analyse(x)
    for mask, part in zip(keep, parts, strict=True):
        if mask.shape != (part.shape[0], 1, *part.shape[2:]):
            raise ValueError(f"mask of shape {tuple(mask.shape)} does not fit coefficients "
                             f"of shape {tuple(part.shape)}")
    noise = sample_noise(parts, 1, perturbation, generator)
    return obfuscate(parts, keep, noise, representation, x.shape[-2:])


@torch.no_grad()
def keep_top(x: Tensor, masks: Masks, fraction: float, rng: torch.Generator,
             representation: Representation, perturbation: str = "gaussian") -> Tensor:
    """Fig. 7a: keep the top ``fraction`` of positions by mask value, randomise the rest."""
    keep = top_selection(masks, fraction, rng)
    return _obfuscate_selection(x, keep, rng, representation, perturbation)


@torch.no_grad()
def randomise_top(x: Tensor, masks: Masks, fraction: float, rng: torch.Generator,
                  representation: Representation, perturbation: str = "gaussian") -> Tensor:
    """Fig. 7b: randomise the top ``fraction`` of positions by mask value, keep the rest."""
    keep = [1 - chosen for chosen in top_selection(masks, fraction, rng)]
    return _obfuscate_selection(x, keep, rng, representation, perturbation)


CURVES = {"keep": keep_top, "randomise": randomise_top}


def components_per_pixel(masks: Masks, size: tuple[int, int]) -> float:
    """Positions the masks rank per pixel of an image of ``size`` (H, W): 1 for pixels,
    about 1.07 for db3 with five levels at 256 px (zero padding adds coefficients)."""
    return sum(mask[0].numel() for mask in _as_parts(masks)) / (size[0] * size[1])


def distortion_curves(model: nn.Module, x: Tensor, masks: Masks, representation: Representation,
                      fractions: Sequence[float], draws: int, seed: int,
                      perturbation: str = "gaussian",
                      curves: Sequence[str] = tuple(CURVES)) -> list[dict]:
    """Rows (curve, fraction, image, distortion): Fig. 7a ("keep") and 7b ("randomise").

    Each point is the softmax l2 distortion averaged over ``draws`` obfuscations,
    the positions that are not kept replaced by ``perturbation`` noise; every
    point draws from a generator seeded with ``seed``. The model's outputs for the
    original images are computed once for all points.
    """
    rows = []
    masks = [mask.to(x.device) for mask in _as_parts(masks)]
    reference = softmax_outputs(model, x)
    for curve in curves:
        for fraction in fractions:
            generator = torch.Generator(device=x.device).manual_seed(seed)
            total = torch.zeros(len(x), device=x.device)
            for _ in range(draws):
                total += softmax_l2(model, reference, CURVES[curve](
                    x, masks, fraction, generator, representation, perturbation))
            rows += [{"curve": curve, "fraction": fraction, "image": image, "distortion": value}
                     for image, value in enumerate((total / draws).tolist())]
    return rows


def summarise(rows: Sequence[dict], keys: Sequence[str]) -> pd.DataFrame:
    """Mean, standard error and count of the distortion over images, per ``keys``."""
    return (pd.DataFrame(rows).groupby(list(keys))["distortion"]
            .agg(mean="mean", sem="sem", n="count").reset_index())
