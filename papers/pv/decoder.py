"""The encoder (a frozen truncation of the classifier), the decoder that inverts it, and its loss.

Following Sec. 3 and the authors' code (NOTES.md): the encoder is the
classifier up to its last convolutional features, never retrained; the decoder
is a stack of up-sampling stages, each a linear 2x2 stride-2 transposed
convolution, batch norm, and n 3x3 convolutions with LeakyReLU(0.2), ending in
a 3x3 convolution to RGB with a sigmoid; no skip connections. The paper's five
stages double a 7x7 map to 224x224; a smaller input keeps the last
log2(input / feature size) stages, with widths scaled by ``width_scale``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from pytorch_msssim import ssim
from torch import nn

#: The authors' decoder stages, from the 7x7 features to the 224x224 image: (width, convolutions).
PAPER_STAGES = ((512, 2), (512, 2), (256, 2), (128, 1), (64, 1))


class Encoder(nn.Module):
    """The classifier's last convolutional features, frozen: z = E(x).

    The classifier is put in eval mode and its parameters stop requiring
    gradients, so training a decoder through it (the DSIM term) cannot change it.
    """

    def __init__(self, classifier: nn.Module):
        super().__init__()
        self.classifier = classifier.eval().requires_grad_(False)

    def train(self, mode: bool = True) -> Encoder:
        """Stay in eval mode whatever is asked: batch norm statistics are the classifier's."""
        del mode
        return super().train(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier.features(x)


def _stage(in_width: int, width: int, convolutions: int) -> nn.Sequential:
    layers: list[nn.Module] = [nn.ConvTranspose2d(in_width, width, 2, stride=2),
                               nn.BatchNorm2d(width)]
    for _ in range(convolutions):
        layers += [nn.Conv2d(width, width, 3, padding=1), nn.LeakyReLU(0.2)]
    return nn.Sequential(*layers)


def decoder_stages(image_size: int, feature_size: int) -> tuple[tuple[int, int], ...]:
    """The last log2(image_size / feature_size) of the paper's stages."""
    ratio = image_size / feature_size
    count = round(math.log2(ratio)) if ratio >= 2 else 0
    if count < 1 or 2 ** count != ratio or count > len(PAPER_STAGES):
        raise ValueError(f"the decoder doubles the feature map, so image size / feature size "
                         f"must be 2, 4, ..., {2 ** len(PAPER_STAGES)}; got {image_size} / "
                         f"{feature_size}")
    return PAPER_STAGES[-count:]


class Decoder(nn.Module):
    """D: (B, d, h, w) features -> (B, 3, h * 2**stages, w * 2**stages) image in (0, 1)."""

    def __init__(self, feature_channels: int, image_size: int, feature_size: int,
                 width_scale: float = 1.0):
        super().__init__()
        blocks, in_width = [], feature_channels
        for width, convolutions in decoder_stages(image_size, feature_size):
            width = max(1, round(width * width_scale))
            blocks.append(_stage(in_width, width, convolutions))
            in_width = width
        self.stages = nn.Sequential(*blocks)
        self.to_rgb = nn.Conv2d(in_width, 3, 3, padding=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.to_rgb(self.stages(z)))


@dataclass(frozen=True)
class LossWeights:
    """alpha_1..3 of Eq. 6 (MSE, SSIM, DSIM); the paper forces them to sum to one."""

    mse: float
    ssim: float
    dsim: float

    def __post_init__(self):
        if min(self.mse, self.ssim, self.dsim) < 0 or not math.isclose(
                self.mse + self.ssim + self.dsim, 1.0, abs_tol=1e-6):
            raise ValueError(f"loss weights must be non-negative and sum to one, got {self}")


def image_ssim(reconstruction: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """SSIM per image (B,), the mean over channels; Wang et al.'s 11x11 Gaussian window,
    sigma 1.5."""
    return ssim(reconstruction, x, data_range=1.0, size_average=False, win_size=11,
                win_sigma=1.5)


def loss_terms(encoder: Encoder, reconstruction: torch.Tensor, x: torch.Tensor,
               features: torch.Tensor) -> dict[str, torch.Tensor]:
    """The three terms of Eq. 6, batch means: MSE, L_SSIM = -(sum of per-channel SSIM), DSIM.

    DSIM is the MSE between the encoder's features of the reconstruction and of
    the input (``features`` = E(x)), through the frozen encoder.
    """
    return {"mse": F.mse_loss(reconstruction, x),
            "ssim": -x.shape[1] * image_ssim(reconstruction, x).mean(),
            "dsim": F.mse_loss(encoder(reconstruction), features)}


def total_loss(terms: dict[str, torch.Tensor], weights: LossWeights) -> torch.Tensor:
    """Eq. 6: alpha_1 L_MSE + alpha_2 L_SSIM + alpha_3 L_DSIM (a term with weight 0 is skipped)."""
    return sum(getattr(weights, name) * value for name, value in terms.items()
               if getattr(weights, name) > 0)
