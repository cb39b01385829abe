"""On-disk form of a dataset: one compressed ``.npz`` per split plus a manifest.

``resources/data/<name>/manifest.json`` names the classes and holds the sha256
of every file; :func:`load_split` checks it before handing data to a model, so
a corrupted or edited file stops the job with the file and both checksums named.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from common.data.procedural import SplitArrays
from common.io import atomic_path, read_json, sha256_file

if TYPE_CHECKING:  # torch is imported where a split is loaded, not by the workflow's planning
    import torch


class DataIntegrityError(RuntimeError):
    """A dataset file is missing or its bytes differ from the manifest."""


@dataclass(frozen=True)
class ImageSplit:
    """One split as tensors.

    images (N,C,H,W) float in [0,1]; labels (N,) class indices, or (N,K) multi-hot
    floats for multi-label data; masks (N,H,W) or (N,K,H,W) bool where the
    dataset has ground truth, else None; names of the images where they have any;
    human fixation density maps (N,H,W) in [0,1] where the dataset has them.
    """

    images: torch.Tensor
    labels: torch.Tensor
    masks: torch.Tensor | None
    classes: tuple[str, ...]
    task: str = "single_label"
    names: tuple[str, ...] | None = None
    density: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.labels)


def sample_indices(size: int, count: int, seed: int, key: str) -> torch.Tensor:
    """``count`` distinct indices into a split of ``size`` images, a seeded random sample in
    increasing order: evaluation images drawn across the whole split (real datasets in
    class folders store their images class by class, so the first ``count`` would cover
    a few classes). Asking for more images than the split holds is an error naming the
    config ``key`` that asked."""
    if count > size:
        raise ValueError(f"config key '{key}': {count} images asked for, but the split holds "
                         f"only {size}")
    import torch

    generator = torch.Generator().manual_seed(seed)
    return torch.randperm(size, generator=generator)[:count].sort().values


def save_split(path: Path, arrays: SplitArrays) -> None:
    """Write one split atomically; absent masks or names are simply not stored."""
    present = {key: value for key, value in arrays._asdict().items() if value is not None}
    with atomic_path(path) as temporary:
        np.savez_compressed(temporary, **present)


def load_manifest(directory: str | Path) -> dict:
    """The dataset's manifest; a clear error if it is absent."""
    path = Path(directory) / "manifest.json"
    if not path.is_file():
        raise DataIntegrityError(f"dataset manifest {path} does not exist")
    return read_json(path)


def load_split(dataset: str | Path, split: str) -> ImageSplit:
    """Load ``split`` of a dataset after checking its sha256; ``dataset`` is the dataset's
    folder or its manifest (the file a rule declares as its ``manifest`` input)."""
    dataset = Path(dataset)
    directory = dataset.parent if dataset.name == "manifest.json" else dataset
    manifest = load_manifest(directory)
    name = f"{split}.npz"
    path = directory / name
    if name not in manifest["files"]:
        raise DataIntegrityError(f"{directory / 'manifest.json'} lists no file {name}")
    if not path.is_file():
        raise DataIntegrityError(f"dataset file {path} does not exist")
    actual = sha256_file(path)
    if actual != manifest["files"][name]:
        raise DataIntegrityError(
            f"checksum mismatch for {path}: manifest says {manifest['files'][name]}, "
            f"file has {actual}"
        )
    task = manifest["task"]
    import torch

    with np.load(path) as arrays:
        images = torch.from_numpy(arrays["images"]).permute(0, 3, 1, 2).float() / 255.0
        labels = torch.from_numpy(arrays["labels"])
        masks = torch.from_numpy(arrays["masks"]) if "masks" in arrays else None
        names = tuple(arrays["names"].tolist()) if "names" in arrays else None
        density = torch.from_numpy(arrays["density"]).float() if "density" in arrays else None
    return ImageSplit(images.contiguous(), labels.float() if task == "multi_label" else labels,
                      masks, tuple(manifest["classes"]), task, names, density)
