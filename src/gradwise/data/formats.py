"""Loaders for the shapes people keep their data in: npz, pickle, CSV, folders of images.

Each returns a ``Dataset``. A file that holds a train and a test split fills both; a file
that holds one set of samples fills train and leaves test empty (``ds.split(0.2)`` makes
one). Every failure is a ``DataError`` that names the file and what is wrong with it.
"""

from __future__ import annotations

import codecs
import importlib
import io
import os
import pickle
import re
import warnings
import zlib
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..fileio import cap_from_env, read_npz_arrays
from ..functional import integer_labels
from .dataset import Dataset

# ------------------------------------------------------------------------ shared checks

TRAIN_TEST_KEYS = [("x_train", "y_train", "x_test", "y_test"),          # Keras
                   ("train_images", "train_labels", "test_images", "test_labels"),
                   ("train_x", "train_y", "test_x", "test_y")]
SINGLE_KEYS = [("x", "y"), ("data", "labels"), ("images", "labels"), ("features", "targets")]


def check_pair(X, y, source: str, split: str = "") -> tuple[np.ndarray, np.ndarray]:
    """Validate samples and labels: same count, numeric, finite, integer labels >= 0."""
    where = f"{source}{f' ({split})' if split else ''}"
    X, y = np.asarray(X), np.asarray(y)
    if X.dtype.kind not in "biuf":
        raise DataError(f"{where}: samples must be numeric; got dtype {X.dtype}")
    if y.ndim == 2 and y.shape[1] > 1:
        y = y.argmax(axis=1)                                   # one-hot rows -> labels
    y = y.reshape(-1) if y.ndim == 2 and y.shape[1] == 1 else y
    if y.ndim != 1:
        raise DataError(f"{where}: labels must be one per sample, shape (N,); got {y.shape}")
    if len(X) != len(y):
        raise DataError(f"{where}: {len(X)} samples but {len(y)} labels")
    if X.dtype.kind == "f" and not np.all(np.isfinite(X)):
        bad = int(np.argwhere(~np.isfinite(X.reshape(len(X), -1)))[0][0])
        raise DataError(f"{where}: samples contain NaN or inf (first in sample {bad})")
    try:
        y = integer_labels(y, where).astype(np.int64)
    except ValueError as e:
        raise DataError(str(e)) from None
    if y.size and y.min() < 0:
        raise DataError(f"{where}: labels must be >= 0; got {y.min()}")
    return X, y


def _classes(*labels: np.ndarray) -> tuple[str, ...]:
    top = max((int(y.max()) for y in labels if y.size), default=-1)
    return tuple(str(c) for c in range(top + 1))


def _dataset_from(arrays: dict, source: str, name: str) -> Dataset:
    lower = {k.lower(): k for k in arrays}
    for keys in TRAIN_TEST_KEYS:
        if all(k in lower for k in keys):
            X_tr, y_tr = check_pair(arrays[lower[keys[0]]], arrays[lower[keys[1]]], source, "train")
            X_te, y_te = check_pair(arrays[lower[keys[2]]], arrays[lower[keys[3]]], source, "test")
            return Dataset(name, X_tr, y_tr, X_te, y_te, _classes(y_tr, y_te), source)
    for keys in SINGLE_KEYS:
        if all(k in lower for k in keys):
            X, y = check_pair(arrays[lower[keys[0]]], arrays[lower[keys[1]]], source)
            return Dataset(name, X, y, X[:0], y[:0], _classes(y), source)
    raise DataError(f"{source}: cannot tell samples from labels; keys are {sorted(arrays)}; expected "
                    f"x_train/y_train/x_test/y_test or x/y (or data/labels)")


# ------------------------------------------------------------------------ npz

def load_npz(path) -> Dataset:
    """A NumPy ``.npz`` such as Keras' ``mnist.npz`` (x_train, y_train, x_test, y_test).

    Read with ``allow_pickle=False``: an npz that hides Python objects is refused.
    """
    path = Path(path)
    arrays = read_npz_arrays(path, DataError)
    return _dataset_from(arrays, str(path), path.stem)


