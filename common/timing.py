"""Throughput measurement shared by the benchmark scripts (never used in tests' assertions)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch


def synchronise(device: str) -> None:
    """Wait for queued CUDA work so that a timer measures it."""
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def images_per_second(step: Callable[[], object], batch: int, repeats: int, device: str) -> float:
    """Median throughput of ``step()`` (which handles ``batch`` images) over ``repeats`` timed
    calls after one warm-up call."""
    step()
    times = []
    for _ in range(repeats):
        synchronise(device)
        started = time.perf_counter()
        step()
        synchronise(device)
        times.append(time.perf_counter() - started)
    return batch / statistics.median(times)
