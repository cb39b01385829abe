"""DXAI's measures (Sec. 4, App. 0.F; shared/papers/NOTES.md for the authors' settings).

* Table 1 and Fig. 9: the classifier on x - beta * x_distinct for beta = 0..1
  (Eq. 9). Accuracy is against the true labels; its area over beta is divided
  by the accuracy at beta = 0 and by max(beta), as in the authors' code, so
  1 means "removing the distinct part changes nothing" (lower is better).
  The paper does not say which classifier Table 1 used (its values are not
  Table 3's ResNet18 diagonal; App. 0.B says the main paper shows the
  discriminator's): both readings are computed (``dxai.evaluation.classifiers``:
  ``explained`` and ``discriminator``; the tables name the explained classifier
  by ``dxai.classifier`` and the other by :data:`DISCRIMINATOR`). Fig. 9's
  claim, that the class probabilities approach uniform, is measured by
  :func:`distance_to_uniform`.
* Table 2: accuracy as the top fraction of pixels, ranked by importance, is set
  to grey (0 in the authors' [-1, 1]); its area divided by the accuracy at 0
  only, as the authors' code does there (so at most the largest fraction, 0.2).
* Ground truth (ours): the share of |x_distinct| inside the evidence mask.
* Table 4: the per-pixel standard deviation of several solutions, divided by
  their dynamic range (max - min over the solutions, per image).

Heatmap methods become decompositions through :func:`common.metrics.faithfulness.distinct_part`
about grey (:data:`REFERENCE`), as the authors' code does on [-1, 1] images.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from common import budget
from common.data import sample_indices
from common.metrics.faithfulness import fraction_cutoffs, importance_ranks, removal_curve

#: The DXAI authors' zero on [-1, 1] images, grey on the classifiers' [0, 1]: the value a
#: fully removed pixel takes in Tables 1 and 2.
REFERENCE = 0.5

#: The DXAI model's own discriminator as Table 1's classifier: its reading in
#: ``dxai.evaluation.classifiers`` and its name in the curves and tables.
DISCRIMINATOR = "discriminator"

#: Row names of the naive baseline's and the ground truth's tables.
NAIVE = "naive optimisation"
RANDOM = "random"
UNIFORM_PART = "mask area (uniform part)"


#: The seed of the evaluation sample: every table draws the same test images.
SAMPLE_SEED = 0


def evaluation_sample(test, count: int, key: str) -> torch.Tensor:
    """Indices of ``count`` test images drawn at random across the split (seeded): real
    datasets in class folders (Fruits-360, AFHQ) store their images class by class, so the
    first ones would be a few classes. More than the split holds is an error naming ``key``."""
    return sample_indices(len(test), count, SAMPLE_SEED, key)


def betas(points: int) -> torch.Tensor:
    """beta = 0, 1/(points-1), ..., 1 (the paper's 0, 0.1, ..., 1 for 11 points)."""
    return torch.linspace(0, 1, points)


@torch.no_grad()
def beta_probabilities(model: nn.Module, x: torch.Tensor, distinct: torch.Tensor,
                       grid: torch.Tensor) -> torch.Tensor:
    """Class probabilities (N, len(grid), classes) of x - beta * distinct for each beta, one
    chunk of images that fits the memory budget at a time."""
    return budget.batched(lambda images, parts: torch.stack(
        [model(images - beta * parts).softmax(1) for beta in grid.tolist()], dim=1), x, distinct)


def accuracy_curve(probabilities: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Accuracy at each point of (N, points, classes) probabilities."""
    return (probabilities.argmax(2) == labels.view(-1, 1)).float().mean(0)


def normalised_auc(curve: torch.Tensor, grid: torch.Tensor, per_unit_range: bool = True) -> float:
    """trapz(curve, grid) / curve[0], divided by max(grid) if ``per_unit_range`` (Table 1; not
    Table 2 in the authors' code). NaN if curve[0] is 0."""
    grid = grid.to(curve)
    area = torch.trapezoid(curve, grid) / (grid.max() if per_unit_range else 1)
    return float(area / curve[0]) if float(curve[0]) > 0 else float("nan")


def beta_auc(model: nn.Module, x: torch.Tensor, distinct: torch.Tensor, labels: torch.Tensor,
             points: int = 11) -> float:
    """Table 1's measure for one decomposition."""
    grid = betas(points).to(x.device)
    return normalised_auc(accuracy_curve(beta_probabilities(model, x, distinct, grid), labels),
                          grid)


def removal_accuracy(model: nn.Module, x: torch.Tensor, importance: torch.Tensor,
                     labels: torch.Tensor, fractions: torch.Tensor) -> torch.Tensor:
    """Table 2: accuracy as the top ``fractions`` of pixels by ``importance`` (B, 1, H, W)
    are set to grey (all channels of a pixel together); ties broken at random (seeded)."""
    ranks = importance_ranks(importance, seed=0)
    correct = removal_curve(model, x, ranks, labels, torch.full_like(x, REFERENCE),
                            fraction_cutoffs(ranks, fractions), score="correct")
    return correct.mean(0)


def pixel_magnitude(part: torch.Tensor) -> torch.Tensor:
    """|part| averaged over channels, (B, 1, H, W): how much of a part (or of an attribution)
    each pixel holds; the authors rank Table 2's pixels by it for every method."""
    return part.abs().mean(1, keepdim=True)


def mask_share(distinct: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per image, the share of sum |x_distinct| that lies inside ``mask`` (B, H, W); NaN for
    images with an empty mask or an all-zero distinct part."""
    magnitude = pixel_magnitude(distinct)[:, 0]
    total = magnitude.flatten(1).sum(1)
    inside = (magnitude * mask).flatten(1).sum(1)
    share = inside / total.clamp(min=1e-12)
    undefined = (mask.flatten(1).sum(1) == 0) | (total == 0)
    return torch.where(undefined, torch.full_like(share, float("nan")), share)


def unit_peak(maps: torch.Tensor) -> torch.Tensor:
    """Each (B, ...) map divided by its image's largest |value|: heatmaps of different layers
    on one scale, "between 0 and 1" as App. 0.F treats them."""
    return maps / maps.abs().flatten(1).amax(1).clamp(min=1e-12).view(-1, *[1] * (maps.dim() - 1))


def normalised_spread(solutions: torch.Tensor) -> torch.Tensor:
    """Table 4: per image, the mean over pixels of the std across solutions divided by the
    dynamic range of the solutions (max - min over all of them). ``solutions`` is
    (S, N, ...); the result (N,)."""
    spread = solutions.std(0, unbiased=False).flatten(1).mean(1)
    flat = solutions.transpose(0, 1).flatten(1)
    dynamic = (flat.amax(1) - flat.amin(1)).clamp(min=1e-12)
    return spread / dynamic


def curve_auc(curves, grid_column: str) -> dict[tuple[str, str], float]:
    """{(classifier, method): normalised AUC} of a long table of (classifier, method,
    ``grid_column``, accuracy) rows."""
    areas = {}
    for key, rows in curves.groupby(["classifier", "method"], sort=False):
        rows = rows.sort_values(grid_column)
        areas[key] = normalised_auc(torch.tensor(rows["accuracy"].to_numpy()),
                                    torch.tensor(rows[grid_column].to_numpy()))
    return areas


def probability_column(predicted: str, true: str) -> str:
    """The beta curves' column of the mean probability of class ``predicted`` over the
    images of class ``true``."""
    return f"p({predicted} | {true})"


def distance_to_uniform(rows) -> pd.Series:
    """Fig. 9's approach to uniform, per beta: for each true class the total-variation
    distance 1/2 sum_c |p(c | true) - 1/C| of its images' mean probabilities (one panel line
    per class) from the uniform distribution, averaged over the true classes; 0 is uniform,
    1 - 1/C one-hot. ``rows``: one method's curve rows (beta and the p(. | .) columns)."""
    pairs = [column[2:-1].split(" | ") for column in rows.columns if column.startswith("p(")]
    classes = sorted({predicted for predicted, _ in pairs})
    distances = []
    for true in sorted({true for _, true in pairs}):
        probabilities = rows[[probability_column(name, true) for name in classes]].to_numpy()
        distances.append(0.5 * abs(probabilities - 1 / len(classes)).sum(1))
    return pd.Series(np.nanmean(distances, axis=0), index=rows["beta"].to_numpy())
