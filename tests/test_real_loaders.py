"""Each real-dataset loader reads a few files fabricated in exactly its published format."""

import numpy as np
import pytest
from PIL import Image

from common.data import real


def _image(path, size=(40, 60), colour=(200, 30, 30)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)


def test_missing_root_names_the_config_key(tmp_path):
    with pytest.raises(FileNotFoundError, match="config key 'datasets.textures.root'"):
        real.afhq(tmp_path / "absent", 32, key="datasets.textures.root")


def test_afhq_class_folders(tmp_path):
    for split, count in (("train", 3), ("val", 2)):
        for name, colour in (("cat", (255, 0, 0)), ("dog", (0, 0, 255)), ("wild", (0, 255, 0))):
            for index in range(count):
                _image(tmp_path / split / name / f"flickr_{index}.jpg", colour=colour)
    splits, classes = real.afhq(tmp_path, 16)
    assert classes == ("cat", "dog")
    assert splits["train"].images.shape == (6, 16, 16, 3) and len(splits["test"].labels) == 4
    assert splits["train"].labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert splits["train"].images[0, ..., 0].mean() > 200  # the red cats
    assert splits["train"].images[-1, ..., 2].mean() > 200  # the blue dogs


def test_fruits360_and_a_missing_class_folder(tmp_path):
    for split in ("Training", "Test"):
        for name in ("Pepper Red", "Pepper Yellow"):
            _image(tmp_path / split / name / "r_0_100.jpg", size=(100, 100))
    splits, classes = real.fruits360(tmp_path, 32, classes=("Pepper Red", "Pepper Yellow"))
    assert classes == ("Pepper Red", "Pepper Yellow") and splits["test"].labels.tolist() == [0, 1]
    with pytest.raises(FileNotFoundError, match="Pepper Green"):
        real.fruits360(tmp_path, 32)


def test_imagenet_val_labels_follow_sorted_wnids(tmp_path):
    for wnid in ("n01443537", "n01440764"):
        _image(tmp_path / "val" / wnid / f"ILSVRC2012_val_{wnid}.JPEG")
    splits, classes = real.imagenet_val(tmp_path, 24)
    assert classes == ("n01440764", "n01443537") and list(splits) == ["test"]


def test_an_imagenet_subset_trains_on_train_and_tests_on_val(tmp_path):
    for wnid, count in (("n01443537", 2), ("n01440764", 3)):
        for index in range(count):
            _image(tmp_path / "train" / wnid / f"{wnid}_{index}.JPEG")
        _image(tmp_path / "val" / wnid / f"ILSVRC2012_val_{wnid}.JPEG")
    splits, classes = real.imagenet_subset(tmp_path, 24)
    assert classes == ("n01440764", "n01443537")
    assert splits["train"].labels.tolist() == [0, 0, 0, 1, 1]
    assert splits["test"].labels.tolist() == [0, 1]


def test_celeba_attribute_and_partitions(tmp_path):
    names = [f"{index:06d}.jpg" for index in range(1, 6)]
    for name in names:
        _image(tmp_path / "img_align_celeba" / name, size=(178, 218))
    male = [1, -1, 1, -1, 1]
    (tmp_path / "list_attr_celeba.txt").write_text(
        "5\n5_o_Clock_Shadow Male Smiling\n" + "".join(
            f"{name}  -1 {value:2d}  1\n" for name, value in zip(names, male, strict=True)))
    (tmp_path / "list_eval_partition.txt").write_text(
        "".join(f"{name} {part}\n" for name, part in zip(names, [0, 0, 1, 2, 2], strict=True)))
    splits, classes = real.celeba(tmp_path, 32)
    assert classes == ("not_male", "male")
    assert splits["train"].labels.tolist() == [1, 0]  # partition 1 (validation) is left out
    assert splits["test"].labels.tolist() == [0, 1]


