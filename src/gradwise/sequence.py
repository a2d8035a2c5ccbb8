"""Sequence layers: token embeddings, LayerNorm, GELU, causal self-attention, a transformer block.

Arrays are (B, T, D): ``B`` sequences of ``T`` positions, ``D`` features per position. The
input of a language model is (B, T) integer token ids; ``Embedding`` turns them into
(B, T, D) vectors, and every layer after it keeps that shape until a ``Dense`` over the last
axis gives (B, T, V) logits (``SoftmaxCrossEntropy`` takes them with (B, T) targets).

The math lives in pure functions, each a forward that returns its output and a cache, and
a backward that takes the cache (as in llm.c's layernorm walkthrough)::

    y, cache = layer_norm_forward(x, gamma, beta)       # (B, T, D) -> (B, T, D)
    dx = layer_norm_backward(dy, cache, dgamma, dbeta)  # fills dgamma, dbeta

The layers are thin: they hold parameters and call these functions, and
``TransformerBlock`` calls the same ones with its own parameters, so it is one layer (no
layer calls another) and its chain rule reads top to bottom in its ``backward``.

Every function here is the NumPy reference, float32 in training (the tests run it in
float64 against finite differences and PyTorch). GELU, LayerNorm and the attention's
softmax have compiled twins (numba) in ``gradwise.fast.sequence``, to which their first
line hands over; turn them off with ``gradwise.runtime.settings.kernels = False`` or
``GRADWISE_NO_NUMBA=1``.
"""

from __future__ import annotations

import math

import numpy as np

from . import runtime
from .fast import sequence as fast
from .functional import integer_labels, stable_sigmoid
from .init import get_initializer
from .layers import Layer

LAYER_NORM_EPS = 1e-5            # PyTorch's nn.LayerNorm default
GELU_C = math.sqrt(2 / math.pi)  # the tanh approximation's constants (Hendrycks & Gimpel 2016)
GELU_A = 0.044715
GPT_INIT_STD = 0.02              # GPT-2's (and nanoGPT's) N(0, 0.02^2) for weights and embeddings
DEFAULT_CONTEXT = 1024           # GPT-2's context, for attention built without one (DESIGN: (D, heads))


def gpt_normal(std: float = GPT_INIT_STD):
    """An initialiser ``(shape, rng, dtype) -> array`` drawing N(0, std^2), whatever the fan."""
    def init(shape, rng, dtype=np.float32):
        return (rng.standard_normal(shape) * std).astype(dtype)
    init.__name__ = f"normal(std={std:g})"
    return init


def _positive(who: str, **values) -> None:
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{who}: {name} must be a positive integer; got {value!r}")


_REPR_DEFAULTS = {"causal": True, "proj_std": GPT_INIT_STD, "eps": LAYER_NORM_EPS, "dtype": "float32"}


def _short_repr(layer, *positional: str) -> str:
    """``Name(a, b, key=value)``: the sizes by position, other settings only when not the
    default (a model summary reads TransformerBlock(128, 4, 64), not every option)."""
    config = layer.get_config()
    args = [str(config.pop(name)) for name in positional]
    args += [f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v!r}"
             for k, v in config.items() if _REPR_DEFAULTS.get(k, object()) != v]
    return f"{type(layer).__name__}({', '.join(args)})"


def _check_features(x: np.ndarray, dim: int, who: str) -> None:
    if x.ndim < 2 or x.shape[-1] != dim:
        raise ValueError(f"{who} expects input of shape (B, T, {dim}); got {x.shape}"
                         + (" (integer token ids go through an Embedding first)"
                            if x.ndim == 2 and x.dtype.kind in "iu" else ""))


def _check_context(x: np.ndarray, context: int, who: str) -> None:
    if x.ndim != 3:
        raise ValueError(f"{who} expects input of shape (B, T, D); got {x.shape}")
    if x.shape[1] > context:
        raise ValueError(f"{who}: the input has {x.shape[1]} positions, more than the model's "
                         f"context of {context}; feed at most the last {context} tokens")


# ----------------------------------------------------------------------------- layer norm

