"""The DXAI networks (Sec. 3.2 and App. 0.B; shared/papers/NOTES.md for the authors' code).

* :class:`BranchedGenerator`: a U-Net whose every convolution is grouped with
  ``groups = branches``, so each branch is its own sub-network. The input is
  repeated once per branch; each decoder block is modulated by AdaIN with its
  own style vector; the head (InstanceNorm, tanh, grouped 1x1 convolution)
  gives one image psi_i per branch. psi_1 is the class-distinct part, the sum
  of the others the class-agnostic part, and their sum the reconstruction.
  Simplifications of the authors' generator: one residual block per stage
  (theirs: four in the first three stages, two after), additive skips (theirs
  concatenate per branch; both keep each branch in its own group) and a plain
  first convolution (theirs: InstanceNorm and LeakyReLU before it).
* :class:`MappingNetwork`: latent z -> four shared layers -> one four-layer head per
  class, giving one style vector per decoder block.
* :class:`Discriminator`: StarGAN v2's multi-head discriminator; its output has
  one real/fake grade per class and doubles as a classifier (argmax).

Every network works on images in [-1, 1], as the authors' code does; the frozen
classifiers of the zoo see [0, 1] (:func:`to_unit`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class Architecture:
    """Sizes of the three networks (config ``dxai.architecture`` plus the data's shape)."""

    image_size: int
    channels: int
    classes: int
    branches: int = 5
    width: int = 7           # channels per branch after the first convolution
    max_width: int = 64      # cap on channels per branch
    discriminator_width: int = 64        # the discriminator's (one network, not grouped)
    discriminator_max_width: int = 512
    stages: int = 4          # down- and up-sampling stages of the U-Net
    bottleneck: int = 2      # residual blocks at the lowest resolution (each side)
    style_dim: int = 64
    latent_dim: int = 16
    mapping_width: int = 512

    @property
    def style_blocks(self) -> int:
        """Decoder blocks, each with its own style vector."""
        return self.bottleneck + self.stages

    def as_dict(self) -> dict:
        return asdict(self)


def to_signed(images: torch.Tensor) -> torch.Tensor:
    """[0, 1] images to the networks' [-1, 1]."""
    return images * 2 - 1


def to_unit(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] images back to the classifiers' [0, 1] (not clamped: a sum of branches may
    leave the range, and the classifier judges what the generator made)."""
    return (images + 1) / 2


class _EncoderBlock(nn.Module):
    """Pre-activation residual block (InstanceNorm, LeakyReLU, conv) on every branch at once."""

    def __init__(self, width_in: int, width_out: int, groups: int, downsample: bool):
        super().__init__()
        self.downsample = downsample
        self.norm1 = nn.InstanceNorm2d(width_in * groups, affine=True)
        self.conv1 = nn.Conv2d(width_in * groups, width_in * groups, 3, 1, 1, groups=groups)
        self.norm2 = nn.InstanceNorm2d(width_in * groups, affine=True)
        self.conv2 = nn.Conv2d(width_in * groups, width_out * groups, 3, 1, 1, groups=groups)
        self.shortcut = (nn.Conv2d(width_in * groups, width_out * groups, 1, groups=groups,
                                   bias=False) if width_in != width_out else nn.Identity())

    def _pool(self, x):
        return F.avg_pool2d(x, 2) if self.downsample else x

    def forward(self, x):
        residual = self.conv1(F.leaky_relu(self.norm1(x), 0.2))
        residual = self.conv2(F.leaky_relu(self.norm2(self._pool(residual)), 0.2))
        return (residual + self._pool(self.shortcut(x))) / math.sqrt(2)


class _AdaIN(nn.Module):
    """Adaptive instance norm: one style vector sets a scale and shift for every channel of
    every branch (each branch gets its own slice of the affine map)."""

    def __init__(self, style_dim: int, channels: int):
        super().__init__()
        self.norm = nn.InstanceNorm2d(channels, affine=False)
        self.affine = nn.Linear(style_dim, channels * 2)

    def forward(self, x, style):
        scale, shift = self.affine(style)[:, :, None, None].chunk(2, dim=1)
        return (1 + scale) * self.norm(x) + shift


class _DecoderBlock(nn.Module):
    """Residual block with AdaIN, optionally upsampling (nearest) first, on every branch."""

    def __init__(self, width_in: int, width_out: int, groups: int, style_dim: int,
                 upsample: bool):
        super().__init__()
        self.upsample = upsample
        self.norm1 = _AdaIN(style_dim, width_in * groups)
        self.conv1 = nn.Conv2d(width_in * groups, width_out * groups, 3, 1, 1, groups=groups)
        self.norm2 = _AdaIN(style_dim, width_out * groups)
        self.conv2 = nn.Conv2d(width_out * groups, width_out * groups, 3, 1, 1, groups=groups)
        self.shortcut = (nn.Conv2d(width_in * groups, width_out * groups, 1, groups=groups,
                                   bias=False) if width_in != width_out else nn.Identity())

    def _scale(self, x):
        return F.interpolate(x, scale_factor=2, mode="nearest") if self.upsample else x

    def forward(self, x, style):
        residual = self._scale(F.leaky_relu(self.norm1(x, style), 0.2))
        residual = self.conv2(F.leaky_relu(self.norm2(self.conv1(residual), style), 0.2))
        return (residual + self._scale(self.shortcut(x))) / math.sqrt(2)


def _stage_widths(arch: Architecture) -> list[int]:
    """Channels per branch at the input of each encoder stage, then at the bottleneck."""
    widths = [arch.width]
    for _ in range(arch.stages):
        widths.append(min(widths[-1] * 2, arch.max_width))
    return widths


class BranchedGenerator(nn.Module):
    """x (B, C, H, W) in [-1, 1] and styles (B, style_blocks, style_dim) -> psi (B, branches,
    C, H, W), one image per branch; sum over branches approximates x."""

    def __init__(self, arch: Architecture):
        super().__init__()
        if arch.image_size % 2 ** arch.stages:
            raise ValueError(f"image size {arch.image_size} is not divisible by 2^stages "
                             f"({2 ** arch.stages}); change dxai.architecture.stages")
        self.arch = arch
        groups, widths = arch.branches, _stage_widths(arch)
        self.from_image = nn.Conv2d(arch.channels * groups, arch.width * groups, 3, 1, 1,
                                    groups=groups)
        self.down = nn.ModuleList(_EncoderBlock(widths[i], widths[i + 1], groups, True)
                                  for i in range(arch.stages))
        bottom = widths[-1]
        self.encode_bottleneck = nn.ModuleList(_EncoderBlock(bottom, bottom, groups, False)
                                               for _ in range(arch.bottleneck))
        self.decode_bottleneck = nn.ModuleList(
            _DecoderBlock(bottom, bottom, groups, arch.style_dim, False)
            for _ in range(arch.bottleneck))
        self.up = nn.ModuleList(_DecoderBlock(widths[i + 1], widths[i], groups, arch.style_dim,
                                              True)
                                for i in reversed(range(arch.stages)))
        self.head = nn.Sequential(nn.InstanceNorm2d(arch.width * groups, affine=True), nn.Tanh(),
                                  nn.Conv2d(arch.width * groups, arch.channels * groups, 1,
                                            groups=groups))

    def forward(self, x: torch.Tensor, styles: torch.Tensor) -> torch.Tensor:
        batch, channels, height, width = x.shape
        h = self.from_image(x.repeat(1, self.arch.branches, 1, 1))
        skips = []
        for block in self.down:
            skips.append(h)
            h = block(h)
        for block in self.encode_bottleneck:
            h = block(h)
        styles = styles.unbind(1)
        split = self.arch.bottleneck
        bottleneck_styles, stage_styles = styles[:split], styles[split:]
        for block, style in zip(self.decode_bottleneck, bottleneck_styles, strict=True):
            h = block(h, style)
        for block, style, skip in zip(self.up, stage_styles, reversed(skips), strict=True):
            h = block(h, style) + skip
        return self.head(h).view(batch, self.arch.branches, channels, height, width)


class MappingNetwork(nn.Module):
    """z (B, latent_dim) and classes (B,) -> styles (B, style_blocks, style_dim): four shared
    layers, then per class three hidden layers and the output layer (StarGAN v2's)."""

    def __init__(self, arch: Architecture):
        super().__init__()
        self.arch = arch
        hidden = arch.mapping_width
        layers: list[nn.Module] = []
        for index in range(4):
            layers += [nn.Linear(arch.latent_dim if index == 0 else hidden, hidden), nn.ReLU()]
        self.shared = nn.Sequential(*layers)
        self.heads = nn.ModuleList(
            nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                          nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                          nn.Linear(hidden, arch.style_blocks * arch.style_dim))
            for _ in range(arch.classes))

    def forward(self, z: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
        shared = self.shared(z)
        every_head = torch.stack([head(shared) for head in self.heads], dim=1)
        chosen = every_head[torch.arange(len(z), device=z.device), classes]
        return chosen.view(len(z), self.arch.style_blocks, self.arch.style_dim)


class Discriminator(nn.Module):
    """Image (B, C, H, W) in [-1, 1] -> one grade per class (B, classes): 3x3 conv, residual
    blocks halving the size down to 4 x 4, LeakyReLU, 4x4 conv, LeakyReLU, 1x1 conv."""

    def __init__(self, arch: Architecture):
        super().__init__()
        blocks = int(math.log2(arch.image_size)) - 2
        widths = [arch.discriminator_width]
        for _ in range(blocks):
            widths.append(min(widths[-1] * 2, arch.discriminator_max_width))
        self.from_image = nn.Conv2d(arch.channels, widths[0], 3, 1, 1)
        self.blocks = nn.Sequential(*(_DiscriminatorBlock(widths[i], widths[i + 1])
                                      for i in range(blocks)))
        self.head = nn.Sequential(nn.LeakyReLU(0.2), nn.Conv2d(widths[-1], widths[-1], 4),
                                  nn.LeakyReLU(0.2), nn.Conv2d(widths[-1], arch.classes, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.from_image(x))).flatten(1)


class _DiscriminatorBlock(_EncoderBlock):
    """The encoder block without normalisation (StarGAN v2's discriminator), one group."""

    def __init__(self, width_in: int, width_out: int):
        super().__init__(width_in, width_out, 1, True)
        self.norm1 = self.norm2 = nn.Identity()
