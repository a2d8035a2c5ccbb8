"""The fused numba kernels give the numbers of the readable NumPy optimisers."""

import numpy as np
import pytest

import gradwise as gw
from gradwise import fast, kernels, runtime

pytestmark = pytest.mark.skipif(not kernels.AVAILABLE, reason="numba is not installed")


@pytest.mark.parametrize("make", [
    lambda: gw.Adam(1e-2), lambda: gw.Adam(1e-2, weight_decay=0.1), lambda: gw.AdamW(1e-2, weight_decay=0.1),
    lambda: gw.SGD(0.05, momentum=0.9), lambda: gw.SGD(0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
])
@pytest.mark.parametrize("dtype,rtol,atol", [(np.float64, 1e-12, 1e-14), (np.float32, 1e-4, 2e-5)])
def test_kernel_matches_numpy_reference(make, dtype, rtol, atol, monkeypatch, rng):
    """float64: the same numbers to 1e-12. float32: the same up to rounding (the fused loop
    rounds once where NumPy rounds after every pass), over 20 steps of a chaotic gradient."""
    shapes = [(30, 20), (20,), (20, 5)]
    start = [rng.standard_normal(s).astype(dtype) for s in shapes]
    results = []
    for use in (False, True):
        monkeypatch.setattr(runtime.settings, "kernels", use)
        ps = [p.copy() for p in start]
        opt = make()
        for step in range(20):
            grads = [np.sin(p * (step + 1)).astype(dtype) for p in ps]   # deterministic, varied
            opt.step(ps, grads)
        results.append(ps)
    for a, b in zip(*results):
        np.testing.assert_allclose(b, a, rtol=rtol, atol=atol)


def test_kernel_flushes_subnormals_in_the_state():
    p = np.ones(4, np.float32)
    opt = gw.Adam(1e-3)
    opt.step([p], [np.full(4, 1e-20, np.float32)])          # g^2 = 1e-40: subnormal in float32
    assert np.all(opt.state[0]["v"] == 0)
    assert np.all(np.isfinite(p))


def test_kernels_leave_the_callers_numba_threads_alone():
    import numba
    before = numba.get_num_threads()
    gw.Adam(1e-3).step([np.ones(8, np.float32)], [np.ones(8, np.float32)])
    assert numba.get_num_threads() == before


def _channels_last(a):
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


@pytest.mark.parametrize("shape, layout", [((300, 200), "C"), ((4, 8, 40, 30), "C"),
                                           ((4, 8, 40, 30), "channels-last"), ((300, 200), "strided")])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_kernel_matches_numpy(shape, layout, dtype, monkeypatch, rng):
    """The compiled ReLU: the same outputs, masks and gradients as NumPy's, in any memory
    layout (a strided view goes to NumPy), NaN kept where NumPy keeps it."""
    monkeypatch.setattr(fast.layers, "KERNEL_MIN_SIZE", 1)
    x = rng.standard_normal(shape).astype(dtype)
    x.flat[:3] = [np.nan, 0.0, -0.0]
    g = rng.standard_normal(shape).astype(dtype)
    g.flat[5] = np.nan
    if layout == "channels-last":
        x, g = _channels_last(x), _channels_last(g)
    elif layout == "strided":
        x, g = np.repeat(x, 2, axis=1)[:, ::2], np.repeat(g, 2, axis=1)[:, ::2]
    results = []
    for use in (False, True):
        monkeypatch.setattr(runtime.settings, "kernels", use)
        relu = gw.ReLU()
        y = relu.forward(x.copy() if layout == "C" else x)
        results.append((y, relu.mask.copy(), relu.backward(g), relu.backward(np.ascontiguousarray(g))))
    for a, b in zip(*results):
        np.testing.assert_array_equal(b, a)
    if layout == "channels-last":                      # the kernel kept the input's layout
        assert results[1][0].transpose(0, 2, 3, 1).flags.c_contiguous
