"""Compiled twins of the sequence layers' element-wise and row-wise math (gradwise.sequence).

The matrix products of a transformer go to BLAS either way; what NumPy does slowly is the
rest, many passes over memory each: GELU (five passes forward, nine backward, over the
MLP's (B*T, 4D) activations), LayerNorm (six forward, nine backward) and the attention's
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
into float64 arithmetic, several times slower). GELU's tanh is written with exp,
``tanh(u) = sign(u) (1 - e) / (1 + e)`` with ``e = exp(-2|u|)``: numba's own tanh is a call
per value, 5x slower than the loop with exp (13.7 vs 2.4 ms for 393k float32 values here).
"""

from __future__ import annotations

import math

import numpy as np

from ..kernels import _jit

GELU_C = math.sqrt(2 / math.pi)
GELU_A = 0.044715


def fits(*arrays: np.ndarray) -> bool:
    """True when the loops can walk the arrays: C-contiguous, one float dtype."""
    first = arrays[0]
    return all(a.flags.c_contiguous and a.dtype == first.dtype for a in arrays)


# ----------------------------------------------------------------------------- the loops

def _gelu(x, y, t, c, a, half, one, two):
    """t = tanh(c (x + a x^3)), y = x/2 (1 + t); flat arrays."""
    for i in range(x.size):
        xi = x[i]
        u = c * (xi + a * xi * xi * xi)
        e = np.exp(-two * abs(u))                 # in (0, 1]: never overflows
        ti = (one - e) / (one + e)
        ti = ti if u >= 0 else -ti
        t[i] = ti
        y[i] = half * xi * (one + ti)


def _gelu_back(g, x, t, dx, c, a3, half, one):
    """dx = g (1/2 (1 + t) + x/2 (1 - t^2) c (1 + 3a x^2)); flat arrays."""
    for i in range(g.size):
        xi, ti = x[i], t[i]
        dx[i] = g[i] * (half * (one + ti) + half * xi * (one - ti * ti) * c * (one + a3 * xi * xi))


def _layer_norm(x, gamma, beta, xhat, y, rstd, eps, zero, one):
    """Row by row of x (N, D): xhat = (x - mean) * rstd, y = xhat * gamma + beta."""
    n, d = x.shape
    inv_d = one / d
    for r in range(n):
        mean = zero
        for q in range(d):
            mean += x[r, q]
        mean *= inv_d
        var = zero
        for q in range(d):
            v = x[r, q] - mean
            var += v * v
        s = one / np.sqrt(var * inv_d + eps)
        rstd[r] = s
        for q in range(d):
            h = (x[r, q] - mean) * s
            xhat[r, q] = h
            y[r, q] = h * gamma[q] + beta[q]


def _layer_norm_back(dy, xhat, rstd, gamma, dx, dgamma, dbeta, zero, one):
    """dx = rstd (g - mean(g) - xhat mean(g xhat)) with g = dy * gamma, row by row;
    dgamma, dbeta (zeroed by the caller) += the column sums of dy * xhat and dy."""
    n, d = dy.shape
    inv_d = one / d
    for r in range(n):
        sg = zero
        sgx = zero
        for q in range(d):
            g = dy[r, q] * gamma[q]
            sg += g
            sgx += g * xhat[r, q]
            dgamma[q] += dy[r, q] * xhat[r, q]
            dbeta[q] += dy[r, q]
        sg *= inv_d
        sgx *= inv_d
        s = rstd[r]
        for q in range(d):
            dx[r, q] = s * (dy[r, q] * gamma[q] - sg - xhat[r, q] * sgx)


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


gelu_loop, gelu_back_loop = _jit(_gelu), _jit(_gelu_back)
layer_norm_loop, layer_norm_back_loop = _jit(_layer_norm), _jit(_layer_norm_back)
softmax_loop, softmax_back_loop = _jit(_softmax), _jit(_softmax_back)


# ----------------------------------------------------------------------------- the twins

def gelu_forward(x: np.ndarray) -> tuple[np.ndarray, tuple]:
    """sequence.gelu_forward in one pass (x C-contiguous): y and the cache (x, t)."""
    f = x.dtype.type
    y, t = np.empty_like(x), np.empty_like(x)
    gelu_loop(x.reshape(-1), y.reshape(-1), t.reshape(-1), f(GELU_C), f(GELU_A), f(0.5), f(1), f(2))
    return y, (x, t)


def gelu_backward(dy: np.ndarray, cache: tuple) -> np.ndarray:
    """sequence.gelu_backward in one pass."""
    x, t = cache
    f = x.dtype.type
    dy = np.ascontiguousarray(dy, dtype=x.dtype)
    dx = np.empty_like(x)
    gelu_back_loop(dy.reshape(-1), x.reshape(-1), t.reshape(-1), dx.reshape(-1), f(GELU_C),
                   f(3 * GELU_A), f(0.5), f(1))
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