def layer_norm_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray,
                       eps: float = LAYER_NORM_EPS) -> tuple[np.ndarray, tuple]:
    """Normalise each position's features: ``y = (x - mean) / sqrt(var + eps) * gamma + beta``.

    Mean and (biased) variance run over the last axis only: each position of each sequence
    on its own, never over the batch (that would be BatchNorm, and a position would then
    depend on the other sequences of its batch).

    Shape: x (..., D), gamma and beta (D,) -> y (..., D).
    """
    if runtime.use_kernels(x) and fast.fits(x, gamma, beta):
        return fast.layer_norm_forward(x, gamma, beta, eps)
    mean = x.mean(axis=-1, keepdims=True)                  # (..., 1)
    xc = x - mean                                          # (..., D)
    var = np.mean(xc * xc, axis=-1, keepdims=True)         # (..., 1)
    rstd = 1 / np.sqrt(var + eps)                          # (..., 1)
    xhat = xc * rstd                                       # (..., D) zero mean, unit variance
    return xhat * gamma + beta, (xhat, rstd, gamma)        # (..., D)


def layer_norm_backward(dy: np.ndarray, cache: tuple, dgamma: np.ndarray,
                        dbeta: np.ndarray) -> np.ndarray:
    """dL/dx of ``layer_norm_forward``; dL/dgamma and dL/dbeta are written into the arrays given.

    With ``g = dy * gamma`` (dL/dxhat) and xhat = (x - mean) * rstd, the chain rule through
    the mean and the variance gives ``dx = rstd * (g - mean(g) - xhat * mean(g * xhat))``,
    the means over the last axis.
    """
    if runtime.use_kernels(dy) and fast.fits(cache[0], cache[2], dgamma, dbeta):
        return fast.layer_norm_backward(dy, cache, dgamma, dbeta)
    xhat, rstd, gamma = cache
    d = xhat.shape[-1]
    dy2, xhat2 = dy.reshape(-1, d), xhat.reshape(-1, d)     # (N, D): every position a row
    np.sum(dy2 * xhat2, axis=0, out=dgamma)                # (D,): dL/dgamma = sum dy * xhat
    np.sum(dy2, axis=0, out=dbeta)                         # (D,): dL/dbeta = sum dy
    g = dy * gamma                                         # (..., D) dL/dxhat
    mean_g = g.mean(axis=-1, keepdims=True)                # (..., 1)
    mean_gx = np.mean(g * xhat, axis=-1, keepdims=True)    # (..., 1)
    return rstd * (g - mean_g - xhat * mean_gx)            # (..., D)


# ----------------------------------------------------------------------------- GELU

def gelu_forward(x: np.ndarray) -> tuple[np.ndarray, tuple]:
    """GELU, tanh approximation: ``y = x/2 (1 + tanh(u))``, ``u = c (x + 0.044715 x^3)``, c = sqrt(2/pi).

    The form of GPT-2 and of ``torch.nn.GELU(approximate="tanh")``; it differs from the exact
    ``x Phi(x)`` by less than 5e-4 anywhere (NumPy has no erf to write the exact one with).
    Written with ``(1 + tanh(u)) / 2 = sigmoid(2u)``: ``y = x s``, ``s = sigmoid(2u)``, one
    exp instead of a tanh (NumPy's exp is 2.3x faster than its tanh here, and the compiled
    twin hands it to NumPy's vectorised exp).
    """
    if runtime.use_kernels(x) and fast.fits(x):
        return fast.gelu_forward(x)
    s = stable_sigmoid(2 * GELU_C * (x + GELU_A * (x * x * x)))   # (...) sigmoid(2u) in [0, 1]
    return x * s, (x, s)                                    # (...)


def gelu_backward(dy: np.ndarray, cache: tuple) -> np.ndarray:
    """dL/dx of ``gelu_forward``: with y = x s(2u), s' = s (1 - s) and du/dx = c (1 + 3a x^2),
    ``dx = dy (s + 2c x s (1 - s) (1 + 3a x^2))``."""
    if runtime.use_kernels(dy) and fast.fits(cache[0]):
        return fast.gelu_backward(dy, cache)
    x, s = cache
    du = GELU_C * (1 + 3 * GELU_A * (x * x))               # (...) du/dx
    return dy * (s + 2 * x * s * (1 - s) * du)              # (...)


# ----------------------------------------------------------------------------- attention

def causal_mask(t: int, dtype) -> np.ndarray:
    """(t, t): 0 where position i may look at position j (j <= i), -inf above the diagonal."""
    return np.triu(np.full((t, t), -np.inf, dtype=dtype), k=1)


