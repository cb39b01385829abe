"""Loaders for the papers' real datasets, each reading its published on-disk format.

Every loader returns ``(splits, classes)``: splits of
:class:`~common.data.procedural.SplitArrays` (uint8 images resized to
``image_size``, labels, evidence masks where the dataset has them) and the
class names. They are what ``make_dataset`` runs at paper scale when a
dataset's ``root`` is set; nothing here downloads anything.

Formats (as published):
- class folders: AFHQ ``{train,val}/<class>/*``, Fruits-360 ``{Training,Test}/<class>/*``,
  an ImageNet validation subset ``val/<wnid>/*`` or a subset with a training part
  ``{train,val}/<wnid>/*`` (classes in sorted-wnid order);
- CelebA: ``img_align_celeba/``, ``list_attr_celeba.txt``, ``list_eval_partition.txt``;
- DOTA: ``{train,val}/images/*.png`` with ``{train,val}/labelTxt/*.txt`` polygons;
- BraTS: one folder per case with ``<case>_flair.nii.gz`` and ``<case>_seg.nii.gz``;
- PASCAL VOC 2012: ``VOC2012/{JPEGImages,Annotations,ImageSets/Main}``;
- MexCulture142: ``Images/`` (one folder per category), ``Density Maps/`` (one
  gaze fixation density map per image, same file stem), as its README lists.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from common.data.procedural import SplitArrays

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}
VOC_CLASSES = ("aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair",
               "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
               "sheep", "sofa", "train", "tvmonitor")
DOTA_VEHICLES = ("small-vehicle", "large-vehicle")


def require_root(root: str | Path | None, key: str) -> Path:
    """The dataset root as a Path; a clear error naming the config key if it is not there."""
    if root is None or not Path(root).is_dir():
        raise FileNotFoundError(f"config key '{key}': dataset root {root!r} is not a directory")
    return Path(root)


def centre_square(image: np.ndarray) -> np.ndarray:
    """The central square crop of an image (H,W[,C])."""
    height, width = image.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    return image[top:top + side, left:left + side]


def _square_resize(image: np.ndarray, size: int, order: int = 1,
                   crop: bool = True) -> np.ndarray:
    """Resize to a ``size`` square, keeping the value range (as float): centre-cropped to a
    square first, or with ``crop`` False the whole image, stretched (nothing cut off)."""
    from skimage.transform import resize  # imported on use: only dataset building needs it

    return resize(centre_square(image) if crop else image, (size, size), order=order,
                  anti_aliasing=order > 0, preserve_range=True)


def _resize_mask(mask: np.ndarray, size: int) -> np.ndarray:
    """A boolean mask cropped and resized like its image, by nearest neighbour."""
    return _square_resize(mask.astype(float), size, order=0) > 0.5


def _read_rgb(path: Path, size: int, crop: bool = True) -> np.ndarray:
    with Image.open(path) as image:
        array = np.asarray(image.convert("RGB"))
    return np.round(_square_resize(array, size, crop=crop)).astype(np.uint8)


def _stack(images, labels, masks=None, where: Path | None = None) -> SplitArrays:
    """Stack one split's samples; a clear error if the split came out empty."""
    if not images:
        raise FileNotFoundError(f"no usable images found under {where}")
    return SplitArrays(np.stack(images), np.asarray(labels, dtype=np.int64),
                       None if masks is None else np.stack(masks))


def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def class_folders(root, split_dirs: dict[str, str], classes, image_size: int, key: str):
    """Datasets stored as ``<split dir>/<class>/<image>`` (AFHQ, Fruits-360, ImageNet val)."""
    root = require_root(root, key)
    splits = {}
    for split, directory in split_dirs.items():
        images, labels = [], []
        for label, name in enumerate(classes):
            folder = root / directory / name
            if not folder.is_dir():
                raise FileNotFoundError(f"config key '{key}': class folder {folder} is missing")
            for path in _images_in(folder):
                images.append(_read_rgb(path, image_size))
                labels.append(label)
        splits[split] = _stack(images, labels, where=root / directory)
    return splits, tuple(classes)


