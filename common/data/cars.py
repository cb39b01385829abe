"""``cars``: aerial-like ground with or without small cars (the DXAI/DOTA presence case).

Both classes share the same ground: fields of smoothly varying colour, often a
road with a dashed centre line, bushes and building roofs. Images of class
``cars`` also hold one to three small, rotated car-like objects (body, dark
windscreen, shadow); images of class ``no_cars`` hold none. The mask marks the
car pixels, so it is empty for ``no_cars``.
"""

from __future__ import annotations

import numpy as np

from common.data.draw import (
    composite,
    ellipse,
    grid,
    hsv_to_rgb,
    rectangle,
    rotated,
    smooth_noise,
    to_uint8,
)
from common.data.procedural import generate_splits

CLASSES = ("no_cars", "cars")
_CAR_COLOURS = np.array([[0.8, 0.1, 0.1], [0.15, 0.25, 0.8], [0.92, 0.92, 0.92],
                         [0.08, 0.08, 0.08], [0.6, 0.62, 0.65], [0.9, 0.75, 0.1]])


def _ground(rng, size):
    hue = rng.uniform(0.08, 0.30) + 0.03 * smooth_noise(rng, size, 3)
    value = np.clip(rng.uniform(0.35, 0.55) + 0.08 * smooth_noise(rng, size, 5)
                    + 0.03 * rng.standard_normal((size, size)), 0, 1)
    saturation = np.full((size, size), rng.uniform(0.25, 0.5))
    return hsv_to_rgb(np.stack([hue % 1.0, saturation, value], axis=-1))


def _road(rng, image, size):
    centre = rng.uniform(0.3, 0.7, size=2) * size
    angle = rng.uniform(0, np.pi)
    width = rng.uniform(0.10, 0.16) * size
    image = composite(image, [0.33, 0.33, 0.34], rectangle(size, centre, (2 * size, width), angle))
    along, across = rotated(*grid(size), centre, angle)
    dashes = (np.abs(across) < 0.35 + 0.02 * size / 32) & (np.sin(along * 6 / width) > 0.3)
    return composite(image, [0.9, 0.9, 0.85], dashes.astype(float))


def _clutter(rng, image, size):
    for _ in range(rng.integers(1, 4)):  # bushes
        centre = rng.uniform(0, 1, size=2) * size
        image = composite(image, [0.1, 0.28, 0.08], ellipse(size, centre, [0.05 * size] * 2))
    for _ in range(rng.integers(0, 2)):  # building roofs, larger than any car
        centre = rng.uniform(0.1, 0.9, size=2) * size
        half = rng.uniform(0.12, 0.2, size=2) * size
        colour = rng.choice([[0.55, 0.25, 0.2], [0.5, 0.5, 0.5], [0.7, 0.65, 0.55]])
        image = composite(image, colour, rectangle(size, centre, half, rng.uniform(0, np.pi)))
    return image


def _car(rng, image, size):
    """Paint one car; return the image and the car's coverage."""
    centre = rng.uniform(0.15, 0.85, size=2) * size
    angle = rng.uniform(0, np.pi)
    half = np.array([0.095, 0.05]) * size * rng.uniform(0.9, 1.15)
    shadow_centre = centre + np.array([0.03, 0.03]) * size
    image = composite(image, [0.05, 0.05, 0.05], 0.6 * rectangle(size, shadow_centre, half, angle))
    body = rectangle(size, centre, half, angle)
    image = composite(image, _CAR_COLOURS[rng.integers(len(_CAR_COLOURS))], body)
    screen_centre = centre + 0.35 * half[0] * np.array([np.sin(angle), np.cos(angle)])
    screen = rectangle(size, screen_centre, (0.18 * half[0], 0.8 * half[1]), angle)
    return composite(image, [0.1, 0.12, 0.15], screen), body


def render(rng: np.random.Generator, label: int, size: int):
    """One image of class ``label``: (uint8 HxWx3 image, boolean HxW car mask)."""
    image = _ground(rng, size)
    if rng.uniform() < 0.6:
        image = _road(rng, image, size)
    image = _clutter(rng, image, size)
    mask = np.zeros((size, size), dtype=bool)
    for _ in range(rng.integers(1, 4) if label == 1 else 0):
        image, body = _car(rng, image, size)
        mask |= body >= 0.5
    return to_uint8(image), mask


def build(settings: dict) -> dict:
    """Train and test splits as arrays, from the ``datasets.cars`` settings."""
    return generate_splits(render, len(CLASSES), settings)
