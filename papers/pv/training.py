"""Decoder training (Eq. 6) and reconstruction quality, deterministic under a seed and resumable.

The loop mirrors the classifier's (common/models/train.py): Adam, one shuffle
per (seed, epoch), the full state written atomically after every epoch, so an
interrupted run resumes and ends with the same weights. Only the decoder's
parameters are optimised; the encoder is frozen (papers/pv/decoder.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from tqdm import tqdm

from common import budget
from common.io import load_torch, save_torch
from common.models.train import (
    CHECKPOINT_FORMAT,
    data_digest,
    epoch_generator,
    resume,
    save_checkpoint,
)
from papers.pv.decoder import Decoder, Encoder, LossWeights, image_ssim, loss_terms, total_loss


@dataclass(frozen=True)
class DecoderSettings:
    """One decoder run: ``pv.decoder`` (optimisation) and one entry of ``pv.loss_weights``."""

    epochs: int
    batch_size: int
    learning_rate: float
    width_scale: float
    weights: LossWeights

    @classmethod
    def from_config(cls, training: dict, weights: dict) -> DecoderSettings:
        return cls(**training, weights=LossWeights(**weights))


def decoder_kwargs(encoder: Encoder, image_size: int, channels: int, width_scale: float) -> dict:
    """Decoder arguments sized from the encoder's output on a blank image of the input size."""
    with torch.no_grad():
        features = encoder(torch.zeros(1, channels, image_size, image_size))
    return {"feature_channels": features.shape[1], "image_size": image_size,
            "feature_size": features.shape[-1], "width_scale": width_scale}


def train_decoder(encoder: Encoder, decoder: Decoder, images: torch.Tensor,
                  settings: DecoderSettings, seed: int, device: str, checkpoint,
                  on_epoch=None) -> list[dict]:
    """Train ``decoder`` in place to invert ``encoder`` on ``images``; return per-epoch terms."""
    encoder.to(device)
    decoder.to(device)
    optimiser = torch.optim.Adam(decoder.parameters(), lr=settings.learning_rate)
    identity = {"settings": asdict(settings), "seed": seed, "data": data_digest(images),
                "format": CHECKPOINT_FORMAT}
    history = resume(checkpoint, identity, decoder, optimiser)
    features = encoded(encoder, images, device) if len(history) < settings.epochs else None
    for epoch in tqdm(range(len(history), settings.epochs), desc="decoder epochs",
                      initial=len(history), total=settings.epochs, mininterval=2):
        record = _train_epoch(encoder, decoder, optimiser, images, features, settings,
                              epoch_generator(seed, epoch), device)
        history.append({"epoch": epoch + 1, **record})
        save_checkpoint(checkpoint, identity, history, decoder, optimiser)
        if on_epoch is not None:
            on_epoch(history[-1])
    return history


@torch.no_grad()
def encoded(encoder: Encoder, images: torch.Tensor, device: str) -> torch.Tensor:
    """E(x) of every image, on ``images``' device, in chunks that fit the memory budget.

    The encoder is frozen and in eval mode and the images are not augmented, so each
    image's features are the same in every epoch: computed once, not once per epoch.
    Batch norm uses running statistics, so a chunk's features do not depend on which
    images share it (up to the rounding of a batched convolution).
    """
    encoder.to(device)
    return budget.batched(lambda x: encoder(x.to(device)).to(images.device), images)


def _train_epoch(encoder, decoder, optimiser, images, features, settings: DecoderSettings,
                 generator, device) -> dict:
    decoder.train()
    sums: dict[str, float] = {}
    order = torch.randperm(len(images), generator=generator)
    for start in range(0, len(order), settings.batch_size):
        batch = order[start:start + settings.batch_size]
        x, z = images[batch].to(device), features[batch].to(device)
        terms = loss_terms(encoder, decoder(z), x, z)
        loss = total_loss(terms, settings.weights)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        for name, value in {"loss": loss, **terms}.items():
            sums[name] = sums.get(name, 0.0) + value.item() * len(x)
    return {f"train_{name}": total / len(order) for name, total in sums.items()}


@torch.no_grad()
def reconstruct(encoder: Encoder, decoder: Decoder, images: torch.Tensor,
                device: str) -> torch.Tensor:
    """y = D(E(x)) for every image, in chunks that fit the memory budget, on the CPU."""
    encoder.to(device)
    decoder.eval().to(device)
    return budget.batched(lambda x: decoder(encoder(x.to(device))).cpu(), images)


@torch.no_grad()
def reconstruction_quality(encoder: Encoder, reconstruction: torch.Tensor, images: torch.Tensor,
                           device: str) -> dict[str, torch.Tensor]:
    """Per-image MSE, SSIM (mean over channels) and DSIM (feature MSE) of reconstructions,
    in chunks that fit the memory budget."""
    encoder.to(device)

    def measures(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        x, y = x.to(device), y.to(device)
        return torch.stack([F.mse_loss(y, x, reduction="none").flatten(1).mean(1),
                            image_ssim(y, x),
                            F.mse_loss(encoder(y), encoder(x), reduction="none").flatten(1)
                            .mean(1)], dim=1).cpu()

    mse, ssim, dsim = budget.batched(measures, images, reconstruction, copies=2).unbind(1)
    return {"mse": mse, "ssim": ssim, "dsim": dsim}


def save_decoder(path, decoder: Decoder, kwargs: dict, record: dict) -> None:
    """Write the decoder's weights, constructor arguments and training record atomically."""
    save_torch({"kwargs": kwargs, "state_dict": decoder.cpu().state_dict(), **record}, path)


def load_decoder(path, device: str = "cpu") -> tuple[Decoder, dict]:
    """A trained decoder in eval mode, and the rest of its file (settings, history, data)."""
    saved = load_torch(path, device)
    decoder = Decoder(**saved.pop("kwargs"))
    decoder.load_state_dict(saved.pop("state_dict"))
    return decoder.to(device).eval(), saved


def as_encoder_input(images: torch.Tensor, image_size: int) -> torch.Tensor:
    """Images of any dataset as the classifier takes them: RGB, resized (antialiased bilinear)."""
    if images.shape[1] == 1:
        images = images.expand(-1, 3, -1, -1)
    if images.shape[-1] != image_size or images.shape[-2] != image_size:
        images = F.interpolate(images, size=(image_size, image_size), mode="bilinear",
                               antialias=True, align_corners=False).clamp(0, 1)
    return images
