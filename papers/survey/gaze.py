"""The maps Table 1 compares explanations with: recorded gaze, or simulated observers."""

from __future__ import annotations

import torch

from common import budget
from common.metrics.evaluate import images_with_objects
from papers.survey.observers import Observers, simulate_density
from papers.survey.table1 import RECORDED_GAZE, SIMULATED_OBSERVERS


def reference_maps(model, split, settings: dict, seed: int, device: str):
    """Images, the explained classes, density maps (N, H, W) and how the maps were made.

    Recorded gaze: the first ``images`` images, each explained for the model's top-1
    class (the dataset's categories are not the model's classes). Otherwise the
    first images with an object, for that object's class, against simulated observers.
    """
    count = settings["images"]
    if split.density is not None:
        x = split.images[:count]
        with torch.no_grad():
            target = budget.batched(lambda images: model(images.to(device)).argmax(1).cpu(), x)
        return x, target, split.density[:count], RECORDED_GAZE
    x, target, mask = images_with_objects(split, count, key="survey.human_likeness.dataset")
    density = simulate_density(mask[:, 0], Observers(**settings["observers"]), seed)
    return x, target, density, SIMULATED_OBSERVERS
