"""Classifier zoo: architectures by name, and loading of trained checkpoints.

A checkpoint (``results/models/<dataset>/<arch>/seed<k>.pt``) holds the state
dict and the constructor arguments, so :func:`load_classifier` rebuilds the
model without the configuration; it is read with ``weights_only=True``.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from common.io import load_torch

if TYPE_CHECKING:
    from torch import nn

ARCHITECTURES: dict[str, str] = {
    "simple": "simple.SimpleCNN",
    "resnet18": "resnet.ResNet18",
    "resnet50": "resnet.ResNet50",
    "vgg": "vgg.VGGStyle",
    "vit": "vit.SmallViT",
}
"""Architectures trained by the workflow, by name: each class as ``module.Class`` below
``common.models``, imported when a model is built, so that the configuration checks that
read the names import no torch. Pretrained ImageNet models are in ``pretrained``."""

TORCHVISION_IMAGENET = ("mobilenet_v3_small", "vgg16", "resnet50")
"""The torchvision ImageNet architectures ``pretrained`` builds (paper scale)."""
IMAGENET_MODELS = ("efficientnet_lite0", *TORCHVISION_IMAGENET)
"""Every ImageNet classifier ``pretrained`` loads: EfficientNet-Lite0 from its wheel, the
others from the weight files the configuration names."""


def architecture_location(arch: str) -> tuple[str, str]:
    """The module and the class name of architecture ``arch`` (a key of :data:`ARCHITECTURES`)."""
    if arch not in ARCHITECTURES:
        raise KeyError(f"unknown architecture {arch!r}; known: {sorted(ARCHITECTURES)}")
    module, name = ARCHITECTURES[arch].split(".")
    return f"common.models.{module}", name


def architecture_class(arch: str) -> type[nn.Module]:
    """The class of architecture ``arch``, imported (with torch) on first use."""
    module, name = architecture_location(arch)
    return getattr(importlib.import_module(module), name)


def build_classifier(arch: str, **kwargs) -> nn.Module:
    """Instantiate architecture ``arch`` with its constructor arguments."""
    return architecture_class(arch)(**kwargs)


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
