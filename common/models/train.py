"""Supervised training of zoo classifiers: deterministic under a seed and resumable.

After every epoch the full training state (model, optimiser, epoch, history) is
written atomically to a checkpoint. A rerun after an interruption continues from
it and ends with the same weights as an uninterrupted run, because each epoch's
shuffling is derived from (seed, epoch) rather than from a running generator.
"""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from common import budget, randomness
from common.data import ImageSplit
from common.io import UnreadableFile, load_torch, save_torch

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainSettings:
    """Hyperparameters of one training run (the ``training.<arch>`` config section)."""

    epochs: int
    batch_size: int
    learning_rate: float
    weight_decay: float
    options: dict = field(default_factory=dict)  # the architecture's constructor options
    augment: bool = False  # random horizontal flips and shifts of up to 1/8 of the side
    init_weights: str | None = None  # a backbone state dict to start from (ResNet-50: ImageNet)


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """The random stream of one epoch: shuffling and augmentation depend on (seed, epoch) only."""
    return torch.Generator().manual_seed(seed * 1_000_003 + epoch)


def augment(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Flip each image horizontally with probability 1/2 and shift it by up to 1/8 of its side.

    Shifts are reflect-padded crops. Both keep every class of the embedded
    datasets (hue, presence, lesions, stripe orientation near 0 or 90 degrees,
    object shapes), so labels stay valid.
    """
    batch, _, height, width = images.shape
    flip = torch.rand(batch, generator=generator) < 0.5
    images = torch.where(flip.view(-1, 1, 1, 1), images.flip(-1), images)
    margin = max(1, height // 8)
    padded = F.pad(images, (margin,) * 4, mode="reflect")
    offsets = torch.randint(0, 2 * margin + 1, (batch, 2), generator=generator)
    return torch.stack([padded[i, :, top:top + height, left:left + width]
                        for i, (top, left) in enumerate(offsets.tolist())])


#: Raised when a checkpoint's contents change, so that older checkpoints are not resumed
#: (2: the random generators' states are kept).
CHECKPOINT_FORMAT = 2


def data_digest(*tensors: torch.Tensor) -> str:
    """sha256 of the training data (images, labels): a checkpoint resumes only on the data
    it was trained on (a dataset rebuilt with another seed has as many images)."""
    digest = hashlib.sha256()
    for tensor in tensors:
        digest.update(tensor.detach().cpu().contiguous().numpy().data)
    return digest.hexdigest()


def load_checkpoint(path: Path, identity: dict) -> dict | None:
    """The checkpoint at ``path`` if it belongs to this very run, else None. A checkpoint
    that cannot be read (a kill or a full disk while it was written) is deleted, saying so:
    the run starts afresh instead of failing on every rerun."""
    if not path.is_file():
        return None
    try:
        state = load_torch(path, "cpu")
    except UnreadableFile as error:
        LOGGER.warning("deleting %s and starting afresh: %s", path, error)
        path.unlink()
        return None
    if state.get("identity") != identity:
        LOGGER.warning("ignoring checkpoint %s: it was written for other settings or data",
                       path)
        return None
    LOGGER.info("resuming from %s", path)
    return state


def resume(path: Path, identity: dict, model: nn.Module,
           optimiser: torch.optim.Optimizer) -> list[dict]:
    """Restore ``model`` and ``optimiser`` from this run's checkpoint at ``path`` and return
    the epochs it recorded; an empty history (nothing restored) when there is none."""
    state = load_checkpoint(path, identity)
    if state is None:
        return []
    model.load_state_dict(state["model"])
    optimiser.load_state_dict(state["optimiser"])
    randomness.restore(state["random"])
    return state["history"]


def save_checkpoint(path: Path, identity: dict, history: list[dict], model: nn.Module,
                    optimiser: torch.optim.Optimizer) -> None:
    """Write the full training state after ``len(history)`` epochs, atomically: weights,
    optimiser and the random generators' states (dropout draws from torch's)."""
    save_torch({"identity": identity, "epoch": len(history), "history": history,
                "model": model.state_dict(), "optimiser": optimiser.state_dict(),
                "random": randomness.capture()}, path)


def train(model: nn.Module, data: ImageSplit, settings: TrainSettings, seed: int,
          device: str, checkpoint: Path, on_epoch=None) -> list[dict]:
    """Train ``model`` in place with Adam and (binary) cross-entropy; return per-epoch history.

    ``on_epoch(record)`` is called after each epoch (for logging). The checkpoint
    file is kept when training stops early and can be deleted by the caller once
    the final weights are saved.
    """
    model.to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=settings.learning_rate,
                                 weight_decay=settings.weight_decay)
    identity = {"settings": asdict(settings), "seed": seed,
                "data": data_digest(data.images, data.labels), "format": CHECKPOINT_FORMAT}
    history = resume(checkpoint, identity, model, optimiser)
    for epoch in tqdm(range(len(history), settings.epochs), desc="epochs", initial=len(history),
                      total=settings.epochs, mininterval=2):
        record = _train_epoch(model, optimiser, data, settings, epoch_generator(seed, epoch),
                              device)
        _stop_if_diverged(model, record, epoch + 1, checkpoint)
        history.append({"epoch": epoch + 1, **record})
        save_checkpoint(checkpoint, identity, history, model, optimiser)
        if on_epoch is not None:
            on_epoch(history[-1])
    return history


def _stop_if_diverged(model: nn.Module, record: dict, epoch: int, checkpoint: Path) -> None:
    """Raise, naming the run by its checkpoint, when the loss or a weight is no longer
    finite: such a model predicts one class and would pass for a trained one. The last
    finite checkpoint is kept."""
    broken = [name for name, tensor in model.state_dict().items()
              if tensor.is_floating_point() and not torch.isfinite(tensor).all()]
    if math.isfinite(record["train_loss"]) and not broken:
        return
    raise FloatingPointError(
        f"training of {checkpoint.with_suffix('')} diverged at epoch {epoch}: loss "
        f"{record['train_loss']}, {len(broken)} tensors not finite {broken[:3]}; lower the "
        f"learning rate or weight decay")


def loss_and_hits(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, float]:
    """Mean loss and the number of correct decisions in a batch.

    Single-label (labels (B,)): cross-entropy, correct arg-max predictions.
    Multi-label (labels (B,K) multi-hot): binary cross-entropy on each label,
    correct per-label decisions at probability 0.5, divided by K so that the
    count is in images.
    """
    if labels.ndim == 2:
        loss = F.binary_cross_entropy_with_logits(logits, labels)
        hits = ((logits > 0) == (labels > 0.5)).float().mean(1).sum().item()
        return loss, hits
    return F.cross_entropy(logits, labels), (logits.argmax(1) == labels).sum().item()


def _train_epoch(model, optimiser, data: ImageSplit, settings: TrainSettings,
                 generator: torch.Generator, device: str) -> dict:
    model.train()
    total_loss, correct = 0.0, 0.0
    order = torch.randperm(len(data), generator=generator)
    for start in range(0, len(order), settings.batch_size):
        index = order[start:start + settings.batch_size]
        images = data.images[index]
        if settings.augment:
            images = augment(images, generator)
        images, labels = images.to(device), data.labels[index].to(device)
        loss, hits = loss_and_hits(model(images), labels)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        total_loss += loss.item() * len(index)
        correct += hits
    return {"train_loss": total_loss / len(order), "train_accuracy": correct / len(order)}


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, device: str,
            multi_label: bool = False) -> torch.Tensor:
    """Class probabilities (softmax, or per-label sigmoid), in chunks that fit the memory
    budget, on the CPU."""
    model.eval().to(device)
    activation = torch.sigmoid if multi_label else (lambda logits: logits.softmax(1))
    return budget.batched(lambda x: activation(model(x.to(device))).cpu(), images)
