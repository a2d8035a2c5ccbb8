"""Compiled twins of the sequence layers' element-wise and row-wise math (gradwise.sequence).

The matrix products of a transformer go to BLAS either way; what NumPy does slowly is the
rest, many passes over memory each: GELU (about ten passes forward, eight backward, over
the MLP's (B*T, 4D) activations), LayerNorm (six forward, nine backward) and the attention's
causal softmax (scale, mask, max, subtract, exp, sum, divide: seven passes over (B, H, T, T),
half of which the mask then throws away). Each loop here does its job in one or two passes,
and the softmax only visits the positions the mask keeps.

| reference (gradwise.sequence)  | twin                                        |
| ------------------------------ | ------------------------------------------- |
| gelu_forward / gelu_backward   | gelu_forward, gelu_backward                 |
| layer_norm_forward / _backward | layer_norm_forward, layer_norm_backward     |
| the softmax in attention_*     | softmax_forward, softmax_backward           |

The functions take and return what their references do (same caches), so a forward pass on
one path and a backward on the other agree; the tests hold each to its reference in float64.
Scalars are passed in the arrays' precision (a float64 constant would turn the float32 loop
into float64 arithmetic, several times slower). GELU's exp is NumPy's, between two loops:
numba calls exp (or tanh) value by value, unvectorised, where NumPy's is SIMD (393k float32
values here: numba tanh 13.7 ms, numba exp 2.4 ms, NumPy exp 0.68 ms).
"""

from __future__ import annotations

import math

import numpy as np

from ..kernels import _jit

GELU_C = math.sqrt(2 / math.pi)
GELU_A = 0.044715
GELU_EXP_CAP = 80.0              # exp(80) = 5.5e34 < float32's largest, 3.4e38


def fits(*arrays: np.ndarray) -> bool:
    """True when the loops can walk the arrays: C-contiguous, one float dtype."""
    first = arrays[0]
    return all(a.flags.c_contiguous and a.dtype == first.dtype for a in arrays)


# ----------------------------------------------------------------------------- the loops

def _gelu_arg(x, v, minus_two_c, a, cap):
    """v = min(-2c (x + a x^3), cap): the argument of the exp in sigmoid(2u); flat arrays."""
    for i in range(x.size):
        xi = x[i]
        v[i] = min(minus_two_c * (xi + a * xi * xi * xi), cap)


def _gelu(x, e, y, one):
    """In place e = exp(-2u) -> s = 1 / (1 + e) = sigmoid(2u); y = x s; flat arrays."""
    for i in range(x.size):
        s = one / (one + e[i])
        e[i] = s
        y[i] = x[i] * s


def _gelu_back(g, x, s, dx, two_c, a3, one):
    """dx = g (s + 2c x s (1 - s) (1 + 3a x^2)); flat arrays."""
    for i in range(g.size):
        xi, si = x[i], s[i]
        dx[i] = g[i] * (si + two_c * xi * si * (one - si) * (one + a3 * xi * xi))


LANES = 8     # a row's sums run in 8 interleaved partial sums: one running sum is a chain of
#               dependent adds that cannot be vectorised (768 x 128 float32 LayerNorm forward:
#               0.30 -> 0.17 ms)


def _layer_norm(x, gamma, beta, xhat, y, rstd, eps, zero, one):
    """Row by row of x (N, D): xhat = (x - mean) * rstd, y = xhat * gamma + beta (y holds
    x - mean until the last pass)."""
    n, d = x.shape
    inv_d = one / d
    main = d - d % LANES
    lanes = np.empty(LANES, x.dtype)
    for r in range(n):
        lanes[:] = zero
        for q0 in range(0, main, LANES):
            for k in range(LANES):
                lanes[k] += x[r, q0 + k]
        total = lanes.sum()
        for q in range(main, d):
            total += x[r, q]
        mean = total * inv_d
        lanes[:] = zero
        for q0 in range(0, main, LANES):
            for k in range(LANES):
                v = x[r, q0 + k] - mean
                y[r, q0 + k] = v
                lanes[k] += v * v
        total = lanes.sum()
        for q in range(main, d):
            v = x[r, q] - mean
            y[r, q] = v
            total += v * v
        s = one / np.sqrt(total * inv_d + eps)
        rstd[r] = s
        for q in range(d):
            h = y[r, q] * s
            xhat[r, q] = h
            y[r, q] = h * gamma[q] + beta[q]


def _layer_norm_back(dy, xhat, rstd, gamma, dx, dgamma, dbeta, zero, one):
    """dx = rstd (g - mean(g) - xhat mean(g xhat)) with g = dy * gamma, row by row (dx holds
    g until the last pass); dgamma, dbeta (zeroed by the caller) += the column sums of
    dy * xhat and dy."""
    n, d = dy.shape
    inv_d = one / d
    main = d - d % LANES
    lanes = np.empty(2 * LANES, dy.dtype)             # partial sums of g, then of g * xhat
    for r in range(n):
        lanes[:] = zero
        for q0 in range(0, main, LANES):
            for k in range(LANES):
                q = q0 + k
                g = dy[r, q] * gamma[q]
                dx[r, q] = g
                lanes[k] += g
                lanes[LANES + k] += g * xhat[r, q]
        sg, sgx = lanes[:LANES].sum(), lanes[LANES:].sum()
        for q in range(main, d):
            g = dy[r, q] * gamma[q]
            dx[r, q] = g
            sg += g
            sgx += g * xhat[r, q]
        sg *= inv_d
        sgx *= inv_d
        s = rstd[r]
        for q in range(d):
            dgamma[q] += dy[r, q] * xhat[r, q]
            dbeta[q] += dy[r, q]
            dx[r, q] = s * (dx[r, q] - sg - xhat[r, q] * sgx)


