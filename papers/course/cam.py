"""The CAM family on one GAP network, as the course compares it: CAM, Grad-CAM, Grad-CAM++
and EigenGrad-CAM of the same images at the same layer, through the method registry."""

from __future__ import annotations

import torch
from torch import nn

from common.explain import explain

#: Display name -> registry method.
CAM_FAMILY = {"CAM": "cam", "Grad-CAM": "gradcam", "Grad-CAM++": "gradcam_plus_plus",
              "EigenGrad-CAM": "eigen_gradcam"}


def cam_family_maps(model: nn.Module, x: torch.Tensor, target: torch.Tensor,
                    layer: nn.Module | str) -> dict[str, torch.Tensor]:
    """Each CAM method's maps (B, H, W) of ``target`` for ``x`` at ``layer``, by display name."""
    return {name: explain(model, x, target, method, layer=layer)[:, 0]
            for name, method in CAM_FAMILY.items()}
