"""Supervised training of zoo classifiers: deterministic under a seed and resumable.

After every epoch the full training state (model, optimiser, epoch, history) is
written atomically to a checkpoint. A rerun after an interruption continues from
it and ends with the same weights as an uninterrupted run, because each epoch's
shuffling is derived from (seed, epoch) rather than from a running generator.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from common.data import ImageSplit
from common.io import atomic_path

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainSettings:
    """Hyperparameters of one training run (the ``training.<arch>`` config section)."""

    epochs: int
    batch_size: int
    learning_rate: float
    weight_decay: float


def _epoch_order(count: int, seed: int, epoch: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(count, generator=generator)


def _load_checkpoint(path: Path, identity: dict) -> dict | None:
    """The checkpoint at ``path`` if it belongs to this very run, else None."""
    if not path.is_file():
        return None
    state = torch.load(path, map_location="cpu", weights_only=True)
    if state.get("identity") != identity:
        LOGGER.warning("ignoring checkpoint %s: it was written for other settings", path)
        return None
    LOGGER.info("resuming from %s after epoch %d", path, state["epoch"])
    return state


def train(model: nn.Module, data: ImageSplit, settings: TrainSettings, seed: int,
          device: str, checkpoint: Path, on_epoch=None) -> list[dict]:
    """Train ``model`` in place with Adam and cross-entropy; return per-epoch history.

    ``on_epoch(record)`` is called after each epoch (for logging). The checkpoint
    file is kept when training stops early and can be deleted by the caller once
    the final weights are saved.
    """
    model.to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=settings.learning_rate,
                                 weight_decay=settings.weight_decay)
    identity = {"settings": asdict(settings), "seed": seed, "examples": len(data)}
    state = _load_checkpoint(checkpoint, identity)
    history: list[dict] = []
    if state is not None:
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        history = state["history"]
    for epoch in tqdm(range(len(history), settings.epochs), desc="epochs", initial=len(history),
                      total=settings.epochs, mininterval=2):
        record = _train_epoch(model, optimiser, data, settings.batch_size,
                              _epoch_order(len(data), seed, epoch), device)
        history.append({"epoch": epoch + 1, **record})
        with atomic_path(checkpoint) as temporary:
            torch.save({"identity": identity, "epoch": epoch + 1, "history": history,
                        "model": model.state_dict(), "optimiser": optimiser.state_dict()},
                       temporary)
        if on_epoch is not None:
            on_epoch(history[-1])
    return history


def _train_epoch(model, optimiser, data: ImageSplit, batch_size: int, order: torch.Tensor,
                 device: str) -> dict:
    model.train()
    total_loss, correct = 0.0, 0
    for start in range(0, len(order), batch_size):
        index = order[start:start + batch_size]
        images, labels = data.images[index].to(device), data.labels[index].to(device)
        logits = model(images)
        loss = F.cross_entropy(logits, labels)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        total_loss += loss.item() * len(index)
        correct += (logits.argmax(1) == labels).sum().item()
    return {"train_loss": total_loss / len(order), "train_accuracy": correct / len(order)}


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, device: str, batch_size: int = 256):
    """Class probabilities for ``images``, computed in batches, returned on the CPU."""
    model.eval().to(device)
    chunks = [model(images[start:start + batch_size].to(device)).softmax(1).cpu()
              for start in range(0, len(images), batch_size)]
    return torch.cat(chunks)
