import gzip
import hashlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gradwise as gw
from gradwise.data import idx_bytes, load_idx, parse_idx, write_idx
from gradwise.data import sources
from gradwise.errors import DataError


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("name", ["a-idx3-ubyte", "a-idx3-ubyte.gz", "a.idx3-ubyte"])
def test_round_trip_raw_and_gzip(tmp_path, dtype, name, rng):
    array = (rng.standard_normal((3, 4, 5)) * 50).astype(dtype)
    write_idx(tmp_path / name, array)
    back = load_idx(tmp_path / name)
    assert back.dtype == np.dtype(dtype) and back.flags.writeable
    np.testing.assert_array_equal(back, array)


def test_gzip_is_detected_from_content_not_name(tmp_path):
    (tmp_path / "labels").write_bytes(gzip.compress(idx_bytes(np.arange(5, dtype=np.uint8))))
    np.testing.assert_array_equal(load_idx(tmp_path / "labels"), np.arange(5))


@pytest.mark.parametrize("data,match", [
    (b"\x00\x00", "too short"),
    (b"\x08\x03\x00\x00" + b"\x00" * 16, "magic number 08030000"),
    (b"\x00\x00\x07\x01\x00\x00\x00\x01\x00", "not an IDX file"),
    (b"\x00\x00\x08\x00", "0 dimensions"),
    (b"\x00\x00\x08\x03\x00\x00", "truncated IDX header"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x05\x01\x02", "truncated: header says shape \\(5,\\)"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x01\x01\x02", "trailing bytes"),
    (b"\x00\x00\x08\x03\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", "implausible"),
])
def test_malformed_headers_are_named(data, match):
    with pytest.raises(DataError, match=match):
        parse_idx(data, "f.idx")


def test_file_errors_name_the_file(tmp_path):
    with pytest.raises(DataError, match="missing.gz: no such file"):
        load_idx(tmp_path / "missing.gz")
    (tmp_path / "bad.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x09" + b"x" * 9)[:-6])
    with pytest.raises(DataError, match="bad.gz: corrupt or truncated gzip"):
        load_idx(tmp_path / "bad.gz")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200))
def test_random_bytes_give_our_error_or_an_array(data):
    try:
        parse_idx(data)
    except DataError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mutated_valid_files_never_crash(data):
    valid = bytearray(idx_bytes(np.arange(24, dtype=np.uint8).reshape(2, 3, 4)))
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(valid) - 1))
        valid[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(valid)))
    try:
        parse_idx(bytes(valid[:cut]))
    except DataError:
        pass


# -------------------------------------------------------------- a tiny IDX set on disk

def fake_set(tmp_path, monkeypatch, rng, dotted=False):
    """Write a small MNIST-shaped set and register its checksums in place of the real ones."""
    folder = tmp_path / "mnist"
    arrays = {"train-images": rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
              "train-labels": rng.integers(0, 10, 20).astype(np.uint8),
              "t10k-images": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
              "t10k-labels": rng.integers(0, 10, 6).astype(np.uint8)}
    sums = {}
    for part, array in arrays.items():
        suffix = sources.IDX_SUFFIX[part]
        write_idx(folder / (f"{part}.{suffix}" if dotted else f"{part}-{suffix}.gz"), array)
        sums[part] = hashlib.sha256(idx_bytes(array)).hexdigest()
    spec = sources.IdxSet("mnist", sources.MNIST.classes, sums, (20, 6))
    monkeypatch.setitem(sources.IDX_SETS, "mnist", spec)
    return arrays


@pytest.mark.parametrize("dotted", [False, True])
def test_load_from_data_dir_or_environment(tmp_path, monkeypatch, rng, dotted):
    arrays = fake_set(tmp_path, monkeypatch, rng, dotted)
    monkeypatch.delenv("GRADWISE_DATA", raising=False)
    ds = gw.data.load("mnist", data_dir=tmp_path)
    np.testing.assert_array_equal(ds.X_train, arrays["train-images"])
    assert ds.X_test.shape == (6, 28, 28) and ds.classes[3] == "3" and "mnist" in ds.source
    monkeypatch.setenv("GRADWISE_DATA", str(tmp_path))
    assert gw.data.load("MNIST").y_test.shape == (6,)


def test_checksum_mismatch_and_missing_files(tmp_path, monkeypatch, rng):
    fake_set(tmp_path, monkeypatch, rng)
    monkeypatch.delenv("GRADWISE_DATA", raising=False)
    write_idx(tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz", np.zeros(6, np.uint8))
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz: checksum mismatch"):
        gw.data.load("mnist", data_dir=tmp_path)
    with pytest.raises(DataError, match="not found; searched .*GRADWISE_DATA"):
        gw.data.load("mnist", data_dir=tmp_path / "elsewhere", download=False)
    with pytest.raises(ValueError, match="fashion-mnist"):
        gw.data.load("cifar10")


def test_scale_pixels_is_float32_in_unit_range():
    X = gw.data.scale_pixels(np.array([[[0, 255], [128, 1]]], np.uint8))
    assert X.dtype == np.float32 and X.shape == (1, 4) and X.max() == 1 and X.min() == 0
