"""The heatmap methods as DXAI's evaluation runs them (Tables 1, 2 and 4, the grids).

Each is a registry method (:mod:`common.explain`) with ``dxai.method_params``
(the grey baselines: the authors' Captum defaults are zero on their [-1, 1]
images) at the authors' layers (shared/papers/NOTES.md and their
``xai_utils.py``):

* on the explained ResNet18: Grad-CAM and Guided Grad-CAM at
  ``dxai.evaluation.gradcam_layer`` (their ``layer3[-1].conv2``), Internal
  Influence at :data:`INFLUENCE_LAYER` (their ``layer4[0].conv1``);
* on the DXAI discriminator as a classifier (App. 0.B): Grad-CAM at the second
  to last residual block's ``conv2`` (their ``main[repeat_num - 1].conv2``),
  Internal Influence at the fourth from last block's ``conv1`` (their
  ``main[repeat_num - 3].conv1``; the first block where there are fewer than four).

The discriminator's rectifiers are leaky ReLUs applied as functions and its
residual sums are written in code, so the methods whose rules act on ReLU or sum
modules are not run on it (:func:`discriminator_refusal`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import nn

from common.explain import explain
from papers.dxai.model import Architecture

#: Where the DXAI authors read Internal Influence of a ResNet (their ``layer4[0].conv1``).
INFLUENCE_LAYER = "layer4.0.conv1"

#: Methods whose rules act on ReLU or sum modules, which the DXAI discriminator does not
#: have: on it they would raise (guided backprop, DeconvNet) or silently compute something
#: else (LRP and DeepLIFT would pass relevance through its leaky ReLUs and residual sums as
#: gradients). The authors' code has the same gap: Captum's guided backprop leaves their
#: discriminator's leaky ReLUs alone, and their LRP explains another classifier.
DISCRIMINATOR_REFUSALS = {
    "guided_gradcam": "guided backprop rectifies at ReLU modules; the discriminator has none",
    "guided_backprop": "guided backprop rectifies at ReLU modules; the discriminator has none",
    "deconvnet": "DeconvNet rectifies at ReLU modules; the discriminator has none",
    "deeplift": "the Rescale rule needs activation modules; the discriminator's are functions",
    "lrp": "its residual sums are written in code, so relevance would not be conserved",
}


def discriminator_refusal(method: str) -> str | None:
    """Why ``method`` is not run on the DXAI discriminator, or None if it is."""
    family = "lrp" if method.startswith("lrp") else method
    return DISCRIMINATOR_REFUSALS.get(family)


@dataclass(frozen=True)
class Layers:
    """Module paths of the layers a classifier is explained at: Grad-CAM's (also Guided
    Grad-CAM's) and Internal Influence's."""

    gradcam: str
    influence: str

    def of(self, method: str) -> str | None:
        """The layer ``method`` reads, or None for a method that reads no layer."""
        return {"gradcam": self.gradcam, "guided_gradcam": self.gradcam,
                "internal_influence": self.influence}.get(method)


def classifier_layers(gradcam_layer: str) -> Layers:
    """The explained ResNet18's: Grad-CAM at ``gradcam_layer``, Internal Influence at
    :data:`INFLUENCE_LAYER`."""
    return Layers(gradcam=gradcam_layer, influence=INFLUENCE_LAYER)


def discriminator_layers(arch: Architecture) -> Layers:
    """The authors' layers of the discriminator, as paths in
    :class:`papers.dxai.decompose.DiscriminatorClassifier`."""
    blocks = arch.discriminator_blocks
    return Layers(gradcam=f"discriminator.blocks.{blocks - 2}.conv2",
                  influence=f"discriminator.blocks.{max(blocks - 4, 0)}.conv1")


def heatmap(model: nn.Module, x: torch.Tensor, target: torch.Tensor, method: str,
            layers: Layers, method_params: Mapping[str, Mapping]) -> torch.Tensor:
    """One registry method's attribution of ``target`` for ``x``, with ``method_params``'s
    entry for it, at its layer of ``layers`` if it reads one."""
    params, layer = dict(method_params.get(method, {})), layers.of(method)
    if layer is not None:
        params["layer"] = layer
    return explain(model, x, target, method, **params)
