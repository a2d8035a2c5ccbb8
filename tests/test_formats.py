"""User data loaders: npz, pickle (safely), CSV, image folders; good files and bad ones."""

import gzip
import os
import pickle
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from gradwise.data import load_csv, load_folder, load_npz, load_pickle, safe_unpickle
from gradwise.errors import DataError

# --------------------------------------------------------------------------- npz


def test_keras_style_npz(tmp_path, rng):
    X = rng.integers(0, 256, (10, 28, 28), dtype=np.uint8)
    y = np.arange(10) % 10
    np.savez(tmp_path / "mnist.npz", x_train=X, y_train=y, x_test=X[:3], y_test=y[:3])
    ds = load_npz(tmp_path / "mnist.npz")
    assert ds.X_train.shape == (10, 28, 28) and ds.X_test.shape == (3, 28, 28)
    assert ds.classes == tuple(str(i) for i in range(10))


def test_single_split_npz_and_split(tmp_path, rng):
    np.savez(tmp_path / "d.npz", X=rng.standard_normal((40, 3)), y=np.arange(40) % 2)
    ds = load_npz(tmp_path / "d.npz")
    assert len(ds.X_test) == 0
    split = ds.split(0.25)
    assert len(split.X_train) == 30 and len(split.X_test) == 10
    assert np.bincount(split.y_test).tolist() == [5, 5]               # stratified


@pytest.mark.parametrize("arrays,match", [
    ({"a": np.zeros(3)}, "cannot tell samples from labels"),
    ({"x": np.zeros((3, 2)), "y": np.zeros(4)}, "3 samples but 4 labels"),
    ({"x": np.array([[np.nan, 1.0]]), "y": np.zeros(1)}, "NaN"),
    ({"x": np.zeros((2, 2)), "y": np.array([0.5, 1])}, "whole numbers"),
    ({"x": np.zeros((2, 2)), "y": np.array([0, -1])}, ">= 0"),
])
def test_bad_npz_contents(tmp_path, arrays, match):
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DataError, match="bad.npz.*" + match):
        load_npz(tmp_path / "bad.npz")


def test_npz_with_objects_is_refused(tmp_path):
    np.savez(tmp_path / "obj.npz", x=np.array([object()], dtype=object), y=np.zeros(1))
    with pytest.raises(DataError, match="Python objects"):
        load_npz(tmp_path / "obj.npz")


# --------------------------------------------------------------------------- pickle


def test_classic_mnist_pickle_layout(tmp_path, rng):
    def part(n):
        return (rng.random((n, 784)).astype(np.float32), rng.integers(0, 10, n))
    with gzip.open(tmp_path / "mnist.pkl.gz", "wb") as f:
        pickle.dump((part(50), part(10), part(20)), f, protocol=2)
    ds = load_pickle(tmp_path / "mnist.pkl.gz")
    assert ds.X_train.shape == (60, 784) and ds.X_test.shape == (20, 784)
    assert ds.info["validation_start"] == 50


def test_dict_pickle(tmp_path):
    with open(tmp_path / "d.pkl", "wb") as f:
        pickle.dump({"data": np.zeros((4, 2)), "labels": [0, 1, 0, 1]}, f)
    assert load_pickle(tmp_path / "d.pkl").X_train.shape == (4, 2)


def test_a_gzipped_pickle_that_would_inflate_past_the_cap_is_refused_before_it_does(tmp_path, monkeypatch):
    bomb = tmp_path / "bomb.pkl.gz"
    bomb.write_bytes(gzip.compress(pickle.dumps(np.zeros(2_000_000, np.uint8)), 9))   # 2 MB -> 2 KB
    monkeypatch.setenv("GRADWISE_MAX_PICKLE_BYTES", "1_000_000")
    with pytest.raises(DataError, match=r"bomb.pkl.gz: inflates to more than 1,000,000 bytes.*"
                                        r"GRADWISE_MAX_PICKLE_BYTES"):
        load_pickle(bomb)
    monkeypatch.setenv("GRADWISE_MAX_PICKLE_BYTES", "3_000_000")
    two = tmp_path / "two.pkl.gz"                          # two gzip members, as `cat a.gz b.gz` makes
    data = pickle.dumps({"data": np.ones((4, 2)), "labels": [0, 1, 0, 1]})
    two.write_bytes(gzip.compress(data[:10]) + gzip.compress(data[10:]))
    assert load_pickle(two).X_train.shape == (4, 2)
    cut = tmp_path / "cut.pkl.gz"
    cut.write_bytes(gzip.compress(data)[:-12])
    with pytest.raises(DataError, match="cut.pkl.gz: corrupt or truncated gzip file"):
        load_pickle(cut)


