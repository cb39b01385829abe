"""Peak memory of this process: resident set size on the CPU, allocated memory on CUDA.

The kernel keeps the peak resident set size (``VmHWM`` in ``/proc/self/status``) and
lets a process reset it (writing 5 to ``/proc/self/clear_refs``, Linux 4.0 and
later), so a peak can be measured over one stretch of work; torch keeps its own peak
of allocated CUDA memory. Jobs record both in their provenance; the memory tests and
the paper miniature's benchmark read them.

Every job also has glibc keep tensor-sized blocks in its heap
(:func:`keep_tensor_blocks_in_the_heap`), and leaves the objects it made to its process's
end without a last collection (:func:`exempt_objects_from_collection`).
"""

from __future__ import annotations

import ctypes
import gc
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


#: mallopt's parameter numbers (glibc's malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
#: Blocks up to this size come from the heap: every activation of the embedded scale (the
#: largest, DXAI's and PV's, are 5-10 MiB); glibc documents 32 MiB as the largest value it
#: takes on 64-bit systems. Larger blocks are mapped and unmapped as before.
HEAP_BLOCK_LIMIT = 32 << 20
#: Free memory at the heap's top that glibc keeps for the next allocations.
HEAP_KEPT_FREE = 128 << 20


def keep_tensor_blocks_in_the_heap() -> bool:
    """Have glibc reuse freed tensor-sized blocks instead of mapping fresh pages for each.

    By default glibc serves a block above its mmap threshold (128 KiB at first, raised as
    such blocks are freed) with a fresh mapping and unmaps it on free, and it returns free
    memory at the heap's top to the kernel; every new activation tensor then pays a page
    fault for each 4 KiB it touches. A training step of the embedded ResNet18 (one thread)
    faulted 10 000-25 000 times and took 0.13-0.14 s at 32 px and 0.24-0.29 s at 48 px; with
    the thresholds fixed here it faults next to never and takes 0.10-0.12 and 0.22 s (rows
    of ``python -m bench.hot_paths``). Where memory comes from changes no value that a
    computation produces. Returns whether the allocator took the settings (False where the
    C library is not glibc, as on macOS, and nothing changes).
    """
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is None:
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, HEAP_BLOCK_LIMIT)
                and mallopt(_M_TRIM_THRESHOLD, HEAP_KEPT_FREE))


def exempt_objects_from_collection() -> None:
    """Exempt every object alive now from the garbage collector's passes (``gc.freeze``).

    A job calls it when it is done. The interpreter's shutdown collects garbage again while
    it tears the modules down, and it traversed the several hundred thousand objects that
    torch, W&B and the plotting libraries create: about half a second a job (a row of
    ``python -m bench.hot_paths``), a tenth of a small job's process. Nothing needs that
    collection at that point: the job's outputs are closed and recorded, its log handlers
    closed, its W&B run finished. Objects created afterwards are collected as usual.
    """
    gc.freeze()
