"""Drawing primitives shared by the procedural datasets (numpy, float images in [0, 1]).

Shapes are returned as anti-aliased coverage maps in [0, 1] on a (size, size)
grid, so that each generator composes them the same way and derives its
ground-truth masks from the same coverage it painted.
"""

from __future__ import annotations

import numpy as np


def hsv_to_rgb(hsv: np.ndarray) -> np.ndarray:
    """matplotlib's conversion of HSV values in [0, 1] (..., 3) to RGB, imported on use: only
    dataset generation needs matplotlib, which would add 0.2 s to every job's start-up."""
    from matplotlib.colors import hsv_to_rgb as convert

    return convert(hsv)


def grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column coordinates of pixel centres."""
    rows, cols = np.mgrid[0:size, 0:size].astype(np.float64) + 0.5
    return rows, cols


def smooth_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """Zero-mean value noise of unit scale: a coarse random grid upsampled cubically."""
    from scipy.ndimage import zoom  # imported on use: only dataset generation needs it

    coarse = rng.standard_normal((cells, cells))
    return zoom(coarse, size / cells, order=3)[:size, :size]


def rotated(rows, cols, centre, angle):
    """Coordinates along and across a direction ``angle`` through ``centre``."""
    dy, dx = rows - centre[0], cols - centre[1]
    return dx * np.cos(angle) + dy * np.sin(angle), -dx * np.sin(angle) + dy * np.cos(angle)


def ellipse(size, centre, semi_axes, angle=0.0) -> np.ndarray:
    """Coverage of a filled ellipse, anti-aliased over about one pixel."""
    along, across = rotated(*grid(size), centre, angle)
    radius = np.sqrt((along / semi_axes[0]) ** 2 + (across / semi_axes[1]) ** 2)
    return np.clip((1.0 - radius) * min(semi_axes) + 0.5, 0.0, 1.0)


def rectangle(size, centre, half_sides, angle=0.0) -> np.ndarray:
    """Coverage of a filled, rotated rectangle, anti-aliased over about one pixel."""
    along, across = rotated(*grid(size), centre, angle)
    inside = np.minimum(half_sides[0] - np.abs(along), half_sides[1] - np.abs(across))
    return np.clip(inside + 0.5, 0.0, 1.0)


def polygon(size, vertices) -> np.ndarray:
    """Coverage of a convex polygon given by (row, col) vertices in counter-clockwise order."""
    rows, cols = grid(size)
    distance = np.full((size, size), np.inf)
    vertices = np.asarray(vertices, dtype=np.float64)
    for start, end in zip(vertices, np.roll(vertices, -1, axis=0), strict=True):
        edge = end - start
        normal = np.array([edge[1], -edge[0]]) / np.hypot(*edge)
        signed = (rows - start[0]) * normal[0] + (cols - start[1]) * normal[1]
        distance = np.minimum(distance, signed)
    if distance.max() <= 0:  # clockwise vertices: flip the sign convention
        return polygon(size, vertices[::-1])
    return np.clip(distance + 0.5, 0.0, 1.0)


def composite(base: np.ndarray, colour, coverage: np.ndarray) -> np.ndarray:
    """Paint ``colour`` (scalar or RGB, or an image) over ``base`` with alpha ``coverage``."""
    alpha = coverage[..., None] if base.ndim == 3 else coverage
    return alpha * np.asarray(colour) + (1.0 - alpha) * base


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Float image in [0, 1] (H,W or H,W,C) as uint8 H,W,C."""
    image = np.clip(image, 0.0, 1.0)
    if image.ndim == 2:
        image = image[..., None]
    return np.round(image * 255).astype(np.uint8)
