"""Explaining the zoo's vision transformer (course, ViT part): TextSpan, CHILI, LeGrad.

The zoo's ``SmallViT`` classifies from LN(z_cls^L) with a linear head, so the
class weight vector plays the role of the CLIP text embedding:

- **TextSpan decomposition** (Gandelsman et al.). The final LayerNorm is linear
  once its per-image scale sigma is fixed, so the logit of class c is
  sum_{l,h,i} A_{i,l,h} + epsilon with A_{i,l,h} = u_c . W_O^{l,h} (alpha_{cls,i}^{l,h} v_i^{l,h})
  and u_c = (w_c * gamma - mean(w_c * gamma)) / sigma. The residual epsilon holds
  the class token's initial value, the attention output biases, the MLP outputs
  at the class token, and the head's and LayerNorm's biases, each term named in
  :class:`Decomposition` so that the identity can be checked exactly.
- **Pseudo-register removal** (Kazmierczak et al., CHILI): a median filter f_m
  over each head's token grid; A - f_m(A) are the high-norm artefact tokens.
- **Head weights** w_{l,h} = E[1 - exp(-alpha IoU(h_m(f_m(A_{l,h})), G))] on a
  probing set with masks G, h_m thresholding at half the map's maximum; the
  CHILI map is sum w f_m(A) (object), its complement (1 - w) f_m(A) the context.
- **LeGrad** (Bousselham et al.): for every layer l the score s^l of the class on
  the mean of that layer's tokens (through the final LayerNorm and head), the
  positive part of its gradient with respect to the layer's attention map,
  averaged over heads and query tokens, then over layers.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from common.metrics.localisation import iou
from common.models.vit import SmallViT


@contextlib.contextmanager
def recording(model: SmallViT):
    """Every block's input and output, and its attention's weights and values, during the
    forward passes inside the context."""
    blocks = []
    handles = [block.register_forward_hook(
        lambda module, args, output: blocks.append({"input": args[0], "output": output}))
        for block in model.blocks]
    for block in model.blocks:
        block.attention.record = True
    try:
        yield blocks
    finally:
        for handle in handles:
            handle.remove()
        for block in model.blocks:
            block.attention.record = False
            block.attention.last = {}


@dataclass
class Decomposition:
    """TextSpan terms of one class logit per image.

    ``tokens`` (B, L, H, N+1): A_{i,l,h}, the class token's own term at i = 0;
    ``residual``: name -> (B,) for the terms outside the heads; ``logit`` (B,).
    """

    tokens: torch.Tensor
    residual: dict[str, torch.Tensor]
    logit: torch.Tensor

    def total(self) -> torch.Tensor:
        """sum_{l,h,i} A_{i,l,h} + epsilon, which equals the logit."""
        return self.tokens.flatten(1).sum(1) + sum(self.residual.values())

    def grid(self) -> torch.Tensor:
        """The patch tokens' terms as maps, (B, L, H, g, g)."""
        patches = self.tokens[..., 1:]
        side = math.isqrt(patches.shape[-1])
        return patches.reshape(*patches.shape[:-1], side, side)