def afhq(root, image_size, classes=("cat", "dog"), key="afhq.root"):
    """AFHQ: ``train`` and ``val`` folders of ``cat``, ``dog``, ``wild``."""
    return class_folders(root, {"train": "train", "test": "val"}, classes, image_size, key)


def fruits360(root, image_size, classes=("Pepper Red", "Pepper Yellow", "Pepper Green"),
              key="fruits360.root"):
    """Fruits-360: ``Training`` and ``Test`` folders of one folder per fruit variety."""
    return class_folders(root, {"train": "Training", "test": "Test"}, classes, image_size, key)


def _wnids(root, folder: str, key: str) -> list[str]:
    return sorted(p.name for p in (require_root(root, key) / folder).iterdir() if p.is_dir())


def imagenet_val(root, image_size, key="imagenet.root"):
    """An ImageNet validation subset in ``val/<wnid>/`` folders; labels index sorted wnids."""
    return class_folders(root, {"test": "val"}, _wnids(root, "val", key), image_size, key)


def imagenet_subset(root, image_size, key="imagenet.root"):
    """A subset of ImageNet as ``train/<wnid>/`` and ``val/<wnid>/`` folders (PV's second
    decoder trains on 8000 ImageNet images: choose them when making the subset)."""
    return class_folders(root, {"train": "train", "test": "val"}, _wnids(root, "train", key),
                         image_size, key)


def _celeba_table(path: Path) -> tuple[list[str], dict[str, list[int]]]:
    lines = path.read_text().split("\n")
    header, rows = lines[1].split(), {}
    for line in lines[2:]:
        if line.strip():
            name, *values = line.split()
            rows[name] = [int(value) for value in values]
    return header, rows


def celeba(root, image_size, attribute="Male", key="celeba.root"):
    """CelebA, two classes from one attribute (default male vs female), official partitions."""
    root = require_root(root, key)
    header, attributes = _celeba_table(root / "list_attr_celeba.txt")
    column = header.index(attribute)
    partition = dict(line.split() for line in
                     (root / "list_eval_partition.txt").read_text().splitlines() if line.strip())
    splits = {}
    for split, code in (("train", "0"), ("test", "2")):
        names = sorted(name for name, part in partition.items() if part == code)
        images = [_read_rgb(root / "img_align_celeba" / name, image_size) for name in names]
        labels = [int(attributes[name][column] == 1) for name in names]
        splits[split] = _stack(images, labels, where=root)
    return splits, (f"not_{attribute.lower()}", attribute.lower())


def _dota_polygons(label_file: Path) -> list[tuple[np.ndarray, str]]:
    polygons = []
    for line in label_file.read_text().splitlines():
        parts = line.split()
        if len(parts) < 9:  # the 'imagesource:' and 'gsd:' header lines
            continue
        points = np.asarray(parts[:8], dtype=np.float64).reshape(4, 2)  # (x, y) pairs
        polygons.append((points, parts[8]))
    return polygons


def dota_patches(image: np.ndarray, polygons, patch: int, min_visible: float):
    """Yield (patch image, label, mask): cars at least ``min_visible`` inside, or no vehicle."""
    from skimage.draw import polygon as fill_polygon  # imported on use: dataset building

    height, width = image.shape[:2]
    vehicles = []
    for points, category in polygons:
        if category in DOTA_VEHICLES:
            rows, cols = fill_polygon(points[:, 1], points[:, 0])
            vehicles.append((rows, cols))
    for top in range(0, height - patch + 1, patch):
        for left in range(0, width - patch + 1, patch):
            mask = np.zeros((patch, patch), dtype=bool)
            touching, complete = 0, 0
            for rows, cols in vehicles:
                inside = ((rows >= top) & (rows < top + patch)
                          & (cols >= left) & (cols < left + patch))
                if inside.any():
                    touching += 1
                    if inside.mean() >= min_visible:
                        complete += 1
                        mask[rows[inside] - top, cols[inside] - left] = True
            if touching == 0:
                yield image[top:top + patch, left:left + patch], 0, mask
            elif complete == touching:
                yield image[top:top + patch, left:left + patch], 1, mask


