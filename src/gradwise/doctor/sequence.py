"""The doctor for sequence models: checks found by experiment on the model itself.

    doctor.check_causal(model, ids)          # CAUSAL_LEAK: does position t see the future?
    doctor.check_causal(my_attention, x)     # any function x (B, T, ...) -> y (B, T, ...)
    doctor.check_initial_loss(model, X, y)   # INITIAL_LOSS: the loss at init against ln(V)

A language model must predict token t + 1 from tokens 0..t only. Attention without its causal
mask (or with the mask off by one) lets position t read the answer: the training loss
collapses towards 0, and the samples, made one token at a time without that future, are
garbage. Nothing in the loss curve says why. The experiment does: change the input at one
position and see whether the output at any *earlier* position moves.
"""

from __future__ import annotations

import math

import numpy as np

from ..losses import SoftmaxCrossEntropy
from .findings import Finding, Report

#: Outputs that moved by less than this, relative to the largest output, count as unmoved:
#: float32 rounding is ~1e-7; a real leak through an untrained GPT (N(0, 0.02^2) weights,
#: nearly uniform attention) moves earlier positions by ~1e-3 of the output scale.
CAUSAL_TOL = 1e-5
#: Positions probed one at a time (spread over the sequence, the first and last included):
#: a leak from t to t - 1 only (a mask off by one) is caught at any probed t.
CAUSAL_PROBES = 16
#: The loss at init may exceed ln(V) by this much (nats) before it is a finding. Karpathy's
#: "A Recipe for Training Neural Networks" (2019): "verify loss @ init": an untrained
#: classifier of V classes should score -ln(1/V); logits of std s add about s^2 / 2.
INITIAL_LOSS_MARGIN = 0.5


def _as_function(f):
    """(callable x -> y, the vocabulary size if f is a gradwise model that embeds ids)."""
    if hasattr(f, "layers") and hasattr(f, "forward"):              # a gradwise model
        first = f.layers[0] if f.layers else None
        vocab = getattr(first, "vocab", None) if getattr(first, "integer_input", False) else None
        return (lambda x: f.forward(x, training=False)), vocab
    if not callable(f):
        raise TypeError(f"check_causal: f must be a gradwise model or a function x -> y; got "
                        f"{type(f).__name__}")
    return f, None


def _changed(x: np.ndarray, t: int, rng: np.random.Generator, vocab: int | None) -> np.ndarray:
    """x with the input at position t replaced in every sequence (other tokens, or new numbers)."""
    x2 = x.copy()
    if x.dtype.kind in "iu":
        top = vocab if vocab is not None else int(x.max()) + 1     # stay among valid ids
        if top < 2:
            raise ValueError("check_causal: the token ids hold a single value; give ids from a "
                             "vocabulary of at least 2 tokens")
        shift = rng.integers(1, top, size=x2[:, t].shape)          # never the same token
        x2[:, t] = (x2[:, t] + shift) % top
    else:
        scale = float(np.std(x)) or 1.0
        x2[:, t] = x2[:, t] + scale * rng.standard_normal(x2[:, t].shape).astype(x.dtype)
    return x2


