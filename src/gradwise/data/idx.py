"""The IDX format of MNIST and Fashion-MNIST: read and write, every field validated.

An IDX file is a 4-byte magic number, then one big-endian uint32 per dimension, then the
values in C order, big-endian::

    magic = 0x00 0x00 <type code> <number of dimensions>
    type codes: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64

``train-images-idx3-ubyte`` is (60000, 28, 28) uint8; ``train-labels-idx1-ubyte`` is
(60000,) uint8. Files may be gzip-compressed (detected from the content, not the name).
They are read as a stream: the header first, its declared size checked against a cap
(``$GRADWISE_MAX_IDX_BYTES``), then exactly that much data, so a small gzip that would
inflate to gigabytes is refused before it is.
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
from ..fileio import atomic_write_bytes, cap_from_env

IDX_TYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
             0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
IDX_CODES = {np.dtype(v).newbyteorder("=").str: k for k, v in IDX_TYPES.items()}
GZIP_MAGIC = b"\x1f\x8b"
MAX_IDX_BYTES = 2**30          # refuse headers that declare more than 1 GiB of data (MNIST's
                               # training images are 47 MB, EMNIST's largest set 550 MB)
MAX_IDX_ENV = "GRADWISE_MAX_IDX_BYTES"      # raises (or lowers) the cap
READ_CHUNK = 1 << 20           # bytes asked of the (decompressing) stream at a time


def max_idx_bytes() -> int:
    """The cap on the data an IDX header may declare: ``$GRADWISE_MAX_IDX_BYTES``, else MAX_IDX_BYTES."""
    return cap_from_env(MAX_IDX_ENV, MAX_IDX_BYTES, "bytes", DataError)


def _check_declared(shape: tuple, declared: int, max_bytes: int | None, source: str) -> None:
    cap = max_idx_bytes() if max_bytes is None else max_bytes
    if declared > cap:
        raise DataError(f"{source}: IDX header claims shape {shape} ({declared:,} bytes): "
                        f"implausible, more than the {cap:,} allowed; if the file is genuine, "
                        f"raise the cap with max_bytes=N or ${MAX_IDX_ENV}=N")


def read_idx_bytes(path: str | os.PathLike, *, max_bytes: int | None = None) -> bytearray:
    """The raw (decompressed) bytes of an IDX file, gzipped or not, streamed.

    The header is read first; the data it declares is checked against ``max_bytes``
    (default ``max_idx_bytes()``) before any of it is read, and then exactly that much is
    read (a gzip bomb is never inflated past it). Less data than declared comes back as it
    arrived (``parse_idx`` names the shortfall); more raises DataError. Bytes that are no
    IDX header come back as they are, for ``parse_idx`` or the checksum to name.
    """
    path = Path(path)
    try:
        raw = open(path, "rb")
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, not an IDX file") from None
    with raw:
        gzipped = raw.read(2) == GZIP_MAGIC
        raw.seek(0)
        stream = gzip.GzipFile(fileobj=raw, mode="rb") if gzipped else raw
        try:
            return _read_declared(stream, max_bytes, str(path))
        except (OSError, EOFError, zlib.error) as e:             # BadGzipFile is an OSError
            if not gzipped:
                raise DataError(f"{path}: unreadable ({e})") from None
            raise DataError(f"{path}: corrupt or truncated gzip file ({e}); delete it and fetch "
                            f"it again") from None


def _read_declared(stream, max_bytes: int | None, source: str) -> bytearray:
    """Header, then the data the header declares (checked against the cap first)."""
    head = bytearray(4)
    got = _read_into(stream, memoryview(head))
    if got < 4 or head[:2] != b"\0\0" or head[2] not in IDX_TYPES or head[3] == 0:
        return head[:got]                               # no IDX header: parse_idx or the checksum says so
    dims = bytearray(4 * head[3])
    got = _read_into(stream, memoryview(dims))
    if got < len(dims):
        return head + dims[:got]
    shape = struct.unpack(f">{head[3]}I", dims)
    declared = math.prod(shape) * IDX_TYPES[head[2]].itemsize          # Python ints: no overflow
    _check_declared(shape, declared, max_bytes, source)
    data = bytearray(len(head) + len(dims) + declared)
    data[:len(head) + len(dims)] = head + dims
    got = _read_into(stream, memoryview(data)[len(head) + len(dims):])
    if got < declared:
        return data[:len(head) + len(dims) + got]                    # truncated: parse_idx says by how much
    if stream.read(1):
        raise DataError(f"{source}: has trailing bytes: header says shape {shape} = {declared:,} "
                        f"bytes of data, and more follows")
    return data


def _read_into(stream, buffer: memoryview) -> int:
    """Fill ``buffer`` from ``stream`` a chunk at a time; the number of bytes that arrived."""
    got = 0
    while got < len(buffer):
        n = stream.readinto(buffer[got:got + READ_CHUNK])
        if not n:
            break
        got += n
    return got


def parse_idx(data: bytes, source: str = "<bytes>", *, max_bytes: int | None = None,
              copy: bool = True) -> np.ndarray:
    """Decode IDX bytes into an array in native byte order, checking every header field.

    ``copy=False``: when ``data`` is a bytearray nobody else will change (one
    ``read_idx_bytes`` returned) and its values are in native order already (uint8, int8),
    the array is a view of it instead of a copy (47 MB for MNIST's training images).
    """
    if len(data) < 4:
        raise DataError(f"{source}: too short for an IDX file ({len(data)} bytes)")
    zero1, zero2, code, ndim = data[0], data[1], data[2], data[3]
    if zero1 != 0 or zero2 != 0 or code not in IDX_TYPES:
        raise DataError(f"{source}: not an IDX file (magic number {bytes(data[:4]).hex()}; expected "
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
    _check_declared(shape, expected, max_bytes, source)
    actual = len(data) - header
    if actual != expected:
        what = "truncated" if actual < expected else "has trailing bytes"
        raise DataError(f"{source}: {what}: header says shape {shape} = {expected} bytes of "
                        f"data, file has {actual}")
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    if not copy and array.flags.writeable and dtype.isnative:
        return array                                           # a view of data, writable
    return array.astype(dtype.newbyteorder("="), copy=True)   # writable, native order


def load_idx(path: str | os.PathLike, *, max_bytes: int | None = None) -> np.ndarray:
    """Read an IDX file (raw or .gz) into a NumPy array, streamed: no more than the header
    declares is read, and that no more than ``max_bytes`` (default ``$GRADWISE_MAX_IDX_BYTES``,
    else MAX_IDX_BYTES).

    >>> images = load_idx("mnist/train-images-idx3-ubyte.gz")   # doctest: +SKIP
    >>> images.shape, images.dtype                              # doctest: +SKIP
    ((60000, 28, 28), dtype('uint8'))
    """
    return parse_idx(read_idx_bytes(path, max_bytes=max_bytes), str(path), max_bytes=max_bytes,
                     copy=False)


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
