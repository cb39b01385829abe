"""The DXAI networks (Sec. 3.2 and App. 0.B; shared/papers/NOTES.md for the authors' code).

* :class:`BranchedGenerator`: a U-Net whose every convolution is grouped with
  ``groups = branches``, so each branch is its own sub-network. The input is
  repeated once per branch; each decoder block is modulated by AdaIN with its
  own style vector; the head (InstanceNorm, tanh, grouped 1x1 convolution)
  gives one image psi_i per branch. psi_1 is the class-distinct part, the sum
  of the others the class-agnostic part, and their sum the reconstruction.
  Three options of :class:`Architecture` set its capacity; their defaults are
  the authors' (paper scale), and the embedded scale lightens them:
  ``stage_blocks`` residual blocks per encoder stage (theirs: four in the first
  three stages, two after); ``skip``: ``concatenate`` (theirs: each encoder
  stage's output joins the decoder, branch by branch, before the block that
  upsamples it) or ``add`` (the stage's input added after that block); and
  ``input_norm``: InstanceNorm and LeakyReLU before the first convolution
  (theirs). Every choice keeps each branch in its own group.
* :class:`MappingNetwork`: latent z -> four shared layers -> one four-layer head per
  class, giving one style vector per decoder block.
* :class:`Discriminator`: StarGAN v2's multi-head discriminator; its output has
  one real/fake grade per class and doubles as a classifier (argmax).

With ``init="he"`` (the authors', StarGAN v2's) every convolution and linear
layer of the three networks starts from Kaiming-normal weights (fan in, ReLU
gain: std sqrt(2 / fan_in)) and zero biases; ``"pytorch"`` keeps PyTorch's.

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
    """Sizes and options of the three networks (config ``dxai.architecture`` plus the data's
    shape); the defaults are the authors' at 256 px."""

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
    stage_blocks: tuple[int, ...] | None = None   # per encoder stage (None: 4, 4, 4, 2, ...)
    skip: str = "concatenate"     # or "add" (see the module docstring)
    input_norm: bool = True       # InstanceNorm and LeakyReLU before the first convolution
    init: str = "he"              # or "pytorch"

    def __post_init__(self):
        blocks = (authors_stage_blocks(self.stages) if self.stage_blocks is None
                  else tuple(self.stage_blocks))
        object.__setattr__(self, "stage_blocks", blocks)
        if len(blocks) != self.stages or min(blocks) < 1:
            raise ValueError(f"stage_blocks {list(blocks)}: one count of at least 1 per stage "
                             f"({self.stages} stages)")
        for name, allowed in (("skip", SKIPS), ("init", INITIALISATIONS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} {getattr(self, name)!r}: one of {allowed}")

    @property
    def style_blocks(self) -> int:
        """Decoder blocks, each with its own style vector."""
        return self.bottleneck + self.stages

    @property
    def discriminator_blocks(self) -> int:
        """The discriminator's residual blocks: each halves the image, down to 4 x 4."""
        return int(math.log2(self.image_size)) - 2

    def as_dict(self) -> dict:
        return asdict(self)


SKIPS = ("concatenate", "add")
INITIALISATIONS = ("he", "pytorch")


def authors_stage_blocks(stages: int) -> tuple[int, ...]:
    """The authors' residual blocks per encoder stage: four in the first three, two after."""
    return tuple(4 if stage < 3 else 2 for stage in range(stages))


def he_initialise(network: nn.Module) -> None:
    """Kaiming-normal weights (fan in, ReLU gain) and zero biases for every convolution and
    linear layer of ``network``: the authors' (StarGAN v2's) ``he_init``."""
    for layer in network.modules():
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(layer.weight, mode="fan_in", nonlinearity="relu")
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)


def initialise(network: nn.Module, arch: Architecture) -> None:
    """``arch.init``: He initialisation, or PyTorch's defaults left as they are."""
    if arch.init == "he":
        he_initialise(network)


def to_signed(images: torch.Tensor) -> torch.Tensor:
    """[0, 1] images to the networks' [-1, 1]."""
    return images * 2 - 1


