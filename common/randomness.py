"""The state of every random number generator a training may draw from (torch on the CPU
and on each CUDA device, NumPy's global generator, Python's ``random``), to store in a
checkpoint and restore on resuming: dropout draws from torch's global generator, so a run
resumed without it continues with other masks than an uninterrupted run.

The state is kept in plain lists and tensors, which ``torch.load(weights_only=True)`` reads.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch


def capture() -> dict[str, Any]:
    """Every generator's state now."""
    version, keys, gauss = random.getstate()
    name, table, position, has_gauss, cached = np.random.get_state()
    state = {"torch": torch.get_rng_state(), "python": [version, list(keys), gauss],
             "numpy": [name, table.tolist(), position, has_gauss, cached]}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore(state: dict[str, Any]) -> None:
    """Set every generator to a state :func:`capture` returned."""
    torch.set_rng_state(state["torch"])
    version, keys, gauss = state["python"]
    random.setstate((version, tuple(keys), gauss))
    name, table, position, has_gauss, cached = state["numpy"]
    np.random.set_state((name, np.array(table, dtype=np.uint32), position, has_gauss, cached))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