def readout_direction(model: SmallViT, final: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """u_c per image (B, D): the class logit is u_c . z + constants for any part z of the
    final class token, with the LayerNorm scale sigma of ``final`` (B, D) held fixed."""
    norm = model.norm
    sigma = (final.var(1, unbiased=False) + norm.eps).sqrt()
    scaled = model.head.weight[target] * norm.weight
    return (scaled - scaled.mean(1, keepdim=True)) / sigma.unsqueeze(1)


def decompose(model: SmallViT, x: torch.Tensor, target: torch.Tensor) -> Decomposition:
    """The TextSpan decomposition of the ``target`` logits of images ``x``."""
    with torch.no_grad(), recording(model) as blocks:
        logits = model(x)
        final = blocks[-1]["output"][:, 0]
        direction = readout_direction(model, final, target)
        heads, head_dim = model.blocks[0].attention.heads, model.blocks[0].attention.head_dim
        tokens, mlp, output_bias = [], 0.0, 0.0
        for block, record in zip(model.blocks, blocks, strict=True):
            attention = block.attention.last
            projection = block.attention.proj
            # alpha_{cls,i} v_i per head: (B, H, N+1, head_dim)
            weighted = attention["weights"][:, :, 0, :, None] * attention["values"]
            per_head = projection.weight.T.reshape(heads, head_dim, -1)  # W_O^h as (H, hd, D)
            contribution = torch.einsum("bhid,hde,be->bhi", weighted, per_head, direction)
            tokens.append(contribution)
            attention_output = weighted.sum(2).flatten(1) @ projection.weight.T + projection.bias
            mlp = mlp + record["output"][:, 0] - record["input"][:, 0] - attention_output
            output_bias = output_bias + projection.bias
        start = model.tokens(x)[:, 0]
        constant = (model.head.weight[target] * model.norm.bias).sum(1) + model.head.bias[target]
        residual = {
            "class token at input": (direction * start).sum(1),
            "attention output biases": (direction * output_bias).sum(1),
            "MLPs at the class token": (direction * mlp).sum(1),
            "head and LayerNorm biases": constant,
        }
        return Decomposition(torch.stack(tokens, 1), residual,
                             logits.gather(1, target.view(-1, 1)).squeeze(1))


def median_filter(maps: torch.Tensor, size: int = 3) -> torch.Tensor:
    """f_m: the median over a ``size`` x ``size`` window of each (..., g, g) map
    (replicated borders), which keeps spatially coherent evidence and drops isolated
    high-norm tokens (pseudo-registers)."""
    shape = maps.shape
    flat = maps.reshape(-1, 1, *shape[-2:])
    padded = F.pad(flat, (size // 2,) * 4, mode="replicate")
    windows = F.unfold(padded, size).median(dim=1).values
    return windows.reshape(shape)


def to_pixels(maps: torch.Tensor, size) -> torch.Tensor:
    """(B, ..., g, g) token maps bilinearly upsampled to the image size (B, ..., H, W)."""
    shape = maps.shape
    pixels = F.interpolate(maps.reshape(-1, 1, *shape[-2:]), size=size, mode="bilinear",
                           align_corners=False)
    return pixels.reshape(*shape[:-2], *size)


def head_ious(filtered: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """IoU(h_m(f_m(A_{l,h})), G) per image, layer and head, (B, L, H): each filtered head map
    upsampled and thresholded at half its positive maximum, against the mask (B, H, W)."""
    batch, layers, heads = filtered.shape[:3]
    pixels = to_pixels(filtered, masks.shape[-2:]).flatten(0, 2).unsqueeze(1)
    repeated = masks.repeat_interleave(layers * heads, dim=0)
    return iou(pixels, repeated).view(batch, layers, heads)


def head_weights(ious: torch.Tensor, alpha: float) -> torch.Tensor:
    """w_{l,h} = mean over probing images of 1 - exp(-alpha IoU), (L, H) in [0, 1)."""
    return (1 - torch.exp(-alpha * ious)).nanmean(0)


def legrad(model: SmallViT, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """LeGrad map (B, g, g): mean over layers of the positive gradient of s^l with respect
    to layer l's attention map, averaged over heads and query tokens, class token dropped."""
    with torch.enable_grad(), recording(model) as blocks:
        model(x.detach().requires_grad_(True))
        layers = []
        for block, record in zip(model.blocks, blocks, strict=True):
            pooled = record["output"].mean(1)
            score = model.head(model.norm(pooled)).gather(1, target.view(-1, 1)).sum()
            (gradient,) = torch.autograd.grad(score, block.attention.last["weights"],
                                              retain_graph=True)
            layers.append(gradient.clamp(min=0).mean(dim=(1, 2))[:, 1:])
    explanation = torch.stack(layers).mean(0)
    side = math.isqrt(explanation.shape[-1])
    return explanation.reshape(len(x), side, side)