def _softmax(att, scale, causal, zero, one):
    """In place, each row i of att (N, T, T) holding scores q.k: softmax(scale * row) over
    its first i + 1 entries (all T if not causal), 0 after them."""
    n, t, _ = att.shape
    for b in range(n):
        for i in range(t):
            last = i + 1 if causal else t
            m = att[b, i, 0]
            for j in range(1, last):
                m = max(m, att[b, i, j])
            s = zero
            for j in range(last):
                e = np.exp((att[b, i, j] - m) * scale)
                att[b, i, j] = e
                s += e
            inv = one / s
            for j in range(last):
                att[b, i, j] *= inv
            for j in range(last, t):
                att[b, i, j] = 0


def _softmax_back(datt, att, scale, causal, zero):
    """In place: datt (N, T, T) becomes scale * att * (datt - sum_j datt * att), row by row."""
    n, t, _ = att.shape
    for b in range(n):
        for i in range(t):
            last = i + 1 if causal else t
            dot = zero
            for j in range(last):
                dot += datt[b, i, j] * att[b, i, j]
            for j in range(last):
                datt[b, i, j] = scale * att[b, i, j] * (datt[b, i, j] - dot)
            for j in range(last, t):
                datt[b, i, j] = 0


gelu_arg_loop, gelu_loop, gelu_back_loop = _jit(_gelu_arg), _jit(_gelu), _jit(_gelu_back)
layer_norm_loop, layer_norm_back_loop = _jit(_layer_norm), _jit(_layer_norm_back)
softmax_loop, softmax_back_loop = _jit(_softmax), _jit(_softmax_back)


# ----------------------------------------------------------------------------- the twins

def gelu_forward(x: np.ndarray) -> tuple[np.ndarray, tuple]:
    """sequence.gelu_forward in three passes (x C-contiguous): the exp's argument, NumPy's
    exp (vectorised; a loop calling exp value by value is 3.5x slower), then s and y.
    The argument is capped at GELU_EXP_CAP, so exp never overflows: s is then below 1e-34
    instead of smaller still, y = x s just as 0 to float32."""
    f = x.dtype.type
    flat = x.reshape(-1)
    s, y = np.empty_like(flat), np.empty_like(flat)
    gelu_arg_loop(flat, s, f(-2 * GELU_C), f(GELU_A), f(GELU_EXP_CAP))
    with np.errstate(under="ignore"):
        np.exp(s, out=s)                                        # exp(-2u); underflow to 0 is right
    gelu_loop(flat, s, y, f(1))
    return y.reshape(x.shape), (x, s.reshape(x.shape))


def gelu_backward(dy: np.ndarray, cache: tuple) -> np.ndarray:
    """sequence.gelu_backward in one pass."""
    x, s = cache
    f = x.dtype.type
    dy = np.ascontiguousarray(dy, dtype=x.dtype)
    dx = np.empty_like(x)
    gelu_back_loop(dy.reshape(-1), x.reshape(-1), s.reshape(-1), dx.reshape(-1), f(2 * GELU_C),
                   f(3 * GELU_A), f(1))
    return dx


def layer_norm_forward(x: np.ndarray, gamma, beta, eps: float) -> tuple[np.ndarray, tuple]:
    """sequence.layer_norm_forward, one row at a time (x C-contiguous, of gamma's dtype)."""
    d = x.shape[-1]
    x2 = x.reshape(-1, d)                                       # (N, D)
    xhat, y = np.empty_like(x2), np.empty_like(x2)
    rstd = np.empty((len(x2), 1), x.dtype)                      # (N, 1)
    f = x.dtype.type
    layer_norm_loop(x2, gamma, beta, xhat, y, rstd.reshape(-1), f(eps), f(0), f(1))
    shape = x.shape
    return y.reshape(shape), (xhat.reshape(shape), rstd.reshape(*shape[:-1], 1), gamma)


def layer_norm_backward(dy: np.ndarray, cache: tuple, dgamma, dbeta) -> np.ndarray:
    """sequence.layer_norm_backward, one row at a time; fills dgamma and dbeta."""
    xhat, rstd, gamma = cache
    d = xhat.shape[-1]
    dy2 = np.ascontiguousarray(dy, dtype=xhat.dtype).reshape(-1, d)   # (N, D)
    dx = np.empty_like(dy2)
    dgamma[...] = 0
    dbeta[...] = 0
    f = xhat.dtype.type
    layer_norm_back_loop(dy2, xhat.reshape(-1, d), rstd.reshape(-1), gamma, dx, dgamma, dbeta, f(0), f(1))
    return dx.reshape(xhat.shape)


def softmax_forward(att: np.ndarray, scale: float, causal: bool) -> None:
    """In place: the scores q k^T (B, H, T, T) become the (causal) attention weights."""
    b, h, t, _ = att.shape
    f = att.dtype.type
    softmax_loop(att.reshape(b * h, t, t), f(scale), causal, f(0), f(1))


def softmax_backward(datt: np.ndarray, att: np.ndarray, scale: float, causal: bool) -> None:
    """In place: dL/d(weights) (B, H, T, T) becomes dL/d(scores q k^T)."""
    b, h, t, _ = att.shape
    f = att.dtype.type
    softmax_back_loop(datt.reshape(b * h, t, t), att.reshape(b * h, t, t), f(scale), causal, f(0))
