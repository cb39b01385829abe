"""The peppers generator: byte-determinism, hue-only class evidence, checked loading."""

import numpy as np
import pytest
import torch
from matplotlib.colors import rgb_to_hsv

from common.data import DataIntegrityError, load_split, peppers
from common.data.store import save_split
from common.io import sha256_file, write_json


def test_same_seed_same_bytes_other_seed_other_bytes():
    first = peppers.generate(3, "train", 12, 32)
    again = peppers.generate(3, "train", 12, 32)
    other = peppers.generate(4, "train", 12, 32)
    for a, b in zip(first, again, strict=True):
        assert a.tobytes() == b.tobytes()
    assert first[0].tobytes() != other[0].tobytes()


def test_an_image_does_not_depend_on_the_dataset_size():
    small, large = peppers.generate(0, "test", 5, 32), peppers.generate(0, "test", 9, 32)
    assert small[0].tobytes() == large[0][:5].tobytes()


def test_classes_differ_inside_the_mask_only():
    images, labels, masks = peppers.generate(0, "train", 300, 32)
    hsv = rgb_to_hsv(images / 255.0)
    fruit_hue = np.array([np.median(hsv[i][masks[i], 0]) for i in range(len(images))])
    for index, hue in enumerate(peppers.CLASS_HUES):
        centred = (fruit_hue[labels == index] - hue + 0.5) % 1.0 - 0.5
        assert np.abs(centred).max() < 0.05
    background = np.array([images[i][~masks[i]].mean(0) for i in range(len(images))])
    class_means = np.array([background[labels == c].mean(0) for c in range(3)])
    assert np.ptp(class_means, axis=0).max() < 8  # grey levels out of 255
    mask_fraction = np.array([masks[labels == c].mean() for c in range(3)])
    assert np.ptp(mask_fraction) < 0.02


def _write_dataset(directory, images, labels, masks):
    save_split(directory / "test.npz", images, labels, masks)
    write_json(directory / "manifest.json", {"classes": list(peppers.CLASSES),
                                             "files": {"test.npz": sha256_file(directory /
                                                                               "test.npz")}})


def test_load_split_returns_tensors_in_unit_range(tmp_path):
    _write_dataset(tmp_path, *peppers.generate(0, "test", 6, 32))
    split = load_split(tmp_path, "test")
    assert split.images.shape == (6, 3, 32, 32)
    assert split.images.min() >= 0.0 and split.images.max() <= 1.0
    assert split.classes == peppers.CLASSES and split.masks.dtype == torch.bool


def test_load_split_names_the_corrupted_file_and_both_checksums(tmp_path):
    _write_dataset(tmp_path, *peppers.generate(0, "test", 6, 32))
    recorded = sha256_file(tmp_path / "test.npz")
    with open(tmp_path / "test.npz", "ab") as handle:
        handle.write(b"x")
    with pytest.raises(DataIntegrityError) as caught:
        load_split(tmp_path, "test")
    message = str(caught.value)
    assert str(tmp_path / "test.npz") in message and recorded in message
    assert sha256_file(tmp_path / "test.npz") in message
