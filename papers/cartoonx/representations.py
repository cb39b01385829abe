"""How CartoonX and Pixel RDE write an image: DWT coefficients or the pixels themselves.

A representation says how to analyse an image into coefficient parts, synthesise it
back and visualise masks on it; :mod:`papers.cartoonx.rde` optimises masks on any of them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import pywt
import torch
from pytorch_wavelets import DWTForward, DWTInverse
from torch import Tensor

Size = tuple[int, int] | torch.Size


class Representation(ABC):
    """How an image x (B, C, H, W) is written as coefficient parts h, with x = f(h).

    Each part is (B, C, *positions); its mask is (B, 1, *positions), one entry per
    position shared by the channels, and its noise is one partition of Eq. 5.
    """

    @abstractmethod
    def analyse(self, x: Tensor) -> list[Tensor]:
        """The coefficient parts h of x."""

    @abstractmethod
    def synthesise(self, parts: Sequence[Tensor], size: Size) -> Tensor:
        """f(h): the image of size ``size`` (H, W) that the parts describe."""

    @abstractmethod
    def visualise(self, masks: Sequence[Tensor], x: Tensor) -> Tensor:
        """The explanation image (B, 1, H, W) that the masks make of x."""


class Wavelet(Representation):
    """DWT coefficients (pytorch_wavelets): [yl (B,C,h,w), yh_1 (B,C,3,h_1,w_1), ..., yh_J].

    ``levels`` is the most scales J the transform may use. An image whose shorter
    side has n pixels gets J = min(levels, pywt.dwt_max_level(n, filter length)),
    at least 1: no more levels than the signal supports, each level's input still
    as long as the filter. With db3 (6 taps) that is the paper's J = 5 at 256 px,
    and 4, 3 and 2 at 128, 64 and 32 px, where five levels would add coefficients
    made mostly of the zero padding (1.69 coefficients per pixel at 32 px instead
    of 1.42). Every mask, fraction and normalised l1 counts the coefficients of
    the transform actually applied.
    """

    def __init__(self, wavelet: str = "db3", levels: int = 5, mode: str = "zero"):
        self.wavelet, self.levels, self.mode = wavelet, levels, mode
        self.filter_length = pywt.Wavelet(wavelet).dec_len
        self.inverse_transform = DWTInverse(wave=wavelet, mode=mode)
        self._forward_transforms: dict[int, DWTForward] = {}

    def levels_for(self, size: Size) -> int:
        """The scales J used for images of ``size`` (H, W)."""
        supported = pywt.dwt_max_level(min(size[-2:]), self.filter_length)
        return max(1, min(self.levels, supported))

    def _forward(self, levels: int) -> DWTForward:
        if levels not in self._forward_transforms:
            self._forward_transforms[levels] = DWTForward(J=levels, wave=self.wavelet,
                                                          mode=self.mode)
        return self._forward_transforms[levels]

    def analyse(self, x):
        forward = self._forward(self.levels_for(x.shape[-2:]))
        low, high = forward.to(x.device, x.dtype)(x)
        return [low, *high]

    def synthesise(self, parts, size):
        inverse = self.inverse_transform.to(parts[0].device, parts[0].dtype)
        return inverse((parts[0], list(parts[1:])))[..., :size[0], :size[1]]

    def visualise(self, masks, x):
        """CartoonX: IDWT(s * DWT(greyscale x)) clamped to [0, 1] (end of Algorithm 1)."""
        return kept_image(self, masks, x)


class Pixels(Representation):
    """The pixels themselves, one part (B, C, H, W); the explanation is the mask (Fig. 8a)."""

    def analyse(self, x):
        return [x]

    def synthesise(self, parts, size):
        return parts[0]

    def visualise(self, masks, x):
        return masks[0]


def kept_image(representation: Representation, masks: Sequence[Tensor], x: Tensor) -> Tensor:
    """What the masks keep of the greyscale image, in pixel space (B, 1, H, W) in [0, 1].

    clamp(f(s * h(grey x)), 0, 1): CartoonX's explanation; for Pixel RDE the
    mask times the greyscale image. One view in which the explanations of any
    two representations can be compared (``papers.cartoonx.agreement``).
    """
    parts = representation.analyse(x.mean(1, keepdim=True))
    masked = [mask * part for mask, part in zip(masks, parts, strict=True)]
    return representation.synthesise(masked, x.shape[-2:]).clamp(0, 1)
