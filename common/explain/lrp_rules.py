"""LRP's rules and canonizers in zennit's terms (see :mod:`common.explain.lrp`).

A module of its own because zennit's package imports torchvision, which imports
``torch._dynamo``: over a second of start-up that only jobs computing relevance pay,
since :func:`common.explain.lrp.relevance` imports this module when it is called.
"""

from __future__ import annotations

from functools import partial

import torch
from efficientnet_lite_pytorch.model import MBConvBlock
from torch import nn
from zennit.canonizers import Canonizer, SequentialMergeBatchNorm
from zennit.composites import LayerMapComposite, layer_map_base
from zennit.layer import Sum
from zennit.rules import AlphaBeta, Epsilon, Gamma, Pass
from zennit.torchvision import ResNetBasicBlockCanonizer, ResNetBottleneckCanonizer
from zennit.types import Convolution, Linear

from common.models.normalisation import InputNormalisation
from common.models.resnet import BasicBlock

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


class SkipSumCanonizer(Canonizer):
    """Blocks that add their skip in code, made to add it through a zennit ``Sum``.

    Relevance would flow through an addition in code as the gradient: the whole
    relevance into both terms. While registered, each matching block runs
    :meth:`stacked_forward`, which stacks the two terms on a last axis and sums them
    with a ``Sum`` module, whose rule splits relevance in proportion to the terms.
    Subclasses say which blocks match and how the two terms are computed.
    """

    def __init__(self):
        super().__init__()
        self.block = None

    @staticmethod
    def matches(module: nn.Module) -> bool:
        """Whether ``module`` is a block this canonizer rewrites."""
        raise NotImplementedError

    @staticmethod
    def stacked_forward(block, *inputs):
        """The block's forward with its skip added through ``block.canonizer_sum``."""
        raise NotImplementedError

    def apply(self, root_module):
        instances = []
        for module in root_module.modules():
            if self.matches(module):
                instance = self.copy()
                instance.register(module)
                instances.append(instance)
        return instances

    def register(self, block):
        self.block = block
        block.canonizer_sum = Sum()
        block.forward = partial(self.stacked_forward, block)

    def remove(self):
        del self.block.forward
        del self.block.canonizer_sum


class BasicBlockSumCanonizer(SkipSumCanonizer):
    """The zoo's ResNet18 blocks (:class:`common.models.resnet.BasicBlock`), which add their
    residual branch to their shortcut in code."""

    @staticmethod
    def matches(module):
        return isinstance(module, BasicBlock)

    @staticmethod
    def stacked_forward(block, x):
        return block.relu2(block.canonizer_sum(
            torch.stack([block.residual(x), block.shortcut(x)], dim=-1)))


class MBConvSumCanonizer(SkipSumCanonizer):
    """EfficientNet-Lite's MBConv blocks with their identity skip: while registered, the
    block's own skip is off and its input is added back through the ``Sum``."""

    @staticmethod
    def matches(module):
        return isinstance(module, MBConvBlock) and _adds_its_input(module)

    def register(self, block):
        super().register(block)
        block.id_skip = False

    def remove(self):
        super().remove()
        self.block.id_skip = True

    @staticmethod
    def stacked_forward(block, inputs, drop_connect_rate=None):
        """The block without its skip (eval mode: no drop connect), plus its input as a Sum."""
        branch = type(block).forward(block, inputs)
        return block.canonizer_sum(torch.stack([branch, inputs], dim=-1))


def _adds_its_input(block: MBConvBlock) -> bool:
    """Whether the block adds its input to its output (the library's own condition)."""
    arguments = block._block_args
    return bool(block.id_skip and arguments.stride == 1
                and arguments.input_filters == arguments.output_filters)


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
        canonizers=[ExactMergeBatchNorm(), BasicBlockSumCanonizer(), MBConvSumCanonizer(),
                    ResNetBottleneckCanonizer(), ResNetBasicBlockCanonizer()])


