"""Real images that ship inside installed packages: no download, ever.

- ``faces``: scikit-image's ``lfw_subset``: 100 faces and 100 non-faces, 25x25 grey.
- ``digits``: scikit-learn's handwritten digits, 1797 images of 8x8, ten classes.
- ``photos``: the colour photographs of ``skimage.data`` and scikit-learn's two
  sample images, for the ImageNet classifier; unlabelled (the model's prediction
  is the class to explain), kept with their names.
"""

from __future__ import annotations

import numpy as np

from common.data.procedural import SplitArrays
from common.data.real import centre_square

FACES_CLASSES = ("non_face", "face")
DIGITS_CLASSES = tuple(str(digit) for digit in range(10))
SKIMAGE_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry",
                  "hubble_deep_field", "retina")
SKLEARN_PHOTOS = ("china.jpg", "flower.jpg")


def _resized(images: np.ndarray, size: int) -> np.ndarray:
    """Float images (N,H,W[,C]) in [0,1] resized to size x size, as uint8 (N,size,size,C)."""
    from skimage.transform import resize  # imported on use: only dataset building needs it

    out = np.stack([resize(image, (size, size), order=1, anti_aliasing=True) for image in images])
    out = out[..., None] if out.ndim == 3 else out
    return np.round(np.clip(out, 0, 1) * 255).astype(np.uint8)


def _stratified(images, labels, settings) -> dict[str, SplitArrays]:
    # imported here: scikit-learn takes 1.5 s to import, and every job imports this package
    from sklearn.model_selection import train_test_split

    train_x, test_x, train_y, test_y = train_test_split(
        images, labels, test_size=settings["n_test"], stratify=labels,
        random_state=settings["seed"])
    return {"train": SplitArrays(train_x, train_y.astype(np.int64)),
            "test": SplitArrays(test_x, test_y.astype(np.int64))}


def build_faces(settings: dict) -> dict[str, SplitArrays]:
    """lfw_subset split into train/test, stratified by class, resized to ``image_size``."""
    from skimage.data import lfw_subset

    images = lfw_subset()  # the first 100 are faces, the last 100 are not
    labels = np.r_[np.ones(100), np.zeros(100)]
    return _stratified(_resized(images, settings["image_size"]), labels, settings)


def build_digits(settings: dict) -> dict[str, SplitArrays]:
    """scikit-learn's digits split into train/test, stratified, resized to ``image_size``."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = _resized(digits.images / 16.0, settings["image_size"])
    return _stratified(images, digits.target, settings)


def build_photos(settings: dict) -> dict[str, SplitArrays]:
    """The shipped colour photographs, centre-cropped and resized; one unlabelled split."""
    import skimage.data
    from sklearn.datasets import load_sample_image

    photos = [getattr(skimage.data, name)() for name in SKIMAGE_PHOTOS]
    photos += [load_sample_image(name) for name in SKLEARN_PHOTOS]
    names = [*SKIMAGE_PHOTOS, *(name.removesuffix(".jpg") for name in SKLEARN_PHOTOS)]
    images = _resized([centre_square(photo[..., :3]) / 255.0 for photo in photos],
                      settings["image_size"])
    return {"test": SplitArrays(images, np.full(len(images), -1, dtype=np.int64),
                                names=np.asarray(names))}
