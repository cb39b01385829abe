"""The memory budget: how many images one forward pass of a model may hold.

Explaining N images multiplies them by samples (SmoothGrad, GradientSHAP, CartoonX's
noise), steps (Integrated Gradients), masks (RISE), perturbations (occlusion, LIME,
the metrics' removal curves) or points (DXAI's beta curve). Every such code path
splits its work so that no forward pass sees more than :func:`images_per_pass`
images, whatever N is: peak memory is set by the budget, not by the workload, and
the results do not depend on the budget, because every image's result is computed
from the same random draws in whatever chunks it is processed.

The workflow sets the budget from the config key ``images_per_pass`` in each job
(``common.tracking.Job``); it is an execution setting like the device, recorded in
the provenance but not a tracked parameter, so changing it reruns nothing.
Library users and tests change it with :func:`limited`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

DEFAULT_IMAGES_PER_PASS = 64

_images_per_pass = DEFAULT_IMAGES_PER_PASS


def images_per_pass() -> int:
    """The current budget: the most images any forward pass may hold."""
    return _images_per_pass


def set_images_per_pass(count: int) -> None:
    """Set the budget for this process (the workflow's ``images_per_pass``)."""
    global _images_per_pass
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"images_per_pass must be a positive integer, got {count!r}")
    _images_per_pass = count


@contextlib.contextmanager
def limited(count: int) -> Iterator[None]:
    """The budget set to ``count`` inside the context, restored afterwards."""
    before = _images_per_pass
    set_images_per_pass(count)
    try:
        yield
    finally:
        set_images_per_pass(before)


def copies_per_pass(images: int) -> int:
    """How many copies (samples, steps, masks, ...) of each of ``images`` images one pass
    may hold: at least one, so a pass holds ``images`` images when they alone fill the
    budget (callers split the images first, see :func:`image_chunks`)."""
    return max(1, _images_per_pass // max(1, images))


def image_chunks(count: int, copies: int = 1) -> Iterator[slice]:
    """Slices of ``count`` images small enough that ``copies`` copies of each fit the budget
    in one pass (at least one image per slice)."""
    step = max(1, _images_per_pass // max(1, copies))
    for start in range(0, count, step):
        yield slice(start, min(start + step, count))


def batched(function: Callable, *tensors, copies: int = 1):
    """``function(*chunks)`` over chunks of the images in ``tensors`` (the same chunks of
    each) that fit the budget with ``copies`` copies of each image, the results
    concatenated along the first dimension: a per-image computation of any size."""
    import torch  # not at module level: jobs without torch import this module too

    return torch.cat([function(*(tensor[part] for tensor in tensors))
                      for part in image_chunks(len(tensors[0]), copies)])
