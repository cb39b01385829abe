"""DXAI at inference (App. 0.D) and the naive optimisation baseline (App. 0.E).

:class:`Decomposer` explains an image for a class, which the evaluation takes to
be the image's true class, as the authors' evaluation does: the EMA generator
under that class's style gives the branches; psi_1 is the class-distinct part
and psi_2 + ... + psi_B the class-agnostic part. No gradients are computed, so
it is one generator pass per batch.

Decompositions are returned in the classifiers' [0, 1] space: the networks work
in [-1, 1], where x = sum_i psi_i, so in [0, 1] the distinct part is psi_1 / 2
and the agnostic part sum_{i>=2} psi_i / 2 + 1/2.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from common import budget
from common.io import load_torch
from papers.dxai.model import (
    Architecture,
    BranchedGenerator,
    Discriminator,
    MappingNetwork,
    to_signed,
)

LATENT_SEED = 0


@dataclass(frozen=True)
class Decomposition:
    """x ~ distinct + agnostic, each (B, C, H, W) in the classifier's [0, 1] space."""

    distinct: torch.Tensor
    agnostic: torch.Tensor

    @property
    def reconstruction(self) -> torch.Tensor:
        return self.distinct + self.agnostic


class Decomposer(nn.Module):
    """The inference networks of one trained DXAI model (EMA generator and mapping)."""

    def __init__(self, arch: Architecture):
        super().__init__()
        self.arch = arch
        self.generator = BranchedGenerator(arch)
        self.mapping = MappingNetwork(arch)

    @classmethod
    def from_state(cls, arch: Architecture, state: dict) -> Decomposer:
        """Networks from :func:`papers.dxai.training.ema_state`'s dict, in eval mode."""
        decomposer = cls(arch)
        decomposer.generator.load_state_dict(state["generator"])
        decomposer.mapping.load_state_dict(state["mapping"])
        return decomposer.eval().requires_grad_(False)

    @torch.no_grad()
    def forward(self, x: torch.Tensor, classes: torch.Tensor,
                latent_seed: int = LATENT_SEED) -> Decomposition:
        """The decomposition of images ``x`` in [0, 1] under the style of ``classes``: psi_1
        (distinct) and the sum of the other branches (agnostic). The latents of all images
        are drawn at once from a generator seeded by ``latent_seed`` and the images pass in
        chunks that fit the memory budget, so a call is deterministic whatever the budget."""
        generator = torch.Generator().manual_seed(latent_seed)
        latents = torch.randn(len(x), self.arch.latent_dim, generator=generator).to(x.device)

        def parts(images, codes, labels) -> torch.Tensor:
            psi = self.generator(to_signed(images), self.mapping(codes, labels))
            return torch.stack([psi[:, 0] / 2, psi[:, 1:].sum(1) / 2 + 0.5], dim=1)

        distinct, agnostic = budget.batched(parts, x, latents, classes).unbind(1)
        return Decomposition(distinct, agnostic)


def kl_to_uniform(logits: torch.Tensor) -> torch.Tensor:
    """KL(uniform || softmax(logits)) per image (Definition 1's distance from class agnostic)."""
    log_p = logits.log_softmax(1)
    return F.kl_div(log_p, torch.full_like(log_p, 1 / log_p.shape[1]), reduction="none").sum(1)


def naive_agnostic(classifier: nn.Module, x: torch.Tensor, step: float, iterations: int,
                   tolerance: float = 1e-3) -> tuple[torch.Tensor, torch.Tensor]:
    """App. 0.E: gradient descent on x_a, from x_a = x, of KL(uniform || f(x_a)).

    x_a <- x_a - step * grad KL, for ``iterations`` steps or until every image's KL
    is below ``tolerance``. Returns (x_a, final KL per image); the naive distinct
    part is x - x_a.
    """
    agnostic = x.detach().clone().requires_grad_(True)
    for _ in range(iterations):
        kl = kl_to_uniform(classifier(agnostic))
        if bool((kl < tolerance).all()):
            break
        gradient, = torch.autograd.grad(kl.sum(), agnostic)
        with torch.no_grad():
            agnostic -= step * gradient
    with torch.no_grad():
        kl = kl_to_uniform(classifier(agnostic))
    return agnostic.detach(), kl


def load_decomposer(path, snapshot: int | None = None) -> Decomposer:
    """The inference networks of a trained DXAI model file (``papers/dxai/scripts/train.py``):
    its final EMA weights, or those of snapshot number ``snapshot`` (Table 4)."""
    saved = load_torch(path, "cpu")
    state = saved["networks"] if snapshot is None else saved["snapshots"][snapshot]
    return Decomposer.from_state(Architecture(**saved["arch"]), state)


class DiscriminatorClassifier(nn.Module):
    """A trained DXAI discriminator as a classifier of [0, 1] images: its per-class grades
    are the logits (the paper's third classifier, App. 0.B)."""

    def __init__(self, arch: Architecture, state: dict):
        super().__init__()
        self.discriminator = Discriminator(arch)
        self.discriminator.load_state_dict(state)
        self.eval().requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.discriminator(to_signed(x))


def load_discriminator(path) -> DiscriminatorClassifier:
    saved = load_torch(path, "cpu")
    return DiscriminatorClassifier(Architecture(**saved["arch"]), saved["discriminator"])