# ------------------------------------------------------------------------ pickle

class _SafeUnpickler(pickle.Unpickler):
    """Admits NumPy arrays and dtypes and nothing else that is callable.

    A pickle is a program: its GLOBAL and REDUCE instructions may call any function, such as
    os.system. This unpickler resolves only the few NumPy names an array needs; every other
    global raises, so a hostile file cannot run code.
    """

    ALLOWED = {
        ("numpy", "ndarray"), ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),  # protocol 5
        ("_codecs", "encode"),        # how protocol 2 stores bytes from Python 3: str -> bytes
    }

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refused to load {module}.{name}: only NumPy arrays, "
                                         f"tuples, lists, dicts and numbers are allowed")
        return _resolve(module, name)


def _resolve(module: str, name: str):
    """The object an allowed global names, under NumPy 1.x or 2.x (numpy.core moved)."""
    if module == "_codecs":
        return codecs.encode
    if module == "numpy":
        return getattr(np, name)
    submodule = module.rsplit(".", 1)[-1]                     # multiarray or numeric
    try:
        found = importlib.import_module(f"numpy._core.{submodule}")   # NumPy 2
    except ImportError:
        found = importlib.import_module(f"numpy.core.{submodule}")    # NumPy 1.x
    return getattr(found, name)


def _check_plain(obj, source: str, depth: int = 0):
    """Walk the unpickled structure: only arrays of numbers, containers and plain values."""
    if depth > 20:
        raise DataError(f"{source}: nested too deeply")
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject:
            raise DataError(f"{source}: holds an array of Python objects; only numeric arrays are allowed")
        return
    if isinstance(obj, (tuple, list)):
        for item in obj:
            _check_plain(item, source, depth + 1)
        return
    if isinstance(obj, dict):
        for key, value in obj.items():
            if not isinstance(key, (str, bytes, int)):
                raise DataError(f"{source}: dict keys must be strings or numbers")
            _check_plain(value, source, depth + 1)
        return
    if obj is None or isinstance(obj, (bool, int, float, complex, str, bytes, np.generic)):
        return
    raise DataError(f"{source}: holds a {type(obj).__name__}, which is not plain data")


def safe_unpickle(data: bytes, source: str = "<pickle>"):
    """Unpickle bytes that may come from anyone: arrays, containers and numbers only."""
    try:
        obj = _SafeUnpickler(io.BytesIO(data), encoding="latin1").load()
    except pickle.UnpicklingError as e:
        raise DataError(f"{source}: {e}") from None
    except RecursionError:
        raise DataError(f"{source}: nested too deeply") from None
    except Exception as e:           # a malformed stream raises almost anything: name it
        raise DataError(f"{source}: not a readable pickle ({type(e).__name__}: {e})") from None
    _check_plain(obj, source)
    return obj


MAX_PICKLE_BYTES = 2**32          # a gzipped pickle inflates to 4 GiB at most (mnist.pkl.gz: 220 MB)
MAX_PICKLE_ENV = "GRADWISE_MAX_PICKLE_BYTES"


def gunzip_capped(raw: bytes, cap: int, source: str) -> bytes:
    """The data of a gzip file (every member of it), inflated ``cap`` bytes at most: a file
    that would inflate past it (a gzip bomb, or a data set too large to load) is refused
    before the memory is spent, and a truncated or corrupt one is named."""
    out, rest, total = [], raw, 0
    while rest:
        inflate = zlib.decompressobj(wbits=31)               # 31: a gzip header and trailer
        try:
            out.append(inflate.decompress(rest, cap + 1 - total))
        except zlib.error as e:
            raise DataError(f"{source}: corrupt or truncated gzip file ({e})") from None
        total += len(out[-1])
        if inflate.unconsumed_tail or total > cap:
            raise DataError(f"{source}: inflates to more than {cap:,} bytes; if it really is "
                            f"that large, raise ${MAX_PICKLE_ENV}")
        if not inflate.eof:
            raise DataError(f"{source}: corrupt or truncated gzip file (it ends inside its data)")
        rest = inflate.unused_data.lstrip(b"\0")             # the next member, if any
    return b"".join(out)