def check_causal(f, x, *, probes: int = CAUSAL_PROBES, tol: float = CAUSAL_TOL,
                 seed: int = 0) -> Report:
    """Does the output at position s depend on inputs after s? Found by experiment.

    For each probed position t, the input at t alone is changed (another token for integer
    ids, a random shift of the size of the inputs for floats) and f is run again; any
    earlier position s < t whose output moves by more than ``tol`` times the largest output
    is a leak. ``CAUSAL_LEAK`` (error) names the earliest position that moved, the position
    whose change moved it, and by how much; a causal f gives an empty Report.

    Args:
        f: a gradwise model (its forward pass is used) or any function x -> y, e.g. your own
            attention layer.
        x: (B, T, ...) inputs, integer token ids or floats; f(x) must be (B, T, ...).
        probes: how many positions to change, one at a time (spread over 1..T-1).
        tol: the relative change that counts as a move.
        seed: seeds the replacement tokens / numbers.

    >>> import gradwise as gw
    >>> check_causal(gw.CausalSelfAttention(8, 2, 6), np.ones((1, 6, 8), np.float32)).codes()
    []
    """
    fn, vocab = _as_function(f)
    x = np.asarray(x)
    if x.ndim < 2 or x.shape[1] < 2:
        raise ValueError(f"check_causal: x must be (B, T, ...) with T >= 2 positions; got shape "
                         f"{x.shape} (for one sequence use x[None])")
    y0 = np.asarray(fn(x), dtype=np.float64)
    if y0.shape[:2] != x.shape[:2]:
        raise ValueError(f"check_causal: f(x) must keep the (B, T) axes of x {x.shape[:2]}; got "
                         f"{y0.shape} (the function should return one output per position)")
    T = x.shape[1]
    scale = float(np.max(np.abs(y0))) or 1.0
    rng = np.random.default_rng(seed)
    positions = np.unique(np.linspace(1, T - 1, min(probes, T - 1)).round().astype(int))
    leak = None                               # (earliest moved s, changed t, change at s)
    for t in positions:
        y = np.asarray(fn(_changed(x, int(t), rng, vocab)), dtype=np.float64)
        moved = np.abs(y[:, :t] - y0[:, :t]).reshape(len(x), t, -1).max(axis=(0, 2))   # (t,)
        earlier = np.flatnonzero(moved > tol * scale)
        if earlier.size and (leak is None or earlier[0] < leak[0]):
            leak = (int(earlier[0]), int(t), float(moved[earlier[0]]))
    if leak is None:
        return Report([])
    s, t, change = leak
    return Report([Finding(
        "CAUSAL_LEAK", "error",
        f"the output at position {s} changed (by {change:.3g}, {change / scale:.2%} of the largest "
        f"output) when only the input at the later position {t} was changed: each position sees "
        f"the future, so training reads the answer and sampling, which has no future, fails.",
        {"earliest_position": s, "changed_position": t, "change": change,
         "relative_change": change / scale, "probes": int(len(positions))},
        "mask the attention scores above the diagonal before the softmax (scores[..., i, j] = -inf "
        "for j > i: np.triu(np.full((T, T), -np.inf), k=1)); gradwise's CausalSelfAttention and "
        "TransformerBlock do with causal=True",
        f"position {s}")])


def check_initial_loss(model, X, y, *, margin: float = INITIAL_LOSS_MARGIN) -> Report:
    """The loss of an untrained model against ln(V), chance for V classes (tokens).

    A fresh network should be unsure of every token: softmax near uniform, cross-entropy
    near ln(V) (4.17 nats for 65 characters). Much more means confident, wrong logits from
    the start (an output layer initialised too large), and the first steps of training are
    spent shrinking them: the hockey-stick loss curve. ``INITIAL_LOSS`` (warning) when the
    loss exceeds ln(V) by more than ``margin`` nats.

    Args:
        model: a gradwise model whose output is logits over V classes (last axis).
        X, y: a batch: (B, T) ids and (B, T) next ids for a language model, or (N, F) and (N,).
    """
    logits = model.forward(np.asarray(X), training=False)
    V = logits.shape[-1]
    with np.errstate(under="ignore"):
        loss = SoftmaxCrossEntropy().forward(logits, np.asarray(y))
    chance = math.log(V)
    if not loss > chance + margin:            # also quiet for NaN: the NONFINITE rules say that
        return Report([])
    return Report([Finding(
        "INITIAL_LOSS", "warning",
        f"the loss at init is {loss:.3f}, {loss - chance:.2f} nats above ln({V}) = {chance:.3f}, "
        f"the loss of a model that has learned nothing: the logits start large and wrong.",
        {"initial_loss": float(loss), "expected": chance, "excess": float(loss - chance),
         "logit_std": float(np.std(logits))},
        "initialise the output layer small (e.g. N(0, 0.02^2), as GPT-2; gradwise.presets.gpt_mini "
        "does) or scale its weights down, so the first logits are near 0 and the loss near ln(V)",
        "output layer")])
