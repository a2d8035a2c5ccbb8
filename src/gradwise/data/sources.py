"""Where data sets come from: the registry of known sets, their checksums, and the folders
searched for them.

A data folder holds one sub-folder per set, laid out like the original distributions::

    DATA_DIR/mnist/train-images-idx3-ubyte.gz   (or without .gz, or train-images.idx3-ubyte)
    DATA_DIR/mnist/train-labels-idx1-ubyte.gz
    DATA_DIR/mnist/t10k-images-idx3-ubyte.gz
    DATA_DIR/mnist/t10k-labels-idx1-ubyte.gz

Folders searched, in order: the ``data_dir`` argument, ``$GRADWISE_DATA``. Every file is
verified against the SHA-256 of its decompressed IDX bytes before it is used.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DataError
from .idx import parse_idx, read_idx_bytes

PARTS = ("train-images", "train-labels", "t10k-images", "t10k-labels")
IDX_SUFFIX = {"train-images": "idx3-ubyte", "train-labels": "idx1-ubyte",
              "t10k-images": "idx3-ubyte", "t10k-labels": "idx1-ubyte"}


@dataclass(frozen=True)
class IdxSet:
    """A data set distributed as four IDX files."""
    name: str
    classes: tuple[str, ...]
    sha256: dict[str, str]                 # part -> SHA-256 of the decompressed file
    counts: tuple[int, int] = (60000, 10000)


MNIST = IdxSet(
    "mnist", tuple(str(d) for d in range(10)),
    {"train-images": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
     "train-labels": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
     "t10k-images": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
     "t10k-labels": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"})
FASHION_MNIST = IdxSet(
    "fashion-mnist",
    ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
     "Ankle boot"),
    {"train-images": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
     "train-labels": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
     "t10k-images": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
     "t10k-labels": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"})
IDX_SETS = {s.name: s for s in (MNIST, FASHION_MNIST)}


@dataclass
class Dataset:
    """A data set split in train and test. Images stay as they were stored (uint8 0..255):
    scaling is a visible step of the user's pipeline (see ``transforms.scale_pixels``)."""
    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[str, ...]
    source: str = ""
    info: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}, train {self.X_train.shape}, test {self.X_test.shape}, "
                f"{len(self.classes)} classes, from {self.source})")


def candidate_dirs(data_dir=None) -> list[Path]:
    """Data folders to search, most specific first."""
    dirs = []
    if data_dir is not None:
        dirs.append(Path(data_dir))
    if os.environ.get("GRADWISE_DATA"):
        dirs.append(Path(os.environ["GRADWISE_DATA"]))
    return dirs


def find_part(folder: Path, part: str) -> Path | None:
    """The file of ``part`` in ``folder`` under any of its usual names, or None."""
    suffix = IDX_SUFFIX[part]
    for name in (f"{part}-{suffix}.gz", f"{part}-{suffix}", f"{part}.{suffix}.gz", f"{part}.{suffix}"):
        if (folder / name).is_file():
            return folder / name
    return None


def read_verified(path: Path, expected_sha256: str) -> np.ndarray:
    """Read an IDX file and check the SHA-256 of its decompressed bytes."""
    data = read_idx_bytes(path)
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected_sha256:
        raise DataError(f"{path}: checksum mismatch (SHA-256 {digest[:16]}..., expected "
                        f"{expected_sha256[:16]}...): the file is corrupt or not the official one; "
                        f"delete it and fetch it again")
    return parse_idx(data, str(path))


def load_idx_set(spec: IdxSet, folder: Path) -> Dataset:
    """Load and verify the four files of ``spec`` from ``folder``."""
    paths = {part: find_part(folder, part) for part in PARTS}
    missing = [p for p, path in paths.items() if path is None]
    if missing:
        raise DataError(f"{folder}: missing {', '.join(f'{m}-{IDX_SUFFIX[m]}[.gz]' for m in missing)}")
    arrays = {part: read_verified(path, spec.sha256[part]) for part, path in paths.items()}
    return Dataset(spec.name, arrays["train-images"], arrays["train-labels"],
                   arrays["t10k-images"], arrays["t10k-labels"], spec.classes,
                   source=str(folder))


def load_local(name: str, data_dir=None) -> Dataset:
    """Load a known IDX data set from the first data folder that has it."""
    spec = IDX_SETS[name]
    searched = []
    for base in candidate_dirs(data_dir):
        folder = base / spec.name
        searched.append(str(folder))
        if folder.is_dir() and all(find_part(folder, p) for p in PARTS):
            return load_idx_set(spec, folder)
    where = ", ".join(searched) if searched else "nowhere (no data_dir given and $GRADWISE_DATA unset)"
    raise DataError(f"{name}: not found; searched {where}. Put the four IDX files in "
                    f"DIR/{spec.name}/ and pass data_dir=DIR (gradwise train --data-dir DIR) or set "
                    f"GRADWISE_DATA=DIR")
