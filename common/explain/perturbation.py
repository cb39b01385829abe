"""Perturbation-based attributions: occlusion (Zeiler and Fergus) and RISE (Petsiuk et al.)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from common import budget

#: RISE draws its masks in blocks of this many, whatever the memory budget, so that the
#: masks (and the map) do not depend on how many of them fit in one forward pass.
RISE_DRAW_BLOCK = 64


def occlusion(model, x, target, window: int | None = None, stride: int | None = None,
              value: float = 0.0) -> torch.Tensor:
    """Drop in the target logit when a square window is set to ``value``, per pixel (B,1,H,W).

    Defaults: a window of 1/8 of the image side moved by half a window (Captum
    averages the overlapping windows). As many window positions go through the model at
    once as the memory budget allows.
    """
    window = window or max(2, x.shape[-1] // 8)
    stride = stride or max(1, window // 2)
    channels = x.shape[1]
    from captum.attr import Occlusion  # imported on use: 0.5 s of start-up

    attribution = Occlusion(model).attribute(
        x, sliding_window_shapes=(channels, window, window), strides=(channels, stride, stride),
        baselines=value, target=target,
        perturbations_per_eval=budget.copies_per_pass(len(x)))
    return attribution.mean(1, keepdim=True)


def rise_masks(count: int, size: tuple[int, int], cells: int, keep: float,
               generator: torch.Generator, device) -> torch.Tensor:
    """RISE's masks: random binary ``cells`` x ``cells`` grids, upsampled bilinearly and shifted."""
    height, width = size
    cell_h, cell_w = -(-height // cells), -(-width // cells)
    grid = (torch.rand(count, 1, cells, cells, generator=generator, device=device) < keep).float()
    up = F.interpolate(grid, size=((cells + 1) * cell_h, (cells + 1) * cell_w), mode="bilinear",
                       align_corners=False)
    rows = torch.randint(0, cell_h, (count,), generator=generator, device=device).tolist()
    cols = torch.randint(0, cell_w, (count,), generator=generator, device=device).tolist()
    return torch.stack([up[i, :, dy:dy + height, dx:dx + width]
                        for i, (dy, dx) in enumerate(zip(rows, cols, strict=True))])


def rise(model, x, target, masks: int = 4000, cells: int = 7, keep: float = 0.5,
         seed: int = 0) -> torch.Tensor:
    """RISE: sum_i p_c(x * M_i) M_i / (N keep), the class probability's mask-weighted mean.

    Paper defaults (ResNet-50): N = 4000 masks of a 7 x 7 grid, keep probability 0.5.
    Every image is probed with the same masks, drawn in blocks of
    :data:`RISE_DRAW_BLOCK` and passed through the model as many at a time as the
    memory budget allows, so an image's map depends neither on its batch nor on the budget.
    """
    generator = torch.Generator(device=x.device).manual_seed(seed)
    saliency = torch.zeros(len(x), 1, *x.shape[-2:], device=x.device)
    with torch.no_grad():
        for start in range(0, masks, RISE_DRAW_BLOCK):
            block = rise_masks(min(RISE_DRAW_BLOCK, masks - start), x.shape[-2:], cells, keep,
                               generator, x.device)
            for chunk in block.split(budget.copies_per_pass(len(x))):
                probed = (x.unsqueeze(0) * chunk.unsqueeze(1)).flatten(0, 1)
                probabilities = model(probed).softmax(1).view(len(chunk), len(x), -1)
                score = probabilities.gather(2, target.view(1, -1, 1).expand(len(chunk), -1, 1))
                saliency += (score.view(len(chunk), len(x), 1, 1, 1) * chunk.unsqueeze(1)).sum(0)
    return saliency / (masks * keep)