def attention_softmax(att: np.ndarray, scale: float, causal: bool) -> None:
    """In place: scores ``q k^T`` (B, H, T, T) become attention weights, the softmax of
    ``scale * scores`` over the keys (last axis), the future (j > i) masked out if ``causal``."""
    if runtime.use_kernels(att) and fast.fits(att):
        return fast.softmax_forward(att, scale, causal)
    att *= scale                                           # scaled so the softmax is not saturated
    if causal:
        att += causal_mask(att.shape[-1], att.dtype)       # (T, T) broadcast: -inf on the future
    att -= att.max(axis=-1, keepdims=True)                 # the diagonal is never masked: finite
    with np.errstate(under="ignore"):
        np.exp(att, out=att)                               # exp(-inf) = 0: the future gets weight 0
    att /= att.sum(axis=-1, keepdims=True)                 # rows sum to 1


def attention_softmax_backward(datt: np.ndarray, att: np.ndarray, scale: float, causal: bool) -> None:
    """In place: dL/d(weights) becomes dL/d(scores), ``scale * att * (datt - sum_j datt att)``
    row by row (softmax's Jacobian; masked entries have weight 0, so their gradient is 0)."""
    if runtime.use_kernels(datt) and fast.fits(datt, att):
        return fast.softmax_backward(datt, att, scale, causal)
    datt -= np.sum(datt * att, axis=-1, keepdims=True)     # (B, H, T, T)
    datt *= att
    datt *= scale                                          # through the scaling


def attention_forward(x: np.ndarray, W_qkv, b_qkv, W_proj, b_proj, heads: int,
                      causal: bool = True) -> tuple[np.ndarray, tuple]:
    """Multi-head self-attention: one fused projection to queries, keys and values, softmax
    of ``q k^T / sqrt(hd)`` (causally masked: position i attends to j <= i only), times v,
    heads joined, output projection.

    Shape: x (B, T, D); W_qkv (D, 3D), b_qkv (3D,), W_proj (D, D), b_proj (D,) -> (B, T, D).
    Inside: q, k, v (B, H, T, hd) with hd = D / H; the attention weights (B, H, T, T).
    """
    B, T, D = x.shape
    hd = D // heads
    x2 = x.reshape(B * T, D)                               # (BT, D)
    qkv = (x2 @ W_qkv + b_qkv).reshape(B, T, 3, heads, hd)  # (B, T, 3, H, hd)
    q, k, v = (qkv[:, :, i].transpose(0, 2, 1, 3) for i in range(3))   # 3 x (B, H, T, hd) views
    att = q @ k.transpose(0, 1, 3, 2)                      # (B, H, T, hd) @ (B, H, hd, T) -> (B, H, T, T)
    attention_softmax(att, 1 / math.sqrt(hd), causal)      # (B, H, T, T) weights, rows sum to 1
    with np.errstate(under="ignore"):                      # a sharp row's tiny weights: harmless
        yh = att @ v                                       # (B, H, T, T) @ (B, H, T, hd) -> (B, H, T, hd)
    y2 = yh.transpose(0, 2, 1, 3).reshape(B * T, D)        # (BT, D): heads side by side
    out = (y2 @ W_proj + b_proj).reshape(B, T, D)          # (B, T, D)
    return out, (x2, q, k, v, att, y2, W_qkv, W_proj, causal)


