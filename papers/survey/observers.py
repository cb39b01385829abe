"""Simulated-observer fixation density maps: the embedded stand-in for recorded gaze.

The survey's Table 1 compares each explanation with gaze fixation density maps
(GFDM) recorded while people recognised the image's class (MexCulture). Without
recorded gaze, this module simulates observers on images whose objects have
ground-truth masks, and builds their density map the way gaze maps are built
from recorded fixations (Wooding, 2002): a Gaussian at every fixation, summed
over all observers, scaled to a peak of 1.

Each simulated observer makes ``fixations`` fixations. A fixation lands on the
explained object with probability ``on_object`` and anywhere in the image
otherwise; either way its position is drawn with a centre bias (Tatler, 2007):
an isotropic Gaussian prior at the image centre of standard deviation
``centre_bias`` times the side. The foveal blur has a standard deviation of
``blur`` times the side (Wooding uses about 2 degrees of visual angle; the
recording geometry of a simulated observer is ours to choose, so it is a
fraction of the image). These maps are labelled as simulated wherever they are
written: they measure agreement with where the evidence is, not with people.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.ndimage import gaussian_filter


@dataclass(frozen=True)
class Observers:
    """How the simulated observers look: counts, object preference, centre bias, blur."""

    observers: int = 23        # MexCulture's 23 observers (shared/papers/NOTES.md)
    fixations: int = 10        # per observer and image
    on_object: float = 0.8     # probability that a fixation lands on the explained object
    centre_bias: float = 0.3   # std of the central prior, as a fraction of the side
    blur: float = 0.06         # std of the foveal Gaussian, as a fraction of the side

    def __post_init__(self):
        if self.observers < 1 or self.fixations < 1:
            raise ValueError("observers and fixations must be at least 1")
        if not 0 <= self.on_object <= 1:
            raise ValueError(f"on_object must lie in [0, 1], got {self.on_object}")
        if self.centre_bias <= 0 or self.blur <= 0:
            raise ValueError("centre_bias and blur must be positive")


def centre_prior(height: int, width: int, spread: float) -> np.ndarray:
    """An isotropic Gaussian at the image centre, std ``spread`` times the longer side."""
    rows, columns = np.mgrid[0:height, 0:width].astype(float)
    sigma = spread * max(height, width)
    squared = (rows - (height - 1) / 2) ** 2 + (columns - (width - 1) / 2) ** 2
    return np.exp(-squared / (2 * sigma ** 2))


def fixation_counts(mask: np.ndarray, settings: Observers,
                    generator: np.random.Generator) -> np.ndarray:
    """How many fixations of all observers land on each pixel, (H, W) integers."""
    prior = centre_prior(*mask.shape, settings.centre_bias)
    anywhere = prior / prior.sum()
    on_object = prior * mask
    on_object = on_object / on_object.sum() if on_object.sum() > 0 else anywhere
    probability = settings.on_object * on_object + (1 - settings.on_object) * anywhere
    total = settings.observers * settings.fixations
    return generator.multinomial(total, probability.ravel()).reshape(mask.shape)


def density_map(mask: np.ndarray, settings: Observers,
                generator: np.random.Generator) -> np.ndarray:
    """One image's simulated fixation density map, (H, W) in [0, 1] with a peak of 1."""
    counts = fixation_counts(mask.astype(bool), settings, generator).astype(float)
    density = gaussian_filter(counts, sigma=settings.blur * max(mask.shape), mode="constant")
    return density / density.max()


def simulate_density(masks: torch.Tensor, settings: Observers, seed: int) -> torch.Tensor:
    """Density maps (N, H, W) for object masks (N, H, W); deterministic under ``seed``.

    Each image draws from its own generator (seeded by ``seed`` and its index),
    so an image's map does not depend on how many images are simulated after it.
    """
    maps = [density_map(mask.cpu().numpy(), settings, np.random.default_rng([seed, index]))
            for index, mask in enumerate(masks)]
    return torch.from_numpy(np.stack(maps)).float()
