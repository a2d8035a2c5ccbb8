"""Recurrent layers: a vanilla RNN and an LSTM, with backpropagation through time.

Both read a batch of sequences ``x`` of shape (B, T, F) and return the hidden state at
every step, (B, T, H), so that a Dense layer can read out every position (a character
model predicts the next character at each of the T positions). The state starts at zero
on every forward pass: each window of text is read on its own, as nanoGPT's batches are.

How the work is laid out, for speed in NumPy:

* the input projection of **all** T steps is one matrix product, ``x @ W + b`` of
  (T*B, F) @ (F, G*H), before the loop; only ``h_{t-1} @ U`` stays inside it;
* the LSTM's four gates come out of one product with stacked weights (G = 4);
* the state is kept time-major, (T, B, ...), so every step reads and writes contiguous
  rows; in backward the gradients of W, U, b and x are one product each after the loop.

The gate order is PyTorch's, i, f, g, o, and ``W`` / ``U`` are the transposes of its
``weight_ih_l0`` / ``weight_hh_l0``; PyTorch's two bias vectors add up to our one ``b``.
"""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np

from .layers import Layer

_blas = None     # a threadpoolctl.ThreadpoolController, made at the first forward pass


def one_blas_thread():
    """A block in which BLAS runs on one thread (with threadpoolctl, of the ``fast`` extra;
    without it, a block that changes nothing).

    The time loop's products are small, (B, H) @ (H, 4H): 32 x 256 x 1024 is 17 MFLOP,
    a third of a millisecond. Split over two threads, each waits for the other at every
    product, and on a machine whose other core is busy each wait can be a time slice: a
    char-lstm step took 3.3 s with OpenBLAS's two threads in the loop, 0.65 s with one in
    the loop, 0.30 s with one in the whole layer (2-core VM under load 5; a quiet machine
    gains little from the second thread on products this small).
    """
    global _blas
    if _blas is None:
        try:
            from threadpoolctl import ThreadpoolController
            _blas = ThreadpoolController()
        except ImportError:
            _blas = False
    return _blas.limit(limits=1, user_api="blas") if _blas else nullcontext()


