"""gradwise.memory: malloc keeps freed blocks, so a training step's arrays cost no page faults."""

import resource
import sys

import numpy as np
import pytest

from gradwise import memory


def _faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt is Linux-only")
def test_freed_blocks_are_reused_without_page_faults():
    if not memory.keep_freed_memory():
        pytest.skip("this C library has no mallopt (not glibc), or GRADWISE_KEEP_MEMORY=0")
    np.ones(4 * 2**20, np.float32)                # 16 MB, allocated and freed once
    before = _faults()
    for _ in range(20):                           # a training step's pattern: same size again
        a = np.ones(4 * 2**20, np.float32)
        del a
    assert _faults() - before < 50                # anew from the OS it is ~4,000 pages each time


def test_the_environment_variable_turns_it_off(monkeypatch):
    monkeypatch.setattr(memory, "_state", None)
    monkeypatch.setenv("GRADWISE_KEEP_MEMORY", "0")
    assert memory.keep_freed_memory() is False
    monkeypatch.setattr(memory, "_state", None)   # the next call may set it for real again


def test_it_is_asked_once_per_process(monkeypatch):
    monkeypatch.setattr(memory, "_state", None)
    calls = []
    monkeypatch.setattr(memory, "_set_thresholds", lambda: calls.append(1) or True)
    assert memory.keep_freed_memory() and memory.keep_freed_memory()
    assert calls == [1]
