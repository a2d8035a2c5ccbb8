"""Keep freed memory for the next training step instead of handing it back to the OS.

A training step allocates, and frees, the same large arrays every time: a CNN's activations
and their gradients are 3 to 13 MB each at batch 128. glibc's malloc returns blocks that
large to the operating system as soon as they are freed (they are above its "mmap
threshold", or they leave the top of the heap above its "trim threshold"), so the next step
gets fresh pages, which the kernel faults in and zeroes one at a time. Measured on the MNIST
CNN (batch 128, 2 cores): 650-870 page faults and 6.6-7.4 ms of system time in a 40 ms
step; PyTorch's step on the same model, 4,560 faults and 34 ms (28.6 ms with the setting
below). The CPU tuning guides around PyTorch suggest preloading another allocator (jemalloc,
tcmalloc) for this.

``keep_freed_memory()`` raises both thresholds with glibc's ``mallopt`` so freed blocks stay
in the heap and the next step reuses them. Training does not call it by itself: the
``gradwise train`` command does, and so does ``benchmarks.compare`` (for every contender);
call it yourself before ``fit`` for the same speed. ``gradwise.runtime.settings.keep_memory
= False``, or ``GRADWISE_KEEP_MEMORY=0`` in the environment, makes it leave malloc alone. The
setting holds for the whole process, for every library in it; the price is that memory
freed after training stays with the process (reused by later allocations) instead of going
back to the OS. Elsewhere than Linux with glibc it does nothing.
"""

from __future__ import annotations

import ctypes
import os
import sys

from .runtime import settings

M_TRIM_THRESHOLD = -1        # glibc's mallopt parameters (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 2**20  # blocks up to 32 MB come from the heap (glibc's largest allowed)
TRIM_THRESHOLD = 2**30       # give memory back only when 1 GB lies free at the heap's top

_state: bool | None = None


def keep_freed_memory() -> bool:
    """Make glibc's malloc keep freed blocks for reuse; True when it did. It acts once per
    process; later calls return the first answer. While ``runtime.settings.keep_memory`` is
    False it does nothing (and returns False) until it has acted."""
    global _state
    if _state is None:
        if not settings.keep_memory:
            return False
        _state = _set_thresholds()
    return _state


def _set_thresholds() -> bool:
    if os.environ.get("GRADWISE_KEEP_MEMORY", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt            # the C library the process runs on
    except (OSError, AttributeError):                 # no mallopt (e.g. musl)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    # the mmap threshold first: raising the trim threshold alone turns off glibc's own
    # raising of the mmap threshold, which made every step slower, not faster
    if mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) != 1:
        return False
    return mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
