"""Timing shared by the benchmark scripts and the survey's timing table (never used in
tests' assertions)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch


def synchronise(device: str) -> None:
    """Wait for queued CUDA work so that a timer measures it."""
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed_calls(step: Callable[[], object], repeats: int, device: str) -> list[float]:
    """Seconds taken by each of ``repeats`` calls of ``step()``, after one untimed warm-up
    call (which pays for lazy initialisation and allocator growth)."""
    step()
    times = []
    for _ in range(repeats):
        synchronise(device)
        started = time.perf_counter()
        step()
        synchronise(device)
        times.append(time.perf_counter() - started)
    return times


def images_per_second(step: Callable[[], object], batch: int, repeats: int, device: str) -> float:
    """Median throughput of ``step()`` (which handles ``batch`` images) over ``repeats`` timed
    calls after one warm-up call."""
    return batch / statistics.median(timed_calls(step, repeats, device))
