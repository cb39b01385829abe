"""A model's own input normalisation as a module.

As a module, attribution methods can see it: LRP passes relevance through it
unchanged (it maps each pixel to one normalised value), where the gradient,
which LRP's relevance flows as, would scale each channel's relevance by 1 / std.
"""

from __future__ import annotations

import torch
from torch import nn

#: torchvision's ImageNet statistics (mean, std) per RGB channel.
IMAGENET_STATISTICS = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))


class InputNormalisation(nn.Module):
    """``(x - mean) / std`` per channel; constants, so not part of the state dict."""

    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1), persistent=False)

    def forward(self, x):
        return (x - self.mean) / self.std
