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


# ----------------------------------------------------------------------------- images
# The loops of conv.py's im2col / col2im / max pooling, one pass each, padding handled by
# bounds checks instead of a padded copy. conv.py's NumPy code is the reference the tests
# hold these to (the same numbers; col2im and overlapping pooling add in another order).

def _im2col(xt, cols, kh, kw, sh, sw, dh, dw, pt, pl):
    """xt (N, H, W, C) channels last -> cols (N, Ho, Wo, kh, kw, C): rows of C values copied
    whole (reading NCHW here, one value at a time, was 1.7x slower than transposing first);
    zero outside the image."""
    n, h, w, c = xt.shape
    ho, wo = cols.shape[1], cols.shape[2]
    for b in numba.prange(n):
        for oy in range(ho):
            for ox in range(wo):
                for i in range(kh):
                    iy = oy * sh + i * dh - pt
                    for j in range(kw):
                        ix = ox * sw + j * dw - pl
                        if 0 <= iy < h and 0 <= ix < w:
                            cols[b, oy, ox, i, j, :] = xt[b, iy, ix, :]
                        else:
                            cols[b, oy, ox, i, j, :] = 0.0


def _col2im(dcols, dxt, sh, sw, dh, dw, pt, pl):
    """Add every patch gradient dcols (N, Ho, Wo, kh, kw, C) back onto dxt (N, H, W, C), zeroed."""
    n, ho, wo, kh, kw, c = dcols.shape
    h, w = dxt.shape[1], dxt.shape[2]
    for b in numba.prange(n):
        for oy in range(ho):
            for ox in range(wo):
                for i in range(kh):
                    iy = oy * sh + i * dh - pt
                    if iy < 0 or iy >= h:
                        continue
                    for j in range(kw):
                        ix = ox * sw + j * dw - pl
                        if 0 <= ix < w:
                            dxt[b, iy, ix, :] += dcols[b, oy, ox, i, j, :]


def _maxpool(x, out, arg, kh, kw, sh, sw, ph, pw):
    """out[b, c, oy, ox] = the window's max, arg = its position i * kw + j (the first, on a
    tie; padding counts as -inf), exactly as MaxPool2D's NumPy loop."""
    n, c, h, w = x.shape
    ho, wo = out.shape[2], out.shape[3]
    for b in numba.prange(n):
        for ch in range(c):
            for oy in range(ho):
                for ox in range(wo):
                    best = -np.inf
                    where = 0
                    for i in range(kh):
                        iy = oy * sh + i - ph
                        for j in range(kw):
                            ix = ox * sw + j - pw
                            v = x[b, ch, iy, ix] if 0 <= iy < h and 0 <= ix < w else -np.inf
                            if (i == 0 and j == 0) or v > best:
                                best = v
                                where = i * kw + j
                    out[b, ch, oy, ox] = best
                    arg[b, ch, oy, ox] = where


def _maxpool_back(grad, arg, dx, kw, sh, sw, ph, pw):
    """Route each output gradient to the input position its max came from; dx zeroed."""
    n, c, ho, wo = grad.shape
    h, w = dx.shape[2], dx.shape[3]
    for b in numba.prange(n):
        for ch in range(c):
            for oy in range(ho):
                for ox in range(wo):
                    p = arg[b, ch, oy, ox]
                    iy = oy * sh + p // kw - ph
                    ix = ox * sw + p % kw - pw
                    if 0 <= iy < h and 0 <= ix < w:
                        dx[b, ch, iy, ix] += grad[b, ch, oy, ox]


def _maxpool_2x2(x, out, arg):
    """_maxpool for the common 2x2 window, stride 2, no padding: the four values of a window
    compared in registers, the output row as the inner loop (14x faster than _maxpool)."""
    n, c = x.shape[0], x.shape[1]
    ho, wo = out.shape[2], out.shape[3]
    for b in numba.prange(n):
        for ch in range(c):
            for oy in range(ho):
                top, bottom = x[b, ch, 2 * oy], x[b, ch, 2 * oy + 1]
                o, a = out[b, ch, oy], arg[b, ch, oy]
                for ox in range(wo):
                    best, where = top[2 * ox], 0
                    if top[2 * ox + 1] > best:
                        best, where = top[2 * ox + 1], 1
                    if bottom[2 * ox] > best:
                        best, where = bottom[2 * ox], 2
                    if bottom[2 * ox + 1] > best:
                        best, where = bottom[2 * ox + 1], 3
                    o[ox] = best
                    a[ox] = where


adam = _jit(_adam)
sgd_momentum = _jit(_sgd_momentum)
maxpool_2x2 = _jit(_maxpool_2x2)
im2col = _jit(_im2col)
col2im = _jit(_col2im)
maxpool = _jit(_maxpool)
maxpool_back = _jit(_maxpool_back)


def flat(a: np.ndarray) -> np.ndarray:
    """A 1-D view (never a copy) of a C-contiguous array, for the kernels to walk."""
    return a.reshape(-1)
