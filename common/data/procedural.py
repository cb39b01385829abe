"""How every procedural dataset turns a per-image renderer into reproducible splits.

Each image is drawn from its own random generator seeded with
(dataset seed, split, index): a dataset is the same to the byte for the same
seed, and image i does not depend on how many images the split has.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from tqdm import tqdm

SPLITS = ("train", "test")


class SplitArrays(NamedTuple):
    """One split in storage form: uint8 images (N,H,W,C), labels, optional masks and names.

    Labels are class indices (N,) for single-label data and multi-hot (N,K) for
    multi-label data; masks are (N,H,W) evidence of the image's class, or
    (N,K,H,W) evidence of each class for multi-label data; density holds human
    fixation density maps (N,H,W) in [0, 1] where a dataset has them.
    """

    images: np.ndarray
    labels: np.ndarray
    masks: np.ndarray | None = None
    names: np.ndarray | None = None
    density: np.ndarray | None = None


def image_rng(seed: int, split: str, index: int) -> np.random.Generator:
    """The random generator of image ``index`` of ``split``."""
    return np.random.default_rng([seed, SPLITS.index(split), index])


def generate_splits(render: Callable, num_classes: int, settings: dict) -> dict[str, SplitArrays]:
    """Render balanced single-label splits: image i of a split has class i mod ``num_classes``.

    ``render(rng, label, size)`` returns (uint8 image H,W,C, boolean mask H,W).
    """
    splits = {}
    for split in SPLITS:
        count = settings[f"n_{split}"]
        labels = np.arange(count) % num_classes
        drawn = [render(image_rng(settings["seed"], split, index), int(labels[index]),
                        settings["image_size"])
                 for index in tqdm(range(count), desc=f"{split} images", mininterval=2,
                                   leave=False)]
        images, masks = zip(*drawn, strict=True)
        splits[split] = SplitArrays(np.stack(images), labels.astype(np.int64), np.stack(masks))
    return splits
