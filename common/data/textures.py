"""``textures``: two classes of dense, global, fur-like texture (the AFHQ fur-texture case).

Each image is band-pass filtered noise: an oriented band of spatial
frequencies, coloured with a hue, saturation and brightness drawn from the same
distribution for both classes. The classes differ only in the texture's
statistics: ``smooth`` has stripes near vertical at low frequency; ``wiry``
stripes near horizontal at a higher frequency.
The evidence is everywhere, so the mask covers the whole image.
"""

from __future__ import annotations

import numpy as np

from common.data.draw import hsv_to_rgb, to_uint8
from common.data.procedural import generate_splits

CLASSES = ("smooth", "wiry")
_ORIENTATION = (0.0, np.pi / 2)       # direction of the stripes' normal, per class
_FREQUENCY = ((0.07, 0.11), (0.16, 0.24))  # cycles per pixel, per class


def _oriented_noise(rng, size, orientation, frequency):
    """White noise filtered to a band around ``frequency`` and ``orientation``, unit variance."""
    fy, fx = np.meshgrid(np.fft.fftfreq(size), np.fft.fftfreq(size), indexing="ij")
    radius = np.hypot(fy, fx)
    angle = np.arctan2(fy, fx)
    angular = np.cos(angle - orientation) ** 2
    band = np.exp(-((radius - frequency) ** 2) / (2 * (0.25 * frequency) ** 2)) * angular ** 6
    noise = np.fft.ifft2(np.fft.fft2(rng.standard_normal((size, size))) * band).real
    return noise / (noise.std() + 1e-12)


def render(rng: np.random.Generator, label: int, size: int):
    """One image of class ``label``: (uint8 HxWx3 image, boolean HxW mask of ones)."""
    orientation = _ORIENTATION[label] + rng.uniform(-np.pi / 9, np.pi / 9)
    texture = _oriented_noise(rng, size, orientation, rng.uniform(*_FREQUENCY[label]))
    hue = (rng.uniform(0.0, 0.15) + 0.01 * texture) % 1.0
    saturation = np.full((size, size), rng.uniform(0.2, 0.7))
    value = np.clip(rng.uniform(0.4, 0.7) + 0.15 * texture, 0, 1)
    image = hsv_to_rgb(np.stack([hue, saturation, value], axis=-1))
    return to_uint8(image), np.ones((size, size), dtype=bool)


def build(settings: dict) -> dict:
    """Train and test splits as arrays, from the ``datasets.textures`` settings."""
    return generate_splits(render, len(CLASSES), settings)
