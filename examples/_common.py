"""Shared by the examples: command-line switches, data, and the before/after printout."""

from __future__ import annotations

import argparse

import numpy as np

import gradwise as gw


def parse(argv, doc: str, full_help: bool = True):
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    if full_help:
        p.add_argument("--full", action="store_true", help="use real MNIST (60,000 images) instead of mnist-mini")
    p.add_argument("--fast", action="store_true", help="smaller and shorter, for the tests")
    return p.parse_args(argv)


def mnist(full: bool = False, n_train: int | None = None):
    """Raw uint8 images and labels: (X_train, y_train, X_test, y_test)."""
    ds = gw.data.load("mnist" if full else "mnist-mini")
    X, y = ds.X_train, ds.y_train.astype(np.int64)
    if n_train:
        X, y = X[:n_train], y[:n_train]
    return X.reshape(len(X), -1), y, ds.X_test.reshape(len(ds.X_test), -1), ds.y_test.astype(np.int64)


def step(title: str) -> None:
    print(f"\n== {title} ==")


def summary(codes, before: float, after: float, what: str = "test accuracy") -> dict:
    print(f"\n{what}: before {100 * before:.1f}% -> after {100 * after:.1f}%")
    return {"codes": list(codes), "before": before, "after": after}
