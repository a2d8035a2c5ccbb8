"""The Dataset every loader returns: a train split, a test split, class names and a source.

A module of its own, below every loader: ``sources`` (MNIST, Fashion-MNIST) and ``formats``
(npz, pickle, CSV, image folders) both build Datasets, and ``sources`` reads Keras' npz
through ``formats``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .transforms import train_val_split


@dataclass
class Dataset:
    """A data set split in train and test.

    Images stay as stored (MNIST: uint8 0..255, shape (N, 28, 28)): scaling is a visible
    step of your pipeline (``transforms.scale_pixels``), applied the same way to both splits.
    A loader of a file that holds one split puts it all in train and leaves test empty;
    ``ds.split(0.2)`` carves out a stratified test set.
    """
    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[str, ...]
    source: str = ""
    info: dict = field(default_factory=dict)

    def split(self, test_size: float = 0.2, *, seed: int = 0) -> "Dataset":
        """A copy with a stratified share of train moved to test (train + test pooled first)."""
        X = np.concatenate([self.X_train, self.X_test]) if len(self.X_test) else self.X_train
        y = np.concatenate([self.y_train, self.y_test]) if len(self.y_test) else self.y_train
        X_tr, y_tr, X_te, y_te = train_val_split(X, y, val_size=test_size, seed=seed)
        return Dataset(self.name, X_tr, y_tr, X_te, y_te, self.classes, self.source, dict(self.info))

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}, train {self.X_train.shape}, test {self.X_test.shape}, "
                f"{len(self.classes)} classes, from {self.source})")
