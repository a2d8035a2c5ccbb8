"""gradwise.runtime: one settings object decides which path every layer and optimiser takes."""

import os
import subprocess
import sys

import numpy as np
import pytest

import gradwise as gw
from gradwise import fast, kernels, memory, runtime

needs_numba = pytest.mark.skipif(not kernels.AVAILABLE, reason="numba is not installed")


@pytest.mark.skipif(os.environ.get("GRADWISE_REQUIRE_KERNELS") != "1",
                    reason="GRADWISE_REQUIRE_KERNELS=1 (.ci/run sets it) demands the compiled kernels")
def test_the_compiled_kernels_run_where_they_are_required():
    """CI installs gradwise as the README says, numba included: the kernel tests must run
    there, never be skipped for want of numba."""
    assert kernels.AVAILABLE, "numba did not import: pip install -e '.[fast]'"
    assert runtime.settings.kernels, "the compiled kernels are installed but switched off"


def test_settings_refuse_unknown_names_and_non_booleans(monkeypatch):
    with pytest.raises(AttributeError, match="kernels, flush_subnormals, keep_memory"):
        runtime.settings.kernel = False                      # misspelt: would do nothing
    with pytest.raises(TypeError, match="True or False"):
        runtime.settings.kernels = 0
    monkeypatch.setattr(kernels, "AVAILABLE", False)
    with pytest.raises(ValueError, match="pip install gradwise.fast."):
        runtime.settings.kernels = True


def test_use_kernels_follows_the_setting_and_the_dtype(monkeypatch):
    x32, x64, ints = np.zeros(3, np.float32), np.zeros(3), np.zeros(3, np.int64)
    monkeypatch.setattr(runtime.settings, "kernels", False)
    assert not runtime.use_kernels(x32)
    if kernels.AVAILABLE:
        monkeypatch.setattr(runtime.settings, "kernels", True)
        assert runtime.use_kernels(x32, x64) and not runtime.use_kernels(x32, ints)


TWINS = ["relu_forward", "relu_backward", "conv2d_forward", "conv2d_backward", "maxpool2d_forward",
         "maxpool2d_backward", "batchnorm_forward", "batchnorm_backward", "adam_update"]


def _one_step(rng):
    """A training step of conv-batchnorm-relu-pool-dense (large enough for every twin)."""
    model = gw.Sequential([gw.Conv2D(1, 8, 3, padding=1, rng=rng), gw.BatchNorm(8), gw.ReLU(),
                           gw.MaxPool2D(2), gw.Flatten(), gw.Dense(8 * 14 * 14, 10, rng=rng)])
    x = rng.random((32, 1, 28, 28)).astype(np.float32)
    loss = gw.SoftmaxCrossEntropy()
    loss.forward(model.forward(x, training=True), rng.integers(0, 10, 32))
    model.backward(loss.backward())
    gw.Adam(1e-3).step(model.params, model.grads)


@pytest.mark.parametrize("on", [False, True] if kernels.AVAILABLE else [False])
def test_the_setting_sends_every_layer_to_its_twin_or_to_numpy(on, monkeypatch, rng):
    called = []

    def recorded(name, twin):
        def call(*args, **kwargs):
            called.append(name)
            return twin(*args, **kwargs)
        return call

    for name in TWINS:
        monkeypatch.setattr(fast, name, recorded(name, getattr(fast, name)))
    monkeypatch.setattr(runtime.settings, "kernels", on)
    _one_step(rng)
    assert sorted(set(called)) == (sorted(TWINS) if on else [])


@needs_numba
def test_the_optimiser_flush_follows_the_setting(monkeypatch):
    for flush in (True, False):
        monkeypatch.setattr(runtime.settings, "flush_subnormals", flush)
        opt = gw.Adam(1e-3)
        opt.step([np.ones(4, np.float32)], [np.full(4, 1e-20, np.float32)])   # g^2 = 1e-40
        assert np.all(opt.state[0]["v"] == 0) == flush


def test_keep_memory_off_leaves_malloc_alone(monkeypatch):
    monkeypatch.setattr(memory, "_state", None)
    monkeypatch.setattr(memory, "_set_thresholds", lambda: pytest.fail("malloc was changed"))
    monkeypatch.setattr(runtime.settings, "keep_memory", False)
    assert memory.keep_freed_memory() is False
    assert memory._state is None                  # not decided: turning it on later still works


def test_gradwise_no_numba_runs_everything_in_numpy():
    code = ("import numpy as np, gradwise as gw\n"
            "from gradwise import kernels, runtime\n"
            "assert not kernels.AVAILABLE and not runtime.settings.kernels\n"
            "y = gw.ReLU().forward(np.ones((256, 256), np.float32))\n"
            "print(runtime.settings)\n")
    env = {**os.environ, "GRADWISE_NO_NUMBA": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "Settings(kernels=False" in out.stdout
