"""Bad input and resource limits (issue #16): each hostile case gives one clear line, in time.

Every bad file is built here, in tmp_path; nothing reaches the network or ../shared data.
"""

import dataclasses
import gzip
import io
import json
import re
import struct
import warnings
import zipfile
import zlib
from types import SimpleNamespace

import numpy as np
import pytest

import gradwise as gw
from gradwise import cli, train
from gradwise.data import sources
from gradwise.errors import DataError, ModelFileError
from gradwise.model import TrainingDiverged


def test_a_toy_set_trains_and_plots_without_digit_pictures(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "run"
    assert cli.main(["train", "--data", "spirals", "--arch", "2-16-2", "--epochs", "2", "--quiet",
                     "--out", str(out)]) == 0
    assert "test accuracy" in capsys.readouterr().out
    written = {p.name for p in out.glob("*.png")}
    assert written == {"curves.png", "confusion_matrix.png"}      # no pictures of 2 numbers


# --------------------------------------------------------------------------- model files

def saved_model(tmp_path, edit=None):
    """A small model saved in tmp_path/run, its record changed by ``edit(record)``."""
    model = gw.Sequential([gw.Dense(2, 16, rng=np.random.default_rng(0)), gw.ReLU(), gw.Dropout(0.2),
                           gw.Dense(16, 2, rng=np.random.default_rng(1))])
    model.meta = {"data": "spirals", "classes": ["0", "1"]}
    npz = model.save(tmp_path / "run" / "model")
    if edit is not None:
        with np.load(npz) as z:
            arrays = {k: z[k] for k in z.files}
        record = json.loads(arrays["__config__"].tobytes())
        edit(record)
        arrays["__config__"] = np.frombuffer(json.dumps(record).encode(), np.uint8)
        np.savez(npz, **arrays)
    return npz


def _set(layer, **options):
    return lambda record: record["layers"][layer]["config"].update(options)


@pytest.mark.parametrize("edit,message", [
    (_set(0, out_features=10**12), r"layer 0 \(Dense\): out_features 1,000,000,000,000 is beyond "
                                   r"the 1,048,576 a layer may have"),
    (_set(0, in_features=100_000, out_features=100_000),
     r"layer 0 \(Dense\): in_features 100000 x out_features 100000 makes 10,000,000,000 weights, "
     r"but the file holds 48 numbers for it"),
    (_set(0, bogus=1), r"layer 0 \(Dense\) has unknown option 'bogus'; known: in_features, "
                       r"out_features, init, dtype"),
    (_set(2, rate=5), r"layer 2 \(Dropout\): Dropout: rate must be in \[0, 1\); got 5"),
    (lambda r: r.pop("layers"), "the model record has no layers"),
    (lambda r: r.update(layers=[]), "the model record has no layers"),
    (lambda r: r["layers"].append({"type": "Conv3D"}), "layer 4 has unknown type 'Conv3D'; known: Dense"),
    (lambda r: r.update(loss={"type": "MSE", "config": {"scale": 2}}),
     r"loss \(MSE\) has unknown option 'scale'; known: none"),
    (lambda r: r.update(format_version="1"), "format_version must be a whole number; got '1'"),
])
def test_an_edited_model_record_names_the_file_and_the_setting(tmp_path, edit, message):
    npz = saved_model(tmp_path, edit)
    with pytest.raises(ModelFileError, match=f"^{npz}: " + message):
        gw.Sequential.load(npz)


def test_evaluate_and_predict_refuse_an_edited_model_in_one_line(tmp_path, capsys):
    saved_model(tmp_path, _set(0, out_features=10**12))
    for argv in (["evaluate", str(tmp_path / "run")], ["predict", str(tmp_path / "run"), "x.png"]):
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "out_features 1,000,000,000,000 is beyond" in err


def test_a_forged_array_header_is_refused_before_allocating(tmp_path):
    npz = saved_model(tmp_path)
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False,
                                                  "shape": (100_000, 100_000)})
    with zipfile.ZipFile(npz, "a") as z:                         # a 10^10-value "weight" of 1 KB
        z.writestr("0.big.npy", header.getvalue() + b"\0" * 1024)
    with pytest.raises(ModelFileError, match=r"array '0.big' claims shape \(100000, 100000\) "
                                             r"\(40,000,000,000 bytes of float32\) but its archive "
                                             r"member holds 1,\d+ bytes"):
        gw.Sequential.load(npz)


