"""The compiled loops (numba) behind gradwise's fast paths: one pass over memory each.

With NumPy alone an Adam step reads and writes each array about eleven times (see
PERF_NOTES: 1.79 ms per step for 670k parameters, as much as the model's matmuls); a fused
loop compiled by numba does it in one pass (0.5 ms). Likewise ReLU, batch norm, im2col /
col2im and max pooling each become one loop. These are the bare loops, on flat arrays or on
images that lie channels-last in memory; ``gradwise.fast`` holds the layer methods and
optimiser updates built from them (the layouts, the blocking, the calls), and the NumPy
code in layers.py, conv.py and optim.py stays the reference the tests compare them with.

numba is optional (``pip install gradwise[fast]``): without it, or with
``GRADWISE_NO_NUMBA=1`` in the environment when gradwise is imported, ``AVAILABLE`` is False
and every layer runs its NumPy code; ``gradwise.runtime.settings.kernels = False`` does the
same at run time. numba is imported when a loop is first called, not with gradwise: the
import and the loading of the cached machine code cost about 1.4 s (2-core AMD EPYC), which
a command that runs no kernel (``gradwise predict``, ``--help``, a network of Dense layers in
``gradwise train``: see ``gradwise.train.kernels_pay``) never pays.

Every loop runs on the calling thread: they are compiled without ``parallel=True``, so
numba never starts its thread pool, and they need no thread count set around each call.
(numba's worker threads and OpenBLAS's, alternating step after step on 2 cores, made
training 20x slower here: 6.9 s/epoch instead of 0.25.) What ``parallel=True`` once gave
them, vectorised inner loops, they get from ``error_model="numpy"`` (a division by zero
gives inf as in NumPy instead of raising, so the division in Adam's loop is not guarded by
a branch: 2.2 -> 0.65 ms for 400k float32 parameters) and from inner loops that write one
run of neighbouring values each (see _maxpool_2x2_back). A call costs about 2 us instead of
16 (with the thread count set and restored around it).

The optimiser loops also flush subnormal numbers in the optimiser state to zero when given
``tiny`` (``gradwise.runtime.settings.flush_subnormals``): float32 moment estimates that
decay towards 0 become subnormal, and arithmetic on subnormals is many times slower on x86
(PERF_NOTES: training slowed 6-17% over the epochs). A value that small (< 1.2e-38)
changes no update.
"""

from __future__ import annotations

import os

import importlib.util

import numpy as np

# installed and not turned off; imported at the first call of a loop (see _Kernel)
AVAILABLE = not os.environ.get("GRADWISE_NO_NUMBA") and importlib.util.find_spec("numba") is not None


class _Kernel:
    """A loop compiled the first time it is called (numba imported then, and the machine code
    read from numba's cache when it is there), for the calling thread (see the module doc)."""

    def __init__(self, fn) -> None:
        self.fn, self.compiled = fn, None
        self.__name__, self.__doc__ = fn.__name__.lstrip("_"), fn.__doc__

    def __call__(self, *args):
        if self.compiled is None:
            try:
                import numba
            except ImportError as e:
                raise ImportError(f"numba is installed but does not import ({e}); help: "
                                  f"reinstall it (pip install gradwise[fast]) or run without it "
                                  f"(GRADWISE_NO_NUMBA=1)") from e
            self.compiled = numba.njit(self.fn, error_model="numpy", fastmath=False, cache=True,
                                       nogil=True)
        return self.compiled(*args)


def _jit(fn):
    """fn as a kernel compiled at its first call, or None without numba."""
    return _Kernel(fn) if AVAILABLE else None


def loaded() -> bool:
    """Whether numba has been imported in this process (a kernel ran, or someone imported it)."""
    import sys
    return "numba" in sys.modules