class Hostile:
    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/gradwise-pwned",))


def test_hostile_pickle_is_refused_before_it_runs(tmp_path):
    marker = "/tmp/gradwise-pwned"
    if os.path.exists(marker):
        os.remove(marker)
    for proto in (2, pickle.HIGHEST_PROTOCOL):
        path = tmp_path / f"evil{proto}.pkl"
        path.write_bytes(pickle.dumps(((np.zeros((1, 2)), Hostile()), (np.zeros((1, 2)), [0])),
                                      protocol=proto))
        with pytest.raises(DataError, match="refused to load (posix|os).system"):
            load_pickle(path)
    assert not os.path.exists(marker)


def test_other_globals_and_objects_are_refused():
    with pytest.raises(DataError, match="refused to load builtins.eval"):
        safe_unpickle(b"cbuiltins\neval\n(S'1+1'\ntR.")
    with pytest.raises(DataError, match="Python objects"):
        safe_unpickle(pickle.dumps(np.array([1, "a"], dtype=object)))


# --------------------------------------------------------------------------- CSV


def test_kaggle_style_csv(tmp_path):
    rows = ["label," + ",".join(f"pixel{i}" for i in range(4))]
    rows += ["3,0,255,10,0", "7,1,2,3,4"]
    (tmp_path / "train.csv").write_text("\n".join(rows) + "\n")
    ds = load_csv(tmp_path / "train.csv", label="label", image_shape=(2, 2))
    assert ds.X_train.shape == (2, 2, 2) and ds.X_train.dtype == np.uint8
    assert ds.y_train.tolist() == [3, 7]


def test_csv_without_header_label_last(tmp_path):
    (tmp_path / "d.csv").write_text("0.5,1.5,1\n-2,3,0\n")
    ds = load_csv(tmp_path / "d.csv", label=-1)
    assert ds.X_train.dtype == np.float32 and ds.y_train.tolist() == [1, 0]


@pytest.mark.parametrize("text,kw,match", [
    ("label,a,b\n1,2,3\n4,5\n", {}, "line 3: 2 values, but the header has 3"),
    ("1,2,3\n4,x,6\n", {}, "line 2: 'x' is not a number"),
    ("1,2,3\n4,nan,6\n", {}, "line 2: NaN or inf in column 1"),
    ("a,b\n1,2\n", {"label": "lbl"}, "no column named 'lbl'"),
    ("1,2\n", {"label": "lbl"}, "no header row"),
    ("", {}, "empty file"),
    ("1,2,3\n", {"image_shape": (2, 2)}, "cannot be reshaped"),
    ("1.5,2\n", {}, "whole numbers"),
])
def test_bad_csv(tmp_path, text, kw, match):
    (tmp_path / "bad.csv").write_text(text)
    with pytest.raises(DataError, match="bad.csv.*" + match):
        load_csv(tmp_path / "bad.csv", **kw)


# --------------------------------------------------------------------------- folders


def digit_image(white_background: bool, size=40) -> Image.Image:
    a = np.zeros((size, size), np.uint8)
    a[10:30, 18:22] = 255                                      # a "1"
    return Image.fromarray(255 - a if white_background else a)


def make_folder(root, classes=("0", "1", "2"), per_class=3, white=False, fmt="png"):
    for c in classes:
        (root / c).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            digit_image(white).save(root / c / f"{i}.{fmt}")


