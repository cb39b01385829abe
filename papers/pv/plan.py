"""PV's settings as its rules pass them to scripts (kept out of rules.smk, per lint)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