def attention_backward(dout: np.ndarray, cache: tuple, dW_qkv, db_qkv, dW_proj, db_proj,
                       need_dx: bool = True) -> np.ndarray | None:
    """dL/dx of ``attention_forward``; the four parameter gradients are written into the
    arrays given. Each step is the forward's, read backwards:

        out = y2 W_proj + b     ->  dW_proj = y2^T dout,  dy2 = dout W_proj^T
        yh = att v              ->  datt = dyh v^T,       dv = att^T dyh
        att = softmax(s)        ->  ds = att * (datt - sum_j datt * att)   (per row)
        s = q k^T / sqrt(hd)    ->  dq = ds k / sqrt(hd), dk = ds^T q / sqrt(hd)
        qkv = x W_qkv + b       ->  dW_qkv = x^T dqkv,    dx = dqkv W_qkv^T

    Masked entries need nothing of their own: their attention weight is 0, so is their ds.
    """
    x2, q, k, v, att, y2, W_qkv, W_proj, causal = cache
    B, H, T, hd = q.shape
    D = H * hd
    d2 = dout.reshape(B * T, D)                            # (BT, D)
    np.matmul(y2.T, d2, out=dW_proj)                       # (D, BT) @ (BT, D) -> (D, D)
    np.sum(d2, axis=0, out=db_proj)                        # (D,)
    dyh = (d2 @ W_proj.T).reshape(B, T, H, hd).transpose(0, 2, 1, 3)   # (B, H, T, hd)
    datt = dyh @ v.transpose(0, 1, 3, 2)                   # (B, H, T, hd) @ (B, H, hd, T) -> (B, H, T, T)
    dv = att.transpose(0, 1, 3, 2) @ dyh                   # (B, H, T, T) @ (B, H, T, hd) -> (B, H, T, hd)
    attention_softmax_backward(datt, att, 1 / math.sqrt(hd), causal)   # (B, H, T, T): d scores
    dqkv = np.empty((B, T, 3, H, hd), dtype=dout.dtype)    # (B, T, 3, H, hd), the layout of qkv
    dqkv[:, :, 0] = (datt @ k).transpose(0, 2, 1, 3)       # dq (B, H, T, hd) -> (B, T, H, hd)
    dqkv[:, :, 1] = (datt.transpose(0, 1, 3, 2) @ q).transpose(0, 2, 1, 3)   # dk
    dqkv[:, :, 2] = dv.transpose(0, 2, 1, 3)               # dv
    dqkv2 = dqkv.reshape(B * T, 3 * D)                     # (BT, 3D)
    np.matmul(x2.T, dqkv2, out=dW_qkv)                     # (D, BT) @ (BT, 3D) -> (D, 3D)
    np.sum(dqkv2, axis=0, out=db_qkv)                      # (3D,)
    if not need_dx:
        return None
    return (dqkv2 @ W_qkv.T).reshape(B, T, D)              # (BT, 3D) @ (3D, D) -> (B, T, D)


# ----------------------------------------------------------------------------- the layers

def _add_table(layer: Layer, rows: int, init, rng, dtype) -> None:
    """Give an embedding layer its trainable (rows, dim) ``table`` (N(0, 0.02^2) unless ``init``)."""
    rng = np.random.default_rng() if rng is None else rng
    init = gpt_normal() if init is None else init
    layer.params = {"table": get_initializer(init)((rows, layer.dim), rng, np.dtype(dtype))}
    layer.grads = {"table": np.zeros_like(layer.params["table"])}


class Embedding(Layer):
    """A lookup table: token id ``i`` becomes row ``i`` of ``table``.

    Args:
        vocab: the number of distinct tokens V (ids 0 .. V-1).
        dim: the length D of each token's vector.
        init: initialiser of the table; default N(0, 0.02^2) as GPT-2 (``torch.nn.Embedding``
            draws N(0, 1)).
        rng, dtype: as for Dense.

    Shape:
        x (B, T) integers in [0, V) -> y (B, T, D); table (V, D).

    The input is ids, not numbers to differentiate: backward fills d table (the rows of the
    ids seen, each the sum of its positions' gradients) and returns None.

    >>> Embedding(65, 8, rng=np.random.default_rng(0)).forward(np.array([[0, 64]])).shape
    (1, 2, 8)
    """

    integer_input = True

    def __init__(self, vocab: int, dim: int, *, init=None, rng: np.random.Generator | None = None,
                 dtype=np.float32) -> None:
        super().__init__()
        _positive("Embedding", vocab=vocab, dim=dim)
        self.vocab, self.dim = int(vocab), int(dim)
        _add_table(self, self.vocab, init, rng, dtype)

    def forward(self, x, training=False):
        self.ids = token_ids(x, self.vocab, "Embedding")   # (B, T) intp
        return self.params["table"][self.ids]              # (B, T, D): one row per token

    def backward(self, grad):
        # d table[v] = the sum of the gradients at the positions holding token v: a one-hot
        # (BT, V) matrix transposed times the (BT, D) gradients (one BLAS call; np.add.at,
        # the same sum, took 2 ms for 768 tokens)
        ids = self.ids.reshape(-1)                                            # (BT,)
        onehot = np.zeros((len(ids), self.vocab), dtype=grad.dtype)           # (BT, V)
        onehot[np.arange(len(ids)), ids] = 1
        np.matmul(onehot.T, grad.reshape(-1, self.dim), out=self.grads["table"])   # (V, BT) @ (BT, D)
        return None

    def get_config(self):
        return {"vocab": self.vocab, "dim": self.dim, "dtype": self.params["table"].dtype.name}

    def __repr__(self) -> str:
        return _short_repr(self, 'vocab', 'dim')


