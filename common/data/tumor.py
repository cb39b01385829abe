"""``tumor``: MRI-like brain phantom slices, healthy or with a bright lesion (DXAI/BraTS case).

A single-channel axial slice: dark background, bright skull ring, brain tissue
with grey/white-matter contrast and fine texture, two dark ventricles, and MRI
noise. Images of class ``tumor`` add a bright lesion of at least
``MIN_LESION_PIXELS`` pixels inside the brain, with a fainter oedema halo; the
mask is the lesion core. ``healthy`` slices are full cross-sections with an
empty mask.
"""

from __future__ import annotations

import numpy as np

from common.data.draw import composite, ellipse, smooth_noise, to_uint8
from common.data.procedural import generate_splits

CLASSES = ("healthy", "tumor")
MIN_LESION_PIXELS = 20


def _slice(rng, size):
    """The healthy slice and the brain's coverage, as (image, brain)."""
    centre = size / 2 + rng.normal(0, 0.02 * size, size=2)
    axes = np.array([rng.uniform(0.36, 0.42), rng.uniform(0.42, 0.47)]) * size
    angle = np.pi / 2 + rng.normal(0, 0.1)
    image = composite(np.zeros((size, size)), 0.85, ellipse(size, centre, axes, angle))
    brain = ellipse(size, centre, axes - 0.06 * size, angle)
    tissue = 0.42 + 0.05 * smooth_noise(rng, size, 6) + 0.04 * smooth_noise(rng, size, size // 3)
    image = composite(image, tissue, brain)
    image = composite(image, 0.55 + 0.03 * smooth_noise(rng, size, 4),
                      0.8 * ellipse(size, centre, axes * 0.55, angle))
    for side in (-1, 1):
        offset = np.array([0.0, side * 0.07 * size])
        image = composite(image, 0.15, ellipse(size, centre + offset, (0.12 * size, 0.045 * size),
                                               angle + side * 0.25))
    return image, brain


def _lesion(rng, image, brain, size):
    """Add one lesion inside the brain; return (image, lesion mask)."""
    while True:
        radius = rng.uniform(max(2.8, 0.08 * size), 0.14 * size)
        centre = rng.uniform(0.25, 0.75, size=2) * size
        semi_axes = (radius, radius * rng.uniform(0.7, 1.0))
        core = ellipse(size, centre, semi_axes, rng.uniform(0, np.pi))
        mask = core >= 0.5
        if mask.sum() >= MIN_LESION_PIXELS and (brain[mask] >= 0.99).all():
            break
    image = composite(image, image + 0.15, ellipse(size, centre, (1.7 * radius,) * 2) * brain)
    return composite(image, rng.uniform(0.88, 1.0), core), mask


def render(rng: np.random.Generator, label: int, size: int):
    """One slice of class ``label``: (uint8 HxWx1 image, boolean HxW lesion mask)."""
    image, brain = _slice(rng, size)
    mask = np.zeros((size, size), dtype=bool)
    if label == 1:
        image, mask = _lesion(rng, image, brain, size)
    image = image + rng.normal(0, 0.02, size=image.shape)
    return to_uint8(image), mask


def build(settings: dict) -> dict:
    """Train and test splits as arrays, from the ``datasets.tumor`` settings."""
    return generate_splits(render, len(CLASSES), settings)
