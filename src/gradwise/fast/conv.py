"""Compiled twins of Conv2D, MaxPool2D and BatchNorm (gradwise.conv holds the references).

Each function here does what the layer method of the same name does, on the same layer
object (its scratch buffers, its chunking of the batch, its kept patches), with the
gradwise.kernels loops in place of the NumPy ones:

* Conv2D: the compiled im2col reads the input unpadded (padding by bounds checks) and the
  compiled col2im writes the input gradient unpadded, so neither copies the image into a
  padded one; the matrix products, and dW, are the reference's own.
* MaxPool2D: one loop over the channels-last memory each way; the positions of the maxima
  (``layer.arg``) lie channels-last too, in an array of NCHW shape, as the reference's.
* BatchNorm: sums and the normalisation over rows of features, ``kernels.ROWS`` rows at a
  time, for inputs that lie as rows of features: (N, F), or images stored channels-last.
"""

from __future__ import annotations

import numpy as np

from .. import kernels

KERNEL_MIN_SIZE = 2**15         # BatchNorm's compiled passes serve arrays of at least this size


def _channels_last(x: np.ndarray) -> np.ndarray:
    """x (N, C, H, W) as a C-contiguous (N, H, W, C) array (a view when it lies so already)."""
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1))


def _rows(a: np.ndarray) -> np.ndarray:
    """A C-contiguous (b, Ho, Wo, K) array as the (b*Ho*Wo, K) matrix it is (a view)."""
    return a.reshape(-1, a.shape[-1])


# ------------------------------------------------------------------------------- Conv2D

def conv2d_forward(layer, x: np.ndarray, training: bool) -> np.ndarray:
    """Conv2D.forward: x (N, C_in, H, W), cast and measured by the layer (layer.cache)."""
    _, _, (pt, pl, _, _), (n, ho, wo) = layer.cache
    (kh, kw), (sh, sw), (dh, dw) = layer.kernel_size, layer.stride, layer.dilation
    c = layer.in_channels
    taps = kh * kw * c
    xt = _channels_last(x)                                          # (N, H, W, C_in), unpadded
    cols = layer._scratch("cols", (n, ho, wo, taps + 1), training)  # (N, Ho, Wo, K + 1), kept
    kernel = layer._kernel_matrix()                                 # (K + 1, C_out)
    out = np.empty((n, ho, wo, layer.out_channels), dtype=kernel.dtype)   # channels last
    unfold = kernels.im2col_1 if c == 1 else kernels.im2col
    for part in layer._chunks(n, ho * wo * (taps + 1)):             # a few images at a time
        unfold(xt[part], cols[part], kh, kw, sh, sw, dh, dw, pt, pl)
        np.matmul(_rows(cols[part]), kernel, out=_rows(out[part]))  # (b*Ho*Wo, C_out)
    layer.cols = cols
    return out.transpose(0, 3, 1, 2)                                # NCHW view, channels last


def conv2d_backward(layer, grad: np.ndarray) -> np.ndarray | None:
    """Conv2D.backward: dW and db as the reference makes them, dx folded by kernels.col2im."""
    x_shape, _, (pt, pl, _, _), (n, ho, wo) = layer.cache
    (kh, kw), (sh, sw), (dh, dw) = layer.kernel_size, layer.stride, layer.dilation
    c = layer.in_channels
    taps = kh * kw * c
    gt = _channels_last(grad)                                       # (N, Ho, Wo, C_out), free
    layer._weight_grads(gt)
    if not layer.needs_input_grad:
        return None
    kernel = layer._kernel_rows()                                   # (C_out, K)
    parts = layer._chunks(n, ho * wo * taps)
    scratch = layer._scratch("dcols", (parts[0].stop, ho, wo, taps), True)
    dxt = np.empty((n, *x_shape[2:], c), dtype=gt.dtype)            # (N, H, W, C); col2im zeroes it
    for part in parts:                                              # multiply, fold back
        dcols = scratch[:part.stop - part.start]                    # (b, Ho, Wo, K)
        np.matmul(_rows(gt[part]), kernel, out=_rows(dcols))
        kernels.col2im(dcols, dxt[part], kh, kw, sh, sw, dh, dw, pt, pl)
    return dxt.transpose(0, 3, 1, 2)                                # NCHW view, channels last


