"""``scenes``: multi-label scenes of six object kinds with per-class masks (the VOC case).

Each image holds two to four objects on a textured background with clutter
(strokes and specks that belong to no class). Kinds differ by shape only;
every object's colour is drawn from one shared distribution. Later objects
occlude earlier ones, but never hide more than half of one, so every labelled
object stays recognisable. Labels are multi-hot over ``CLASSES``; the mask of
a class is the union of the visible pixels of its objects.
"""

from __future__ import annotations

import numpy as np

from common.data.draw import (
    composite,
    ellipse,
    grid,
    hsv_to_rgb,
    polygon,
    rectangle,
    smooth_noise,
    to_uint8,
)
from common.data.procedural import SPLITS, SplitArrays, image_rng

CLASSES = ("disc", "square", "triangle", "ring", "cross", "star")
MIN_VISIBLE_FRACTION = 0.5
_PLACEMENT_TRIES = 30


def _regular(size, centre, radius, corners, phase):
    angles = phase + 2 * np.pi * np.arange(corners) / corners
    return polygon(size, np.stack([centre[0] - radius * np.cos(angles),
                                   centre[1] + radius * np.sin(angles)], axis=1))


def shape(kind: str, size: int, centre, radius: float, phase: float) -> np.ndarray:
    """Coverage of one object of ``kind`` (a name from ``CLASSES``)."""
    if kind == "disc":
        return ellipse(size, centre, (radius, radius))
    if kind == "square":
        return rectangle(size, centre, (0.8 * radius, 0.8 * radius), phase)
    if kind == "triangle":
        return _regular(size, centre, radius * 1.1, 3, phase)
    if kind == "ring":
        return np.clip(ellipse(size, centre, (radius, radius))
                       - ellipse(size, centre, (0.5 * radius, 0.5 * radius)), 0, 1)
    if kind == "cross":
        return np.maximum(rectangle(size, centre, (radius, 0.3 * radius), phase),
                          rectangle(size, centre, (0.3 * radius, radius), phase))
    if kind == "star":
        return np.maximum(_regular(size, centre, radius * 1.1, 3, phase),
                          _regular(size, centre, radius * 1.1, 3, phase + np.pi / 3))
    raise ValueError(f"unknown object kind {kind!r}")


def _random_colour(rng) -> np.ndarray:
    return hsv_to_rgb([rng.uniform(), rng.uniform(0.5, 0.9), rng.uniform(0.6, 1.0)])


def _background(rng, size):
    image = hsv_to_rgb([rng.uniform(), rng.uniform(0.0, 0.25), rng.uniform(0.3, 0.6)])
    image = np.broadcast_to(image, (size, size, 3)) + 0.06 * smooth_noise(rng, size, 5)[..., None]
    rows, cols = grid(size)
    for _ in range(rng.integers(1, 4)):  # curved strokes
        phase, amplitude = rng.uniform(0, 2 * np.pi), rng.uniform(0.05, 0.2) * size
        offset = rng.uniform(0.1, 0.9) * size
        curve = offset + amplitude * np.sin(cols / size * rng.uniform(3, 8) + phase)
        image = composite(image, _random_colour(rng), np.clip(1.0 - np.abs(rows - curve), 0, 1))
    for _ in range(rng.integers(2, 6)):  # specks, smaller than any object
        centre = rng.uniform(0, 1, size=2) * size
        image = composite(image, _random_colour(rng), ellipse(size, centre, (0.025 * size,) * 2))
    return image


def render(rng: np.random.Generator, size: int):
    """One scene: (uint8 HxWx3 image, multi-hot labels (K,), boolean class masks (K,H,W))."""
    image = _background(rng, size)
    placed: list[tuple[int, np.ndarray, np.ndarray]] = []  # (kind, full coverage, visible)
    for _ in range(rng.integers(2, 5)):
        kind = int(rng.integers(len(CLASSES)))
        for _try in range(_PLACEMENT_TRIES):
            radius = rng.uniform(0.09, 0.15) * size
            centre = rng.uniform(radius, size - radius, size=2)
            coverage = shape(CLASSES[kind], size, centre, radius, rng.uniform(0, np.pi))
            still_visible = [visible * (1 - coverage) for _, _, visible in placed]
            if all(after.sum() >= MIN_VISIBLE_FRACTION * full.sum()
                   for (_, full, _), after in zip(placed, still_visible, strict=True)):
                placed = [(k, full, after) for (k, full, _), after
                          in zip(placed, still_visible, strict=True)]
                placed.append((kind, coverage, coverage))
                image = composite(image, _random_colour(rng), coverage)
                break
    labels = np.zeros(len(CLASSES), dtype=np.int64)
    masks = np.zeros((len(CLASSES), size, size), dtype=bool)
    for kind, _, visible in placed:
        labels[kind] = 1
        masks[kind] |= visible >= 0.5
    return to_uint8(image), labels, masks


def build(settings: dict) -> dict[str, SplitArrays]:
    """Train and test splits as arrays, from the ``datasets.scenes`` settings."""
    splits = {}
    for split in SPLITS:
        drawn = [render(image_rng(settings["seed"], split, index), settings["image_size"])
                 for index in range(settings[f"n_{split}"])]
        images, labels, masks = (np.stack(part) for part in zip(*drawn, strict=True))
        splits[split] = SplitArrays(images, labels, masks)
    return splits
