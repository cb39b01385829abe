"""Localisation: does a map point at the ground-truth object?

Maps are (B, 1 or C, H, W) attributions (channels are summed), masks are
(B, 1, H, W) or (B, H, W) with nonzero meaning "object". An image without any
object pixel gets NaN: no score is defined for it, and averaging with
``torch.nanmean`` leaves it out instead of counting it as a miss.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _pixel_maps(attribution: torch.Tensor, mask: torch.Tensor):
    """(B, H, W) relevance and boolean mask, checked to have the same size."""
    relevance = attribution.sum(1) if attribution.dim() == 4 else attribution
    mask = (mask.squeeze(1) if mask.dim() == 4 else mask) > 0
    if relevance.shape != mask.shape:
        raise ValueError(f"map {tuple(relevance.shape)} and mask {tuple(mask.shape)} differ")
    return relevance, mask.to(relevance.device)


def _undefined_without_object(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return torch.where(mask.flatten(1).any(1), scores, torch.full_like(scores, float("nan")))


def dilate(mask: torch.Tensor, radius: int) -> torch.Tensor:
    """Pixels within Euclidean distance ``radius`` of the mask (B, H, W) boolean."""
    if radius <= 0:
        return mask
    offsets = torch.arange(-radius, radius + 1, device=mask.device)
    disc = (offsets.view(-1, 1) ** 2 + offsets.view(1, -1) ** 2 <= radius**2).float()
    grown = F.conv2d(mask.float().unsqueeze(1), disc.view(1, 1, *disc.shape), padding=radius)
    return grown.squeeze(1) > 0


def pointing_game(attribution: torch.Tensor, mask: torch.Tensor,
                  tolerance: int = 15) -> torch.Tensor:
    """1.0 where the map's maximum lies within ``tolerance`` pixels of the object, else 0.0.

    Zhang et al. (Excitation Backprop) count a hit within 15 pixels of the
    annotation on ImageNet-size images; pass a smaller tolerance for small images.
    Ties at the maximum: a hit if any maximal pixel is inside (a constant map is
    a hit whenever the image has an object, so compare against a random map).
    """
    relevance, mask = _pixel_maps(attribution, mask)
    peaks = relevance == relevance.flatten(1).amax(1).view(-1, 1, 1)
    hits = (peaks & dilate(mask, tolerance)).flatten(1).any(1).to(relevance.dtype)
    return _undefined_without_object(hits, mask)


def energy_pointing_game(attribution: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Share of the positive relevance that falls inside the object (higher is better).

    The energy-based pointing game of Score-CAM (Wang et al. 2020), which Arras
    et al. call relevance mass accuracy; negative relevance is left out.
    """
    relevance, mask = _pixel_maps(attribution, mask)
    positive = relevance.clamp(min=0).flatten(1)
    inside = (positive * mask.flatten(1)).sum(1)
    share = inside / positive.sum(1).clamp(min=torch.finfo(positive.dtype).tiny)
    return _undefined_without_object(share, mask)


def iou(attribution: torch.Tensor, mask: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Intersection over union of the map thresholded at ``threshold`` x its maximum and the mask.

    The positive part of each map is scaled to [0, 1] by its maximum (the
    bounding-box protocol of CAM and Grad-CAM thresholds at a fraction of the
    peak); a map with no positive value selects nothing.
    """
    relevance, mask = _pixel_maps(attribution, mask)
    positive = relevance.clamp(min=0)
    peak = positive.flatten(1).amax(1).view(-1, 1, 1)
    selected = (positive >= threshold * peak) & (peak > 0)
    intersection = (selected & mask).flatten(1).sum(1)
    union = (selected | mask).flatten(1).sum(1)
    return _undefined_without_object(intersection / union.clamp(min=1), mask)