def _adam(p, g, m, v, lr_t, b1, b2, inv_sqrt_bc2, eps, decay, l2, tiny):
    """p -= lr_t * m / (sqrt(v) * inv_sqrt_bc2 + eps), with m, v updated; all flat arrays.

    lr_t is lr / (1 - b1^t); decay is AdamW's (1 - lr * wd) (1 for Adam); l2 is Adam's L2
    weight decay added to the gradient (0 for AdamW).
    """
    for i in range(p.size):
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
    for i in range(p.size):
        gi = g[i] + l2 * p[i]
        vi = mu * vel[i] + gi
        vi = vi if abs(vi) >= tiny else 0.0
        vel[i] = vi
        p[i] -= lr * (gi + mu * vi if nesterov else vi)


def _relu(x, y, mask):
    """y = max(x, 0) (NaN stays NaN, as np.maximum) and mask = x > 0, in one pass; flat arrays."""
    for i in range(x.size):
        v = x[i]
        y[i] = 0.0 if v <= 0 else v
        mask[i] = v > 0


def _relu_back(g, mask, out):
    """out = g * mask (a NaN gradient stays NaN, as NumPy's product); flat arrays."""
    for i in range(g.size):
        out[i] = g[i] * mask[i]


# ----------------------------------------------------------------------------- batch norm
# BatchNorm's passes over x seen as rows of C features: a batch (N, F), or an image batch
# that lies channels-last in memory as (N*H*W, C). gradwise.fast.conv hands them ROWS rows
# at a time as one row of ROWS*C values (with the per-feature vectors tiled to match), so
# the inner loop is long enough to vectorise well: entering a loop per row of 32 values
# cost more than the arithmetic. Sums are accumulated in float64.

ROWS = 8


def _column_sums(x, shift, acc, squares):
    """acc[q] += the sum over rows of x[i, q] - shift[q] (or its square, with ``squares``)."""
    for i in range(x.shape[0]):
        for q in range(x.shape[1]):
            v = np.float64(x[i, q]) - shift[q]
            acc[q] += v * v if squares else v


def _column_products(g, xhat, acc_g, acc_gx):
    """acc_g[q] += the sum of g[:, q]; acc_gx[q] += the sum of g[:, q] * xhat[:, q]."""
    for i in range(g.shape[0]):
        for q in range(g.shape[1]):
            acc_g[q] += g[i, q]
            acc_gx[q] += np.float64(g[i, q]) * xhat[i, q]


def _normalize(x, mean, inv_std, gamma, beta, xhat, y):
    """xhat = (x - mean) * inv_std and y = xhat * gamma + beta, per column."""
    for i in range(x.shape[0]):
        for q in range(x.shape[1]):
            h = (x[i, q] - mean[q]) * inv_std[q]
            xhat[i, q] = h
            y[i, q] = h * gamma[q] + beta[q]


def _normalize_back(g, xhat, scale, sum_g, sum_gx, m, dx):
    """dx = scale * (m * g - sum_g - xhat * sum_gx), per column: batch norm's input gradient
    with the batch statistics (scale = gamma / (m * std))."""
    for i in range(g.shape[0]):
        for q in range(g.shape[1]):
            dx[i, q] = scale[q] * (m * g[i, q] - sum_g[q] - xhat[i, q] * sum_gx[q])


# ----------------------------------------------------------------------------- images
# The loops of conv.py's im2col / col2im / max pooling, one pass each, on images that lie
# channels-last in memory, (N, H, W, C): the innermost loop runs over neighbouring values,
# which LLVM turns into vector instructions. Each entry into such a loop costs tens of
# cycles of set-up (checks that the arrays do not overlap), so loops over few values are
# avoided: im2col for a single channel runs along output rows (4.5 -> 0.63 ms for the first
# layer of the MNIST CNN, against one loop per value), and the 2x2 max pool compares its
# four values inside one loop over the channels instead of one loop per position (2.1 ->
# 0.25 ms). Indices are kept as plain multi-dimensional ones: a flat index computed from
# signed offsets made LLVM give up on vectorising (2-3x slower). Padding is handled by
# bounds checks instead of a padded copy. conv.py's NumPy code is the reference the tests
# hold these to (the same numbers; col2im and overlapping pooling add in another order).

