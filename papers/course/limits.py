"""The limits of saliency (course, last part): sensitivity is not causal importance.

:class:`SaturatedDetector` is a classifier whose answer is known by construction,
so the two failure modes of the slides can be measured exactly:

- **saturation**: the object patch drives a sigmoid far into its flat tail, so the
  gradient there is almost zero, yet removing the patch flips the prediction;
- **spurious sensitivity**: one background pixel enters through a small, fast
  oscillation, so its gradient is the largest in the image, yet removing it
  barely moves the score.

:func:`region_table` scores gradient, gradient x input, integrated gradients and
occlusion (all from ``common.explain``) by the share of each region in the map's
absolute mass, next to what removing the region does. The randomised-network
sanity check (Adebayo et al.) runs on the trained classifiers through
``common.metrics.sanity``.
"""

from __future__ import annotations

import torch
from torch import nn

from common.explain import explain

SIDE = 32
OBJECT = (slice(8, 16), slice(8, 16))   # the 8x8 object patch
SPURIOUS = (24, 27)                     # the one oscillating background pixel


class SaturatedDetector(nn.Module):
    """Two logits [0, s] for a one-channel (B, 1, 32, 32) image, with
    s = 6 sigmoid(20 (mean of the object patch - 0.25)) - 3 + 0.02 sin(200 x_p).

    A bright object saturates the sigmoid (slope about 4e-6 per pixel) while the pixel
    x_p has slope 4 cos(200 x_p): up to 4 per unit, a millionfold more.
    """

    def forward(self, x):
        patch = x[:, 0, OBJECT[0], OBJECT[1]].mean((1, 2))
        pixel = x[:, 0, SPURIOUS[0], SPURIOUS[1]]
        score = 6 * torch.sigmoid(20 * (patch - 0.25)) - 3 + 0.02 * torch.sin(200 * pixel)
        return torch.stack([torch.zeros_like(score), score], 1)


def example_image(background: float = 0.3, spurious_value: float = 0.5) -> torch.Tensor:
    """A dim background, a bright object patch and the spurious pixel at ``spurious_value``."""
    x = torch.full((1, 1, SIDE, SIDE), background)
    x[:, 0, OBJECT[0], OBJECT[1]] = 1.0
    x[:, 0, SPURIOUS[0], SPURIOUS[1]] = spurious_value
    return x


def region_masks() -> dict[str, torch.Tensor]:
    """Boolean (32, 32) masks of the object patch, the spurious pixel and the rest."""
    object_mask = torch.zeros(SIDE, SIDE, dtype=torch.bool)
    object_mask[OBJECT] = True
    pixel_mask = torch.zeros(SIDE, SIDE, dtype=torch.bool)
    pixel_mask[SPURIOUS] = True
    return {"object patch": object_mask, "spurious pixel": pixel_mask,
            "rest of the background": ~(object_mask | pixel_mask)}


LIMIT_METHODS = {"gradient": {}, "gradient_x_input": {},
                 "integrated_gradients": {"steps": 256}, "occlusion": {"window": 8, "stride": 8}}
"""The methods scored on the detector; IG with many steps, since the sigmoid is steep."""


def region_table(model: nn.Module, x: torch.Tensor) -> list[dict]:
    """Per region: each method's share of the absolute attribution mass, the score and the
    prediction after setting the region to zero (the counterfactual)."""
    target = torch.ones(len(x), dtype=torch.long)
    with torch.no_grad():
        score = model(x)[0, 1].item()
    maps = {name: explain(model, x, target, name, **params)[0, 0].abs()
            for name, params in LIMIT_METHODS.items()}
    rows = []
    for region, mask in region_masks().items():
        removed = x.clone()
        removed[0, 0][mask] = 0.0
        with torch.no_grad():
            after = model(removed)[0, 1].item()
        rows.append({"region": region, "pixels": int(mask.sum()), "score": score,
                     "score_without_region": after,
                     "prediction_flips": (after > 0) != (score > 0),
                     **{f"{name}_share": (values[mask].sum() / values.sum()).item()
                        for name, values in maps.items()}})
    return rows
