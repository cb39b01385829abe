"""The real photos of the survey's Figs. 7 and 8 and of its method-agreement matrix, and the
ImageNet classifier that explains them."""

from __future__ import annotations

import pandas as pd
import torch
import torch.nn.functional as F

from common.data import load_split
from common.metrics.comparison import pcc
from common.models.pretrained import load_imagenet_classifier


def photos_and_model(manifest: str, settings: dict, device: str,
                     key: str = "survey.photos.images"):
    """The configured photos at ``image_size`` on ``device``, their names, the classifier
    (ImageNet weights from ``settings['model']``'s local source) and its top-1 classes.
    ``key`` is the config key an unknown photo name is reported under."""
    split = load_split(manifest, "test")
    known = list(split.names)
    missing = sorted(set(settings["images"]) - set(known))
    if missing:
        raise KeyError(f"config key '{key}': {missing} are not among the "
                       f"photos {known}")
    x = split.images[[known.index(name) for name in settings["images"]]]
    size = settings["image_size"]
    x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True).clamp(0, 1)
    model = load_imagenet_classifier(settings["model"], settings.get("weights")).to(device).eval()
    x = x.to(device)
    with torch.no_grad():
        predicted = model(x).argmax(1)
    return x, list(settings["images"]), model, predicted


def pairwise_pcc(maps: dict[str, torch.Tensor], names: list[str]) -> pd.DataFrame:
    """PCC of every ordered pair of methods' maps (each (B, 1, H, W)), one row per photo.

    Real photos have no recorded gaze, so the maps are compared with each other:
    which methods agree on where the evidence lies. The diagonal is 1 by definition
    and kept, so that the matrix reads whole.
    """
    rows = []
    for first, first_maps in maps.items():
        for second, second_maps in maps.items():
            values = pcc(first_maps, second_maps).tolist()
            rows += [{"method_a": first, "method_b": second, "photo": photo, "pcc": value}
                     for photo, value in zip(names, values, strict=True)]
    return pd.DataFrame(rows)


def agreement_matrix(scores: pd.DataFrame) -> pd.DataFrame:
    """Mean and sample std over the photos of each pair's PCC (long form, in method order)."""
    order = list(dict.fromkeys(scores["method_a"]))
    summary = scores.groupby(["method_a", "method_b"], sort=False)["pcc"].agg(
        pcc_mean="mean", pcc_std="std", photos="count").reset_index()
    summary["method_a"] = pd.Categorical(summary["method_a"], order)
    summary["method_b"] = pd.Categorical(summary["method_b"], order)
    return summary.sort_values(["method_a", "method_b"]).reset_index(drop=True)