def _im2col(xt, cols, kh, kw, sh, sw, dh, dw, pt, pl):
    """xt (N, H, W, C) -> cols (N, Ho, Wo, L): row (b, oy, ox) holds the receptive field of
    that output pixel as (kh, kw, C) values, zero outside the image, in its first kh*kw*C
    columns, and 1 in its last column, L = kh*kw*C + 1 (the bias input)."""
    n, h, w, c = xt.shape
    ho, wo, width = cols.shape[1], cols.shape[2], cols.shape[3]
    for b in range(n):
        for oy in range(ho):
            for ox in range(wo):
                for i in range(kh):
                    iy = oy * sh + i * dh - pt
                    for j in range(kw):
                        ix = ox * sw + j * dw - pl
                        at = (i * kw + j) * c
                        if 0 <= iy < h and 0 <= ix < w:
                            for k in range(c):
                                cols[b, oy, ox, at + k] = xt[b, iy, ix, k]
                        else:
                            for k in range(c):
                                cols[b, oy, ox, at + k] = 0.0
                cols[b, oy, ox, width - 1] = 1.0        # the bias input (L = kh*kw*C + 1)


def _im2col_1(xt, cols, kh, kw, sh, sw, dh, dw, pt, pl):
    """_im2col for one input channel (grayscale images): a loop along each output row per
    kernel position, instead of a loop entered for every single value."""
    n, h, w = xt.shape[0], xt.shape[1], xt.shape[2]
    ho, wo, width = cols.shape[1], cols.shape[2], cols.shape[3]
    for b in range(n):
        for oy in range(ho):
            for i in range(kh):
                iy = oy * sh + i * dh - pt
                for j in range(kw):
                    t = i * kw + j
                    if iy < 0 or iy >= h:
                        for ox in range(wo):
                            cols[b, oy, ox, t] = 0.0
                    else:
                        for ox in range(wo):
                            ix = ox * sw + j * dw - pl
                            cols[b, oy, ox, t] = xt[b, iy, ix, 0] if 0 <= ix < w else 0.0
            for ox in range(wo):
                cols[b, oy, ox, width - 1] = 1.0


def _col2im(dcols, dxt, kh, kw, sh, sw, dh, dw, pt, pl):
    """dxt (N, H, W, C) = for each input pixel, the sum of the gradients dcols (N, Ho, Wo,
    >= kh*kw*C) of every receptive field that holds it: each row of dcols read once, in
    order, and added onto the pixels of its field, which stay in cache. (The other order,
    each input pixel gathering from the rows over it, was 5x slower: it reads dcols out of
    order.)"""
    n, h, w, c = dxt.shape
    ho, wo = dcols.shape[1], dcols.shape[2]
    for b in range(n):
        for y in range(h):
            for x in range(w):
                for k in range(c):
                    dxt[b, y, x, k] = 0.0
        for oy in range(ho):
            for ox in range(wo):
                for i in range(kh):
                    iy = oy * sh + i * dh - pt
                    if iy < 0 or iy >= h:
                        continue
                    for j in range(kw):
                        ix = ox * sw + j * dw - pl
                        if 0 <= ix < w:
                            at = (i * kw + j) * c
                            for k in range(c):
                                dxt[b, iy, ix, k] += dcols[b, oy, ox, at + k]


