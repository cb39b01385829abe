"""Stand-ins for the paper scale's sources, each in its published layout.

What ``config/paper.yaml`` fetches (PASCAL VOC 2012's tar, MexCulture142's zip,
torchvision's ImageNet state dicts) and what it reads from the user's disk (an
ImageNet subset in ``train/<wnid>/``, ``val/<wnid>/`` folders) is fabricated here,
small and seeded, so that the paper miniature goes through the same download rules,
checksums, archive formats and loaders as a real paper-scale run. The images are
drawn shapes and noise and the weights are random: they exercise the code, they
are not data, and nothing measured on them is a result.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

from common.data.real import VOC_CLASSES

#: The torchvision architectures whose ImageNet weights config/paper.yaml fetches.
WEIGHTS = ("mobilenet_v3_small", "vgg16", "resnet50")


def _jpeg(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def _png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    """One member with fixed metadata, so the same content gives the same archive bytes."""
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), 0, 0o644
    archive.addfile(info, io.BytesIO(data))


def _scene(rng: np.random.Generator, height: int, width: int, objects: int):
    """A noisy background with ``objects`` filled boxes, each of a random VOC class."""
    image = rng.integers(40, 200, size=(height, width, 3), dtype=np.uint8)
    boxes = []
    for _ in range(objects):
        label = int(rng.integers(len(VOC_CLASSES)))
        box_h, box_w = int(rng.integers(height // 4, height // 2)), int(rng.integers(width // 4,
                                                                                     width // 2))
        top, left = int(rng.integers(0, height - box_h)), int(rng.integers(0, width - box_w))
        image[top:top + box_h, left:left + box_w] = (37 * label % 256, 91 * label % 256,
                                                     53 * label % 256)
        boxes.append((VOC_CLASSES[label], (left + 1, top + 1, left + box_w, top + box_h)))
    return image, boxes


def _voc_annotation(name: str, height: int, width: int, boxes) -> bytes:
    objects = "".join(
        f"<object><name>{label}</name><pose>Unspecified</pose><truncated>0</truncated>"
        f"<difficult>0</difficult><bndbox><xmin>{x0}</xmin><ymin>{y0}</ymin><xmax>{x1}</xmax>"
        f"<ymax>{y1}</ymax></bndbox></object>" for label, (x0, y0, x1, y1) in boxes)
    return (f"<annotation><folder>VOC2012</folder><filename>{name}.jpg</filename><size>"
            f"<width>{width}</width><height>{height}</height><depth>3</depth></size>"
            f"<segmented>0</segmented>{objects}</annotation>").encode()


def voc_archive(path: Path, train: int, val: int, seed: int = 0) -> None:
    """A PASCAL VOC 2012 trainval tar: ``VOCdevkit/VOC2012/`` with JPEGImages, Annotations
    (one XML per image, 1-based boxes) and ImageSets/Main/{train,val}.txt."""
    rng = np.random.default_rng(seed)
    base = "VOCdevkit/VOC2012"
    names = {"train": [f"2012_{index:06d}" for index in range(train)],
             "val": [f"2012_{index:06d}" for index in range(train, train + val)]}
    with tarfile.open(path, "w") as archive:
        for split, split_names in names.items():
            for name in split_names:
                height, width = int(rng.integers(120, 180)), int(rng.integers(160, 240))
                image, boxes = _scene(rng, height, width, int(rng.integers(1, 3)))
                _add(archive, f"{base}/JPEGImages/{name}.jpg", _jpeg(image))
                _add(archive, f"{base}/Annotations/{name}.xml",
                     _voc_annotation(name, height, width, boxes))
            _add(archive, f"{base}/ImageSets/Main/{split}.txt",
                 "".join(f"{name}\n" for name in split_names).encode())


def mexculture_archive(path: Path, categories: int, seed: int = 0) -> None:
    """A MexCulture142 zip: ``MexCulture142/Images/<category>/<image>.jpg`` (two views per
    category) and a gaze density map of the same stem in ``MexCulture142/Density Maps/``."""
    rng = np.random.default_rng(seed)
    with zipfile.ZipFile(path, "w") as archive:
        for category in range(categories):
            for view in (1, 2):
                name = f"Building_{category:03d}_{view}"
                image, _ = _scene(rng, 96, 128, 1)
                density = np.zeros((96, 128), dtype=np.uint8)
                row, col = int(rng.integers(10, 80)), int(rng.integers(10, 110))
                density[row - 8:row + 8, col - 8:col + 8] = 255
                archive.writestr(zipfile.ZipInfo(f"MexCulture142/Images/Building_{category:03d}/"
                                                 f"{name}.jpg"), _jpeg(image))
                archive.writestr(zipfile.ZipInfo(f"MexCulture142/Density Maps/{name}.png"),
                                 _png(density))


def torchvision_weights(path: Path, name: str, seed: int = 0) -> None:
    """The state dict of torchvision's ``name`` with random weights, saved as torchvision's
    ImageNet weight files are (``torch.save`` of the state dict)."""
    import torch
    import torchvision

    torch.manual_seed(seed)
    state = getattr(torchvision.models, name)(weights=None).state_dict()
    with path.open("wb") as stream:  # a file object: the archive's records carry no path
        torch.save(state, stream)


def imagenet_tree(root: Path, classes: int, train: int, val: int, seed: int = 0) -> None:
    """An ImageNet subset as the loaders read it: ``train/<wnid>/*.JPEG``, ``val/<wnid>/*.JPEG``."""
    rng = np.random.default_rng(seed)
    for wnid in (f"n{1440764 + 17 * index:08d}" for index in range(classes)):
        for split, count in (("train", train), ("val", val)):
            folder = root / split / wnid
            folder.mkdir(parents=True, exist_ok=True)
            for index in range(count):
                image, _ = _scene(rng, 96, 128, 1)
                (folder / f"{wnid}_{split}_{index}.JPEG").write_bytes(_jpeg(image))


def digest(path: Path, algorithm: str) -> str:
    """The hex digest of a file, as the download rules check it."""
    hasher = hashlib.new(algorithm)
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            hasher.update(block)
    return hasher.hexdigest()
