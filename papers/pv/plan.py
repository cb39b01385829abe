"""PV's settings as its rules pass them to scripts (kept out of rules.smk, per lint), and the
check of its configuration section."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from common import PROJECT_ROOT
from common.config import classifier_and_method_errors, real_only_errors

#: Zoo architectures with a convolutional ``features`` stage that an Encoder can wrap
#: (papers/pv/decoder.py).
ENCODER_ARCHITECTURES = ("simple", "resnet18", "resnet50", "vgg")
#: What the paper trained each decoder of Fig. 7 on (pv.txt, Sec. 4), and the configured
#: dataset that is those images where its root is set: A on the classifier's data, B on other.
PAPER_DECODER_DATA = {"A": ("scenes", "PASCAL VOC 2012"),
                      "B": ("imagenet", "ImageNet, 8000 images")}


def decoder_params(config: Mapping[str, Any], variant: str, dataset: str) -> dict[str, Any]:
    """What one decoder run reads: the optimisation settings, its loss weights, the seed,
    the classifier's input size (every training image is resized to it) and the data's name."""
    pv = config["pv"]
    classifier = pv["classifier"]
    return {"decoder": pv["decoder"], "loss_weights": pv["loss_weights"][variant],
            "seed": classifier["seed"], "dataset": dataset,
            "image_size": config["datasets"][classifier["dataset"]]["image_size"]}


def training_data(config: Mapping[str, Any], decoder: str, dataset: str) -> str:
    """Which images Fig. 7's ``decoder`` (A or B) was trained on, said plainly for its tables:
    the dataset, whether its images are GENERATED, shipped or real (``datasets.<name>.root``),
    and, unless they are the paper's, that they are NOT the paper's."""
    from common.data import DATASETS, shipped

    paper_dataset, paper_images = PAPER_DECODER_DATA[decoder]
    root = config["datasets"][dataset].get("root")
    if root is not None:
        origin = f"real images from {root}"
    elif DATASETS[dataset].build.__module__ == shipped.__name__:
        origin = "shipped real images"
    else:
        origin = "GENERATED images"
    as_paper = root is not None and dataset == paper_dataset
    return (f"{dataset}: {origin} "
            f"({'the' if as_paper else 'NOT the'} paper's data: {paper_images})")


def invariance_data(config: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Fig. 7's two decoders, A (the classifier's data) and B (``pv.invariance.dataset``):
    each one's dataset name and :func:`training_data`."""
    pv = config["pv"]
    datasets = {"A": pv["classifier"]["dataset"], "B": pv["invariance"]["dataset"]}
    return {decoder: {"dataset": dataset, "data": training_data(config, decoder, dataset)}
            for decoder, dataset in datasets.items()}


def config_errors(config: Mapping[str, Any]) -> list[str]:
    """PV's section of the configuration: PV explains a trained classifier of a multi-label
    dataset; its second decoder needs another dataset; every loss-weight triple sums to one
    (Eq. 6); the study's scores exist, inside the project."""
    from common.data import DATASETS
    from common.models import ARCHITECTURES

    pv = config.get("pv", {})
    errors = classifier_and_method_errors(config, "pv", "classifier", {})
    dataset = pv.get("classifier", {}).get("dataset")
    if dataset is not None and dataset in DATASETS and DATASETS[dataset].task != "multi_label":
        errors.append(f"config key 'pv.classifier.dataset': {dataset!r} is not multi-label "
                      f"(PV's classifier has sigmoid outputs; use scenes)")
    arch = pv.get("classifier", {}).get("arch")
    if arch in ARCHITECTURES and arch not in ENCODER_ARCHITECTURES:
        errors.append(f"config key 'pv.classifier.arch': {arch!r} has no convolutional "
                      f"features() stage for the encoder")
    other = pv.get("invariance", {}).get("dataset")
    if (other == dataset or other not in config.get("datasets", {})
            or "train" not in DATASETS[other].splits):
        errors.append(f"config key 'pv.invariance.dataset': {other!r} must be a dataset under "
                      f"'datasets' with a training split, other than the classifier's "
                      f"({dataset!r})")
    errors += real_only_errors(config, {"pv.invariance.dataset": other})
    for name, weights in pv.get("loss_weights", {}).items():
        if abs(sum(weights.values()) - 1) > 1e-6:
            errors.append(f"config key 'pv.loss_weights.{name}': the weights sum to "
                          f"{sum(weights.values()):g}, not 1 (Eq. 6)")
    scores = pv.get("study", {}).get("scores")
    if scores is not None and not (PROJECT_ROOT / scores).resolve().is_relative_to(
            PROJECT_ROOT.resolve()):
        errors.append(f"config key 'pv.study.scores': {scores} lies outside the project "
                      f"({PROJECT_ROOT}); copy the scores under it, so that their provenance "
                      f"is recorded with the rest")
    elif scores is not None and not _is_scores_source(PROJECT_ROOT / scores):
        errors.append(f"config key 'pv.study.scores': {scores} is neither a scores file nor "
                      f"a folder of them (*.csv)")
    return errors


def scores_files(source: str | Path | Iterable[str | Path]) -> list[Path]:
    """The scores files of ``source``: one file, every ``*.csv`` of a folder in name order (the
    files the survey pages offer for download, one per participant), or a list of files."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        return sorted(path.glob("*.csv")) if path.is_dir() else [path]
    return [Path(file) for file in source]


def _is_scores_source(path: Path) -> bool:
    """A scores file, or a folder with at least one (the files the analysis would read)."""
    files = scores_files(path)
    return bool(files) and all(file.is_file() for file in files)