def dota(root, image_size, patch=256, min_visible=0.7, key="dota.root"):
    """DOTA cut into ``patch``-pixel tiles: vehicles at least 70% visible vs no vehicles.

    Tiles where some vehicle is cut to less than ``min_visible`` are left out, as
    they are neither class. Masks mark the vehicles' pixels.
    """
    root = require_root(root, key)
    splits = {}
    for split, directory in (("train", "train"), ("test", "val")):
        images, labels, masks = [], [], []
        for path in _images_in(root / directory / "images"):
            with Image.open(path) as handle:
                image = np.asarray(handle.convert("RGB"))
            polygons = _dota_polygons(root / directory / "labelTxt" / f"{path.stem}.txt")
            for tile, label, mask in dota_patches(image, polygons, patch, min_visible):
                images.append(np.round(_square_resize(tile, image_size)).astype(np.uint8))
                labels.append(label)
                masks.append(_resize_mask(mask, image_size))
        splits[split] = _stack(images, labels, masks, where=root / directory)
    return splits, ("no_cars", "cars")


def brats_slices(flair: np.ndarray, segmentation: np.ndarray, min_tumour: int,
                 min_brain_fraction: float):
    """Yield (slice, label, mask) of one volume: tumour slices and healthy full cross-sections.

    A tumour slice has at least ``min_tumour`` labelled pixels; a healthy slice has
    none and a brain area of at least ``min_brain_fraction`` of the volume's largest.
    """
    scale = np.percentile(flair[flair > 0], 99.5) if (flair > 0).any() else 1.0
    brain_area = (flair > 0).sum(axis=(0, 1))
    for index in range(flair.shape[2]):
        tumour = segmentation[:, :, index] > 0
        image = np.clip(flair[:, :, index] / scale, 0, 1)
        if tumour.sum() >= min_tumour:
            yield image, 1, tumour
        elif not tumour.any() and brain_area[index] >= min_brain_fraction * brain_area.max():
            yield image, 0, tumour


def brats(root, image_size, min_tumour=20, min_brain_fraction=0.7, test_fraction=0.2, seed=0,
          key="brats.root"):
    """BraTS FLAIR axial slices; cases (not slices) are split into train and test."""
    import nibabel

    root = require_root(root, key)
    cases = sorted(p for p in root.iterdir() if p.is_dir())
    order = np.random.default_rng(seed).permutation(len(cases))
    test_count = max(1, round(test_fraction * len(cases)))
    chosen = {"test": [cases[i] for i in order[:test_count]],
              "train": [cases[i] for i in order[test_count:]]}
    splits = {}
    for split, split_cases in chosen.items():
        images, labels, masks = [], [], []
        for case in split_cases:
            flair = np.asarray(nibabel.load(case / f"{case.name}_flair.nii.gz").dataobj, float)
            seg = np.asarray(nibabel.load(case / f"{case.name}_seg.nii.gz").dataobj)
            for image, label, mask in brats_slices(flair, seg, min_tumour, min_brain_fraction):
                images.append(np.round(_square_resize(image, image_size) * 255)
                              .astype(np.uint8)[..., None])
                labels.append(label)
                masks.append(_resize_mask(mask, image_size))
        splits[split] = _stack(images, labels, masks, where=root)
    return splits, ("healthy", "tumor")


def _voc_objects(annotation: Path) -> tuple[tuple[int, int], list[tuple[str, tuple]]]:
    tree = ElementTree.parse(annotation).getroot()
    size = tree.find("size")
    shape = (int(size.findtext("height")), int(size.findtext("width")))
    objects = []
    for item in tree.iter("object"):
        box = item.find("bndbox")
        corners = tuple(int(float(box.findtext(k))) for k in ("xmin", "ymin", "xmax", "ymax"))
        objects.append((item.findtext("name").strip(), corners))
    return shape, objects


