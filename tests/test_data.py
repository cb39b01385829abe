"""Datasets: byte-determinism, ground truth that marks the class evidence, checked loading."""

import numpy as np
import pytest
import torch
from matplotlib.colors import rgb_to_hsv

from common.data import DATASETS, DataIntegrityError, load_split, peppers, scenes, tumor
from common.data.store import save_split
from common.io import sha256_file, write_json

GENERATED = ["peppers", "cars", "tumor", "textures", "scenes"]


def build(name, count=60, size=32, seed=0):
    settings = {"seed": seed, "n_train": count, "n_test": 4, "image_size": size}
    return DATASETS[name].build(settings)["train"]


@pytest.mark.parametrize("name", GENERATED)
def test_same_seed_same_bytes_other_seed_other_bytes(name):
    first, again, other = build(name, 8), build(name, 8), build(name, 8, seed=1)
    for a, b in zip(first[:3], again[:3], strict=True):  # images, labels, masks
        assert a.tobytes() == b.tobytes()
    assert first.images.tobytes() != other.images.tobytes()


@pytest.mark.parametrize("name", GENERATED)
def test_an_image_does_not_depend_on_the_dataset_size(name):
    assert build(name, 3).images.tobytes() == build(name, 7).images[:3].tobytes()


def _outside_mask_means(arrays):
    """Mean colour of each image outside its evidence mask, (N, C)."""
    return np.array([image[~mask].mean(0) for image, mask in zip(arrays.images, arrays.masks,
                                                                 strict=True)])


def _class_spread(values, labels):
    """Largest difference between class means, per channel."""
    means = np.array([values[labels == label].mean(0) for label in np.unique(labels)])
    return np.ptp(means, axis=0).max()


def test_peppers_classes_differ_by_hue_inside_the_mask_only():
    arrays = build("peppers", 300)
    hsv = rgb_to_hsv(arrays.images / 255.0)
    fruit_hue = np.array([np.median(hsv[i][arrays.masks[i], 0]) for i in range(300)])
    for index, hue in enumerate(peppers.CLASS_HUES):
        centred = (fruit_hue[arrays.labels == index] - hue + 0.5) % 1.0 - 0.5
        assert np.abs(centred).max() < 0.05
    assert _class_spread(_outside_mask_means(arrays), arrays.labels) < 8  # of 255
    assert _class_spread(arrays.masks.mean((1, 2)), arrays.labels) < 0.02


def test_cars_masks_mark_cars_only_and_ground_is_shared():
    arrays = build("cars", 300)
    car_pixels = arrays.masks.sum((1, 2))
    assert (car_pixels[arrays.labels == 1] >= 4).all()
    assert (car_pixels[arrays.labels == 0] == 0).all()
    assert _class_spread(_outside_mask_means(arrays), arrays.labels) < 8


def test_tumor_lesions_are_large_bright_and_absent_in_healthy_slices():
    arrays = build("tumor", 200)
    lesion_pixels = arrays.masks.sum((1, 2))
    assert (lesion_pixels[arrays.labels == 1] >= tumor.MIN_LESION_PIXELS).all()
    assert (lesion_pixels[arrays.labels == 0] == 0).all()
    sick = arrays.labels == 1
    lesion_mean = np.mean([img[..., 0][m].mean() for img, m in zip(arrays.images[sick],
                                                                   arrays.masks[sick],
                                                                   strict=True)])
    assert lesion_mean > 200
    assert _class_spread(_outside_mask_means(arrays), arrays.labels) < 6


def test_textures_differ_in_orientation_not_in_colour():
    arrays = build("textures", 200)
    grey = arrays.images.mean(-1)
    across_rows = np.abs(np.diff(grey, axis=1)).mean((1, 2))
    across_columns = np.abs(np.diff(grey, axis=2)).mean((1, 2))
    smooth, wiry = arrays.labels == 0, arrays.labels == 1
    assert (across_columns[smooth] > across_rows[smooth]).mean() > 0.95  # vertical stripes
    assert (across_rows[wiry] > across_columns[wiry]).mean() > 0.95      # horizontal stripes
    assert arrays.masks.all()
    assert _class_spread(arrays.images.reshape(200, -1, 3).mean(1), arrays.labels) < 12