def load_pickle(path) -> Dataset:
    """A pickled data set, safely: the classic ``mnist.pkl.gz`` ((train), (valid), (test)),
    ((train), (test)), or a dict with x_train/y_train/... keys. Gzip is detected.

    Only NumPy arrays, tuples, lists, dicts and numbers are admitted (see _SafeUnpickler):
    a pickle that tries to call anything else is refused before it can run.
    The classic 3-way split is returned with train and validation joined (60,000 for
    MNIST) and ``info["validation_start"]`` marking where validation began.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        raise DataError(f"{path}: no such file") from None
    if raw[:2] == b"\x1f\x8b":
        raw = gunzip_capped(raw, cap_from_env(MAX_PICKLE_ENV, MAX_PICKLE_BYTES, "bytes", DataError),
                            str(path))
    obj = safe_unpickle(raw, str(path))
    source, name = str(path), path.name.split(".")[0]
    if isinstance(obj, dict):
        return _dataset_from(obj, source, name)
    if isinstance(obj, (tuple, list)) and len(obj) in (2, 3) and all(
            isinstance(p, (tuple, list)) and len(p) == 2 for p in obj):
        pairs = [check_pair(X, y, source, split) for (X, y), split
                 in zip(obj, ["train", "validation", "test"] if len(obj) == 3 else ["train", "test"])]
        info = {}
        if len(pairs) == 3:
            info["validation_start"] = len(pairs[0][0])
            pairs = [(np.concatenate([pairs[0][0], pairs[1][0]]),
                      np.concatenate([pairs[0][1], pairs[1][1]])), pairs[2]]
        (X_tr, y_tr), (X_te, y_te) = pairs
        return Dataset(name, X_tr, y_tr, X_te, y_te, _classes(y_tr, y_te), source, info)
    raise DataError(f"{path}: expected ((X_train, y_train), (X_test, y_test)), three such pairs, or "
                    f"a dict of arrays; got a {type(obj).__name__}")


# ------------------------------------------------------------------------ CSV

def load_csv(path, *, label: int | str = 0, header: bool | None = None, delimiter: str = ",",
             image_shape: tuple[int, int] | None = None) -> Dataset:
    """A CSV with one sample per row and a label column (Kaggle's digit-recognizer layout:
    ``label,pixel0,...,pixel783``).

    Args:
        label: the label column, by index (default 0; -1 for the last) or by header name.
        header: whether the first row names the columns (default: guessed: a first row
            with a non-number in it is a header).
        image_shape: reshape each row to this, e.g. (28, 28).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (FileNotFoundError, IsADirectoryError):
        raise DataError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a text file (CSV must be UTF-8 text)") from None
    lines = text.splitlines()
    if not lines:
        raise DataError(f"{path}: empty file")
    first = [c.strip() for c in lines[0].split(delimiter)]
    if header is None:
        header = any(not _is_number(c) for c in first)
    names = first if header else None
    if isinstance(label, str):
        if names is None or label not in names:
            raise DataError(f"{path}: no column named {label!r}" +
                            (f"; the header has {', '.join(names[:5])}..." if names else
                             "; the file has no header row, so give the label column's index"))
        label = names.index(label)
    rows = lines[1:] if header else lines
    width = len(first)
    if not -width <= label < width:
        raise DataError(f"{path}: label column {label} is out of range for {width} columns")
    values = np.empty((len(rows), width), np.float64)
    kept = 0
    for i, line in enumerate(rows):
        if not line.strip():
            continue
        cells = line.split(delimiter)
        row_no = i + 1 + bool(header)
        if len(cells) != width:
            raise DataError(f"{path}, line {row_no}: {len(cells)} values, but the "
                            f"{'header' if header else 'first row'} has {width}")
        try:
            values[kept] = [float(c) for c in cells]
        except ValueError:
            bad = next(c for c in cells if not _is_number(c.strip()))
            raise DataError(f"{path}, line {row_no}: {bad.strip()!r} is not a number") from None
        kept += 1
    values = values[:kept]
    if not kept:
        raise DataError(f"{path}: no data rows")
    if not np.all(np.isfinite(values)):
        r, c = np.argwhere(~np.isfinite(values))[0]
        raise DataError(f"{path}, line {r + 1 + bool(header)}: NaN or inf in column {c}")
    y = values[:, label]
    X = np.delete(values, label % width, axis=1)
    if np.all((X >= 0) & (X <= 255) & (X == np.round(X))):
        X = X.astype(np.uint8)                              # pixels: keep them compact
    else:
        X = X.astype(np.float32)
    if image_shape is not None:
        if int(np.prod(image_shape)) != X.shape[1]:
            raise DataError(f"{path}: rows have {X.shape[1]} values, which cannot be reshaped to "
                            f"{tuple(image_shape)}")
        X = X.reshape(len(X), *image_shape)
    X, y = check_pair(X, y, str(path))
    return Dataset(path.stem, X, y, X[:0], y[:0], _classes(y), str(path))


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


