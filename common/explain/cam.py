"""CAM and Grad-CAM on a network's last convolutional feature maps, in batched torch.

The feature maps are read with a forward hook that is removed before the call
returns. Maps are upsampled bilinearly to the input size, as in the papers.
"""

from __future__ import annotations

import contextlib

import torch
import torch.nn.functional as F
from torch import nn


def feature_layer(model: nn.Module) -> nn.Module:
    """The last convolutional stage of a zoo model (``layer4`` for ResNets, else ``features``)."""
    for name in ("layer4", "features"):
        if isinstance(getattr(model, name, None), nn.Module):
            return getattr(model, name)
    raise ValueError(f"{type(model).__name__} has no 'layer4' or 'features' module; "
                     f"pass layer= explicitly")


@contextlib.contextmanager
def recorded_output(layer: nn.Module):
    """Record ``layer``'s output during the forward passes inside the context."""
    record: dict[str, torch.Tensor] = {}
    handle = layer.register_forward_hook(lambda module, args, output: record.update(out=output))
    try:
        yield record
    finally:
        handle.remove()


def _upsample(maps: torch.Tensor, size) -> torch.Tensor:
    return F.interpolate(maps, size=size, mode="bilinear", align_corners=False)


def grad_cam(model, x, target, layer: nn.Module | None = None) -> torch.Tensor:
    """Grad-CAM (Selvaraju et al.): ReLU(sum_k mean(dy_c/dA_k) * A_k), (B,1,H,W)."""
    layer = layer or feature_layer(model)
    with recorded_output(layer) as record:
        logits = model(x)
    activations = record["out"]
    (grads,) = torch.autograd.grad(logits.gather(1, target.view(-1, 1)).sum(), activations)
    weights = grads.mean(dim=(2, 3), keepdim=True)
    maps = F.relu((weights * activations).sum(1, keepdim=True))
    return _upsample(maps, x.shape[-2:])


def class_activation_map(model, x, target, layer: nn.Module | None = None,
                         classifier: nn.Linear | None = None) -> torch.Tensor:
    """CAM (Zhou et al.): sum_k w_{c,k} A_k for a network that is GAP then one linear layer.

    Signed (no ReLU), as defined; ``classifier`` defaults to the model's ``fc``.
    """
    layer = layer or feature_layer(model)
    classifier = classifier or getattr(model, "fc", None)
    if not isinstance(classifier, nn.Linear):
        raise ValueError("CAM needs a global-average-pooling network ending in one nn.Linear")
    with torch.no_grad(), recorded_output(layer) as record:
        model(x)
    weights = classifier.weight[target]  # (B, K)
    maps = torch.einsum("bk,bkhw->bhw", weights, record["out"]).unsqueeze(1)
    return _upsample(maps, x.shape[-2:])