def token_ids(x, vocab: int, who: str) -> np.ndarray:
    """x as (B, T) integer ids in [0, vocab) (floats holding whole numbers are accepted), or
    a ValueError naming ``who`` and the fix."""
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"{who} expects token ids of shape (B, T); got shape {x.shape}"
                         + (" (for one sequence use ids[None, :])" if x.ndim == 1 else ""))
    ids = integer_labels(x, who)
    if ids.size and (ids.min() < 0 or ids.max() >= vocab):
        raise ValueError(f"{who}: token ids must be integers in [0, {vocab}); got min {ids.min()}, "
                         f"max {ids.max()} (is the text encoded with this model's vocabulary?)")
    return ids


class PositionalEmbedding(Layer):
    """Learned positions: adds row ``t`` of ``table`` to the vector at position ``t``.

    Args:
        context: the most positions a sequence may have (the model's context length).
        dim: the width D of the vectors it adds to.
        init, rng, dtype: as for Embedding.

    Shape:
        x (B, T, D), T <= context -> y (B, T, D); table (context, D).
    """

    def __init__(self, context: int, dim: int, *, init=None, rng: np.random.Generator | None = None,
                 dtype=np.float32) -> None:
        super().__init__()
        _positive("PositionalEmbedding", context=context, dim=dim)
        self.context, self.dim = int(context), int(dim)
        _add_table(self, self.context, init, rng, dtype)

    def forward(self, x, training=False):
        _check_features(x, self.dim, "PositionalEmbedding")
        _check_context(x, self.context, "PositionalEmbedding")
        self.T = x.shape[1]
        return x + self.params["table"][:self.T]            # (B, T, D) + (T, D)

    def backward(self, grad):
        dtable = self.grads["table"]
        dtable[self.T:] = 0                                 # positions not used this pass
        np.sum(grad, axis=0, out=dtable[:self.T])           # (T, D): summed over the batch
        return grad                                         # y = x + P: dL/dx = dL/dy

    def get_config(self):
        return {"context": self.context, "dim": self.dim, "dtype": self.params["table"].dtype.name}

    def __repr__(self) -> str:
        return _short_repr(self, 'context', 'dim')


