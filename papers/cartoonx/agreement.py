"""How alike two RDE explanations are, beside the agreement of masks that carry no information.

Fig. 8 of Kolek et al. (2022) compares explanations under other settings: lambda
(CartoonX against Pixel RDE), the mother wavelet, the distortion measure. The
Pearson correlation (PCC) of two explanations is read here in one of two views,
each defined alike for every representation:

- ``"kept"``: what the mask keeps of the greyscale image, in pixel space
  (``representations.kept_image``): CartoonX's explanation itself, and for Pixel RDE its mask
  times the greyscale image. It compares any two representations, other wavelets
  included.
- ``"mask"``: the mask entries themselves, all parts in order; it compares two
  masks of the same representation only.

A raw PCC is not comparable across methods: two cartoons correlate through the
image they both show whatever their masks, two bare masks do not. So every PCC
comes with its *chance level*: the mean PCC of the same comparison after each
image's mask entries are shuffled within each part (same values, the same per
scale, positions that carry no information), over ``draws`` shuffles; and
``chance_corrected`` puts the two together as (pcc - chance) / (1 - chance),
0 at chance and 1 for identical explanations (the correction of Cohen's kappa).
A PCC is undefined (NaN) where either side is constant, such as an all-ones mask
(lambda = 0) in the mask view; the claims count those comparisons, never drop
them silently.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import replace

import numpy as np
import torch
from torch import Tensor

from common.metrics.comparison import pcc
from papers.cartoonx.rde import RDEResult
from papers.cartoonx.representations import kept_image

VIEWS = ("kept", "mask")


def view(result: RDEResult, x: Tensor, name: str) -> Tensor:
    """One image per explanation, (B, 1, H, W) for "kept" or (B, 1, k) for "mask"."""
    if name == "kept":
        return kept_image(result.representation, result.masks, x)
    if name == "mask":
        return torch.cat([mask.flatten(1) for mask in result.masks], 1).unsqueeze(1)
    raise KeyError(f"unknown view {name!r}; known: {VIEWS}")


def shuffled(result: RDEResult, generator: torch.Generator) -> RDEResult:
    """The same result with each image's mask entries permuted within each part."""
    masks = []
    for mask in result.masks:
        flat = mask.flatten(1)
        order = torch.rand(flat.shape, generator=generator, device=flat.device).argsort(1)
        masks.append(flat.gather(1, order).view_as(mask))
    return replace(result, masks=masks)


@torch.no_grad()
def agreement(first: RDEResult, second: RDEResult, x: Tensor, name: str, draws: int,
              generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """PCC (B,) of two explanations of x in view ``name``, and its chance level (B,)."""
    score = pcc(view(first, x, name), view(second, x, name))
    chance = torch.stack([pcc(view(shuffled(first, generator), x, name),
                              view(shuffled(second, generator), x, name))
                          for _ in range(draws)]).mean(0)
    return score, chance


def chance_corrected(score, chance):
    """(pcc - chance) / (1 - chance): 0 at chance, 1 when identical; NaN where undefined."""
    score, chance = np.asarray(score, dtype=float), np.asarray(chance, dtype=float)
    defined = np.isfinite(score) & np.isfinite(chance) & (chance < 1)
    return np.where(defined, (score - chance) / np.where(defined, 1 - chance, 1), np.nan)


def neighbours(values: Iterable) -> list[tuple]:
    """Consecutive pairs of the sorted values: (a, b), (b, c), ..."""
    ordered = sorted(values)
    return list(zip(ordered, ordered[1:], strict=False))


def all_pairs(values: Iterable) -> list[tuple]:
    """Every unordered pair of the distinct values, in their given order."""
    return list(itertools.combinations(dict.fromkeys(values), 2))


def comparison_rows(results: Mapping[Hashable, RDEResult], pairs: Sequence[tuple], x: Tensor,
                    views: Sequence[str], draws: int, seed: int, **labels) -> list[dict]:
    """Rows (labels, first, second, view, image, pcc, chance) for each pair of ``results``,
    the pair's keys written as text (a table column holds lambdas and names alike).

    Each comparison draws its shuffles from a generator seeded with ``seed``, so
    a row does not depend on which other comparisons were made.
    """
    rows = []
    for first, second in pairs:
        for name in views:
            generator = torch.Generator(device=x.device).manual_seed(seed)
            score, chance = agreement(results[first], results[second], x, name, draws,
                                      generator)
            rows += [{**labels, "first": str(first), "second": str(second), "view": name,
                      "image": image, "pcc": float(score[image]), "chance": float(chance[image])}
                     for image in range(len(x))]
    return rows
