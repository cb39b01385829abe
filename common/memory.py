"""Peak memory of this process: resident set size on the CPU, allocated memory on CUDA.

The kernel keeps the peak resident set size (``VmHWM`` in ``/proc/self/status``) and
lets a process reset it (writing 5 to ``/proc/self/clear_refs``, Linux 4.0 and
later), so a peak can be measured over one stretch of work; torch keeps its own peak
of allocated CUDA memory. Jobs record both in their provenance; the memory tests and
the paper miniature's benchmark read them.
"""

from __future__ import annotations

import re
from pathlib import Path

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def peak_rss_supported() -> bool:
    """Whether this system reports and resets the peak resident set size (Linux)."""
    return _STATUS.is_file() and _CLEAR_REFS.exists()


def _status_kib(field: str) -> int:
    match = re.search(rf"^{field}:\s+(\d+) kB", _STATUS.read_text(), re.MULTILINE)
    if match is None:
        raise OSError(f"{_STATUS} has no {field} line")
    return int(match.group(1))


def current_rss_mib() -> float:
    """The resident set size now, in MiB."""
    return _status_kib("VmRSS") / 1024


def peak_rss_mib() -> float:
    """The peak resident set size since the process started or the last reset, in MiB."""
    return _status_kib("VmHWM") / 1024


def reset_peak_rss() -> None:
    """Start measuring the peak resident set size afresh from the current size."""
    _CLEAR_REFS.write_text("5")


def peak_cuda_mib() -> float | None:
    """The peak CUDA memory torch allocated in this process, in MiB (None without CUDA)."""
    import torch

    if not torch.cuda.is_available() or not torch.cuda.is_initialized():
        return None
    return torch.cuda.max_memory_allocated() / 2**20
