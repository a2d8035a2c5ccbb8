"""Atomic file writes, the one safe way gradwise reads an .npz archive, and the caps on
what a file may unpack to.

Writes go beside the target, are flushed to disk, then renamed over it. ``os.replace`` is
atomic on POSIX and Windows, so a reader sees either the old file or the new one, never half
of one; a crash or an exception while writing leaves the old file as it was and removes the
temporary file.

``read_npz_arrays`` reads the archives that ``np.savez`` writes (models, checkpoints, data
sets) without pickle, checking each array's header before anything is allocated for it.
"""

from __future__ import annotations

import math
import os
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO, Callable

import numpy as np

NPY_MAGIC = b"\x93NUMPY"                        # a single array saved with np.save
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")     # a zip archive (the second: an empty one)
MAX_NPZ_BYTES = 2**32          # refuse archives whose arrays claim more than 4 GiB in all


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], object], *,
                 durable: bool = True) -> Path:
    """Call ``write(f)`` on a temporary file in ``path``'s folder, then rename it to ``path``;
    ``durable``: on disk (fsync) before the rename. A file the next load checks and can make
    again (a cache) may skip that: after a crash it is whole, or missing, or fails its check."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())          # mkstemp makes 0600; give the usual mode
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            if durable:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike, data: bytes, *, durable: bool = True) -> Path:
    return atomic_write(path, lambda f: f.write(data), durable=durable)


def read_npz_arrays(path: str | os.PathLike, error: type[Exception], *, what: str = ".npz archive",
                    max_bytes: int = MAX_NPZ_BYTES) -> dict[str, np.ndarray]:
    """Every array of the .npz archive at ``path``, by name, read with ``allow_pickle=False``.

    Each array's header (its shape and dtype) is checked before the array is allocated: it
    must fit in the bytes its archive member holds, and the arrays together in ``max_bytes``.
    Anything else (no such file, a lone .npy, Python objects, a corrupt zip) raises
    ``error(message)``, the message naming the file (a ``what``) and what is wrong with it.
    """
    path = Path(path)

    def unreadable(reason: str) -> Exception:
        return error(f"{path} is not a readable {what} ({reason})")
    try:
        with open(path, "rb") as f:
            magic = f.read(6)
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except IsADirectoryError:
        raise error(f"{path}: is a folder, not an .npz archive") from None
    if magic == NPY_MAGIC:
        raise unreadable("it is a single .npy array, not an .npz archive of named arrays as "
                         "np.savez writes")
    if magic[:4] not in ZIP_MAGICS:
        raise unreadable(f"it starts with {magic[:4]!r}, not with the zip signature of an .npz")
    arrays, total = {}, 0
    try:
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
                with z.open(info) as member:
                    total += _checked_header(member, info.file_size, f"{path}: array {name!r}", error)
                    if total > max_bytes:
                        raise error(f"{path}: its arrays claim more than {max_bytes:,} bytes in "
                                    f"all; not a file gradwise writes")
                    member.seek(0)
                    arrays[name] = np.lib.format.read_array(member, allow_pickle=False)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error, ValueError,
            KeyError, NotImplementedError) as e:
        if isinstance(e, error):
            raise
        raise unreadable(f"{type(e).__name__}: {e}") from None
    return arrays


def _checked_header(member, size: int, where: str, error) -> int:
    """The bytes the .npy header at the start of ``member`` declares (checked against the
    ``size`` bytes the member holds); ``error`` for Python objects or an impossible shape."""
    version = np.lib.format.read_magic(member)
    read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
        np.lib.format.read_array_header_2_0
    shape, _, dtype = read_header(member)
    if dtype.hasobject:
        raise error(f"{where} holds Python objects (pickled), which gradwise never loads; "
                    f"save plain numeric arrays instead")
    declared = math.prod(shape) * dtype.itemsize                  # Python ints: no overflow
    if declared > size:
        raise error(f"{where} claims shape {shape} ({declared:,} bytes of {dtype}) but its "
                    f"archive member holds {size:,} bytes: corrupt or edited")
    return declared


def cap_from_env(var: str, default: int, unit: str, error: type[Exception]) -> int:
    """A size cap: the whole number in ``$var`` (``_`` and ``,`` allowed as separators) if it
    is set, else ``default``; ``error`` naming the variable when it holds no number >= 1."""
    text = os.environ.get(var, "").strip()
    if not text:
        return default
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        value = 0
    if value < 1:
        raise error(f"${var} must be a whole number of {unit} >= 1; got {text!r}")
    return value