def test_folder_of_class_subfolders(tmp_path):
    make_folder(tmp_path / "digits", fmt="jpg")
    (tmp_path / "digits" / "0" / ".DS_Store").write_bytes(b"\x00junk")  # ignored
    ds = load_folder(tmp_path / "digits")
    assert ds.X_train.shape == (9, 28, 28) and ds.X_train.dtype == np.uint8
    assert np.bincount(ds.y_train).tolist() == [3, 3, 3] and ds.classes == ("0", "1", "2")


def test_train_test_layout_and_numeric_class_order(tmp_path):
    names = [str(i) for i in range(11)]                         # 10 must sort after 9
    make_folder(tmp_path / "d" / "training", names, per_class=1)
    make_folder(tmp_path / "d" / "testing", ["3", "10"], per_class=2)
    ds = load_folder(tmp_path / "d", size=(8, 8))
    assert ds.classes[-1] == "10" and ds.X_train.shape == (11, 8, 8)
    assert ds.y_test.tolist() == [10, 10, 3, 3]


def test_white_backgrounds_are_detected_and_inverted_on_request(tmp_path):
    make_folder(tmp_path / "scans", white=True)
    with pytest.warns(UserWarning, match="white background.*invert=True"):
        plain = load_folder(tmp_path / "scans")
    assert plain.info["white_background"] == 9
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fixed = load_folder(tmp_path / "scans", invert="auto")
    assert fixed.X_train[:, 0, 0].max() == 0 and fixed.X_train.max() > 200   # white ink on black


def test_non_image_file_is_named(tmp_path):
    make_folder(tmp_path / "d")
    (tmp_path / "d" / "1" / "notes.txt").write_text("not a picture")
    with pytest.raises(DataError, match=r"notes.txt: not an image"):
        load_folder(tmp_path / "d")


def test_folder_errors(tmp_path):
    with pytest.raises(DataError, match="no such folder"):
        load_folder(tmp_path / "missing")
    (tmp_path / "flat").mkdir()
    with pytest.raises(DataError, match="one sub-folder per class"):
        load_folder(tmp_path / "flat")


# --------------------------------------------------------------------------- fuzzing

SEEDS = {
    "npz": lambda d: (np.savez(d / "f.npz", x=np.zeros((2, 3)), y=np.array([0, 1])), d / "f.npz")[1],
    "pickle": lambda d: (d / "f.pkl").write_bytes(pickle.dumps(((np.zeros((2, 2)), [0, 1]),
                                                               (np.zeros((1, 2)), [1])), 2)) and d / "f.pkl",
    "csv": lambda d: (d / "f.csv").write_text("label,a,b\n1,2,3\n0,4,5\n") and d / "f.csv",
    "image": lambda d: (digit_image(False, 8).save(d / "x.png"), d / "x.png")[1],
}
LOADERS = {"npz": load_npz, "pickle": load_pickle, "csv": load_csv}


@pytest.mark.parametrize("kind", ["npz", "pickle", "csv", "image"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_and_random_bytes_raise_only_our_error(kind, data, tmp_path_factory):
    d = tmp_path_factory.mktemp(kind)
    seed = SEEDS[kind](d).read_bytes()
    if data.draw(st.booleans()):
        blob = bytearray(seed)
        for _ in range(data.draw(st.integers(1, 8))):
            blob[data.draw(st.integers(0, len(blob) - 1))] = data.draw(st.integers(0, 255))
        blob = bytes(blob[: data.draw(st.integers(0, len(blob)))])
    else:
        blob = data.draw(st.binary(max_size=300))
    if kind == "image":
        (d / "c" / "0").mkdir(parents=True)
        (d / "c" / "0" / "x.png").write_bytes(blob)
        call = lambda: load_folder(d / "c")                     # noqa: E731
    else:
        path = d / f"fuzz.{kind}"
        path.write_bytes(blob)
        call = lambda: LOADERS[kind](path)                      # noqa: E731
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            call()
    except DataError:
        pass