def test_dota_tiles_cars_vs_no_vehicles(tmp_path):
    _image(tmp_path / "train" / "images" / "P0001.png", size=(512, 512), colour=(90, 90, 90))
    (tmp_path / "train" / "labelTxt").mkdir(parents=True)
    (tmp_path / "train" / "labelTxt" / "P0001.txt").write_text(
        "imagesource:GoogleEarth\ngsd:0.146\n"
        "10 10 40 10 40 25 10 25 small-vehicle 0\n"        # inside the top-left tile
        "300 240 330 240 330 270 300 270 large-vehicle 0\n"  # straddles two right tiles
        "20 300 200 300 200 400 20 400 plane 0\n")           # bottom-left: no vehicle
    _image(tmp_path / "val" / "images" / "P0002.png", size=(256, 256))
    (tmp_path / "val" / "labelTxt").mkdir(parents=True)
    (tmp_path / "val" / "labelTxt" / "P0002.txt").write_text("gsd:0.1\n")
    splits, classes = real.dota(tmp_path, 64)
    train = splits["train"]
    assert classes == ("no_cars", "cars")
    assert train.labels.tolist() == [1, 0]  # both right-hand tiles are cut vehicles: left out
    assert splits["test"].labels.tolist() == [0]
    assert train.masks[0].sum() > 0 and train.masks[1].sum() == 0
    rows, cols = np.nonzero(train.masks[0])
    assert rows.max() < 64 * 26 / 256 + 1 and cols.max() < 64 * 41 / 256 + 1


def test_brats_tumour_and_full_healthy_slices(tmp_path):
    nibabel = pytest.importorskip("nibabel")
    flair = np.zeros((40, 40, 4))
    flair[5:35, 5:35, :] = 100.0
    flair[15:25, 15:25, 3] = 0.0  # slice 3: a small cross-section ...
    flair[:, :, 3] = 0.0
    flair[18:22, 18:22, 3] = 100.0  # ... only 16 brain pixels
    seg = np.zeros((40, 40, 4), dtype=np.uint8)
    seg[10:16, 10:16, 0] = 2   # 36 pixels: tumour slice
    seg[10:13, 10:13, 1] = 1   # 9 pixels: too small to count, not healthy either
    case = tmp_path / "BraTS20_Training_001"
    case.mkdir()
    for name, volume in (("flair", flair), ("seg", seg)):
        nibabel.save(nibabel.Nifti1Image(volume, np.eye(4)), case / f"{case.name}_{name}.nii.gz")
    images, labels, masks = zip(*real.brats_slices(flair, seg, 20, 0.7), strict=True)
    assert list(labels) == [1, 0]  # slice 0 tumour, slice 2 healthy; 1 and 3 left out
    assert masks[0].sum() == 36 and not masks[1].any()
    assert 0.99 <= images[1].max() <= 1.0
    (tmp_path / "BraTS20_Training_002").mkdir()
    for name, volume in (("flair", flair), ("seg", seg)):
        path = tmp_path / "BraTS20_Training_002" / f"BraTS20_Training_002_{name}.nii.gz"
        nibabel.save(nibabel.Nifti1Image(volume, np.eye(4)), path)
    splits, classes = real.brats(tmp_path, 32, test_fraction=0.5)
    assert classes == ("healthy", "tumor")
    assert splits["train"].images.shape == (2, 32, 32, 1) and len(splits["test"].labels) == 2


