"""Fused optimiser kernels: one pass over memory instead of a dozen NumPy passes.

With NumPy alone an Adam step reads and writes each array about eleven times (see
PERF_NOTES: 1.79 ms per step for 670k parameters, as much as the model's matmuls); a fused
loop compiled by numba does it in one pass (0.5 ms). numba is optional
(``pip install gradwise[fast]``): without it, or with ``GRADWISE_NO_NUMBA=1``, the
optimisers use their NumPy code in ``optim.py``, which stays the reference the tests compare
these kernels against.

Each kernel also flushes subnormal numbers in the optimiser state to zero: float32 moment
estimates that decay towards 0 become subnormal, and arithmetic on subnormals is many times
slower on x86 (PERF_NOTES: training slowed 6-17% over the epochs). A value that small
(< 1.2e-38) changes no update.
"""

from __future__ import annotations

import os

import numpy as np

try:
    if os.environ.get("GRADWISE_NO_NUMBA"):
        raise ImportError("disabled by GRADWISE_NO_NUMBA")
    import numba
    AVAILABLE = True
except ImportError:                          # the NumPy code in optim.py is used instead
    numba = None
    AVAILABLE = False


def _jit(fn):
    # parallel=True is what lets LLVM vectorise these loops (it promises the arrays do not
    # alias): measured 2.2 ms serial vs 0.42 ms for an Adam step over 670k float32 parameters.
    # They run on ONE thread (see run()): numba's worker threads and OpenBLAS's, alternating
    # step after step on 2 cores, made training 20x slower here (6.9 s/epoch instead of 0.25).
    # The loops are element-wise, with no reduction: the result does not depend on threads.
    if not AVAILABLE:
        return None
    return numba.njit(fn, fastmath=False, parallel=True, cache=True, nogil=True)


def run(kernel, *args) -> None:
    """Call a kernel on one thread, leaving the caller's numba thread count as it was."""
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        kernel(*args)
    finally:
        numba.set_num_threads(previous)





def _adam(p, g, m, v, lr_t, b1, b2, inv_sqrt_bc2, eps, decay, l2, tiny):
    """p -= lr_t * m / (sqrt(v) * inv_sqrt_bc2 + eps), with m, v updated; all flat arrays.

    lr_t is lr / (1 - b1^t); decay is AdamW's (1 - lr * wd) (1 for Adam); l2 is Adam's L2
    weight decay added to the gradient (0 for AdamW).
    """
    for i in numba.prange(p.size):
        gi = g[i] + l2 * p[i]
        mi = b1 * m[i] + (1 - b1) * gi
        vi = b2 * v[i] + (1 - b2) * gi * gi
        mi = mi if abs(mi) >= tiny else 0.0      # flush subnormals to zero
        vi = vi if vi >= tiny else 0.0
        m[i] = mi
        v[i] = vi
        p[i] = p[i] * decay - lr_t * mi / (np.sqrt(vi) * inv_sqrt_bc2 + eps)


def _sgd_momentum(p, g, vel, lr, mu, nesterov, l2, tiny):
    """vel = mu * vel + g; p -= lr * (g + mu * vel if nesterov else vel)."""
    for i in numba.prange(p.size):
        gi = g[i] + l2 * p[i]
        vi = mu * vel[i] + gi
        vi = vi if abs(vi) >= tiny else 0.0
        vel[i] = vi
        p[i] -= lr * (gi + mu * vi if nesterov else vi)


adam = _jit(_adam)
sgd_momentum = _jit(_sgd_momentum)


def flat(a: np.ndarray) -> np.ndarray:
    """A 1-D view (never a copy) of a C-contiguous array, for the kernels to walk."""
    return a.reshape(-1)