def test_scenes_labels_match_their_visible_masks():
    arrays = build("scenes", 120, size=48)
    assert arrays.labels.shape == (120, len(scenes.CLASSES))
    assert arrays.masks.shape == (120, len(scenes.CLASSES), 48, 48)
    area = arrays.masks.sum((2, 3))
    assert ((area > 0) == (arrays.labels == 1)).all()
    assert area[arrays.labels == 1].min() >= 10
    assert 2 <= arrays.labels.sum(1).mean() <= 4
    assert (arrays.labels.mean(0) > 0.25).all()


def test_shipped_datasets_have_their_published_sizes():
    faces = DATASETS["faces"].build({"image_size": 32, "n_test": 50, "seed": 0})
    assert len(faces["train"].images) == 150 and len(faces["test"].images) == 50
    assert faces["test"].labels.sum() == 25 and faces["train"].images.shape[1:] == (32, 32, 1)
    digits = DATASETS["digits"].build({"image_size": 32, "n_test": 360, "seed": 0})
    assert len(digits["train"].images) + len(digits["test"].images) == 1797
    photos = DATASETS["photos"].build({"image_size": 64})["test"]
    assert photos.images.shape == (9, 64, 64, 3) and "chelsea" in photos.names.tolist()


def _write_dataset(directory, arrays, task="single_label"):
    save_split(directory / "test.npz", arrays)
    write_json(directory / "manifest.json", {
        "classes": list(peppers.CLASSES), "task": task,
        "files": {"test.npz": sha256_file(directory / "test.npz")}})


def test_load_split_returns_tensors_in_unit_range(tmp_path):
    _write_dataset(tmp_path, build("peppers", 6))
    split = load_split(tmp_path, "test")
    assert split.images.shape == (6, 3, 32, 32)
    assert split.images.min() >= 0.0 and split.images.max() <= 1.0
    assert split.classes == peppers.CLASSES and split.masks.dtype == torch.bool


def test_a_split_loads_from_its_manifest_as_from_its_folder(tmp_path):
    """Rules declare a dataset's manifest as an input; the split loads through it."""
    _write_dataset(tmp_path, build("peppers", 4))
    through_manifest = load_split(tmp_path / "manifest.json", "test")
    assert torch.equal(through_manifest.images, load_split(tmp_path, "test").images)


def test_load_split_without_masks_and_with_names(tmp_path):
    photos = DATASETS["photos"].build({"image_size": 32})["test"]
    _write_dataset(tmp_path, photos, task="unlabelled")
    split = load_split(tmp_path, "test")
    assert split.masks is None and split.names[1] == "chelsea"


def test_load_split_names_the_corrupted_file_and_both_checksums(tmp_path):
    _write_dataset(tmp_path, build("peppers", 6))
    recorded = sha256_file(tmp_path / "test.npz")
    with open(tmp_path / "test.npz", "ab") as handle:
        handle.write(b"x")
    with pytest.raises(DataIntegrityError) as caught:
        load_split(tmp_path, "test")
    message = str(caught.value)
    assert str(tmp_path / "test.npz") in message and recorded in message
    assert sha256_file(tmp_path / "test.npz") in message


def test_density_maps_survive_the_store(tmp_path):
    from common.data.procedural import SplitArrays

    density = np.random.default_rng(0).random((2, 8, 8)).astype(np.float32)
    arrays = SplitArrays(np.zeros((2, 8, 8, 3), np.uint8), np.array([0, 1]), density=density)
    _write_dataset(tmp_path, arrays)
    split = load_split(tmp_path, "test")
    assert split.masks is None and torch.equal(split.density, torch.from_numpy(density))
