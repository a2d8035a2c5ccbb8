"""Data sets and loaders.

    ds = gradwise.data.load("mnist")          # from data_dir or $GRADWISE_DATA, verified
    X = gradwise.data.scale_pixels(ds.X_train)
"""

from __future__ import annotations

from .idx import idx_bytes, load_idx, parse_idx, write_idx
from .sources import IDX_SETS, Dataset, load_local
from .transforms import scale_pixels


def load(name: str, *, data_dir=None) -> Dataset:
    """Load a data set by name: ``mnist`` or ``fashion-mnist``.

    Searches ``data_dir``, then ``$GRADWISE_DATA``, for ``NAME/`` holding the four IDX files,
    and verifies each against its official SHA-256.
    """
    key = name.lower().replace("_", "-")
    if key in IDX_SETS:
        return load_local(key, data_dir)
    raise ValueError(f"unknown data set {name!r}; choose one of {', '.join(IDX_SETS)}")


__all__ = ["Dataset", "load", "load_idx", "parse_idx", "idx_bytes", "write_idx", "scale_pixels"]
