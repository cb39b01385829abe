"""The real photos of the survey's Figs. 7 and 8 and the ImageNet classifier that explains them."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from common.data import load_split
from common.models.pretrained import load_imagenet_classifier


def photos_and_model(manifest: str, settings: dict, device: str):
    """The configured photos at ``image_size`` on ``device``, their names, the classifier
    (ImageNet weights from ``settings['model']``'s local source) and its top-1 classes."""
    split = load_split(Path(manifest).parent, "test")
    known = list(split.names)
    missing = sorted(set(settings["images"]) - set(known))
    if missing:
        raise KeyError(f"config key 'survey.photos.images': {missing} are not among the "
                       f"photos {known}")
    x = split.images[[known.index(name) for name in settings["images"]]]
    size = settings["image_size"]
    x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True).clamp(0, 1)
    model = load_imagenet_classifier(settings["model"], settings.get("weights")).to(device).eval()
    x = x.to(device)
    with torch.no_grad():
        predicted = model(x).argmax(1)
    return x, list(settings["images"]), model, predicted
