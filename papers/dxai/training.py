"""DXAI training (Sec. 3.3, App. 0.C): alpha-blending, the losses, EMA, resumable checkpoints.

One iteration, for a batch x of classes y (images in [-1, 1]):

1. Styles of the true class y and of a random other class y' (Eq. 4) from fresh
   latents; the generator runs once on the duplicated batch.
2. Alpha-blending (Eq. 5): x_y = psi_1 + sum_i (a_i psi_i + (1 - a_i) psi'_i) and
   x_y' = sum_i ((1 - a_i) psi_i + a_i psi'_i), i >= 2: the distinct branch of the
   alternative class is zeroed, so only psi_1 can carry what makes x of class y.
3. Discriminator step on real x and the (detached) generated pair: adversarial
   BCE on the grade of each image's class, R1 on the real images, and Eq. 11's
   KL from the frozen classifier's softmax to the discriminator's.
4. Generator step (generator and mapping network): adversarial, the frozen
   classifier's cross-entropy towards y and y', L1 + L2 reconstruction of x by
   both generated images (Eqs. 7-8; one mean over the duplicated batch, as the
   authors' code) and the same restricted to the elements where |psi_1|
   exceeds its channel's image mean (Eq. 12); then the EMA copies move.

All randomness of iteration t (batch, augmentation, classes, latents, alphas)
comes from a generator seeded by (seed, t), so a run resumed from a checkpoint
continues the very same loss curve.
"""

from __future__ import annotations

import copy
import logging
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from common.io import save_torch
from common.models.train import data_digest, load_checkpoint
from papers.dxai.model import (
    Architecture,
    BranchedGenerator,
    Discriminator,
    MappingNetwork,
    to_signed,
    to_unit,
)

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class LossWeights:
    """lambda of each term (App. 0.C, Eq. 14; the authors' code: adv 1, cls 4, rec 4, dis_rec 4)."""

    adversarial: float = 1.0
    classification: float = 4.0
    reconstruction: float = 4.0
    distinct_reconstruction: float = 4.0
    r1: float = 1.0
    kl: float = 1.0


@dataclass(frozen=True)
class Settings:
    """One training run (config ``dxai.training`` and one ``dxai.variants`` entry)."""

    iterations: int
    batch_size: int
    lr_generator: float
    lr_mapping: float
    lr_discriminator: float
    weight_decay: float
    ema: float
    evaluate_every: int
    checkpoint_every: int
    augment: bool
    weights: LossWeights = field(default_factory=LossWeights)
    probe_images: int = 64  # held-out images decomposed at every evaluation

    @classmethod
    def from_config(cls, training: dict, weights: dict) -> Settings:
        return cls(**training, weights=LossWeights(**weights))


class Networks(nn.Module):
    """Generator, mapping network and discriminator, with EMA copies of the first two."""

    def __init__(self, arch: Architecture):
        super().__init__()
        self.arch = arch
        self.generator = BranchedGenerator(arch)
        self.mapping = MappingNetwork(arch)
        self.discriminator = Discriminator(arch)
        self.generator_ema = copy.deepcopy(self.generator).requires_grad_(False)
        self.mapping_ema = copy.deepcopy(self.mapping).requires_grad_(False)

    def update_ema(self, beta: float) -> None:
        """theta_ema <- beta theta_ema + (1 - beta) theta, for generator and mapping."""
        with torch.no_grad():
            for ema, live in ((self.generator_ema, self.generator),
                              (self.mapping_ema, self.mapping)):
                for average, current in zip(ema.parameters(), live.parameters(), strict=True):
                    average.lerp_(current, 1 - beta)