def _maxpool(xt, out, arg, kh, kw, sh, sw, ph, pw):
    """out (N, Ho, Wo, C) = each window's max of xt (N, H, W, C); arg = its position
    i * kw + j (the first, on a tie; padding counts as -inf), exactly as MaxPool2D's NumPy
    loop: the first position taken as it is, then a strict > for each later one."""
    n, h, w, c = xt.shape
    ho, wo = out.shape[1], out.shape[2]
    for b in range(n):
        for oy in range(ho):
            for ox in range(wo):
                for i in range(kh):
                    iy = oy * sh + i - ph
                    for j in range(kw):
                        ix = ox * sw + j - pw
                        p = i * kw + j
                        inside = 0 <= iy < h and 0 <= ix < w
                        if p == 0:
                            for k in range(c):
                                out[b, oy, ox, k] = xt[b, iy, ix, k] if inside else -np.inf
                                arg[b, oy, ox, k] = 0
                        elif inside:
                            for k in range(c):
                                v = xt[b, iy, ix, k]
                                best = out[b, oy, ox, k]
                                out[b, oy, ox, k] = v if v > best else best
                                arg[b, oy, ox, k] = p if v > best else arg[b, oy, ox, k]


def _maxpool_2x2(xt, out, arg):
    """_maxpool for the common 2x2 window, stride 2, no padding: the four values compared
    in one loop over the channels."""
    n, ho, wo, c = out.shape
    for b in range(n):
        for oy in range(ho):
            for ox in range(wo):
                for k in range(c):
                    best, where = xt[b, 2 * oy, 2 * ox, k], 0
                    v = xt[b, 2 * oy, 2 * ox + 1, k]
                    if v > best:
                        best, where = v, 1
                    v = xt[b, 2 * oy + 1, 2 * ox, k]
                    if v > best:
                        best, where = v, 2
                    v = xt[b, 2 * oy + 1, 2 * ox + 1, k]
                    if v > best:
                        best, where = v, 3
                    out[b, oy, ox, k] = best
                    arg[b, oy, ox, k] = where


def _maxpool_back(gt, arg, dxt, kh, kw, sh, sw, ph, pw):
    """Route each output gradient gt (N, Ho, Wo, C) to the input position its max came
    from; dxt (N, H, W, C) zeroed."""
    n, ho, wo, c = gt.shape
    h, w = dxt.shape[1], dxt.shape[2]
    for b in range(n):
        for oy in range(ho):
            for ox in range(wo):
                for i in range(kh):
                    iy = oy * sh + i - ph
                    if iy < 0 or iy >= h:
                        continue
                    for j in range(kw):
                        ix = ox * sw + j - pw
                        if ix < 0 or ix >= w:
                            continue
                        p = i * kw + j
                        for k in range(c):
                            dxt[b, iy, ix, k] += gt[b, oy, ox, k] if arg[b, oy, ox, k] == p else 0.0


def _maxpool_2x2_back(gt, arg, dxt):
    """_maxpool_back for the 2x2 window, stride 2, no padding: every input position gets
    its window's gradient or 0 (dxt is not zeroed first; h and w even). Each of a window's
    four positions is written by a loop of its own, input rows in order: one loop writing
    all four came out without vector instructions (LLVM could not rule out that the four
    overlap, and its run-time check, made once for the whole row, fails), 8x slower."""
    n, ho, wo, c = gt.shape
    for b in range(n):
        for oy in range(ho):
            for i in range(2):
                for ox in range(wo):
                    for j in range(2):
                        p = 2 * i + j
                        for k in range(c):
                            g = gt[b, oy, ox, k]
                            dxt[b, 2 * oy + i, 2 * ox + j, k] = g if arg[b, oy, ox, k] == p else 0.0


adam = _jit(_adam)
sgd_momentum = _jit(_sgd_momentum)
relu = _jit(_relu)
relu_back = _jit(_relu_back)
column_sums = _jit(_column_sums)
column_products = _jit(_column_products)
normalize = _jit(_normalize)
normalize_back = _jit(_normalize_back)
im2col = _jit(_im2col)
im2col_1 = _jit(_im2col_1)
col2im = _jit(_col2im)
maxpool = _jit(_maxpool)
maxpool_back = _jit(_maxpool_back)
maxpool_2x2 = _jit(_maxpool_2x2)
maxpool_2x2_back = _jit(_maxpool_2x2_back)
