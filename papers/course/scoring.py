"""What every course table shares: which class to explain on multi-label images, how a
map is scored against the ground-truth masks of the ``scenes`` data."""

from __future__ import annotations

import torch
from torch import nn

from common import budget
from common.data import ImageSplit, load_split
from common.metrics.comparison import auc_judd
from common.metrics.localisation import energy_pointing_game, iou, pointing_game


def scenes_images(manifest: str, split: str, count: int) -> ImageSplit:
    """The first ``count`` images of a split of a dataset with per-class masks."""
    data = load_split(manifest, split)
    if data.masks is None or data.masks.dim() != 4:
        raise ValueError(f"{manifest}: the course's localisation needs per-class masks "
                         f"(the scenes data), this dataset has none")
    return ImageSplit(data.images[:count], data.labels[:count], data.masks[:count], data.classes,
                      data.task, data.names, data.density)


def explained_class(model: nn.Module, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Per image, the present class (multi-hot ``labels``) that the model scores highest:
    the class whose mask an explanation of the model's decision should point at."""
    with torch.no_grad():
        logits = budget.batched(model, x)
    return logits.masked_fill(labels.to(logits.device) <= 0, float("-inf")).argmax(1)


def class_masks(masks: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The mask (B, H, W) of each image's explained class, from (B, K, H, W)."""
    return masks[torch.arange(len(masks)), target.cpu()]


def localisation(maps: torch.Tensor, masks: torch.Tensor, tolerance: int) -> dict[str, float]:
    """Mean pointing game (hit within ``tolerance`` px), energy pointing game, IoU at half
    the maximum and AUC-Judd (mask pixels as fixations) of maps (B, H, W) or (B, 1, H, W)."""
    maps = (maps if maps.dim() == 4 else maps.unsqueeze(1)).detach().float().cpu()
    masks = masks.cpu()
    return {"pointing_game": pointing_game(maps, masks, tolerance).nanmean().item(),
            "energy_pointing_game": energy_pointing_game(maps, masks).nanmean().item(),
            "iou": iou(maps, masks).nanmean().item(),
            "auc": auc_judd(maps, masks.unsqueeze(1).float()).nanmean().item()}


def random_maps(shape, seed: int) -> torch.Tensor:
    """Uniform noise maps: the chance level of every localisation score."""
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed))