class LayerNorm(Layer):
    """Layer normalisation over the last axis (``torch.nn.LayerNorm(dim)``), see
    ``layer_norm_forward``.

    Args:
        dim: the number of features D normalised together.
        eps: added to the variance (PyTorch's default 1e-5).
        dtype: float32 for training.

    Shape:
        x (..., D) -> y (..., D); gamma (D,) starts at 1, beta (D,) at 0.
    """

    def __init__(self, dim: int, *, eps: float = LAYER_NORM_EPS, dtype=np.float32) -> None:
        super().__init__()
        _positive("LayerNorm", dim=dim)
        if not 0 < eps < 1:
            raise ValueError(f"LayerNorm: eps must be in (0, 1); got {eps!r}")
        self.dim, self.eps = int(dim), float(eps)
        self.params = {"gamma": np.ones(self.dim, dtype), "beta": np.zeros(self.dim, dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def forward(self, x, training=False):
        _check_features(x, self.dim, "LayerNorm")
        y, self.cache = layer_norm_forward(x, self.params["gamma"], self.params["beta"], self.eps)
        return y

    def backward(self, grad):
        return layer_norm_backward(grad, self.cache, self.grads["gamma"], self.grads["beta"])

    def get_config(self):
        return {"dim": self.dim, "eps": self.eps, "dtype": self.params["gamma"].dtype.name}

    def __repr__(self) -> str:
        return _short_repr(self, 'dim')


class GELU(Layer):
    """Gaussian error linear unit, tanh approximation (``torch.nn.GELU(approximate="tanh")``,
    GPT-2's form): see ``gelu_forward``. Shape: any -> the same."""

    activation = "gelu"

    def forward(self, x, training=False):
        y, self.cache = gelu_forward(x)
        return y

    def backward(self, grad):
        return gelu_backward(grad, self.cache)


def _attention_params(dim: int, rng, dtype, proj_std: float) -> dict[str, np.ndarray]:
    init = gpt_normal()
    return {"qkv_W": init((dim, 3 * dim), rng, dtype), "qkv_b": np.zeros(3 * dim, dtype),
            "proj_W": gpt_normal(proj_std)((dim, dim), rng, dtype), "proj_b": np.zeros(dim, dtype)}


def _check_heads(who: str, dim: int, heads: int, context: int) -> None:
    _positive(who, dim=dim, heads=heads, context=context)
    if dim % heads:
        raise ValueError(f"{who}: dim {dim} must be divisible by heads {heads} (each head gets "
                         f"dim / heads features); e.g. dim {heads * max(1, dim // heads)}")


class CausalSelfAttention(Layer):
    """Multi-head self-attention with a causal mask: see ``attention_forward``.

    Args:
        dim: the model width D.
        heads: the number of heads H (D divisible by H).
        context: the most positions an input may have (default 1024, GPT-2's; nothing is
            allocated for it: the mask is made for each input's length).
        causal: False removes the mask (every position sees the whole sequence, as in an
            encoder); in a language model that is the bug ``doctor.check_causal`` finds.
        proj_std: std of the output projection's N(0, std^2) init (GPT-2 scales it down by
            sqrt(2 * layers) in a deep stack); the qkv weights draw N(0, 0.02^2).
        rng, dtype: as for Dense.

    Shape:
        x (B, T, D), T <= context -> y (B, T, D); qkv_W (D, 3D), qkv_b (3D,), proj_W (D, D),
        proj_b (D,). qkv_W's columns are [queries | keys | values], head h at h*hd:(h+1)*hd.
    """

    def __init__(self, dim: int, heads: int, context: int = DEFAULT_CONTEXT, *, causal: bool = True,
                 proj_std: float = GPT_INIT_STD, rng: np.random.Generator | None = None,
                 dtype=np.float32) -> None:
        super().__init__()
        _check_heads("CausalSelfAttention", dim, heads, context)
        self.dim, self.heads, self.context, self.causal = int(dim), int(heads), int(context), bool(causal)
        self.proj_std = float(proj_std)
        rng = np.random.default_rng() if rng is None else rng
        self.params = _attention_params(self.dim, rng, np.dtype(dtype), self.proj_std)
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def forward(self, x, training=False):
        _check_features(x, self.dim, "CausalSelfAttention")
        _check_context(x, self.context, "CausalSelfAttention")
        p = self.params
        y, self.cache = attention_forward(x.astype(p["qkv_W"].dtype, copy=False), p["qkv_W"],
                                          p["qkv_b"], p["proj_W"], p["proj_b"], self.heads, self.causal)
        return y

    def backward(self, grad):
        g = self.grads
        return attention_backward(grad, self.cache, g["qkv_W"], g["qkv_b"], g["proj_W"], g["proj_b"],
                                  need_dx=self.needs_input_grad)

    def attention_weights(self) -> np.ndarray | None:
        """The attention weights of the last forward pass, (B, H, T, T), each row a softmax
        over the keys (rows sum to 1): the array the forward kept for backward, no copy (do
        not write into it); None before any forward. The doctor reads it
        (``doctor.check_attention``)."""
        return self.cache[4] if getattr(self, "cache", None) is not None else None

    def get_config(self):
        return {"dim": self.dim, "heads": self.heads, "context": self.context, "causal": self.causal,
                "proj_std": self.proj_std, "dtype": self.params["qkv_W"].dtype.name}

    def __repr__(self) -> str:
        return _short_repr(self, 'dim', 'heads', 'context')


class TransformerBlock(Layer):
    """A pre-norm transformer block (GPT-2's): attention and an MLP, each on a normalised
    copy of the stream and added back to it::

        x = x + attn(ln1(x))                   # positions exchange information
        x = x + W_out gelu(W_fc ln2(x) + b)    # each position on its own, 4x wide inside

    Args:
        dim, heads, context, causal: as for CausalSelfAttention.
        proj_std: std of the init of the two projections that write into the residual
            stream (attention's proj_W and the MLP's out_W); GPT-2 uses 0.02 / sqrt(2 * layers).
        rng, dtype: as for Dense.

    Shape:
        x (B, T, D) -> y (B, T, D). Parameters: ln1_gamma, ln1_beta (D,); qkv_W (D, 3D), qkv_b;
        proj_W (D, D), proj_b; ln2_gamma, ln2_beta; fc_W (D, 4D), fc_b (4D,); out_W (4D, D), out_b (D,).
    """

    def __init__(self, dim: int, heads: int, context: int = DEFAULT_CONTEXT, *, causal: bool = True,
                 proj_std: float = GPT_INIT_STD, rng: np.random.Generator | None = None,
                 dtype=np.float32) -> None:
        super().__init__()
        _check_heads("TransformerBlock", dim, heads, context)
        self.dim, self.heads, self.context, self.causal = int(dim), int(heads), int(context), bool(causal)
        self.proj_std = float(proj_std)
        rng = np.random.default_rng() if rng is None else rng
        dtype, d = np.dtype(dtype), self.dim
        self.params = {"ln1_gamma": np.ones(d, dtype), "ln1_beta": np.zeros(d, dtype),
                       **_attention_params(d, rng, dtype, self.proj_std),
                       "ln2_gamma": np.ones(d, dtype), "ln2_beta": np.zeros(d, dtype),
                       "fc_W": gpt_normal()((d, 4 * d), rng, dtype), "fc_b": np.zeros(4 * d, dtype),
                       "out_W": gpt_normal(self.proj_std)((4 * d, d), rng, dtype),
                       "out_b": np.zeros(d, dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def forward(self, x, training=False):
        _check_features(x, self.dim, "TransformerBlock")
        _check_context(x, self.context, "TransformerBlock")
        p = self.params
        x = x.astype(p["qkv_W"].dtype, copy=False)
        B, T, D = x.shape
        h1, ln1 = layer_norm_forward(x, p["ln1_gamma"], p["ln1_beta"])             # (B, T, D)
        a, attn = attention_forward(h1, p["qkv_W"], p["qkv_b"], p["proj_W"], p["proj_b"],
                                    self.heads, self.causal)                         # (B, T, D)
        x1 = x + a                                                                   # residual
        h2, ln2 = layer_norm_forward(x1, p["ln2_gamma"], p["ln2_beta"])            # (B, T, D)
        h2 = h2.reshape(B * T, D)                                                    # (BT, D)
        f, gelu = gelu_forward(h2 @ p["fc_W"] + p["fc_b"])                           # (BT, 4D)
        m = f @ p["out_W"] + p["out_b"]                                              # (BT, D)
        self.cache = (ln1, attn, ln2, h2, gelu, f)
        return x1 + m.reshape(B, T, D)                                               # residual

    def backward(self, grad):
        p, g = self.params, self.grads
        ln1, attn, ln2, h2, gelu, f = self.cache
        B, T, D = grad.shape
        dm = grad.reshape(B * T, D)                           # y = x1 + m: dL/dm = dL/dy
        np.matmul(f.T, dm, out=g["out_W"])                    # (4D, BT) @ (BT, D) -> (4D, D)
        np.sum(dm, axis=0, out=g["out_b"])
        dfc = gelu_backward(dm @ p["out_W"].T, gelu)          # (BT, 4D) through W_out, then GELU
        np.matmul(h2.T, dfc, out=g["fc_W"])                   # (D, BT) @ (BT, 4D) -> (D, 4D)
        np.sum(dfc, axis=0, out=g["fc_b"])
        dh2 = (dfc @ p["fc_W"].T).reshape(B, T, D)            # (B, T, D)
        dx1 = grad + layer_norm_backward(dh2, ln2, g["ln2_gamma"], g["ln2_beta"])   # both paths to x1
        dh1 = attention_backward(dx1, attn, g["qkv_W"], g["qkv_b"], g["proj_W"], g["proj_b"])
        return dx1 + layer_norm_backward(dh1, ln1, g["ln1_gamma"], g["ln1_beta"])   # both paths to x

    def attention_weights(self) -> np.ndarray | None:
        """The attention weights of the last forward pass, (B, H, T, T): see
        ``CausalSelfAttention.attention_weights``."""
        return self.cache[1][4] if getattr(self, "cache", None) is not None else None

    def get_config(self):
        return {"dim": self.dim, "heads": self.heads, "context": self.context, "causal": self.causal,
                "proj_std": self.proj_std, "dtype": self.params["qkv_W"].dtype.name}

    def __repr__(self) -> str:
        return _short_repr(self, 'dim', 'heads', 'context')