def voc(root, image_size, key="voc.root"):
    """PASCAL VOC 2012 classification: multi-hot labels, box masks per class."""
    base = require_root(root, key) / "VOC2012"
    splits = {}
    for split, listing in (("train", "train.txt"), ("test", "val.txt")):
        names = (base / "ImageSets" / "Main" / listing).read_text().split()
        images, labels, masks = [], [], []
        for name in names:
            (height, width), objects = _voc_objects(base / "Annotations" / f"{name}.xml")
            label = np.zeros(len(VOC_CLASSES), dtype=np.int64)
            full_masks = np.zeros((len(VOC_CLASSES), height, width), dtype=float)
            for class_name, (x0, y0, x1, y1) in objects:
                index = VOC_CLASSES.index(class_name)
                label[index] = 1
                full_masks[index, y0 - 1:y1, x0 - 1:x1] = 1.0  # VOC boxes are 1-based
            images.append(_read_rgb(base / "JPEGImages" / f"{name}.jpg", image_size))
            labels.append(label)
            masks.append(np.stack([_resize_mask(m, image_size) for m in full_masks]))
        splits[split] = _stack(images, labels, masks, where=base)
    return splits, VOC_CLASSES


def _grey_unit(path: Path, size: int) -> np.ndarray:
    """The whole greyscale image in [0, 1], stretched to a ``size`` square (none cut off)."""
    with Image.open(path) as image:
        array = np.asarray(image.convert("L"), dtype=np.float64) / 255.0
    return _square_resize(array, size, crop=False)


def mexculture(root, image_size, key="mexculture.root"):
    """MexCulture142: its 284 photographs with their gaze fixation density maps (Table 1).

    ``Images/`` holds 142 category folders of two views each; every image needs a
    density map of the same file stem under ``Density Maps/``. The folder holding
    both may be ``root`` or one level below (as an archive unpacks). All images
    form one unlabelled ``test`` split, as the survey evaluates all 284 (its VGG16
    was trained on another MexCulture set); density maps are max-normalised to [0, 1].
    Each image and its map are resized whole to the square (stretched, not cropped):
    a centre crop would drop the fixations recorded off the central square.
    """
    base = require_root(root, key)
    found = [folder.parent for folder in (base / "Images", *base.glob("*/Images"))
             if folder.is_dir()]
    if len(found) != 1:
        raise FileNotFoundError(f"config key '{key}': expected one 'Images' folder at or one "
                                f"level below {base}, found {len(found)}")
    images_dir, maps_dir = found[0] / "Images", found[0] / "Density Maps"
    paths = sorted(p for p in images_dir.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    maps = {p.stem: p for p in maps_dir.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES}
    if not paths:
        raise FileNotFoundError(f"no usable images found under {images_dir}")
    missing = [path for path in paths if path.stem not in maps]
    if missing:
        raise FileNotFoundError(f"config key '{key}': no density map for {missing[0]} "
                                f"(and {len(missing) - 1} more) under {maps_dir}")
    density = np.stack([_grey_unit(maps[path.stem], image_size) for path in paths])
    density /= np.maximum(density.max(axis=(1, 2), keepdims=True), 1e-12)
    images = np.stack([_read_rgb(path, image_size, crop=False) for path in paths])
    test = SplitArrays(images, np.full(len(paths), -1, dtype=np.int64),
                       names=np.asarray([path.stem for path in paths]),
                       density=density.astype(np.float32))
    return {"test": test}, ()


#: What each loader reads under a dataset's root, as glob patterns ("a|b": either): a root
#: that lacks one is refused before any job runs, with the pattern named.
LAYOUTS: dict[Callable, tuple[str, ...]] = {
    fruits360: ("Training", "Test"),
    afhq: ("train", "val"),
    imagenet_val: ("val/*/",),
    imagenet_subset: ("train/*/", "val/*/"),
    celeba: ("list_attr_celeba.txt", "list_eval_partition.txt", "img_align_celeba"),
    dota: ("train/images", "train/labelTxt", "val/images", "val/labelTxt"),
    brats: ("*/*_flair.nii.gz", "*/*_seg.nii.gz"),
    voc: ("VOC2012/ImageSets/Main/train.txt", "VOC2012/ImageSets/Main/val.txt",
          "VOC2012/Annotations", "VOC2012/JPEGImages"),
    mexculture: ("Images|*/Images", "Density Maps|*/Density Maps"),
}


def missing_layout(loader: Callable, root: Path) -> list[str]:
    """The patterns of ``loader``'s layout that match nothing under ``root``."""
    return [pattern for pattern in LAYOUTS[loader]
            if not any(next(root.glob(choice), None) for choice in pattern.split("|"))]
