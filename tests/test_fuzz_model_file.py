"""Generated edits of a saved model (issue #16): loading one says what is wrong, naming the file.

A small model is saved with gradwise's own ``save`` (``model.npz`` + ``model.json``), then
edited: its JSON record (wrong types, huge or negative sizes, unknown layers and options,
missing keys, no layers, deep nesting, bytes that are not JSON) and its arrays (wrong
shapes and dtypes, missing or extra arrays, a lone .npy, random bytes, a cut-off zip).

The property: ``Sequential.load`` either returns a model or raises ModelFileError (or
another ValueError) whose message names the file, never a KeyError, TypeError,
AttributeError, IndexError, MemoryError or RecursionError, and never allocates more than
a few MB while refusing; ``gradwise evaluate`` on a run folder so edited ends with status
0, 1 or 2 and one line, never a traceback.

``model.json`` is the readable copy: ``load`` reads the record inside the ``.npz`` (one
atomic file keeps weights and architecture together), so each edit is written to both.

Measured with ``--hypothesis-show-statistics`` (2 cores): 300 edited models and run
folders (5 tests x 60, plus 2 explicit examples) in about 8 s, 0 tracebacks.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import tempfile
import time
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import gradwise as gw
from gradwise import cli
from gradwise.errors import GradwiseError

FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
MAX_BYTES = 64 << 20            # what refusing an edited model may allocate (the model is 1 KB)
SECONDS = 10


def small_model() -> gw.Sequential:
    """What gradwise train --data xor saves, smaller: Dense, ReLU, BatchNorm, Dropout, Dense."""
    model = gw.Sequential([gw.Dense(2, 4), gw.ReLU(), gw.BatchNorm(4), gw.Dropout(0.2), gw.Dense(4, 2)])
    model.meta = {"data": "xor", "classes": ["0", "1"],
                  "preprocessing": {"scale": "none", "flatten": True, "input_shape": [2]}}
    return model


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """(record, arrays) of the saved small model, as the .npz holds them."""
    base = tmp_path_factory.mktemp("model") / "model"
    small_model().save(base)
    with np.load(f"{base}.npz", allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    record = json.loads(arrays.pop("__config__").tobytes())
    assert record == json.loads(Path(f"{base}.json").read_text())
    return record, arrays


def write(folder: Path, record, arrays: dict, raw_record: bytes | None = None) -> Path:
    """model.npz (arrays + the record) and model.json in ``folder``, as ``save`` lays them out."""
    text = raw_record if raw_record is not None else json.dumps(record).encode()
    np.savez(folder / "model.npz", **arrays, __config__=np.frombuffer(text, dtype=np.uint8))
    (folder / "model.json").write_bytes(text)
    return folder / "model"


def assert_loads_or_names_the_file(base: Path) -> None:
    """Sequential.load: a model, or a ValueError naming the file; bounded time and memory."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        gw.Sequential.load(base)
    except ValueError as e:                 # ModelFileError is one
        assert str(base.parent) in str(e), e
        assert "\n" not in str(e), e
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert time.perf_counter() - start < SECONDS
    assert peak < MAX_BYTES, f"loading took {peak / 2**20:.0f} MB"


# ----------------------------------------------------------------------------- record edits

json_leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(-3, 10),
                        st.integers(2**20, 2**64), st.floats(), st.text(max_size=10),
                        st.sampled_from(["Dense", "ReLU", "BatchNorm", "Conv2D", "MaxPool2D", "Flatten",
                                         "SoftmaxCrossEntropy", "gradwise-model", "float32", "int8"]))
json_values = st.recursive(json_leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)), max_leaves=10)