# ------------------------------------------------------------------------------- MaxPool2D

def maxpool2d_forward(layer, x: np.ndarray, ho: int, wo: int) -> np.ndarray:
    """MaxPool2D.forward on x (N, C, H, W) in any layout; out and layer.arg lie channels-last."""
    xt = _channels_last(x)                                          # (N, H, W, C)
    out = np.empty((xt.shape[0], ho, wo, xt.shape[3]), dtype=x.dtype)   # (N, Ho, Wo, C)
    arg = np.empty(out.shape, dtype=layer._position_dtype())
    if layer._is_2x2():
        kernels.maxpool_2x2(xt, out, arg)
    else:
        kernels.maxpool(xt, out, arg, *layer.kernel_size, *layer.stride, *layer.padding)
    layer.arg = arg.transpose(0, 3, 1, 2)                           # NCHW views
    return out.transpose(0, 3, 1, 2)


def maxpool2d_fits(arg: np.ndarray) -> bool:
    """True when the positions of the maxima lie channels-last (the compiled forward's)."""
    return arg.transpose(0, 2, 3, 1).flags.c_contiguous


def maxpool2d_backward(layer, grad: np.ndarray) -> np.ndarray:
    """MaxPool2D.backward: each gradient routed to its window's max (maxpool2d_fits(layer.arg))."""
    n, c, h, w = layer.cache[0]
    gt = _channels_last(grad)                                       # (N, Ho, Wo, C)
    arg = layer.arg.transpose(0, 2, 3, 1)                           # (N, Ho, Wo, C), a view
    if layer._is_2x2() and h % 2 == 0 and w % 2 == 0:               # every pixel in a window
        dxt = np.empty((n, h, w, c), dtype=grad.dtype)
        kernels.maxpool_2x2_back(gt, arg, dxt)
    else:
        dxt = np.zeros((n, h, w, c), dtype=grad.dtype)              # (N, H, W, C)
        kernels.maxpool_back(gt, arg, dxt, *layer.kernel_size, *layer.stride, *layer.padding)
    return dxt.transpose(0, 3, 1, 2)


# ------------------------------------------------------------------------------- BatchNorm

def _feature_rows(a: np.ndarray) -> np.ndarray | None:
    """a (N, F), or (N, C, H, W) lying channels-last in memory, as a C-contiguous (rows, F)
    view, features innermost; None for any other layout."""
    t = a if a.ndim == 2 else a.transpose(0, 2, 3, 1)
    return t.reshape(-1, a.shape[1]) if t.flags.c_contiguous else None


def _empty_rows_like(a: np.ndarray) -> np.ndarray:
    """An uninitialised array of a's shape and dtype, lying as rows of features."""
    if a.ndim == 2:
        return np.empty(a.shape, a.dtype)
    n, c, h, w = a.shape
    return np.empty((n, h, w, c), a.dtype).transpose(0, 3, 1, 2)


def batchnorm_fits(*arrays: np.ndarray) -> bool:
    """True when the arrays are large enough, of one shape and dtype, and lie as rows of
    features (the layout the compiled passes walk; others go to NumPy)."""
    first = arrays[0]
    return (first.size >= KERNEL_MIN_SIZE
            and all(a.shape == first.shape and a.dtype == first.dtype for a in arrays)
            and all(_feature_rows(a) is not None for a in arrays))


