"""Rebuild src/gradwise/data/mnist-mini.npz, the small MNIST subset that ships with gradwise.

A stratified sample of real MNIST: 500 training and 100 test images of each digit, drawn
with a fixed seed, with the indices into the official files kept beside them.

    GRADWISE_DATA=/path/to/data python scripts/make_mnist_mini.py
"""

from pathlib import Path

import numpy as np

import gradwise as gw

PER_CLASS = {"train": 500, "test": 100}
OUT = Path(__file__).resolve().parents[1] / "src" / "gradwise" / "data" / "mnist-mini.npz"


def stratified(y: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    picks = [rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in range(10)]
    return rng.permutation(np.concatenate(picks))          # mixed classes, not sorted


def main() -> None:
    ds = gw.data.load("mnist", download=False)
    rng = np.random.default_rng(20261123)
    train = stratified(ds.y_train, PER_CLASS["train"], rng)
    test = stratified(ds.y_test, PER_CLASS["test"], rng)
    np.savez_compressed(OUT, x_train=ds.X_train[train], y_train=ds.y_train[train],
                        x_test=ds.X_test[test], y_test=ds.y_test[test],
                        train_index=train.astype(np.int32), test_index=test.astype(np.int32))
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