def test_voc_multi_hot_labels_and_box_masks(tmp_path):
    base = tmp_path / "VOC2012"
    _image(base / "JPEGImages" / "2008_000001.jpg", size=(100, 100))
    _image(base / "JPEGImages" / "2008_000002.jpg", size=(100, 100))
    objects = {"2008_000001": [("dog", (1, 1, 50, 50)), ("person", (51, 51, 100, 100))],
               "2008_000002": [("cat", (26, 26, 75, 75))]}
    (base / "Annotations").mkdir()
    for name, items in objects.items():
        xml = "".join(f"<object><name>{label}</name><bndbox><xmin>{x0}</xmin><ymin>{y0}</ymin>"
                      f"<xmax>{x1}</xmax><ymax>{y1}</ymax></bndbox></object>"
                      for label, (x0, y0, x1, y1) in items)
        (base / "Annotations" / f"{name}.xml").write_text(
            f"<annotation><size><width>100</width><height>100</height><depth>3</depth></size>"
            f"{xml}</annotation>")
    (base / "ImageSets" / "Main").mkdir(parents=True)
    (base / "ImageSets" / "Main" / "train.txt").write_text("2008_000001\n")
    (base / "ImageSets" / "Main" / "val.txt").write_text("2008_000002\n")
    splits, classes = real.voc(tmp_path, 20)
    train = splits["train"]
    on = {classes[i] for i in np.flatnonzero(train.labels[0])}
    assert on == {"dog", "person"} and train.masks.shape == (1, 20, 20, 20)
    dog = train.masks[0, classes.index("dog")]
    assert dog[:10, :10].all() and not dog[10:, 10:].any()
    cat = splits["test"].masks[0, classes.index("cat")]
    assert cat[5:15, 5:15].all() and cat.sum() == 100


def _save_array(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def test_mexculture_images_with_their_density_maps(tmp_path):
    data = tmp_path / "MexCulture142"  # as an archive unpacks: one folder below the root
    for category in ("Colonial_001", "Prehispanic_007"):
        for index in (1, 2):
            _image(data / "Images" / category / f"{category}_{index}.jpg", size=(80, 60))
            density = np.zeros((60, 80), dtype=np.uint8)
            density[10:30, 20:40] = 200 if index == 1 else 100
            _save_array(data / "Density Maps" / f"{category}_{index}.png", density)
    splits, classes = real.mexculture(tmp_path, 30)
    assert classes == () and list(splits) == ["test"]
    test = splits["test"]
    assert test.names.tolist() == ["Colonial_001_1", "Colonial_001_2", "Prehispanic_007_1",
                                   "Prehispanic_007_2"]
    assert (test.labels == -1).all()
    assert test.density.shape == (4, 30, 30)
    assert np.allclose(test.density.max(axis=(1, 2)), 1.0)  # each map max-normalised
    assert test.density[0, 12, 12] > 0.9 and test.density[0, 25, 25] == 0  # whole, stretched
    assert np.array_equal(real.mexculture(data, 30)[0]["test"].images, test.images)
    (data / "Density Maps" / "Colonial_001_2.png").unlink()
    with pytest.raises(FileNotFoundError, match="no density map for .*Colonial_001_2"):
        real.mexculture(tmp_path, 30)


def test_mexculture_keeps_the_fixations_off_the_central_square(tmp_path):
    """A wide photograph (3:1) looked at mostly near its left edge: resized whole, its density
    map keeps the mass of every region (a centre crop would drop the left fixations), and the
    photograph is resized the same way, so the fixated patch stays under its fixations."""
    height, width, size = 40, 120, 30
    photograph = np.zeros((height, width, 3), dtype=np.uint8)
    density = np.zeros((height, width), dtype=np.uint8)
    photograph[12:28, 4:20] = 255    # the fixated detail, left of the central square
    density[12:28, 4:20] = 240       # most fixations on it
    density[16:24, 56:64] = 120      # a few at the centre
    _save_array(tmp_path / "Images" / "Colonial_001" / "Colonial_001_1.png", photograph)
    _save_array(tmp_path / "Density Maps" / "Colonial_001_1.png", density)
    test = real.mexculture(tmp_path, size)[0]["test"]
    loaded, image = test.density[0], test.images[0, ..., 0] / 255.0
    for band in range(3):  # thirds of the width: the same share of the mass before and after
        before = density[:, band * width // 3:(band + 1) * width // 3].sum() / density.sum()
        after = loaded[:, band * size // 3:(band + 1) * size // 3].sum() / loaded.sum()
        assert after == pytest.approx(before, abs=0.03), band
    left = loaded[:, :size // 3]
    assert np.corrcoef(left.ravel(), image[:, :size // 3].ravel())[0, 1] > 0.9