def to_unit(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] images back to the classifiers' [0, 1] (not clamped: a sum of branches may
    leave the range, and the classifier judges what the generator made)."""
    return (images + 1) / 2


def _in_default_layout(x: torch.Tensor) -> bool:
    """Whether ``x`` is laid out as PyTorch's default (B, C, H, W), and not also as
    channels-last (as a tensor with one channel or one pixel is)."""
    return x.is_contiguous() and not x.is_contiguous(memory_format=torch.channels_last)


class _AveragePool2x(torch.autograd.Function):
    """2 x 2 average pooling (stride 2) of a (B, C, H, W) tensor in the default layout, even
    H and W: the forward as strided additions, the backward by PyTorch's own kernel.

    It gives the bytes of ``F.avg_pool2d(x, 2)``: the forward adds each window's four values
    in the kernel's order (row by row), adds zero and divides by 4; the backward, also under
    R1's double backward, is the very kernel (and its recorded derivative). The zero stands
    for the kernel's accumulator, which starts at +0: a sum is -0 only for a window of four
    -0, and the kernel's is +0 there. On the CPU the pooling kernel's forward takes 2.5 to 4
    times as long for this layout.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        batch, channels, height, width = x.shape
        window = x.view(batch, channels, height // 2, 2, width // 2, 2)
        total = (window[:, :, :, 0, :, 0] + window[:, :, :, 0, :, 1]
                 + window[:, :, :, 1, :, 0] + window[:, :, :, 1, :, 1])
        return total.add_(0.0).div_(4)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        x, = ctx.saved_tensors
        return torch.ops.aten.avg_pool2d_backward(grad, x, [2, 2], [2, 2], [0, 0], False,
                                                  True, None)


def average_pool_2x(x: torch.Tensor) -> torch.Tensor:
    """``F.avg_pool2d(x, 2)``, bitwise, faster on the CPU (tensors in another layout, or of
    odd size, go through ``F.avg_pool2d``)."""
    if _in_default_layout(x) and x.shape[-1] % 2 == 0 and x.shape[-2] % 2 == 0:
        return _AveragePool2x.apply(x)
    return F.avg_pool2d(x, 2)


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
        return average_pool_2x(x) if self.downsample else x

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


class _NearestUpsample2x(torch.autograd.Function):
    """Nearest-neighbour 2x upsampling of a (B, C, H, W) tensor in PyTorch's default layout:
    the forward as two broadcast copies, the backward by PyTorch's own kernel.

    It gives the bytes of ``F.interpolate(x, scale_factor=2, mode="nearest")``: the forward
    copies values (nothing to round), and the backward is the very kernel that adds each
    input's four gradients, in its order. On the CPU the interpolation kernel takes about
    six times as long for this layout (a twentieth of a DXAI training iteration).
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        batch, channels, height, width = x.shape
        ctx.input_size = [batch, channels, height, width]
        wide = x[..., None].expand(batch, channels, height, width, 2)
        wide = wide.reshape(batch, channels, height, 2 * width)
        tall = wide[:, :, :, None].expand(batch, channels, height, 2, 2 * width)
        return tall.reshape(batch, channels, 2 * height, 2 * width).contiguous()

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        *_, height, width = ctx.input_size
        return torch.ops.aten.upsample_nearest2d_backward(
            grad, [2 * height, 2 * width], ctx.input_size, 2.0, 2.0)


def upsample_nearest_2x(x: torch.Tensor) -> torch.Tensor:
    """``F.interpolate(x, scale_factor=2, mode="nearest")``, bitwise, faster on the CPU.

    Only a tensor in the default layout takes the copies: interpolation keeps a
    channels-last input's layout, on which the next convolutions round differently, so
    such tensors (and those whose layout is ambiguous) go through ``F.interpolate``.
    """
    if _in_default_layout(x):
        return _NearestUpsample2x.apply(x)
    return F.interpolate(x, scale_factor=2, mode="nearest")


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
        return upsample_nearest_2x(x) if self.upsample else x

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


def _encoder_stage(width_in: int, width_out: int, groups: int, blocks: int) -> nn.Sequential:
    """``blocks`` residual blocks at one resolution, the last widening and downsampling."""
    return nn.Sequential(*(_EncoderBlock(width_in, width_in, groups, False)
                           for _ in range(blocks - 1)),
                         _EncoderBlock(width_in, width_out, groups, True))


def concatenate_per_branch(first: torch.Tensor, second: torch.Tensor,
                           branches: int) -> torch.Tensor:
    """(B, branches * C1, H, W) and (B, branches * C2, H, W) -> (B, branches * (C1 + C2), H, W)
    with each branch's channels of both side by side, so a grouped convolution after it still
    sees one branch per group (the authors' ``cat_layers_per_branch``)."""
    batch, _, height, width = first.shape
    return torch.cat([first.view(batch, branches, -1, height, width),
                      second.view(batch, branches, -1, height, width)], dim=2
                     ).view(batch, -1, height, width)


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
        repeated = arch.channels * groups
        self.from_image = nn.Sequential(
            *([nn.InstanceNorm2d(repeated, affine=True), nn.LeakyReLU(0.2)]
              if arch.input_norm else []),
            nn.Conv2d(repeated, arch.width * groups, 3, 1, 1, groups=groups))
        self.down = nn.ModuleList(_encoder_stage(widths[i], widths[i + 1], groups, blocks)
                                  for i, blocks in enumerate(arch.stage_blocks))
        bottom = widths[-1]
        self.encode_bottleneck = nn.ModuleList(_EncoderBlock(bottom, bottom, groups, False)
                                               for _ in range(arch.bottleneck))
        self.decode_bottleneck = nn.ModuleList(
            _DecoderBlock(bottom, bottom, groups, arch.style_dim, False)
            for _ in range(arch.bottleneck))
        joined = 2 if arch.skip == "concatenate" else 1
        self.up = nn.ModuleList(_DecoderBlock(joined * widths[i + 1], widths[i], groups,
                                              arch.style_dim, True)
                                for i in reversed(range(arch.stages)))
        self.head = nn.Sequential(nn.InstanceNorm2d(arch.width * groups, affine=True), nn.Tanh(),
                                  nn.Conv2d(arch.width * groups, repeated, 1, groups=groups))
        initialise(self, arch)

    def forward(self, x: torch.Tensor, styles: torch.Tensor) -> torch.Tensor:
        batch, channels, height, width = x.shape
        h = self.from_image(x.repeat(1, self.arch.branches, 1, 1))
        stage_inputs, stage_outputs = [], []
        for stage in self.down:
            stage_inputs.append(h)
            h = stage(h)
            stage_outputs.append(h)
        for block in self.encode_bottleneck:
            h = block(h)
        styles = styles.unbind(1)
        split = self.arch.bottleneck
        bottleneck_styles, stage_styles = styles[:split], styles[split:]
        for block, style in zip(self.decode_bottleneck, bottleneck_styles, strict=True):
            h = block(h, style)
        for block, style, stage_input, stage_output in zip(
                self.up, stage_styles, reversed(stage_inputs), reversed(stage_outputs),
                strict=True):
            if self.arch.skip == "concatenate":
                h = block(concatenate_per_branch(stage_output, h, self.arch.branches), style)
            else:
                h = block(h, style) + stage_input
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
        initialise(self, arch)

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
        blocks = arch.discriminator_blocks
        widths = [arch.discriminator_width]
        for _ in range(blocks):
            widths.append(min(widths[-1] * 2, arch.discriminator_max_width))
        self.from_image = nn.Conv2d(arch.channels, widths[0], 3, 1, 1)
        self.blocks = nn.Sequential(*(_DiscriminatorBlock(widths[i], widths[i + 1])
                                      for i in range(blocks)))
        self.head = nn.Sequential(nn.LeakyReLU(0.2), nn.Conv2d(widths[-1], widths[-1], 4),
                                  nn.LeakyReLU(0.2), nn.Conv2d(widths[-1], arch.classes, 1))
        initialise(self, arch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.from_image(x))).flatten(1)


class _DiscriminatorBlock(_EncoderBlock):
    """The encoder block without normalisation (StarGAN v2's discriminator), one group."""

    def __init__(self, width_in: int, width_out: int):
        super().__init__(width_in, width_out, 1, True)
        self.norm1 = self.norm2 = nn.Identity()
