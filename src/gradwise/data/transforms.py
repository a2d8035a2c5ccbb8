"""Preprocessing fitted on the training set and applied, unchanged, to every split.

A scaler's numbers travel with a saved model (``to_dict`` / ``from_dict``), so the test set
and tomorrow's inputs get exactly the training set's scaling: a test set normalised with its
own statistics is a classic reason for a good model to score badly.
"""

from __future__ import annotations

import numpy as np

from ..functional import one_hot  # noqa: F401  (re-exported: one_hot(labels, num_classes))


def scale_pixels(images: np.ndarray, *, flatten: bool = True, dtype=np.float32) -> np.ndarray:
    """uint8 images in 0..255 -> float in [0, 1], rows of pixels by default.

    Shape: (N, H, W) -> (N, H * W) (or (N, H, W) with flatten=False).
    """
    images = np.asarray(images)
    out = images.astype(dtype) / dtype(255)
    return out.reshape(len(out), -1) if flatten else out


class _Scaler:
    """Shared plumbing: fit on train, transform anything, save and restore the numbers."""

    kind = ""

    def _check_fitted(self):
        if getattr(self, "scale_", None) is None:
            raise RuntimeError(f"{type(self).__name__} is not fitted: call fit(X_train) first")

    def _rows(self, X) -> np.ndarray:
        X = np.asarray(X)
        return X.reshape(len(X), -1) if X.ndim != 2 else X

    def fit_transform(self, X):
        return self.fit(X).transform(X)

    def transform(self, X, dtype=np.float32) -> np.ndarray:
        """(X - offset) / scale with the numbers learned by fit; any split, any time."""
        self._check_fitted()
        X2 = self._rows(X).astype(dtype, copy=False)
        if X2.shape[1] != self.offset_.shape[0]:
            raise ValueError(f"{type(self).__name__}: fitted on {self.offset_.shape[0]} features, "
                             f"got {X2.shape[1]}")
        return (X2 - self.offset_.astype(dtype)) / self.scale_.astype(dtype)

    def inverse_transform(self, X) -> np.ndarray:
        self._check_fitted()
        return np.asarray(X) * self.scale_ + self.offset_

    def to_dict(self) -> dict:
        self._check_fitted()
        return {"kind": self.kind, "offset": self.offset_.tolist(), "scale": self.scale_.tolist()}


class Standardizer(_Scaler):
    """Per-feature ``(x - mean) / std``, with mean and std of the *training* set.

    Features with std 0 (MNIST's always-black corner pixels) are left unscaled (std 1)
    instead of dividing by zero.
    """

    kind = "standardizer"

    def __init__(self, eps: float = 1e-8) -> None:
        self.eps = eps
        self.offset_ = self.scale_ = None

    def fit(self, X) -> "Standardizer":
        X = self._rows(X).astype(np.float64)
        self.offset_ = X.mean(axis=0)                            # (D,)
        std = X.std(axis=0)                                      # (D,)
        self.scale_ = np.where(std < self.eps, 1.0, std)
        return self


class MinMaxScaler(_Scaler):
    """Per-feature map of the training range [min, max] onto ``feature_range``."""

    kind = "minmax"

    def __init__(self, feature_range: tuple[float, float] = (0.0, 1.0)) -> None:
        lo, hi = feature_range
        if not lo < hi:
            raise ValueError(f"MinMaxScaler: feature_range must be (low, high) with low < high; got {feature_range}")
        self.feature_range = (float(lo), float(hi))
        self.offset_ = self.scale_ = None

    def fit(self, X) -> "MinMaxScaler":
        X = self._rows(X).astype(np.float64)
        lo, hi = self.feature_range
        span = X.max(axis=0) - X.min(axis=0)                     # (D,)
        span = np.where(span == 0, 1.0, span)
        self.scale_ = span / (hi - lo)
        self.offset_ = X.min(axis=0) - lo * self.scale_
        return self


def scaler_from_dict(d: dict) -> _Scaler:
    """Rebuild a fitted scaler saved with ``to_dict`` (for example in a model's meta)."""
    kinds = {"standardizer": Standardizer, "minmax": MinMaxScaler}
    if d.get("kind") not in kinds:
        raise ValueError(f"unknown scaler kind {d.get('kind')!r}; expected one of {', '.join(kinds)}")
    s = kinds[d["kind"]]()
    s.offset_, s.scale_ = np.asarray(d["offset"], np.float64), np.asarray(d["scale"], np.float64)
    return s


def train_val_split(X, y, *, val_size: float = 0.1, seed: int | None = 0, stratify: bool = True):
    """Split into (X_train, y_train, X_val, y_val) at random, keeping each class's share.

    Stratified: every class gives ``val_size`` of its samples (at least one if it has two
    or more), so a small or sorted data set still gets every class in both parts.
    """
    X, y = np.asarray(X), np.asarray(y)
    if not 0 < val_size < 1:
        raise ValueError(f"train_val_split: val_size must be in (0, 1); got {val_size!r}")
    if len(X) != len(y):
        raise ValueError(f"train_val_split: {len(X)} samples but {len(y)} labels")
    rng = np.random.default_rng(seed)
    if stratify:
        val = []
        for cls in np.unique(y):
            members = rng.permutation(np.flatnonzero(y == cls))
            k = int(round(val_size * len(members)))
            k = min(max(k, 1 if len(members) > 1 else 0), len(members) - 1)
            val.append(members[:k])
        val_idx = np.sort(np.concatenate(val)) if val else np.array([], np.intp)
    else:
        val_idx = np.sort(rng.permutation(len(X))[:int(round(val_size * len(X)))])
    mask = np.ones(len(X), bool)
    mask[val_idx] = False
    train_idx = rng.permutation(np.flatnonzero(mask))            # shuffled: never class-ordered
    val_idx = rng.permutation(val_idx)
    return X[train_idx], y[train_idx], X[val_idx], y[val_idx]
