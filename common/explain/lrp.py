"""Layer-wise relevance propagation with zennit, for networks with batch norm and residuals.

One rule for every convolution and dense layer (``zero``, ``epsilon``, ``gamma``
or ``alpha_beta`` with alpha = beta + 1), with or without the bias in the
rule's denominator; zennit's base map handles activations (pass), residual
sums and average pooling (normalised by their inputs), and a model's own input
normalisation passes relevance unchanged (each pixel maps to one value), where
the gradient would scale it by 1 / std. The canonizers make the networks fit
these rules without changing what they compute:

- batch norm is merged into the convolution registered right before it
  (:class:`ExactMergeBatchNorm`; a convolution holding its padding module, as
  EfficientNet-Lite's do, counts as one layer), which leaves it the identity; a
  batch norm after an activation (the authors' PV head) maps each value to one
  value and, like the input normalisation, passes relevance unchanged (zennit's
  rule for batch norm);
- residual sums written in code become zennit ``Sum`` modules: torchvision's
  ResNet blocks (zennit's canonizers), the zoo's ResNet18 blocks
  (:class:`~common.explain.lrp_rules.BasicBlockSumCanonizer`) and EfficientNet-Lite's
  MBConv blocks (:class:`~common.explain.lrp_rules.MBConvSumCanonizer`).

Networks whose blocks add or multiply in code that no canonizer rewrites
(MobileNetV3's inverted residuals and squeeze-excitation gates, the zoo's ViT
blocks) are refused: LRP would silently pass the full relevance into every
branch. The output relevance is the target logit, so conservation means the
input relevance sums to that logit.
"""

from __future__ import annotations

import sys

import torch
from efficientnet_lite_pytorch.model import MBConvBlock
from torch import nn

from common.models.vit import Block as ViTBlock


def uncanonised_blocks() -> tuple[type, ...]:
    """Blocks whose sums or gates are written in code and that no canonizer rewrites: the zoo's
    ViT blocks and, once torchvision is imported (no model can hold them before), MobileNetV3's
    inverted residuals and squeeze-excitation gates. torchvision is not imported here: it
    costs over a second of every job's start-up."""
    if "torchvision" not in sys.modules:
        return (ViTBlock,)
    from torchvision.models.mobilenetv3 import InvertedResidual
    from torchvision.ops.misc import SqueezeExcitation

    return (InvertedResidual, SqueezeExcitation, ViTBlock)


def require_canonisable(model: nn.Module) -> None:
    """Raise unless every residual sum and gate of ``model`` is one LRP's rules can see, before
    any canonizer changes the model (zennit does not undo those applied before a failing one)."""
    if any(isinstance(module, MBConvBlock) and module.training for module in model.modules()):
        raise ValueError("LRP: put EfficientNet-Lite in eval mode first (its MBConv blocks drop "
                         "connections in training mode, which the canonised forward leaves out)")
    blocks = uncanonised_blocks()
    hidden = sorted({type(module).__name__ for module in model.modules()
                     if isinstance(module, blocks)
                     or (isinstance(module, MBConvBlock) and module.has_se)})
    if hidden:
        raise ValueError(f"LRP: {type(model).__name__} adds or gates in code inside {hidden}, "
                         f"which no canonizer rewrites into modules; its relevance would not "
                         f"be conserved")


def relevance(model, x, target, layers=(), **rule_params):
    """Input relevance (B,C,H,W) and the relevance at the outputs of ``layers``.

    zennit's rules replace each layer's backward pass so that what flows back is
    the relevance itself: seeded with the target logit at the output, the
    "gradient" at any tensor is that tensor's relevance.
    """
    from common.explain.lrp_rules import composite

    require_canonisable(model)
    recorded: list[torch.Tensor] = []
    handles = [layer.register_forward_hook(lambda m, a, out: recorded.append(out))
               for layer in layers]
    x = x.detach().requires_grad_(True)
    try:
        with composite(model, **rule_params).context(model) as modified:
            logits = modified(x)
            seed = torch.zeros_like(logits).scatter(1, target.view(-1, 1),
                                                    logits.gather(1, target.view(-1, 1)))
            grads = torch.autograd.grad(logits, [x, *recorded], grad_outputs=seed.detach())
    finally:
        for handle in handles:
            handle.remove()
    return grads[0], list(grads[1:])


def lrp(model, x, target, rule: str = "epsilon", epsilon: float = 0.25, gamma: float = 0.25,
        beta: float = 0.0, bias: bool = True) -> torch.Tensor:
    """LRP relevance of the target logit at the input, (B,C,H,W)."""
    return relevance(model, x, target, rule=rule, epsilon=epsilon, gamma=gamma, beta=beta,
                     bias=bias)[0]
