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
  ResNet blocks (zennit's canonizers) and EfficientNet-Lite's MBConv blocks
  (:class:`MBConvSumCanonizer`); the zoo's ResNet18 has its ``Sum`` already.

Networks whose blocks add or multiply in code that no canonizer rewrites
(MobileNetV3's inverted residuals and squeeze-excitation gates, the zoo's ViT
blocks) are refused: LRP would silently pass the full relevance into every
branch. The output relevance is the target logit, so conservation means the
input relevance sums to that logit.
"""

from __future__ import annotations

from functools import partial

import torch
from efficientnet_lite_pytorch.model import MBConvBlock
from torch import nn
from torchvision.models.mobilenetv3 import InvertedResidual
from torchvision.ops.misc import SqueezeExcitation
from zennit.canonizers import Canonizer, SequentialMergeBatchNorm
from zennit.composites import LayerMapComposite, layer_map_base
from zennit.layer import Sum
from zennit.rules import AlphaBeta, Epsilon, Gamma, Pass
from zennit.torchvision import ResNetBasicBlockCanonizer, ResNetBottleneckCanonizer
from zennit.types import Convolution, Linear

from common.models.normalisation import InputNormalisation
from common.models.vit import Block as ViTBlock

# zennit shifts the denominators of residual sums and average pooling by 1e-6 (its default).
# LRP-0 is defined without any shift: with it, a sum whose terms nearly cancel would lose
# their large opposite relevances, and LRP-0 would no longer equal gradient x input.
NORM_STABILISER = 1e-6
ZERO_RULE_STABILISER = 1e-12


class ExactMergeBatchNorm(SequentialMergeBatchNorm):
    """zennit's SequentialMergeBatchNorm, leaving each merged batch norm exactly the identity.

    zennit resets the batch norm to running variance 1 but keeps its eps, so the
    merged network computes x / sqrt(1 + eps) where the model computes x: about
    5e-6 per layer. Where a residual sum nearly cancels, LRP divides by that sum,
    and the mismatch grew to 2.5 % of the largest relevance on a trained ResNet18.
    A running variance of 1 - eps makes the batch norm the identity; zennit
    restores the original statistics when the canonizer is removed.
    """

    @staticmethod
    def merge_batch_norm(modules, batch_norm):
        SequentialMergeBatchNorm.merge_batch_norm(modules, batch_norm)
        batch_norm.running_var.data -= batch_norm.eps

    def apply(self, root_module):
        """zennit's pairing of each batch norm with the layer right before it, over
        :func:`_layers_in_order` instead of the leaves."""
        instances, previous = [], None
        for layer in _layers_in_order(root_module):
            if isinstance(previous, self.linear_type) and isinstance(layer, self.batch_norm_type):
                instance = self.copy()
                instance.register((previous,), layer)
                instances.append(instance)
            previous = layer
        return instances


def _layers_in_order(module: nn.Module):
    """Leaf modules in registration order, a convolution or dense layer counting as one even when
    it holds a child: EfficientNet-Lite's same-padding convolutions hold their padding module,
    which zennit's leaf walk would put between the convolution and its batch norm."""
    children = list(module.children())
    if not children or isinstance(module, (Convolution, Linear)):
        yield module
        return
    for child in children:
        yield from _layers_in_order(child)


class MBConvSumCanonizer(Canonizer):
    """EfficientNet-Lite's MBConv blocks with their identity skip as a zennit ``Sum``.

    The block adds its input in code (``x + inputs``), through which relevance
    would flow as the gradient: the whole relevance into both terms. While
    registered, the block's own skip is off and the input is added back through a
    ``Sum``, which the composite's rule splits in proportion to the two terms.
    """

    def __init__(self):
        super().__init__()
        self.block = None

    def apply(self, root_module):
        instances = []
        for module in root_module.modules():
            if isinstance(module, MBConvBlock) and _adds_its_input(module):
                instance = self.copy()
                instance.register(module)
                instances.append(instance)
        return instances

    def register(self, block):
        self.block = block
        block.id_skip = False
        block.canonizer_sum = Sum()
        block.forward = partial(self._forward, block)

    def remove(self):
        del self.block.forward
        del self.block.canonizer_sum
        self.block.id_skip = True

    @staticmethod
    def _forward(block, inputs, drop_connect_rate=None):
        """The block without its skip (eval mode: no drop connect), plus its input as a Sum."""
        branch = type(block).forward(block, inputs)
        return block.canonizer_sum(torch.stack([branch, inputs], dim=-1))


def _adds_its_input(block: MBConvBlock) -> bool:
    """Whether the block adds its input to its output (the library's own condition)."""
    arguments = block._block_args
    return bool(block.id_skip and arguments.stride == 1
                and arguments.input_filters == arguments.output_filters)


#: Blocks whose sums or gates are written in code and that no canonizer here rewrites.
UNCANONISED_BLOCKS = (InvertedResidual, SqueezeExcitation, ViTBlock)


def require_canonisable(model: nn.Module) -> None:
    """Raise unless every residual sum and gate of ``model`` is one LRP's rules can see, before
    any canonizer changes the model (zennit does not undo those applied before a failing one)."""
    if any(isinstance(module, MBConvBlock) and module.training for module in model.modules()):
        raise ValueError("LRP: put EfficientNet-Lite in eval mode first (its MBConv blocks drop "
                         "connections in training mode, which the canonised forward leaves out)")
    hidden = sorted({type(module).__name__ for module in model.modules()
                     if isinstance(module, UNCANONISED_BLOCKS)
                     or (isinstance(module, MBConvBlock) and module.has_se)})
    if hidden:
        raise ValueError(f"LRP: {type(model).__name__} adds or gates in code inside {hidden}, "
                         f"which no canonizer rewrites into modules; its relevance would not "
                         f"be conserved")


def _rule(rule: str, epsilon: float, gamma: float, beta: float, bias: bool):
    zero_params = None if bias else ["bias"]
    if rule == "zero":
        return Epsilon(epsilon=ZERO_RULE_STABILISER, zero_params=zero_params)
    if rule == "epsilon":
        return Epsilon(epsilon=epsilon, zero_params=zero_params)
    if rule == "gamma":
        return Gamma(gamma=gamma, zero_params=zero_params)
    if rule == "alpha_beta":
        return AlphaBeta(alpha=beta + 1.0, beta=beta, zero_params=zero_params)
    raise ValueError(f"unknown LRP rule {rule!r}: zero, epsilon, gamma or alpha_beta")


def composite(model: nn.Module, rule: str = "epsilon", epsilon: float = 0.25,
              gamma: float = 0.25, beta: float = 0.0, bias: bool = True) -> LayerMapComposite:
    """The zennit composite for ``rule`` on every convolution and dense layer of ``model``."""
    del model  # one composite serves every zoo model
    chosen = _rule(rule, epsilon, gamma, beta, bias)
    stabiliser = ZERO_RULE_STABILISER if rule == "zero" else NORM_STABILISER
    return LayerMapComposite(
        layer_map=[*layer_map_base(stabiliser), (InputNormalisation, Pass()),
                   (Convolution, chosen), (Linear, chosen)],
        canonizers=[ExactMergeBatchNorm(), MBConvSumCanonizer(), ResNetBottleneckCanonizer(),
                    ResNetBasicBlockCanonizer()])


def relevance(model, x, target, layers=(), **rule_params):
    """Input relevance (B,C,H,W) and the relevance at the outputs of ``layers``.

    zennit's rules replace each layer's backward pass so that what flows back is
    the relevance itself: seeded with the target logit at the output, the
    "gradient" at any tensor is that tensor's relevance.
    """
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
