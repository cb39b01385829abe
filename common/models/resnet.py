"""ResNet18 for small and large inputs, written out so that attribution hooks see every step.

The layout is torchvision's resnet18 (BasicBlock, [2, 2, 2, 2], batch norm,
global average pooling, one linear layer) with a choice of stem and a
configurable ``base_width`` (64 in the paper; smaller at the embedded scale).
The ``imagenet`` stem is torchvision's (7x7 stride-2 convolution, batch norm,
ReLU, 3x3 stride-2 max pooling: the last stage at 1/32 of the input, 8 x 8 at
256 px), the one the DXAI authors train; the ``cifar`` stem (3x3 stride-1
convolution, no pooling: the last stage at 1/8) keeps 32-64 px images from
shrinking to a pixel or two. Each ReLU call is its own
non-inplace module (Captum's DeepLift and hook-based LRP need this). The residual
addition is written in code (``residual + shortcut``); while LRP runs, a canonizer
routes it through zennit's ``Sum`` module
(:class:`~common.explain.lrp_rules.BasicBlockSumCanonizer`).

With ``feature_norm`` the last convolutional features pass through spatial
dropout (p = 0.5) and batch norm before pooling: the head of the PV paper's
classifier (NOTES.md), whose encoder is these normalised features.
"""

from __future__ import annotations

from pathlib import Path

from torch import nn

from common.io import load_torch
from common.models.normalisation import IMAGENET_STATISTICS, InputNormalisation


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with batch norm and an identity or 1x1 projection shortcut."""

    def __init__(self, in_width: int, width: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(in_width, width, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(width, width, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.shortcut = nn.Identity()
        if stride != 1 or in_width != width:
            self.shortcut = nn.Sequential(nn.Conv2d(in_width, width, 1, stride, bias=False),
                                          nn.BatchNorm2d(width))
        self.relu2 = nn.ReLU()

    def residual(self, x):
        """The residual branch: what the block adds to its shortcut."""
        return self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))

    def forward(self, x):
        """The sum of the two branches, laid out contiguously. An input that reads as channels
        last (a grey image's channel stride of 1) makes the convolutions return channels-last
        tensors, and the next block's convolutions would round differently on them: the
        stacked sum the block computed before (and LRP's canonizer still does) was laid out
        contiguously, and so is this one, to the same bytes."""
        return self.relu2((self.residual(x) + self.shortcut(x)).contiguous())


def _stem(kind: str, in_channels: int, width: int) -> nn.Sequential:
    """The layers before ``layer1``: ``cifar`` (3x3, stride 1) or ``imagenet`` (torchvision's
    7x7 stride-2 convolution and 3x3 stride-2 max pooling)."""
    if kind == "cifar":
        return nn.Sequential(nn.Conv2d(in_channels, width, 3, 1, 1, bias=False),
                             nn.BatchNorm2d(width), nn.ReLU())
    if kind == "imagenet":
        return nn.Sequential(nn.Conv2d(in_channels, width, 7, 2, 3, bias=False),
                             nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(3, 2, 1))
    raise ValueError(f"unknown ResNet18 stem {kind!r}: cifar or imagenet")


class ResNet18(nn.Module):
    """ResNet18 for (B, in_channels, H, W) inputs in [0, 1]; ``layer4`` is the last conv stage."""

    def __init__(self, num_classes: int, image_size: int, in_channels: int = 3,
                 base_width: int = 64, feature_norm: bool = False, stem: str = "cifar"):
        super().__init__()
        del image_size  # global average pooling makes the network size-agnostic
        widths = [base_width * factor for factor in (1, 2, 4, 8)]
        self.stem = _stem(stem, in_channels, widths[0])
        stages, in_width = [], widths[0]
        for index, width in enumerate(widths):
            stride = 1 if index == 0 else 2
            stages.append(nn.Sequential(BasicBlock(in_width, width, stride),
                                        BasicBlock(width, width, 1)))
            in_width = width
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.feature_norm = (nn.Sequential(nn.Dropout2d(0.5), nn.BatchNorm2d(widths[-1]))
                             if feature_norm else nn.Identity())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(widths[-1], num_classes)

    def features(self, x):
        """The last convolutional stage's activations (normalised with ``feature_norm``),
        (B, 8*base_width, H/8, W/8) with the cifar stem, H/32 with the imagenet stem: what
        global pooling and the linear layer see."""
        return self.feature_norm(self.layer4(self.layer3(self.layer2(self.layer1(self.stem(x))))))

    def forward(self, x):
        return self.fc(self.flatten(self.pool(self.features(x))))


class ResNet50(nn.Module):
    """torchvision's ResNet-50 with the PV paper's transfer head, for (B, 3, H, W) inputs in [0, 1].

    The backbone normalises its input as torchvision's ImageNet weights expect,
    so :meth:`load_backbone` can start it from them (NOTES.md: ImageNet init,
    fine-tuned). With ``feature_norm`` (the paper's head) spatial dropout 0.5 and
    batch norm follow the last stage; then global average pooling and a linear
    layer. In-place ReLUs are switched off for the attribution hooks.
    """

    def __init__(self, num_classes: int, image_size: int, in_channels: int = 3,
                 feature_norm: bool = True):
        super().__init__()
        del image_size  # global average pooling makes the network size-agnostic
        if in_channels != 3:
            raise ValueError(f"ResNet50 takes RGB images, not {in_channels} channels")
        from torchvision.models import resnet50

        backbone = resnet50(weights=None)
        for module in backbone.modules():
            if isinstance(module, nn.ReLU):
                module.inplace = False
        self.normalise = InputNormalisation(*IMAGENET_STATISTICS)
        self.stem = nn.Sequential(backbone.conv1, backbone.bn1, backbone.relu, backbone.maxpool)
        self.layer1, self.layer2 = backbone.layer1, backbone.layer2
        self.layer3, self.layer4 = backbone.layer3, backbone.layer4
        self.feature_norm = (nn.Sequential(nn.Dropout2d(0.5), nn.BatchNorm2d(2048))
                             if feature_norm else nn.Identity())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(2048, num_classes)

    def load_backbone(self, path: str | Path) -> None:
        """Start the convolutional stages from a torchvision ResNet-50 state dict (its ``fc``
        is dropped: the head is this task's)."""
        state = load_torch(path, "cpu")
        stem = {"conv1": "stem.0", "bn1": "stem.1"}
        renamed = {}
        for key, value in state.items():
            prefix, _, rest = key.partition(".")
            if prefix in stem:
                renamed[f"{stem[prefix]}.{rest}"] = value
            elif prefix.startswith("layer"):
                renamed[key] = value
        missing = [key for key in self.state_dict() if key.startswith(("stem", "layer"))
                   and key not in renamed]
        if missing:
            raise ValueError(f"{path} is not a torchvision ResNet-50 state dict: "
                             f"{len(missing)} backbone tensors missing, e.g. {missing[0]}")
        self.load_state_dict(renamed, strict=False)

    def features(self, x):
        """The last stage's normalised activations, (B, 2048, H/32, W/32)."""
        x = self.stem(self.normalise(x))
        return self.feature_norm(self.layer4(self.layer3(self.layer2(self.layer1(x)))))

    def forward(self, x):
        return self.fc(self.flatten(self.pool(self.features(x))))
