"""Classifier zoo: architectures by name, and loading of trained checkpoints.

A checkpoint (``results/models/<dataset>/<arch>/seed<k>.pt``) holds the state
dict and the constructor arguments, so :func:`load_classifier` rebuilds the
model without the configuration; it is read with ``weights_only=True``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from torch import nn

from common.io import load_torch
from common.models.resnet import ResNet18, ResNet50
from common.models.simple import SimpleCNN
from common.models.vgg import VGGStyle
from common.models.vit import SmallViT

ARCHITECTURES: dict[str, Callable[..., nn.Module]] = {
    "simple": SimpleCNN,
    "resnet18": ResNet18,
    "resnet50": ResNet50,
    "vgg": VGGStyle,
    "vit": SmallViT,
}
"""Architectures trained by the workflow; pretrained ImageNet models are in ``pretrained``."""


def build_classifier(arch: str, **kwargs) -> nn.Module:
    """Instantiate architecture ``arch`` with its constructor arguments."""
    if arch not in ARCHITECTURES:
        raise KeyError(f"unknown architecture {arch!r}; known: {sorted(ARCHITECTURES)}")
    return ARCHITECTURES[arch](**kwargs)


def load_classifier(path: str | Path, device: str = "cpu") -> nn.Module:
    """Rebuild a trained classifier from its checkpoint, in eval mode on ``device``."""
    checkpoint = load_torch(path, device)
    model = build_classifier(checkpoint["arch"], **checkpoint["arch_kwargs"])
    model.load_state_dict(checkpoint["state_dict"])
    return model.to(device).eval()


def classifier_and_test_split(weights: str | Path, manifest: str | Path, device: str):
    """A trained classifier (its ``weights`` file) in eval mode on ``device`` and the test
    split of the dataset whose ``manifest`` is given: what most explanation scripts start
    from."""
    from common.data import load_split

    return load_classifier(weights, device), load_split(manifest, "test")


def start_from_backbone(model: nn.Module, path: str | Path, arch: str) -> None:
    """Initialise ``model``'s backbone from the state dict at ``path`` (training.init_weights)."""
    if not hasattr(model, "load_backbone"):
        raise ValueError(f"training.init_weights is set, but {arch!r} has no pretrained backbone "
                         f"to start from (only resnet50 has)")
    if not Path(path).is_file():
        raise FileNotFoundError(f"training.init_weights: no file {path} (a torchvision "
                                f"ResNet-50 state dict, placed there by the user)")
    model.load_backbone(path)
