"""Datasets by name: procedural generators with ground truth, and shipped real images.

Every dataset is built by ``DatasetSpec.build(settings)`` into splits of
:class:`~common.data.procedural.SplitArrays`, stored by the ``make_dataset`` rule
under ``resources/data/<name>/`` and read back with :func:`load_split`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from common.data import cars, peppers, real, scenes, shipped, textures, tumor
from common.data.store import (
    DataIntegrityError,
    ImageSplit,
    load_manifest,
    load_split,
    sample_indices,
)


@dataclass(frozen=True)
class DatasetSpec:
    """What a dataset is: its classes, task and splits, how to build it, its real counterpart.

    ``real(root, image_size, key=...)`` loads the paper's dataset that this one
    stands in for; ``make_dataset`` uses it when the config sets ``root``. A
    dataset without ``build`` exists only as the real one (its ``root`` required).
    """

    classes: tuple[str, ...]
    task: str  # "single_label", "multi_label" or "unlabelled"
    build: Callable[[dict], dict] | None
    splits: tuple[str, ...] = ("train", "test")
    real: Callable | None = None


DATASETS: dict[str, DatasetSpec] = {
    "peppers": DatasetSpec(peppers.CLASSES, "single_label", peppers.build, real=real.fruits360),
    "cars": DatasetSpec(cars.CLASSES, "single_label", cars.build, real=real.dota),
    "tumor": DatasetSpec(tumor.CLASSES, "single_label", tumor.build, real=real.brats),
    "textures": DatasetSpec(textures.CLASSES, "single_label", textures.build, real=real.afhq),
    "scenes": DatasetSpec(scenes.CLASSES, "multi_label", scenes.build, real=real.voc),
    "faces": DatasetSpec(shipped.FACES_CLASSES, "single_label", shipped.build_faces,
                         real=real.celeba),
    "digits": DatasetSpec(shipped.DIGITS_CLASSES, "single_label", shipped.build_digits),
    "photos": DatasetSpec((), "unlabelled", shipped.build_photos, splits=("test",),
                          real=real.imagenet_val),
    "mexculture": DatasetSpec((), "unlabelled", None, splits=("test",), real=real.mexculture),
    "imagenet": DatasetSpec((), "single_label", None, real=real.imagenet_subset),
}


#: Datasets of ImageNet photographs: explained by the pretrained ImageNet classifiers.
IMAGENET_PHOTOGRAPHS = ("photos", "imagenet")


def build_dataset(name: str, settings: dict) -> tuple[dict, tuple[str, ...]]:
    """The splits and class names of dataset ``name``: real if ``settings['root']`` is set."""
    spec = DATASETS[name]
    if settings.get("root") is not None:
        return spec.real(settings["root"], settings["image_size"], key=f"datasets.{name}.root")
    if spec.build is None:
        raise FileNotFoundError(f"config key 'datasets.{name}.root': {name} has no embedded "
                                f"stand-in; set it to a copy of the real dataset")
    return spec.build(settings), spec.classes


def buildable(config) -> list[str]:
    """The configured datasets that can be built: generated or shipped, or with a root."""
    return [name for name, settings in config["datasets"].items()
            if DATASETS[name].build is not None or settings.get("root") is not None]

__all__ = ["DATASETS", "IMAGENET_PHOTOGRAPHS", "DataIntegrityError", "DatasetSpec", "ImageSplit",
           "build_dataset", "buildable", "load_manifest", "load_split", "sample_indices"]
