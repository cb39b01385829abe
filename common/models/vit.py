"""A small vision transformer whose attention is computed in the open.

Tokens from a convolutional stem (or a plain patchifying convolution),
pre-norm blocks (LayerNorm, multi-head self-attention, LayerNorm, GELU MLP),
a class token and learned position embeddings; the class token's final
LayerNorm output feeds a linear head. Attention is written out (no fused
kernel) and each block keeps, on request, its attention weights and the
per-head outputs, because the course's ViT methods (per-head decompositions,
LeGrad) read them.
"""

from __future__ import annotations

import torch
from torch import nn


class Attention(nn.Module):
    """Multi-head self-attention; ``self.last`` holds weights, values and head outputs
    when recording."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.record = False
        self.last: dict[str, torch.Tensor] = {}

    def forward(self, x):
        batch, tokens, dim = x.shape
        qkv = self.qkv(x).reshape(batch, tokens, 3, self.heads, self.head_dim)
        query, key, value = qkv.permute(2, 0, 3, 1, 4)
        weights = (query @ key.transpose(-2, -1) * self.head_dim ** -0.5).softmax(-1)
        heads = weights @ value  # (B, heads, tokens, head_dim)
        if self.record:
            self.last = {"weights": weights, "values": value, "heads": heads}
        return self.proj(heads.transpose(1, 2).reshape(batch, tokens, dim))


class Block(nn.Module):
    """x + Attention(LN(x)), then + MLP(LN(x))."""

    def __init__(self, dim: int, heads: int, mlp_ratio: int = 2):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attention = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp_ratio * dim), nn.GELU(),
                                 nn.Linear(mlp_ratio * dim, dim))

    def forward(self, x):
        x = x + self.attention(self.norm1(x))
        return x + self.mlp(self.norm2(x))


def convolutional_stem(in_channels: int, dim: int, patch_size: int) -> nn.Sequential:
    """Stride-2 3x3 convolutions (BN, ReLU) down to one token per patch, then a 1x1 projection.

    Xiao et al. (2021), "Early convolutions help transformers see better": the
    same tokens as a patchifying convolution, but a ViT trained from scratch on
    a small dataset learns with it where it does not with the plain patch embedding.
    """
    layers, width = [], in_channels
    for step in range(patch_size.bit_length() - 1):
        out = max(dim // 2 ** (patch_size.bit_length() - 2 - step), 8)
        layers += [nn.Conv2d(width, out, 3, 2, 1, bias=False), nn.BatchNorm2d(out), nn.ReLU()]
        width = out
    return nn.Sequential(*layers, nn.Conv2d(width, dim, 1))


class SmallViT(nn.Module):
    """ViT for (B, in_channels, H, W) inputs in [0, 1], H and W multiples of ``patch_size``."""

    def __init__(self, num_classes: int, image_size: int, in_channels: int = 3,
                 patch_size: int = 8, dim: int = 96, depth: int = 4, heads: int = 4,
                 conv_stem: bool = True):
        super().__init__()
        if image_size % patch_size or patch_size & (patch_size - 1):
            raise ValueError(f"patch size {patch_size} must be a power of two dividing "
                             f"image_size {image_size}")
        self.patch_size = patch_size
        self.patch_embed = (convolutional_stem(in_channels, dim, patch_size) if conv_stem
                            else nn.Conv2d(in_channels, dim, patch_size, patch_size))
        tokens = (image_size // patch_size) ** 2
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.position = nn.Parameter(torch.randn(1, tokens + 1, dim) * 0.02)
        self.blocks = nn.ModuleList(Block(dim, heads) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)

    def tokens(self, x):
        """The token sequence entering the first block: class token then patches."""
        patches = self.patch_embed(x).flatten(2).transpose(1, 2)
        cls = self.cls_token.expand(len(x), -1, -1)
        return torch.cat([cls, patches], dim=1) + self.position

    def forward(self, x):
        x = self.tokens(x)
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x[:, 0]))
