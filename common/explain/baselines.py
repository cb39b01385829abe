"""A random map: the baseline every method must beat (DXAI's "random" decomposition)."""

from __future__ import annotations

import torch


def random_map(model, x, target, seed: int = 0) -> torch.Tensor:
    """Uniform noise in [0, 1) of shape (B, 1, H, W), independent of the model and target.

    Each image's noise is seeded by ``seed`` and the image's own content, so an
    image gets the same map whatever batch it is in, and different images get
    different maps.
    """
    maps = []
    for image in x:
        content = int(torch.round(image.double().sum() * 1e6).item()) % (2**31)
        generator = torch.Generator(device=x.device).manual_seed(seed * 1_000_003 + content)
        maps.append(torch.rand((1, *x.shape[-2:]), generator=generator, device=x.device))
    return torch.stack(maps).to(x.dtype)
