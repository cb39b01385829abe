"""A VGG-style CNN: stacks of 3x3 convolutions and max pooling, then dense layers.

The survey explains a VGG16 (at paper scale, torchvision's, see ``pretrained``).
The embedded classifier keeps VGG's design (3x3 convolutions with ReLU, 2x2
max pooling after each stage, two dense layers with dropout) with three
stages and a configurable width. Two options suit training from scratch on a
small dataset and are on by default: batch norm after each convolution (as in
``vgg16_bn``) and ``global_pool``, where the dense layers read the global
average of the last feature maps (the GAP variant of VGG of Zhou et al. 2016)
instead of their flattened grid. ``features`` ends with the last convolution's
ReLU: the layer Grad-CAM and FEM read.
"""

from __future__ import annotations

from torch import nn


class VGGStyle(nn.Module):
    """Three stages of two 3x3 conv + ReLU, each followed by 2x2 max pooling."""

    def __init__(self, num_classes: int, image_size: int, in_channels: int = 3,
                 base_width: int = 32, dense_width: int = 256, batch_norm: bool = True,
                 global_pool: bool = True):
        super().__init__()
        layers, width_in = [], in_channels
        for stage in range(3):
            width = base_width * 2 ** stage
            for conv_in in (width_in, width):
                layers.append(nn.Conv2d(conv_in, width, 3, padding=1))
                layers += [nn.BatchNorm2d(width)] if batch_norm else []
                layers.append(nn.ReLU())
            if stage < 2:
                layers.append(nn.MaxPool2d(2))
            width_in = width
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1) if global_pool else nn.MaxPool2d(2)
        side = 1 if global_pool else image_size // 8
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(width_in * side * side, dense_width), nn.ReLU(),
            nn.Dropout(0.5), nn.Linear(dense_width, num_classes))

    def forward(self, x):
        return self.classifier(self.pool(self.features(x)))