# ------------------------------------------------------------------------ image folders

MAX_IMAGE_PIXELS = 50_000_000    # the most pixels an image may have before it is decoded: a
                                 # 48 MP phone photo fits; decoded as floats, this is ~1.5 GB
MAX_PIXELS_ENV = "GRADWISE_MAX_IMAGE_PIXELS"      # raises (or lowers) the cap


def max_image_pixels() -> int:
    """The pixel cap: ``$GRADWISE_MAX_IMAGE_PIXELS`` if set, else MAX_IMAGE_PIXELS."""
    return cap_from_env(MAX_PIXELS_ENV, MAX_IMAGE_PIXELS, "pixels", DataError)


@contextmanager
def open_image(file, source: str, max_pixels: int | None = None, *, not_image: str = "use PNG or JPG"):
    """``PIL.Image.open(file)``, refused before decoding when it has more than ``max_pixels``
    pixels (default: ``max_image_pixels()``). Pillow reads only the header to know the size,
    so a small file that would decode to gigabytes costs nothing; its own
    DecompressionBombWarning is replaced by this check."""
    from PIL import Image, UnidentifiedImageError
    cap = max_image_pixels() if max_pixels is None else max_pixels
    raise_it = (f"raise the cap with max_pixels=N, ${MAX_PIXELS_ENV}=N or gradwise predict "
                f"--max-pixels N" if max_pixels is None else "")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(file)                                  # the header only
    except UnidentifiedImageError:
        raise DataError(f"{source}: not an image Pillow can read ({not_image})") from None
    except Image.DecompressionBombError as e:                      # beyond Pillow's own hard limit
        pixels = re.search(r"\((\d+) pixels\)", str(e))
        size = f"{int(pixels[1]):,} pixels" if pixels else "the image"
        raise DataError(f"{source}: {size} is more than the {cap:,} allowed, and more than "
                        f"Pillow will open at all (PIL.Image.MAX_IMAGE_PIXELS); shrink it") from None
    except (OSError, ValueError, SyntaxError) as e:
        raise DataError(f"{source}: unreadable image ({e})") from None
    with im:
        if im.width * im.height > cap:
            raise DataError(f"{source}: {im.width}x{im.height} pixels is more than the {cap:,} allowed"
                            + (f" (a digit needs far fewer: shrink the image, or {raise_it})"
                               if raise_it else ""))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            yield im


IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm"}
IGNORED_FILES = {"thumbs.db", "desktop.ini"}


