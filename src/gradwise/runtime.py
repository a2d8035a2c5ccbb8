"""Run-time settings: how gradwise runs, one object for the whole process.

    from gradwise import runtime
    runtime.settings.kernels = False        # every layer runs its NumPy reference code
    print(runtime.settings)                 # Settings(kernels=False, flush_subnormals=True, ...)

``settings.kernels`` is read at every call, so it may be changed at any time (the tests run
each layer both ways). The layers and optimisers ask ``use_kernels(x)`` before their first
line of NumPy math and, when it says yes, hand over to their compiled twin in
``gradwise.fast``.
"""

from __future__ import annotations

import dataclasses
from contextlib import contextmanager

import numpy as np

from . import kernels


@dataclasses.dataclass(slots=True)
class Settings:
    """What gradwise does beyond the plain NumPy math.

    Args:
        kernels: run the compiled twins in ``gradwise.fast`` (numba loops, one pass over
            memory each) instead of the NumPy code, for the layers and optimisers that
            have one: Conv2D, MaxPool2D, BatchNorm, ReLU, Adam/AdamW and SGD with
            momentum. Default: on when numba imports and ``GRADWISE_NO_NUMBA`` was unset
            when gradwise was imported (``kernels.AVAILABLE``).
        flush_subnormals: the compiled optimiser steps set optimiser state below the
            smallest normal float (1.2e-38 in float32) to 0; arithmetic on such subnormal
            numbers is many times slower on x86 (``python -m benchmarks.subnormals``). The
            NumPy optimisers never flush.
        keep_memory: ``gradwise.memory.keep_freed_memory()`` may make glibc's malloc keep
            freed blocks for the next training step (``gradwise train`` calls it; so does
            the benchmark). False, or ``GRADWISE_KEEP_MEMORY=0``, leaves malloc alone.
            It acts at the first call only: a process cannot take the setting back.
    """

    kernels: bool = kernels.AVAILABLE
    flush_subnormals: bool = True
    keep_memory: bool = True

    def __setattr__(self, name: str, value) -> None:
        names = [f.name for f in dataclasses.fields(self)]
        if name not in names:
            raise AttributeError(f"runtime.settings has no {name!r}; "
                                 f"its settings are {', '.join(names)}")
        if not isinstance(value, bool):
            raise TypeError(f"runtime.settings.{name} must be True or False; got {value!r}")
        if name == "kernels" and value and not kernels.AVAILABLE:
            raise ValueError("runtime.settings.kernels = True needs numba, which did not import "
                             "(or GRADWISE_NO_NUMBA is set); help: pip install gradwise[fast]")
        object.__setattr__(self, name, value)


settings = Settings()

COMPILED_DTYPES = (np.float32, np.float64)       # the types the kernels are compiled for


def use_kernels(*arrays: np.ndarray) -> bool:
    """True when the compiled kernels are on and every array is float32 or float64."""
    return settings.kernels and all(a.dtype in COMPILED_DTYPES for a in arrays)


@contextmanager
def using(**changes):
    """Settings changed for a block and restored after it, even on an error.

    >>> with using(kernels=False):
    ...     settings.kernels
    False
    """
    before = {name: getattr(settings, name) for name in changes}
    for name, value in changes.items():
        setattr(settings, name, value)
    try:
        yield settings
    finally:
        for name, value in before.items():
            setattr(settings, name, value)
