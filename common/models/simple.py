"""The DXAI paper's "Simple" classifier (see shared/papers/NOTES.md).

conv3x3(16) - maxpool(k) - ReLU - conv3x3(32) - maxpool(k) - ReLU - FC(128) - ReLU - FC(c),
with k = max(2, round(sqrt(image_size / 32))). The authors' code applies ReLU
after the second pooling and the first dense layer; we do the same. ReLUs are
separate, non-inplace modules so that hook-based attribution sees each call.
"""

from __future__ import annotations

import math

from torch import nn


class SimpleCNN(nn.Module):
    """Two convolutions and two dense layers; input (B, in_channels, size, size) in [0, 1]."""

    def __init__(self, num_classes: int, image_size: int, in_channels: int = 3):
        super().__init__()
        pool = max(2, round(math.sqrt(image_size / 32)))
        side = image_size // pool // pool
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 16, kernel_size=3, padding=1),
            nn.MaxPool2d(pool),
            nn.ReLU(),
            nn.Conv2d(16, 32, kernel_size=3, padding=1),
            nn.MaxPool2d(pool),
            nn.ReLU(),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(32 * side * side, 128),
            nn.ReLU(),
            nn.Linear(128, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))
