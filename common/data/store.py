"""On-disk form of a dataset: one compressed ``.npz`` per split plus a manifest.

``resources/data/<name>/manifest.json`` names the classes and holds the sha256
of every file; :func:`load_split` checks it before handing data to a model, so
a corrupted or edited file stops the job with the file and both checksums named.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from common.io import atomic_path, read_json, sha256_file


class DataIntegrityError(RuntimeError):
    """A dataset file is missing or its bytes differ from the manifest."""


@dataclass(frozen=True)
class ImageSplit:
    """One split as tensors: images (N,C,H,W) float in [0,1], labels (N,), masks (N,H,W) bool."""

    images: torch.Tensor
    labels: torch.Tensor
    masks: torch.Tensor
    classes: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.labels)


def save_split(path: Path, images: np.ndarray, labels: np.ndarray, masks: np.ndarray) -> None:
    """Write one split atomically (uint8 images NHWC, int64 labels, bool masks)."""
    with atomic_path(path) as temporary:
        np.savez_compressed(temporary, images=images, labels=labels, masks=masks)


def load_manifest(directory: str | Path) -> dict:
    """The dataset's manifest; a clear error if it is absent."""
    path = Path(directory) / "manifest.json"
    if not path.is_file():
        raise DataIntegrityError(f"dataset manifest {path} does not exist")
    return read_json(path)


def load_split(directory: str | Path, split: str) -> ImageSplit:
    """Load ``split`` of the dataset in ``directory`` after checking its sha256."""
    directory = Path(directory)
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
    with np.load(path) as arrays:
        images = torch.from_numpy(arrays["images"]).permute(0, 3, 1, 2).float() / 255.0
        return ImageSplit(images.contiguous(), torch.from_numpy(arrays["labels"]),
                          torch.from_numpy(arrays["masks"]), tuple(manifest["classes"]))
