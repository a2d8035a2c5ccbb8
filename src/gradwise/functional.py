"""Pure, numerically stable math used by layers and losses.

Every function here takes arrays and returns new arrays; none mutates its input. Underflow
to zero is the intended result of exp() on very negative numbers, so these functions
silence the underflow warning locally (a test suite with ``np.seterr(all="raise")`` would
otherwise fail on perfectly correct saturated outputs). Overflow is impossible by
construction: every exp() here sees only non-positive numbers.
"""

from __future__ import annotations

import numpy as np


def stable_sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)) without overflow for any x.

    For x >= 0 use 1 / (1 + e^-x); for x < 0 use e^x / (1 + e^x). Both only ever
    exponentiate -|x| <= 0, so exp() stays in (0, 1].
    """
    with np.errstate(under="ignore"):
        z = np.exp(-np.abs(x))                              # (...) in (0, 1]
        return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z)).astype(x.dtype, copy=False)


def log_sigmoid(x: np.ndarray) -> np.ndarray:
    """log(sigmoid(x)) = -softplus(-x) = min(x, 0) - log1p(exp(-|x|)), stable for any x."""
    with np.errstate(under="ignore"):
        return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


def logsumexp(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """log(sum(exp(x))) along `axis`, shifted by the max so exp() never overflows."""
    m = np.max(x, axis=axis, keepdims=True)                 # (N, 1)
    with np.errstate(under="ignore"):
        s = np.sum(np.exp(x - m), axis=axis, keepdims=True)  # (N, 1), >= 1
    return m + np.log(s)                                    # (N, 1)


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """x - logsumexp(x): the log of softmax, never log(0)."""
    return x - logsumexp(x, axis=axis)


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """exp(x - max) / sum(exp(x - max)) along `axis` (rows of logits by default)."""
    with np.errstate(under="ignore"):
        e = np.exp(x - np.max(x, axis=axis, keepdims=True))  # (N, C) in (0, 1]
    return e / np.sum(e, axis=axis, keepdims=True)          # (N, C), rows sum to 1


def integer_labels(y, who: str) -> np.ndarray:
    """Class labels as an integer array, checked: integers (or booleans), or floats that hold
    whole numbers. Raises ValueError naming ``who`` otherwise."""
    y = np.asarray(y)
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
            bad = y[~np.isfinite(y) | (y != np.round(y))][:3]
            raise ValueError(f"{who}: labels must be whole numbers; got {bad.tolist()}...")
    elif y.dtype.kind not in "iub":
        raise ValueError(f"{who}: labels must be integers; got dtype {y.dtype}")
    return y.astype(np.intp)


def one_hot(labels: np.ndarray, num_classes: int, dtype=np.float32) -> np.ndarray:
    """Integer labels (N,) -> one-hot rows (N, num_classes).

    >>> one_hot(np.array([2, 0]), 3)
    array([[0., 0., 1.],
           [1., 0., 0.]], dtype=float32)
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"one_hot expects a 1-D array of integer labels; got shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"labels must be integers in [0, {num_classes}); got min {labels.min()}, "
            f"max {labels.max()}" + (" (are they 1-based?)" if labels.max() == num_classes else "")
        )
    out = np.zeros((labels.shape[0], num_classes), dtype=dtype)  # (N, C)
    out[np.arange(labels.shape[0]), labels.astype(np.intp)] = 1
    return out