def _sigmoid_into(z: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out = 1 / (1 + exp(-z))`` computed as ``0.5 + 0.5 tanh(z / 2)``: the same function,
    stable for any z (tanh never overflows), and one pass of a single ufunc."""
    np.multiply(z, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


class _Recurrent(Layer):
    """What RNN and LSTM share: the weights ``W`` (F, G*H), ``U`` (H, G*H), ``b`` (G*H,),
    drawn as PyTorch draws them, uniform in (-1/sqrt(H), 1/sqrt(H)); checks; the config."""

    gates = 1                               # G: blocks of H columns in W, U and b
    can_skip_input_grad = True              # as a first layer, dL/dx is of no use

    def __init__(self, in_features: int, hidden: int, *, rng: np.random.Generator | None = None,
                 dtype=np.float32) -> None:
        super().__init__()
        name = type(self).__name__
        for what, value in (("in_features", in_features), ("hidden", hidden)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name}: {what} must be a positive integer; got {value!r}")
        self.in_features, self.hidden = int(in_features), int(hidden)
        rng = np.random.default_rng() if rng is None else rng
        dtype = np.dtype(dtype)
        bound = 1 / np.sqrt(self.hidden)
        G, F, H = self.gates, self.in_features, self.hidden
        self.params = {"W": rng.uniform(-bound, bound, (F, G * H)).astype(dtype),
                       "U": rng.uniform(-bound, bound, (H, G * H)).astype(dtype),
                       "b": rng.uniform(-bound, bound, G * H).astype(dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def forward(self, x, training=False):
        with one_blas_thread():
            return self._forward(x)

    def backward(self, grad):
        with one_blas_thread():
            return self._backward(grad)

    def _input_projection(self, x: np.ndarray) -> np.ndarray:
        """Checks x, keeps it time-major for backward, and returns ``x_t @ W + b`` for
        every step at once: (T, B, G*H)."""
        W, b = self.params["W"], self.params["b"]
        if x.ndim != 3 or x.shape[2] != self.in_features:
            hint = (" (token ids? put an Embedding(vocab, dim) layer first)" if x.ndim == 2 else "")
            raise ValueError(f"{type(self).__name__}({self.in_features}, {self.hidden}) expects input "
                             f"of shape (B, T, {self.in_features}); got {x.shape}{hint}")
        B, T, F = x.shape
        self.x = np.ascontiguousarray(x.transpose(1, 0, 2), dtype=W.dtype)   # (T, B, F)
        return (self.x.reshape(T * B, F) @ W + b).reshape(T, B, -1)          # (T*B, F) @ (F, GH)

    def _weight_grads(self, dZ: np.ndarray, h_prev: np.ndarray):
        """From dL/dz of every step (T, B, G*H): fill dW, dU, db (one product each) and
        return dL/dx as (B, T, F), or None when it is not needed."""
        T, B, GH = dZ.shape
        dZ2 = dZ.reshape(T * B, GH)
        np.matmul(self.x.reshape(T * B, -1).T, dZ2, out=self.grads["W"])       # (F, TB) @ (TB, GH)
        np.matmul(h_prev.reshape(T * B, -1).T, dZ2, out=self.grads["U"])       # (H, TB) @ (TB, GH)
        np.sum(dZ2, axis=0, out=self.grads["b"])                               # (GH,)
        if not self.needs_input_grad:
            return None
        dx = (dZ2 @ self.params["W"].T).reshape(T, B, -1)                      # (TB, GH) @ (GH, F)
        return np.ascontiguousarray(dx.transpose(1, 0, 2))                     # (B, T, F)

    def get_config(self):
        return {"in_features": self.in_features, "hidden": self.hidden,
                "dtype": self.params["W"].dtype.name}

    def __repr__(self) -> str:
        dtype = self.params["W"].dtype
        extra = "" if dtype == np.float32 else f", dtype={dtype.name}"
        return f"{type(self).__name__}({self.in_features}, {self.hidden}{extra})"


class RNN(_Recurrent):
    """Elman RNN: ``h_t = tanh(x_t W + h_{t-1} U + b)``, h_0 = 0.

    Args:
        in_features: F, the size of each step's input.
        hidden: H, the size of the state.
        rng: the Generator that draws the initial weights.
        dtype: float32 for training (default), float64 for gradient checks.

    Shape:
        x (B, T, F) -> h (B, T, H); W (F, H), U (H, H), b (H,).

    >>> RNN(3, 5, rng=np.random.default_rng(0)).forward(np.ones((2, 4, 3), np.float32)).shape
    (2, 4, 5)
    """

    def _forward(self, x):
        xz = self._input_projection(x)                     # (T, B, H): x_t W + b, every t
        T, B, H = xz.shape
        U = self.params["U"]
        hs = np.zeros((T + 1, B, H), dtype=U.dtype)        # hs[t + 1] = h_t; hs[0] = h_0 = 0
        for t in range(T):
            z = xz[t] + hs[t] @ U                          # (B, H) + (B, H) @ (H, H)
            np.tanh(z, out=hs[t + 1])                      # (B, H)
        self.hs = hs
        return np.ascontiguousarray(hs[1:].transpose(1, 0, 2))   # (B, T, H)

    def _backward(self, grad):
        hs, U = self.hs, self.params["U"]
        T = hs.shape[0] - 1
        dout = grad.transpose(1, 0, 2)                     # (T, B, H), a view
        dZ = np.empty_like(hs[1:])                         # (T, B, H): dL/dz_t
        dh_next = np.zeros_like(hs[0])                     # dL/dh_t through h_{t+1}
        for t in reversed(range(T)):
            dh = dout[t] + dh_next                         # h_t feeds the output and h_{t+1}
            h = hs[t + 1]
            np.multiply(dh, 1 - h * h, out=dZ[t])          # tanh' = 1 - h^2
            dh_next = dZ[t] @ U.T                          # (B, H) @ (H, H): to h_{t-1}
        return self._weight_grads(dZ, hs[:-1])


class LSTM(_Recurrent):
    """Long short-term memory (Hochreiter & Schmidhuber 1997, with a forget gate), h_0 = c_0 = 0:

        z_t = x_t W + h_{t-1} U + b                    (B, 4H), four gates in one product
        i, f, o = sigmoid(z_i), sigmoid(z_f), sigmoid(z_o);   g = tanh(z_g)
        c_t = f * c_{t-1} + i * g                      the cell: a sum, so gradients flow
        h_t = o * tanh(c_t)

    Args:
        in_features: F, the size of each step's input.
        hidden: H, the size of the state.
        rng: the Generator that draws the initial weights.
        dtype: float32 for training (default), float64 for gradient checks.

    Shape:
        x (B, T, F) -> h (B, T, H); W (F, 4H), U (H, 4H), b (4H,), gate blocks i, f, g, o.

    >>> LSTM(3, 5, rng=np.random.default_rng(0)).forward(np.ones((2, 4, 3), np.float32)).shape
    (2, 4, 5)
    """

    gates = 4

    def _forward(self, x):
        xz = self._input_projection(x)                     # (T, B, 4H): x_t W + b, every t
        T, B, H4 = xz.shape
        H, U = H4 // 4, self.params["U"]
        acts = np.empty_like(xz)                           # (T, B, 4H): i, f, g, o after their nonlinearity
        cs = np.zeros((T + 1, B, H), dtype=U.dtype)        # cs[t + 1] = c_t; cs[0] = 0
        hs = np.zeros((T + 1, B, H), dtype=U.dtype)        # hs[t + 1] = h_t; hs[0] = 0
        tanh_c = np.empty((T, B, H), dtype=U.dtype)        # tanh(c_t), kept for backward
        for t in range(T):
            z = xz[t]
            z += hs[t] @ U                                 # (B, 4H) += (B, H) @ (H, 4H)
            a = acts[t]
            _sigmoid_into(z[:, :2 * H], out=a[:, :2 * H])  # i, f
            np.tanh(z[:, 2 * H:3 * H], out=a[:, 2 * H:3 * H])   # g
            _sigmoid_into(z[:, 3 * H:], out=a[:, 3 * H:])  # o
            i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
            np.multiply(f, cs[t], out=cs[t + 1])           # c_t = f * c_{t-1} ...
            cs[t + 1] += i * g                             #       ... + i * g
            np.tanh(cs[t + 1], out=tanh_c[t])
            np.multiply(o, tanh_c[t], out=hs[t + 1])       # h_t = o * tanh(c_t)
        self.acts, self.cs, self.hs, self.tanh_c = acts, cs, hs, tanh_c
        return np.ascontiguousarray(hs[1:].transpose(1, 0, 2))   # (B, T, H)

    def _backward(self, grad):
        acts, cs, hs, tanh_c, U = self.acts, self.cs, self.hs, self.tanh_c, self.params["U"]
        T, B, H4 = acts.shape
        H = H4 // 4
        dout = grad.transpose(1, 0, 2)                     # (T, B, H), a view
        dZ = np.empty_like(acts)                           # (T, B, 4H): dL/dz_t
        dh_next = np.zeros((B, H), dtype=U.dtype)          # dL/dh_t through step t+1
        dc_next = np.zeros((B, H), dtype=U.dtype)          # dL/dc_t through c_{t+1}
        for t in reversed(range(T)):
            a, d = acts[t], dZ[t]
            i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
            dh = dout[t] + dh_next                         # h_t feeds the output and step t+1
            dc = dc_next + dh * o * (1 - tanh_c[t] ** 2)   # h = o tanh(c): dh/dc = o (1 - tanh^2 c)
            np.multiply(dc * g, i * (1 - i), out=d[:, :H])                  # dc/di = g, sigmoid'
            np.multiply(dc * cs[t], f * (1 - f), out=d[:, H:2 * H])         # dc/df = c_{t-1}
            np.multiply(dc * i, 1 - g * g, out=d[:, 2 * H:3 * H])           # dc/dg = i, tanh'
            np.multiply(dh * tanh_c[t], o * (1 - o), out=d[:, 3 * H:])      # dh/do = tanh(c)
            dc_next = dc * f                               # c_t = f c_{t-1} + ...: to c_{t-1}
            dh_next = d @ U.T                              # (B, 4H) @ (4H, H): to h_{t-1}
        return self._weight_grads(dZ, hs[:-1])


def char_lstm(vocab_size: int, *, dim: int = 64, hidden: int = 256, seed: int | None = 0,
              dtype=np.float32):
    """A character-level LSTM language model, char-rnn's kind (``gradwise train --model
    char-lstm``): Embedding(V, dim) -> LSTM(dim, hidden) -> Dense(hidden, V); 0.35M
    parameters for tinyshakespeare's 65 characters.

    Shape:
        (B, T) integer ids in [0, V) -> (B, T, V) logits; position t predicts token t + 1
        from tokens 0..t (the LSTM reads left to right: no position sees the future).
    """
    from .layers import Dense
    from .model import Sequential
    from .sequence import Embedding
    rng = np.random.default_rng(seed)
    return Sequential([Embedding(vocab_size, dim, init="normal01", rng=rng, dtype=dtype),  # as torch
                       LSTM(dim, hidden, rng=rng, dtype=dtype),
                       Dense(hidden, vocab_size, init="glorot_uniform", rng=rng, dtype=dtype)])
