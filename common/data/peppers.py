"""``peppers``: fruit-like blobs whose classes differ only by hue (the DXAI colour case).

Each image shows one shaded, textured, elliptical fruit on a muted textured
background. Shape, size, position, shading, texture and background are drawn
from the same distributions for every class; only the fruit's hue depends on
the label. The ground-truth mask is the fruit itself: the only pixels that
carry class evidence.

Every image is drawn from its own generator seeded with (seed, split, index),
so a dataset is the same to the byte for the same seed, whatever its size.
"""

from __future__ import annotations

import numpy as np

from common.data.draw import ellipse, grid, hsv_to_rgb, smooth_noise, to_uint8
from common.data.procedural import generate_splits

CLASSES = ("red", "yellow", "green")
CLASS_HUES = (0.0, 0.14, 0.30)


def _fruit(rng: np.random.Generator, size: int, hue: float) -> tuple[np.ndarray, np.ndarray]:
    """Return (rgb, alpha) of one fruit; alpha is its anti-aliased coverage."""
    rows, cols = grid(size)
    centre = rng.uniform(0.35, 0.65, size=2) * size
    semi_axes = rng.uniform(0.18, 0.30, size=2) * size
    alpha = ellipse(size, centre, semi_axes, rng.uniform(0, np.pi))

    highlight = centre - 0.35 * semi_axes.min() * np.array([1.0, 1.0])
    distance = np.hypot(rows - highlight[0], cols - highlight[1]) / (1.6 * semi_axes.max())
    texture = smooth_noise(rng, size, max(4, size // 4))
    value = np.clip(0.95 - 0.5 * distance + 0.04 * texture, 0.2, 1.0)
    saturation = np.clip(rng.uniform(0.65, 0.9) + 0.04 * texture, 0.0, 1.0)
    shine = np.exp(-((rows - highlight[0]) ** 2 + (cols - highlight[1]) ** 2)
                   / (2 * (0.08 * semi_axes.min() + 0.5) ** 2))
    saturation = saturation * (1 - 0.8 * shine)
    hue_map = np.full((size, size), (hue + rng.uniform(-0.02, 0.02)) % 1.0)
    rgb = hsv_to_rgb(np.stack([hue_map, saturation, value], axis=-1))
    return rgb, alpha


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A muted, low-saturation tablecloth with smooth variations."""
    hue = np.full((size, size), rng.uniform(0, 1))
    saturation = np.full((size, size), rng.uniform(0.0, 0.15))
    value = np.clip(rng.uniform(0.45, 0.75) + 0.08 * smooth_noise(rng, size, 4), 0, 1)
    return hsv_to_rgb(np.stack([hue, saturation, value], axis=-1))


def render(rng: np.random.Generator, label: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """One image of class ``label``: (uint8 HxWx3 image, boolean HxW evidence mask)."""
    background = _background(rng, size)
    fruit, alpha = _fruit(rng, size, CLASS_HUES[label])
    image = alpha[..., None] * fruit + (1 - alpha[..., None]) * background
    return to_uint8(image), alpha >= 0.5


def build(settings: dict) -> dict:
    """Train and test splits as arrays, from the ``datasets.peppers`` settings."""
    return generate_splits(render, len(CLASSES), settings)