def test_npy_and_pickled_files_are_named_without_pickle_advice(tmp_path):
    np.save(tmp_path / "a.npy", np.arange(5))
    with pytest.raises(DataError, match=r"a.npy is not a readable .npz archive \(it is a single .npy array"):
        gw.data.load_npz(tmp_path / "a.npy")
    (tmp_path / "run").mkdir()
    (tmp_path / "a.npy").rename(tmp_path / "run" / "model.npz")
    with pytest.raises(ModelFileError, match=r"model.npz is not a readable gradwise model file \(it is a single .npy"):
        gw.Sequential.load(tmp_path / "run" / "model")
    np.savez(tmp_path / "run" / "model.npz", __config__=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ModelFileError, match="holds Python objects") as info:
        gw.Sequential.load(tmp_path / "run" / "model")
    assert "allow_pickle" not in str(info.value)
    (tmp_path / "run" / "model.npz").write_bytes(b"<html>not found</html>")
    with pytest.raises(ModelFileError, match=r"model.npz is not a readable gradwise model file \(it starts with b'<htm'"):
        gw.Sequential.load(tmp_path / "run" / "model")


# --------------------------------------------------------------------------- divergence

def test_a_finite_but_absurd_loss_stops_the_run_as_diverged(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "--data", "mnist-mini", "--lr", "1e6", "--epochs", "2", "--quiet",
                     "--no-plots", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert re.search(r"the run diverged at epoch 1, step \d+: the loss has stayed above 100x its "
                     r"start \(2\.\d+\) for 5 steps .*Lower the learning rate \(--lr 1e\+06 -> e\.g\. "
                     r"0\.001\)", err)
    assert not (out / "model.npz").exists() and not (out / "metrics.json").exists()


def test_a_nan_run_fails_with_status_1(tmp_path, capsys):
    assert cli.main(["train", "--data", "mnist-mini", "--opt", "sgd", "--lr", "100", "--epochs", "1", "--dropout", "0.2",
                     "--quiet", "--no-plots", "--out", str(tmp_path / "run")]) == 1
    assert "NaN/inf at epoch 1" in capsys.readouterr().err


def watch(losses, params=None):
    """Feed a StopOnDivergence the batch losses of one epoch, then end the epoch."""
    cb = train.StopOnDivergence(train.TrainConfig(lr=0.1), n_classes=10)
    cb.set_model(SimpleNamespace(named_params=lambda: params or [("0.W", np.ones(3))]))
    cb.on_train_begin({})
    for b, loss in enumerate(losses):
        cb.on_batch_end(b, {"loss": loss, "epoch": 0})
    cb.on_epoch_end(0, {})


def test_divergence_needs_the_loss_far_above_its_start_for_several_steps():
    chance = np.log(10)
    watch([2.4, 2.0, 128, 128, 1.5, 128, 128, 128, 128, 0.9])      # healthy spikes (54x): no alarm
    watch([1e-3, 0.5, 0.4])                    # a resumed run starting low: judged against chance
    watch([2.4] + [99 * chance] * 50)          # just under 100x chance, however long
    with pytest.raises(TrainingDiverged, match=r"epoch 1, step 6: .* for 5 steps \(now 1e\+18\)"):
        watch([2.4] + [1e18] * 5)
    with pytest.raises(TrainingDiverged, match="the end of epoch 1: the weights 0.W are no longer finite"):
        watch([2.4, 2.3], params=[("0.W", np.array([1.0, np.inf]))])
    assert train.chance_loss("mse", 10) == pytest.approx(0.09)      # predict 0.1 for every class


# --------------------------------------------------------------------------- where data comes from

def test_fashion_mnist_unreachable_names_every_real_way_to_get_it(tmp_path, monkeypatch, capsys):
    spec = dataclasses.replace(sources.IDX_SETS["fashion-mnist"], known_copies=(),
                               mirrors=("http://127.0.0.1:9/",))      # nothing listens on port 9
    monkeypatch.setitem(sources.IDX_SETS, "fashion-mnist", spec)
    monkeypatch.delenv("GRADWISE_DATA", raising=False)
    with pytest.raises(DataError) as offline:
        gw.data.load("fashion-mnist", download=False)
    assert cli.main(["data", "fetch", "fashion-mnist", "--data-dir", str(tmp_path)]) == 2
    fetched = capsys.readouterr().err
    assert "could not download train-images-idx3-ubyte.gz" in fetched
    assert "there is no package-index copy of fashion-mnist" in fetched
    for message in (str(offline.value), fetched):
        assert "gradwise train --data fashion-mnist --data-dir DIR" in message
        assert "GRADWISE_DATA=DIR" in message and "apt-get install dataset-fashion-mnist" in message
        assert "keras.datasets.fashion_mnist" in message and "torchvision.datasets.FashionMNIST" in message
        assert "(gradwise --data-dir" not in message and "allow downloads" not in message
    assert "gradwise data fetch fashion-mnist" in str(offline.value)


# --------------------------------------------------------------------------- huge images

def png_header(path, width, height):
    """A PNG of a few dozen bytes whose header claims ``width`` x ``height`` pixels."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)       # 8-bit grayscale
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b""))
    return path


@pytest.mark.parametrize("side", [10_000, 20_000])      # past Pillow's warning; past its own limit
def test_a_huge_image_is_refused_from_its_header_without_pillows_warning(tmp_path, side):
    pytest.importorskip("PIL")
    from gradwise.preprocess import read_grayscale
    png = png_header(tmp_path / "big.png", side, side)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                        # a DecompressionBombWarning fails
        with pytest.raises(DataError, match=rf"big.png: .*{side * side:,} pixels|big.png: {side}x{side}") as info:
            read_grayscale(png)
    assert "more than the 50,000,000 allowed" in str(info.value)


def test_the_pixel_cap_names_how_to_raise_it_and_can_be_raised(tmp_path, monkeypatch, capsys):
    pytest.importorskip("PIL")
    from PIL import Image
    png = png_header(tmp_path / "big.png", 10_000, 10_000)
    saved_model(tmp_path)
    assert cli.main(["predict", str(tmp_path / "run"), str(png)]) == 2
    err = capsys.readouterr().err
    assert "10000x10000 pixels is more than the 50,000,000 allowed" in err
    assert "$GRADWISE_MAX_IMAGE_PIXELS=N or gradwise predict --max-pixels N" in err
    Image.new("L", (40, 40), 255).save(tmp_path / "small.png")
    assert cli.main(["predict", str(tmp_path / "run"), str(tmp_path / "small.png"), "--max-pixels", "100"]) == 2
    assert "40x40 pixels is more than the 100 allowed" in capsys.readouterr().err
    monkeypatch.setenv("GRADWISE_MAX_IMAGE_PIXELS", "200000000")     # raised: Pillow decodes it,
    from gradwise.preprocess import read_grayscale                   # and finds no pixel data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(DataError, match="big.png: unreadable image"):
            read_grayscale(png)
    monkeypatch.setenv("GRADWISE_MAX_IMAGE_PIXELS", "lots")
    with pytest.raises(DataError, match=r"\$GRADWISE_MAX_IMAGE_PIXELS must be a whole number"):
        read_grayscale(png)


def test_an_image_folder_caps_pixels_too(tmp_path):
    pytest.importorskip("PIL")
    (tmp_path / "digits" / "7").mkdir(parents=True)
    png_header(tmp_path / "digits" / "7" / "a.png", 12_000, 12_000)
    with pytest.raises(DataError, match="a.png: 12000x12000 pixels is more than the 50,000,000 allowed"):
        gw.data.load_folder(tmp_path / "digits")


def test_predict_refuses_a_model_that_takes_no_images(tmp_path, capsys):
    pytest.importorskip("PIL")
    from PIL import Image
    model = gw.Sequential([gw.Dense(2, 2)])
    model.meta = {"data": "spirals", "preprocessing": {"scale": "none", "flatten": True, "input_shape": [2]}}
    model.save(tmp_path / "run" / "model")
    Image.new("L", (40, 40), 255).save(tmp_path / "small.png")
    assert cli.main(["predict", str(tmp_path / "run"), str(tmp_path / "small.png")]) == 2
    assert "the model takes inputs of shape (2,) (spirals), not 28x28 images" in capsys.readouterr().err


# --------------------------------------------------------------------------- gzip'd IDX bombs

class CountingGzip(gzip.GzipFile):
    """A GzipFile that keeps count of the decompressed bytes handed out."""
    handed_out = 0

    def read(self, size=-1):
        data = super().read(size)
        CountingGzip.handed_out += len(data)
        return data


def gzipped_idx(path, shape, zeros):
    """A gzip'd uint8 IDX whose header says ``shape`` and whose data is ``zeros`` zero bytes."""
    with gzip.open(path, "wb", compresslevel=9) as f:
        f.write(bytes([0, 0, 8, len(shape)]) + struct.pack(f">{len(shape)}I", *shape))
        for start in range(0, zeros, 1 << 22):
            f.write(bytes(min(1 << 22, zeros - start)))
    return path


def test_an_idx_header_beyond_the_cap_is_refused_before_decompressing(tmp_path, monkeypatch):
    bomb = gzipped_idx(tmp_path / "bomb-idx2-ubyte.gz", (4_300_000, 1000), 64 << 20)   # 64 MB inside
    monkeypatch.setattr(gzip, "GzipFile", CountingGzip)
    CountingGzip.handed_out = 0
    with pytest.raises(DataError, match=r"bomb-idx2-ubyte.gz: IDX header claims shape \(4300000, 1000\) "
                                        r"\(4,300,000,000 bytes\): implausible, more than the "
                                        r"1,073,741,824 allowed; .*\$GRADWISE_MAX_IDX_BYTES=N"):
        gw.data.load_idx(bomb)
    assert 0 < CountingGzip.handed_out <= 16              # streamed: the header, not a byte of data


def test_an_idx_file_with_more_than_its_header_says_stops_reading_there(tmp_path, monkeypatch):
    bomb = gzipped_idx(tmp_path / "labels-idx1-ubyte.gz", (10,), 64 << 20)
    monkeypatch.setattr(gzip, "GzipFile", CountingGzip)
    CountingGzip.handed_out = 0
    with pytest.raises(DataError, match=r"has trailing bytes: header says shape \(10,\) = 10 bytes"):
        gw.data.load_idx(bomb)
    assert 0 < CountingGzip.handed_out <= 64 << 10        # streamed: 19 bytes asked for, not 64 MB
    short = gzipped_idx(tmp_path / "short-idx1-ubyte.gz", (1000,), 10)
    with pytest.raises(DataError, match=r"truncated: header says shape \(1000,\) = 1000 bytes of data, "
                                        r"file has 10"):
        gw.data.load_idx(short)


def test_the_idx_cap_can_be_lowered_or_raised(tmp_path, monkeypatch):
    path = gzipped_idx(tmp_path / "x-idx1-ubyte.gz", (200,), 200)
    monkeypatch.setenv("GRADWISE_MAX_IDX_BYTES", "100")
    with pytest.raises(DataError, match="more than the 100 allowed"):
        gw.data.load_idx(path)
    assert gw.data.load_idx(path, max_bytes=200).shape == (200,)
    monkeypatch.setenv("GRADWISE_MAX_IDX_BYTES", "-5")
    with pytest.raises(DataError, match=r"\$GRADWISE_MAX_IDX_BYTES must be a whole number of bytes"):
        gw.data.load_idx(path)