def paths(value, prefix=()):
    """Every path (tuple of keys and indexes) into a JSON value, the root first."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from paths(v, prefix + (i,))


def edited(record, path, how: str, value):
    """``record`` with the part at ``path`` replaced by ``value``, deleted, or nested deep."""
    record = copy.deepcopy(record)
    if not path:
        return value if how == "replace" else [[[record]]]
    parent = record
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    if how == "delete":
        del parent[key]
    elif how == "nest":
        parent[key] = {"config": [parent[key]]} if isinstance(key, str) else [[parent[key]]]
    else:
        parent[key] = value
    return record


@st.composite
def record_edits(draw, record):
    """One to three edits of the record, each at a path drawn from what it holds then."""
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(list(paths(record))))
        how = draw(st.sampled_from(["replace", "replace", "replace", "delete", "nest"]))
        record = edited(record, path, how, draw(json_values))
    return record


@FUZZ
@given(data=st.data())
@example(data=None)
def test_an_edited_model_record_loads_or_names_the_file(saved, data, tmp_path_factory):
    record, arrays = saved
    if data is None:                        # a layer far wider than its weights
        new = copy.deepcopy(record)
        new["layers"][0]["config"]["out_features"] = 2**40
    else:
        new = data.draw(record_edits(record))
    with tempfile.TemporaryDirectory() as tmp:
        assert_loads_or_names_the_file(write(Path(tmp), new, arrays))


@FUZZ
@given(raw=st.one_of(st.binary(max_size=100), st.text(max_size=100).map(str.encode),
                     st.integers(1, 20000).map(lambda n: b"[" * n + b"]" * n),
                     st.integers(1, 20000).map(lambda n: b'{"layers": ' + b"[" * n + b"]" * n + b"}"),
                     st.integers(400, 5000).map(lambda n: b"1" * n)))
@example(raw=b'{"format": "gradwise-model", "layers": ' + b"[" * 100000 + b"]" * 100000 + b"}")
def test_a_model_record_that_is_not_json_or_nests_deep_names_the_file(saved, raw):
    _, arrays = saved
    with tempfile.TemporaryDirectory() as tmp:
        assert_loads_or_names_the_file(write(Path(tmp), None, arrays, raw_record=raw))


# ----------------------------------------------------------------------------- array edits

dtypes = st.sampled_from(["float32", "float64", "float16", "int8", "int64", "uint8", "bool",
                          "complex64", "<U3", "|S2", "datetime64[s]", "V4"])
shapes = st.lists(st.integers(0, 5), max_size=4).map(tuple)


@st.composite
def array_edits(draw, arrays):
    arrays = dict(arrays)
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from(sorted(arrays) + ["9.W", "0.W ", "__config__x", "x"]))
        how = draw(st.sampled_from(["drop", "shape", "dtype", "both", "scalar"]))
        if how == "drop":
            arrays.pop(name, None)
        elif how == "scalar":
            arrays[name] = np.array(draw(st.floats()))
        else:
            shape = draw(shapes) if how in ("shape", "both") else arrays.get(name, np.zeros(2)).shape
            dtype = draw(dtypes) if how in ("dtype", "both") else "float32"
            arrays[name] = np.zeros(shape, dtype=dtype)
    return arrays


@FUZZ
@given(data=st.data())
def test_edited_model_arrays_load_or_name_the_file(saved, data):
    record, arrays = saved
    with tempfile.TemporaryDirectory() as tmp:
        assert_loads_or_names_the_file(write(Path(tmp), record, data.draw(array_edits(arrays))))


@FUZZ
@given(kind=st.sampled_from(["npy", "bytes", "cut", "empty-zip", "zip-of-text", "huge-header"]),
       junk=st.binary(max_size=300), cut=st.integers(0, 2000))
def test_a_model_file_that_is_no_npz_names_the_file(saved, kind, junk, cut):
    record, arrays = saved
    with tempfile.TemporaryDirectory() as tmp:
        base = write(Path(tmp), record, arrays)
        npz = Path(tmp) / "model.npz"
        if kind == "npy":
            np.save(npz.with_suffix(".tmp"), arrays["0.W"])
            npz.write_bytes(npz.with_suffix(".tmp.npy").read_bytes())
        elif kind == "bytes":
            npz.write_bytes(junk)
        elif kind == "cut":
            npz.write_bytes(npz.read_bytes()[:cut])
        elif kind == "empty-zip":
            with zipfile.ZipFile(npz, "w"):
                pass
        elif kind == "zip-of-text":
            with zipfile.ZipFile(npz, "w") as z:
                z.writestr("0.W.npy", junk)
                z.writestr("__config__.npy", junk)
        else:                               # a header that declares 10^12 floats
            header = b"\x93NUMPY\x01\x00" + (b"{'descr': '<f4', 'fortran_order': False, "
                                             b"'shape': (1000000, 1000000), }").ljust(118) + b"\n"
            with zipfile.ZipFile(npz, "w") as z:
                z.writestr("0.W.npy", header + junk)
                z.writestr("__config__.npy", header)
        assert_loads_or_names_the_file(base)


# ----------------------------------------------------------------------------- gradwise evaluate

def evaluate(run: Path) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = cli.main(["evaluate", str(run)])
    return code, err.getvalue()


@FUZZ
@given(data=st.data())
def test_gradwise_evaluate_on_an_edited_run_ends_cleanly(saved, data):
    record, arrays = saved
    edit_arrays = data.draw(st.booleans())
    new_record = record if edit_arrays else data.draw(record_edits(record))
    new_arrays = data.draw(array_edits(arrays)) if edit_arrays else arrays
    with tempfile.TemporaryDirectory() as tmp:
        write(Path(tmp), new_record, new_arrays)
        start = time.perf_counter()
        code, err = evaluate(Path(tmp))
        assert time.perf_counter() - start < SECONDS
        assert code in (0, 1, 2) and "Traceback" not in err, err
        if code:
            assert len([line for line in err.split("\n") if ": error: " in line]) == 1, err


def test_evaluate_of_the_saved_small_model_succeeds(saved, tmp_path):
    """The fixture itself is a model gradwise evaluate takes (so the edits start from good)."""
    record, arrays = saved
    write(tmp_path, record, arrays)
    code, err = evaluate(tmp_path)
    assert code == 0, err
    assert isinstance(gw.Sequential.load(tmp_path / "model"), gw.Sequential)
    assert issubclass(gw.errors.ModelFileError, (GradwiseError, ValueError))
