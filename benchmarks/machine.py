"""What a benchmark ran on: every timing gradwise publishes names its CPU and core count,
since machines of one kind differ (Intel or AMD, other BLAS kernels, a loaded neighbour)."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def cpu_model() -> str:
    """The CPU's model name as the kernel reports it (a VM may report only the family)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cores() -> dict:
    """Logical CPUs in the machine and those this process may use."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cores": os.cpu_count(), "usable_cores": usable}


def describe() -> str:
    """One line for a benchmark's output: 'AMD EPYC, 2 cores'."""
    return f"{cpu_model()}, {os.cpu_count()} cores"


if __name__ == "__main__":
    print(describe())