def alpha_blend(psi_own: torch.Tensor, psi_other: torch.Tensor,
                alpha: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Eq. 5: the images of the true class and of the alternative class.

    ``psi_own`` and ``psi_other`` (B, branches, C, H, W) are the branches under the
    true and the alternative class's style; ``alpha`` (B, branches - 1) in [0, 1].
    The alternative image has no distinct branch at all (psi'_1 = 0).
    """
    weight = alpha[:, :, None, None, None]
    own, other = psi_own[:, 1:], psi_other[:, 1:]
    image_own = psi_own[:, 0] + (weight * own + (1 - weight) * other).sum(1)
    image_other = ((1 - weight) * own + weight * other).sum(1)
    return image_own, image_other


def fidelity(estimate: torch.Tensor, target: torch.Tensor,
             mask: torch.Tensor | None = None) -> torch.Tensor:
    """Eq. 7: mean squared plus mean absolute error, over the elements of ``mask`` if given."""
    difference = estimate - target
    error = difference.square() + difference.abs()
    if mask is None:
        return error.mean()
    mask = mask.expand_as(error).to(error.dtype)
    return (error * mask).sum() / mask.sum().clamp(min=1)


def distinct_mask(distinct: torch.Tensor) -> torch.Tensor:
    """Eq. 12's M (B, C, H, W): where |psi_1| exceeds the mean of its channel over the image
    (per element and channel, as the authors' code)."""
    magnitude = distinct.abs()
    return magnitude > magnitude.mean(dim=(2, 3), keepdim=True)


def _class_grade(grades: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
    return grades.gather(1, classes.view(-1, 1)).squeeze(1)


def _adversarial(grades: torch.Tensor, classes: torch.Tensor, real: bool) -> torch.Tensor:
    grade = _class_grade(grades, classes)
    return F.binary_cross_entropy_with_logits(grade, torch.full_like(grade, float(real)))


@dataclass
class Batch:
    """Everything random in one iteration."""

    images: torch.Tensor       # (B, C, H, W) in [-1, 1]
    classes: torch.Tensor      # (B,) true classes y
    other: torch.Tensor        # (B,) alternative classes y' != y
    latents: torch.Tensor      # (2B, latent_dim): the true class's, then the alternative's
    alpha: torch.Tensor        # (B, branches - 1)


def draw_batch(images: torch.Tensor, labels: torch.Tensor, arch: Architecture,
               settings: Settings, seed: int, iteration: int, device: str) -> Batch:
    """The batch of iteration ``iteration``, a function of (seed, iteration) only."""
    generator = torch.Generator().manual_seed(seed * 1_000_003 + iteration)
    index = torch.randint(len(images), (settings.batch_size,), generator=generator)
    x, y = images[index], labels[index]
    if settings.augment:
        x = _rotate_and_flip(x, generator)
    offset = torch.randint(1, arch.classes, (len(y),), generator=generator)
    latents = torch.randn(2 * len(y), arch.latent_dim, generator=generator)
    alpha = torch.rand(len(y), arch.branches - 1, generator=generator)
    return Batch(to_signed(x).to(device), y.to(device), ((y + offset) % arch.classes).to(device),
                 latents.to(device), alpha.to(device))


def _rotate_and_flip(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """The authors' augmentation: a rotation by a multiple of 90 degrees and a random flip."""
    turns = torch.randint(0, 4, (len(x),), generator=generator).tolist()
    flips = torch.rand(len(x), generator=generator).lt(0.5).tolist()
    turned = [torch.rot90(image, turn, dims=(1, 2))
              for image, turn in zip(x, turns, strict=True)]
    return torch.stack([image.flip(2) if flip else image
                        for image, flip in zip(turned, flips, strict=True)])


def generate(nets: Networks, batch: Batch) -> dict[str, torch.Tensor]:
    """The blended pair (Eq. 5) from the live generator, with its distinct branch."""
    both = torch.cat([batch.classes, batch.other])
    styles = nets.mapping(batch.latents, both)
    psi = nets.generator(torch.cat([batch.images, batch.images]), styles)
    psi_own, psi_other = psi.chunk(2)
    own, other = alpha_blend(psi_own, psi_other, batch.alpha)
    return {"fakes": torch.cat([own, other]), "fake_classes": both,
            "own": own, "other": other, "distinct": psi_own[:, 0]}


def discriminator_loss(nets: Networks, classifier: nn.Module, batch: Batch,
                       fakes: torch.Tensor, fake_classes: torch.Tensor,
                       weights: LossWeights) -> tuple[torch.Tensor, dict]:
    """Adversarial BCE (real and fake), R1 on the real images, KL to the classifier (Eq. 11)."""
    real = batch.images.detach().requires_grad_(True)
    grades = nets.discriminator(real)
    real_loss = _adversarial(grades, batch.classes, real=True)
    gradient, = torch.autograd.grad(_class_grade(grades, batch.classes).sum(), real,
                                    create_graph=True)
    r1 = 0.5 * gradient.square().flatten(1).sum(1).mean()
    fake_loss = _adversarial(nets.discriminator(fakes.detach()), fake_classes, real=False)
    with torch.no_grad():
        reference = classifier(to_unit(batch.images)).softmax(1)
    kl = F.kl_div(grades.log_softmax(1), reference, reduction="batchmean")
    loss = real_loss + fake_loss + weights.r1 * r1 + weights.kl * kl
    return loss, {"d_real": real_loss, "d_fake": fake_loss, "d_r1": r1, "d_kl": kl}


def generator_loss(nets: Networks, classifier: nn.Module, batch: Batch,
                   generated: dict[str, torch.Tensor],
                   weights: LossWeights) -> tuple[torch.Tensor, dict]:
    """Adversarial, classification, reconstruction (Eq. 8) and Eq. 12's masked reconstruction."""
    fakes, classes = generated["fakes"], generated["fake_classes"]
    adversarial = _adversarial(nets.discriminator(fakes), classes, real=True)
    classification = F.cross_entropy(classifier(to_unit(fakes)), classes)
    reconstruction = fidelity(fakes, torch.cat([batch.images, batch.images]))
    distinct = fidelity(generated["own"], batch.images,
                        distinct_mask(generated["distinct"].detach()))
    loss = (weights.adversarial * adversarial + weights.classification * classification
            + weights.reconstruction * reconstruction
            + weights.distinct_reconstruction * distinct)
    return loss, {"g_adversarial": adversarial, "g_classification": classification,
                  "g_reconstruction": reconstruction, "g_distinct_reconstruction": distinct}


def optimisers(nets: Networks, settings: Settings) -> dict[str, torch.optim.Optimizer]:
    """Adam with betas (0, 0.99) and weight decay, as the authors (mapping at its own rate)."""
    def adam(module, lr):
        return torch.optim.Adam(module.parameters(), lr=lr, betas=(0.0, 0.99),
                                weight_decay=settings.weight_decay)
    return {"generator": adam(nets.generator, settings.lr_generator),
            "mapping": adam(nets.mapping, settings.lr_mapping),
            "discriminator": adam(nets.discriminator, settings.lr_discriminator)}


def train_step(nets: Networks, classifier: nn.Module, batch: Batch, optim: dict,
               settings: Settings) -> dict[str, float]:
    """One discriminator and one generator update on ``batch``; the loss terms."""
    generated = generate(nets, batch)
    d_loss, d_terms = discriminator_loss(nets, classifier, batch, generated["fakes"],
                                         generated["fake_classes"], settings.weights)
    optim["discriminator"].zero_grad(set_to_none=True)
    d_loss.backward()
    optim["discriminator"].step()
    g_loss, g_terms = generator_loss(nets, classifier, batch, generated, settings.weights)
    optim["generator"].zero_grad(set_to_none=True)
    optim["mapping"].zero_grad(set_to_none=True)
    nets.discriminator.requires_grad_(False)
    g_loss.backward()
    nets.discriminator.requires_grad_(True)
    optim["generator"].step()
    optim["mapping"].step()
    nets.update_ema(settings.ema)
    return {name: float(value.detach()) for name, value in {**d_terms, **g_terms}.items()}


def psnr(estimate: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Peak signal-to-noise ratio (dB) of each image in [0, 1] (estimate clamped to it)."""
    error = (estimate.clamp(0, 1) - target).square().flatten(1).mean(1)
    return 10 * torch.log10(1 / error.clamp(min=1e-12))


@dataclass
class Run:
    """A training run's identity, where its checkpoint lives, and whether it keeps the EMA
    weights of every evaluation point (Table 4 needs them; at paper scale each is 0.6 GB)."""

    arch: Architecture
    settings: Settings
    seed: int
    checkpoint: Path
    keep_snapshots: bool = True

    @property
    def identity(self) -> dict:
        return {"arch": self.arch.as_dict(), "settings": asdict(self.settings), "seed": self.seed}


def _save(run: Run, identity: dict, nets: Networks, optim: dict, iteration: int,
          history: list, snapshots: list, sums: dict) -> None:
    save_torch({"identity": identity, "iteration": iteration, "history": history,
                "snapshots": snapshots, "sums": sums, "nets": nets.state_dict(),
                "optimisers": {name: opt.state_dict() for name, opt in optim.items()}},
               run.checkpoint)


def _resume(run: Run, identity: dict, nets: Networks,
            optim: dict) -> tuple[int, list, list, dict]:
    """(iteration, history, snapshots, loss sums since the last record) restored from this
    run's checkpoint if it was written for ``identity`` (the run's, with the digest of the
    data and classifier it trains on), or a fresh start."""
    state = load_checkpoint(run.checkpoint, identity)
    if state is None:
        return 0, [], [], {}
    nets.load_state_dict(state["nets"])
    for name, opt in optim.items():
        opt.load_state_dict(state["optimisers"][name])
    LOGGER.info("resuming %s at iteration %d", run.checkpoint, state["iteration"])
    return state["iteration"], state["history"], state["snapshots"], state["sums"]


def ema_state(nets: Networks) -> dict:
    """The inference networks' weights (EMA generator and mapping), on the CPU."""
    return {name: {key: value.detach().cpu().clone() for key, value in module.state_dict().items()}
            for name, module in (("generator", nets.generator_ema),
                                 ("mapping", nets.mapping_ema))}


def _require_finite(terms: dict[str, float], run: Run, iteration: int) -> None:
    """Stop a run whose losses left the real numbers: its networks would be NaN from here on
    while the job went on to write them as a trained model."""
    broken = sorted(name for name, value in terms.items() if not math.isfinite(value))
    if broken:
        raise FloatingPointError(f"DXAI run {run.checkpoint.with_suffix('')} (seed {run.seed}): "
                                 f"loss terms {broken} are not finite at iteration {iteration}")


def train(run: Run, classifier: nn.Module, images: torch.Tensor, labels: torch.Tensor,
          probe, device: str, stop_after: int | None = None,
          on_evaluate=None) -> tuple[Networks, list[dict], list[dict]]:
    """Train from scratch or from ``run.checkpoint``; return (networks, history, snapshots).

    Every ``evaluate_every`` iterations the mean loss terms since the last record
    and ``probe(nets)`` (a dict of held-out measures) join the history, and the
    EMA weights are kept as a snapshot if the run keeps them. The full state
    is written atomically every ``checkpoint_every`` iterations and at the end.
    ``stop_after`` ends the run early at that iteration (tests of resumption).
    """
    torch.manual_seed(run.seed)
    nets = Networks(run.arch).to(device)
    classifier = classifier.to(device).eval().requires_grad_(False)
    optim = optimisers(nets, run.settings)
    identity = {**run.identity,
                "inputs": data_digest(images, labels, *classifier.state_dict().values())}
    start, history, snapshots, sums = _resume(run, identity, nets, optim)
    end = run.settings.iterations if stop_after is None else min(stop_after,
                                                                 run.settings.iterations)
    for iteration in tqdm(range(start, end), desc="DXAI iterations", initial=start,
                          total=run.settings.iterations, mininterval=5):
        batch = draw_batch(images, labels, run.arch, run.settings, run.seed, iteration, device)
        done = iteration + 1
        terms = train_step(nets, classifier, batch, optim, run.settings)
        _require_finite(terms, run, done)
        for name, value in terms.items():
            sums[name] = sums.get(name, 0.0) + value
        if done % run.settings.evaluate_every == 0 or done == run.settings.iterations:
            steps = done - (history[-1]["iteration"] if history else 0)
            record = {"iteration": done, **{k: v / steps for k, v in sums.items()}, **probe(nets)}
            history.append(record)
            if run.keep_snapshots:
                snapshots.append({"iteration": done, **ema_state(nets)})
            sums = {}
            if on_evaluate is not None:
                on_evaluate(record, nets)
        if done % run.settings.checkpoint_every == 0 or done == end:
            _save(run, identity, nets, optim, done, history, snapshots, sums)
    return nets, history, snapshots

