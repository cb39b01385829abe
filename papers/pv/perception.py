"""Perception Visualization (Eq. 2): where the model looks (Grad-CAM), what it sees (D(E(x))).

p_c = m_c * y + (1 - m_c) * white, with m_c the Grad-CAM map of class c on the
last convolutional stage (ReLU, normalised to a maximum of 1, upsampled to the
input) and y the decoder's reconstruction of the encoder's features. Here c is
the top-scoring class, as in the paper's user study.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from common.explain import explain


def perception_visualisation(mask: torch.Tensor, reconstruction: torch.Tensor) -> torch.Tensor:
    """Eq. 2 on a white background: (B, 1, H, W) mask in [0, 1], (B, 3, H, W) -> (B, 3, H, W)."""
    return mask * reconstruction + (1 - mask)


def normalised_saliency(maps: torch.Tensor) -> torch.Tensor:
    """Each (1, H, W) map divided by its maximum, into [0, 1] (an all-zero map stays 0)."""
    peak = maps.flatten(1).amax(1).clamp_min(torch.finfo(maps.dtype).tiny)
    return (maps / peak.view(-1, 1, 1, 1)).clamp(0, 1)


@dataclass(frozen=True)
class Explanation:
    """PV of a batch: the explained (top) class, its probability, m, y and p."""

    target: torch.Tensor      # (B,)
    probability: torch.Tensor  # (B,) sigmoid of the target's logit
    saliency: torch.Tensor    # (B, 1, H, W)
    reconstruction: torch.Tensor  # (B, 3, H, W)
    pv: torch.Tensor          # (B, 3, H, W)

    def cpu(self) -> Explanation:
        return Explanation(*(part.cpu() for part in vars(self).values()))


def explain_top_class(classifier: nn.Module, encoder: nn.Module, decoder: nn.Module,
                      x: torch.Tensor) -> Explanation:
    """PV of each image's top class, for a multi-label classifier (sigmoid outputs)."""
    decoder.eval()
    with torch.no_grad():
        logits = classifier(x)
        reconstruction = decoder(encoder(x))
    target = logits.argmax(1)
    saliency = normalised_saliency(explain(classifier, x, target, "gradcam"))
    return Explanation(target=target, probability=logits.sigmoid().gather(1, target[:, None])[:, 0],
                       saliency=saliency, reconstruction=reconstruction,
                       pv=perception_visualisation(saliency, reconstruction))