def _read_image(path: Path, size: tuple[int, int]) -> np.ndarray:
    from PIL import Image
    try:
        with open_image(path, str(path), not_image="remove it from the image folder") as im:
            im = im.convert("L")                                  # grayscale
            if im.size != (size[1], size[0]):
                im = im.resize((size[1], size[0]), Image.Resampling.LANCZOS)
            return np.asarray(im, dtype=np.uint8)                 # (H, W)
    except (OSError, ValueError, SyntaxError) as e:               # decoding failed midway
        if isinstance(e, DataError):
            raise
        raise DataError(f"{path}: unreadable image ({e})") from None


def _class_key(folder_name: str) -> str:
    """'07' and '7' name the same class."""
    return str(int(folder_name)) if folder_name.isdigit() else folder_name


def white_background(image: np.ndarray) -> bool:
    """True for dark ink on a light background (the border is mostly bright)."""
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    return float(np.median(border)) > 127


def _read_class_folders(root: Path, size, invert, class_names=None):
    subdirs = sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not subdirs:
        raise DataError(f"{root}: expected one sub-folder per class (e.g. {root}/0/, {root}/1/); "
                        f"found none")
    found = [_class_key(d.name) for d in subdirs]
    if class_names is None:                 # digits sort as numbers: 0, 1, ..., 9, 10
        class_names = tuple(sorted(found, key=lambda n: (not n.isdigit(), int(n) if n.isdigit() else 0, n)))
    images, labels, white = [], [], 0
    for d, key in zip(subdirs, found):
        if key not in class_names:
            raise DataError(f"{d}: class {d.name!r} is not among the training classes {class_names}")
        label = class_names.index(key)
        for f in sorted(d.iterdir()):
            if f.name.startswith(".") or f.name.lower() in IGNORED_FILES or f.is_dir():
                continue
            image = _read_image(f, size)
            is_white = white_background(image)
            white += is_white
            if invert is True or (invert == "auto" and is_white):
                image = 255 - image
            images.append(image)
            labels.append(label)
    if not images:
        raise DataError(f"{root}: the class folders hold no images")
    return np.stack(images), np.array(labels, np.int64), class_names, white


def load_folder(path, *, size: tuple[int, int] = (28, 28), invert: bool | str = False,
                ) -> Dataset:
    """Images in one sub-folder per class (``0/``, ``1/``, ... or ``cat/``, ``dog/``).

    If ``path`` has ``train/`` (or ``training/``) and ``test/`` (or ``testing/``) sub-folders,
    each is read as a split. Images are converted to grayscale and resized to ``size``
    (rows, cols), as uint8 (N, rows, cols).

    Args:
        invert: MNIST digits are white ink on black. Photos and scans are usually dark ink on
            white: ``True`` inverts every image, ``"auto"`` only those whose border is bright,
            ``False`` (default) none, with a warning when many have a white background.
    """
    root = Path(path)
    if not root.is_dir():
        raise DataError(f"{root}: no such folder")
    if invert not in (True, False, "auto"):
        raise ValueError(f"load_folder: invert must be True, False or 'auto'; got {invert!r}")
    split_dirs = {}
    for split, candidates in (("train", ("train", "training")), ("test", ("test", "testing"))):
        for c in candidates:
            if (root / c).is_dir():
                split_dirs[split] = root / c
    if "train" in split_dirs and "test" in split_dirs:
        X_tr, y_tr, classes, white_tr = _read_class_folders(split_dirs["train"], size, invert)
        X_te, y_te, _, white_te = _read_class_folders(split_dirs["test"], size, invert, classes)
        white, total = white_tr + white_te, len(X_tr) + len(X_te)
    else:
        X_tr, y_tr, classes, white = _read_class_folders(root, size, invert)
        X_te, y_te, total = X_tr[:0], y_tr[:0], len(X_tr)
    if white > total / 2 and invert is False:
        warnings.warn(f"{root}: {white} of {total} images have a white background (dark ink on "
                      f"light paper); MNIST-style digits are light on black: pass invert=True",
                      stacklevel=2)
    return Dataset(root.name, X_tr, y_tr, X_te, y_te, classes, str(root),
                   {"white_background": white, "inverted": invert})
