"""The fused numba kernels give the numbers of the readable NumPy optimisers."""

import numpy as np
import pytest

import gradwise as gw
from gradwise import kernels, optim

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
        monkeypatch.setattr(optim, "USE_KERNELS", use)
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