def _in_blocks(arrays, vectors):
    """The compiled batch-norm loops take ROWS rows at a time as one long row (kernels.py):
    yields (views of the arrays, the per-feature vectors to match) for the first rows in
    blocks of ROWS, vectors tiled, then for the rows left over."""
    m, c = arrays[0].shape
    whole = m - m % kernels.ROWS
    if whole:
        yield ([a[:whole].reshape(-1, kernels.ROWS * c) for a in arrays],
               [np.tile(v, kernels.ROWS) for v in vectors])
    if whole < m:
        yield [a[whole:] for a in arrays], list(vectors)


def _column_stats(rows: np.ndarray):
    """Mean and (biased) variance of each column of rows (M, F), float64, in two passes (the
    variance from the deviations, as NumPy's var: no cancellation)."""
    m, c = rows.shape

    def mean_of(shift, squares):
        acc = np.zeros(kernels.ROWS * c)
        for (xs,), (sh,) in _in_blocks([rows], [shift]):
            kernels.column_sums(xs, sh, acc[:xs.shape[1]], squares)
        return acc.reshape(-1, c).sum(axis=0) / m

    mean = mean_of(np.zeros(c), False)
    return mean, mean_of(mean, True)


def _column_sums_of_products(g: np.ndarray, xhat: np.ndarray):
    """The sum of each column of g, and of g * xhat, float64."""
    c = g.shape[1]
    acc_g, acc_gx = np.zeros(kernels.ROWS * c), np.zeros(kernels.ROWS * c)
    for (gs, hs), _ in _in_blocks([g, xhat], []):
        kernels.column_products(gs, hs, acc_g[:gs.shape[1]], acc_gx[:gs.shape[1]])
    return acc_g.reshape(-1, c).sum(axis=0), acc_gx.reshape(-1, c).sum(axis=0)


def batchnorm_forward(layer, x: np.ndarray, training: bool) -> np.ndarray:
    """BatchNorm.forward on x checked and cast by the layer (batchnorm_fits(x)); y and
    layer.xhat keep x's layout."""
    gamma, beta = layer.params["gamma"], layer.params["beta"]
    rows = _feature_rows(x)                                         # (M, F) view
    if training:
        mean, var = _column_stats(rows)                             # (F,) float64
        layer._track(mean, var, rows.shape[0])
    else:
        mean, var = layer.buffers["running_mean"], layer.buffers["running_var"]
    layer.inv_std = (1.0 / np.sqrt(var + layer.eps)).astype(gamma.dtype)   # (F,)
    xhat, y = _empty_rows_like(x), _empty_rows_like(x)
    vectors = [mean.astype(gamma.dtype), layer.inv_std, gamma, beta]
    for (xs, hs, ys), vs in _in_blocks([rows, _feature_rows(xhat), _feature_rows(y)], vectors):
        kernels.normalize(xs, *vs, hs, ys)
    layer.xhat = xhat
    return y


def batchnorm_backward(layer, grad: np.ndarray) -> np.ndarray:
    """BatchNorm.backward (batchnorm_fits(grad, layer.xhat)); dx keeps their layout."""
    gamma = layer.params["gamma"]
    g_rows, h_rows = _feature_rows(grad), _feature_rows(layer.xhat)    # (M, F) views
    sum_g, sum_gx = _column_sums_of_products(g_rows, h_rows)        # (F,) float64
    layer.grads["gamma"][...] = sum_gx
    layer.grads["beta"][...] = sum_g
    if not layer.training:                                          # running stats: constants
        return grad * layer._b(gamma * layer.inv_std, grad.ndim)
    m = g_rows.shape[0]
    scale = gamma * layer.inv_std / m                               # (F,)
    dx = _empty_rows_like(grad)
    vectors = [v.astype(gamma.dtype) for v in (scale, sum_g, sum_gx)]
    for (gs, hs, ds), vs in _in_blocks([g_rows, h_rows, _feature_rows(dx)], vectors):
        kernels.normalize_back(gs, hs, *vs, gamma.dtype.type(m), ds)
    return dx
