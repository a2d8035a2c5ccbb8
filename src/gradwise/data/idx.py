"""The IDX format of MNIST and Fashion-MNIST: read and write, every field validated.

An IDX file is a 4-byte magic number, then one big-endian uint32 per dimension, then the
values in C order, big-endian::

    magic = 0x00 0x00 <type code> <number of dimensions>
    type codes: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64

``train-images-idx3-ubyte`` is (60000, 28, 28) uint8; ``train-labels-idx1-ubyte`` is
(60000,) uint8. Files may be gzip-compressed (detected from the content, not the name).
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..fileio import atomic_write_bytes

IDX_TYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
             0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
IDX_CODES = {np.dtype(v).newbyteorder("=").str: k for k, v in IDX_TYPES.items()}
GZIP_MAGIC = b"\x1f\x8b"
MAX_IDX_BYTES = 2**34          # refuse headers that claim more than 16 GiB


def read_idx_bytes(path: str | os.PathLike) -> bytes:
    """The raw (decompressed) bytes of an IDX file, gzipped or not."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, not an IDX file") from None
    if raw[:2] == GZIP_MAGIC:
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise DataError(f"{path}: corrupt or truncated gzip file ({e}); delete it and fetch "
                            f"it again") from None
    return raw


def parse_idx(data: bytes, source: str = "<bytes>") -> np.ndarray:
    """Decode IDX bytes into an array in native byte order, checking every header field."""
    if len(data) < 4:
        raise DataError(f"{source}: too short for an IDX file ({len(data)} bytes)")
    zero1, zero2, code, ndim = data[0], data[1], data[2], data[3]
    if zero1 != 0 or zero2 != 0 or code not in IDX_TYPES:
        raise DataError(f"{source}: not an IDX file (magic number {data[:4].hex()}; expected "
                        f"0000 then a type code in {sorted(hex(c) for c in IDX_TYPES)} and the "
                        f"number of dimensions)")
    if ndim == 0:
        raise DataError(f"{source}: IDX header declares 0 dimensions")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{source}: truncated IDX header ({len(data)} bytes, need {header})")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    dtype = IDX_TYPES[code]
    expected = math.prod(shape) * dtype.itemsize          # Python ints: no overflow
    if expected > MAX_IDX_BYTES:
        raise DataError(f"{source}: IDX header claims shape {shape} ({expected} bytes): implausible")
    actual = len(data) - header
    if actual != expected:
        what = "truncated" if actual < expected else "has trailing bytes"
        raise DataError(f"{source}: {what}: header says shape {shape} = {expected} bytes of "
                        f"data, file has {actual}")
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=True)   # writable, native order


def load_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (raw or .gz) into a NumPy array.

    >>> images = load_idx("mnist/train-images-idx3-ubyte.gz")   # doctest: +SKIP
    >>> images.shape, images.dtype                              # doctest: +SKIP
    ((60000, 28, 28), dtype('uint8'))
    """
    return parse_idx(read_idx_bytes(path), str(path))


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode an array as IDX bytes (the inverse of parse_idx)."""
    array = np.asarray(array)
    key = array.dtype.newbyteorder("=").str
    if key not in IDX_CODES:
        raise ValueError(f"IDX cannot store dtype {array.dtype}; use uint8, int8, int16, int32, "
                         f"float32 or float64")
    code = IDX_CODES[key]
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=IDX_TYPES[code]).tobytes()


def write_idx(path: str | os.PathLike, array: np.ndarray, *, compress: bool | None = None) -> Path:
    """Write an array as IDX, gzipped if ``compress`` (default: if the name ends in .gz)."""
    path = Path(path)
    data = idx_bytes(array)
    if compress if compress is not None else path.suffix == ".gz":
        data = gzip.compress(data, mtime=0)
    return atomic_write_bytes(path, data)
