"""The command line as a user runs it: a subprocess, on the embedded mnist-mini set."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image, ImageDraw

import gradwise as gw

FAST = ["--data", "mnist-mini", "--arch", "784-32-10", "--batch-size", "64", "--quiet"]


def gradwise(*args, cwd=None, check=False, timeout=120):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    done = subprocess.run([sys.executable, "-m", "gradwise.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, env=env)
    if check and done.returncode != 0:
        raise AssertionError(f"exit {done.returncode}\n{done.stdout}\n{done.stderr}")
    return done


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "mini"
    done = gradwise("train", *FAST, "--epochs", "8", "--arch", "784-64-10", "--out", out, check=True)
    return out, done


def test_train_end_to_end(trained_run):
    out, done = trained_run
    assert "epoch 8/8" in done.stdout and "test accuracy" in done.stdout
    names = {p.name for p in out.iterdir()}
    assert {"model.npz", "model.json", "config.toml", "checkpoint.npz", "metrics.json", "curves.png",
            "confusion_matrix.png", "misclassified.png", "first_layer_weights.png"} <= names
    for png in out.glob("*.png"):
        with Image.open(png) as im:
            assert im.format == "PNG" and min(im.size) > 200
    model_json = json.loads((out / "model.json").read_text())
    assert model_json["meta"]["classes"] == [str(i) for i in range(10)]
    assert model_json["gradwise_version"] == gw.__version__
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] > 0.85 and len(metrics["history"]["loss"]) == 8


def test_evaluate(trained_run):
    out, _ = trained_run
    done = gradwise("evaluate", out, check=True)
    assert "mnist-mini test set (1,000 images): accuracy" in done.stdout
    assert "precision" in done.stdout and "confusion matrix" in done.stdout


def draw_digit(path, digit: str, *, size=(120, 90), white=True, rgb=False, offset=(0, 0)):
    """A hand-drawn-looking 1 or 7: thick strokes, off-centre, on paper."""
    w, h = size
    ink, paper = (0, 255) if white else (255, 0)
    im = Image.new("L", size, paper)
    d = ImageDraw.Draw(im)
    x0, y0 = w // 2 + offset[0], h // 2 + offset[1]
    if digit == "1":
        d.line([(x0, y0 - 30), (x0, y0 + 30)], fill=ink, width=9)
    else:
        d.line([(x0 - 18, y0 - 28), (x0 + 18, y0 - 28)], fill=ink, width=8)
        d.line([(x0 + 18, y0 - 28), (x0 - 6, y0 + 30)], fill=ink, width=8)
    if rgb:
        im = Image.merge("RGB", [im, im, im])
    im.save(path)
    return path


def test_predict_on_drawn_images(trained_run, tmp_path):
    out, _ = trained_run
    one = draw_digit(tmp_path / "one.png", "1", offset=(25, -10))              # off-centre
    seven = draw_digit(tmp_path / "seven.jpg", "7", rgb=True, offset=(-20, 5))  # RGB JPG
    dark = draw_digit(tmp_path / "one_dark.png", "1", white=False)             # already MNIST-like
    done = gradwise("predict", out, one, seven, dark, "--json", check=True)
    results = json.loads(done.stdout)
    assert [r["top"][0]["class"] for r in results] == ["1", "7", "1"]
    assert all(len(r["top"]) == 3 for r in results)
    text = gradwise("predict", out, one, check=True).stdout
    assert text.startswith(f"{one}: 1 ")


def test_mnist_style_preprocessing_centres_and_scales(tmp_path):
    from gradwise.preprocess import mnist_style, read_grayscale
    img = mnist_style(read_grayscale(draw_digit(tmp_path / "x.png", "7", offset=(30, 20))))
    assert img.shape == (28, 28) and img.dtype == np.uint8
    assert img[0].max() == 0 and img[:, 0].max() == 0                          # black border
    rows, cols = np.nonzero(img > 50)
    assert max(rows.max() - rows.min(), cols.max() - cols.min()) <= 20           # fits 20x20
    r, c = np.indices(img.shape)
    com = ((r * img).sum() / img.sum(), (c * img).sum() / img.sum())
    assert abs(com[0] - 14) < 1.5 and abs(com[1] - 14) < 1.5                     # mass centred


@pytest.mark.parametrize("args,message", [
    (["train", "--data", "cifar10"], "unknown data set 'cifar10'"),
    (["train", "--data", "mnist-mini", "--arch", "784-x-10"], "e.g. 784-256-128-10"),
    (["train", "--data", "mnist-mini", "--arch", "100-32-10"], "input size of mnist-mini, 784"),
    (["evaluate", "no/such/run"], "no run folder or model here"),
    (["predict", "no/such/run", "x.png"], "no run folder or model here"),
    (["train", "--resume", "no/such/run"], "not a run folder"),
    (["data", "info", "imagenet"], "unknown data set"),
])
def test_user_errors_are_one_line_without_traceback(args, message, tmp_path):
    done = gradwise(*args, cwd=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_unreadable_image_and_debug_traceback(trained_run, tmp_path):
    out, _ = trained_run
    (tmp_path / "notes.png").write_text("this is not a picture")
    done = gradwise("predict", out, tmp_path / "notes.png")
    assert done.returncode == 2 and "notes.png: not an image" in done.stderr
    assert "Traceback" not in done.stderr
    debug = gradwise("--debug", "predict", out, tmp_path / "notes.png")
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_gradcheck_and_data_commands():
    assert "all passed" in gradwise("gradcheck", check=True).stdout
    assert "embedded" in gradwise("data", "list", check=True).stdout
    assert "[500, 500" in gradwise("data", "info", "mnist-mini", check=True).stdout


def wait_for(predicate, timeout=180):
    start = time.time()
    while not predicate():
        if time.time() - start > timeout:
            raise TimeoutError
        time.sleep(0.02)


def test_sigkill_then_resume_gives_the_same_weights_as_an_uninterrupted_run(tmp_path):
    args = [*FAST, "--arch", "784-128-64-10", "--epochs", "6", "--no-plots", "--seed", "3"]
    gradwise("train", *args, "--out", tmp_path / "full", check=True)

    killed = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "gradwise.cli", "train", *args, "--out", str(killed)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    wait_for(lambda: lines.append(proc.stdout.readline()) or "epoch 2/6" in lines[-1])
    proc.send_signal(signal.SIGKILL)                          # mid-epoch 3, no chance to clean up
    proc.wait()
    assert proc.returncode == -signal.SIGKILL and not (killed / "model.npz").exists()
    done = gradwise("train", "--resume", killed, check=True)
    assert "resuming" in done.stdout and "epoch 6/6" in done.stdout

    a = gw.Sequential.load(tmp_path / "full" / "model")
    b = gw.Sequential.load(killed / "model")
    for p, q in zip(a.params, b.params):
        np.testing.assert_array_equal(p, q)
    ha = json.loads((tmp_path / "full" / "metrics.json").read_text())["history"]["loss"]
    hb = json.loads((killed / "metrics.json").read_text())["history"]["loss"]
    assert ha == hb


def test_ctrl_c_stops_after_the_batch_and_keeps_the_checkpoint(tmp_path):
    out = tmp_path / "interrupted"
    proc = subprocess.Popen([sys.executable, "-m", "gradwise.cli", "train", *FAST, "--arch",
                             "784-256-256-10", "--epochs", "50", "--no-plots", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    wait_for(lambda: lines.append(proc.stdout.readline()) or "epoch 1/50" in lines[-1])
    proc.send_signal(signal.SIGINT)
    stdout, _ = proc.communicate(timeout=180)
    assert proc.returncode == 130
    assert "continue with gradwise train --resume" in stdout
    assert (out / "checkpoint.npz").exists() and not (out / "model.npz").exists()
    from gradwise.checkpoint import load_checkpoint
    assert load_checkpoint(out / "checkpoint.npz")["epoch"] >= 0


@pytest.mark.parametrize("preset", ["cnn", "lenet5"])
def test_cnn_presets_train_evaluate_and_predict(preset, tmp_path):
    out = tmp_path / preset
    done = gradwise("train", "--data", "mnist-mini", "--model", preset, "--epochs", "1", "--batch-size",
                    "64", "--augment", "--quiet", "--out", out, check=True)
    assert "Conv2D" in done.stdout and "test accuracy" in done.stdout
    assert (out / "first_layer_weights.png").exists()
    assert "accuracy" in gradwise("evaluate", out, check=True).stdout
    seven = draw_digit(tmp_path / "seven.png", "7")
    result = json.loads(gradwise("predict", out, seven, "--json", check=True).stdout)
    assert len(result[0]["top"]) == 3


def test_augment_is_reproducible_and_keeps_shapes(rng):
    from gradwise.augment import Augment
    x = rng.random((4, 784)).astype(np.float32)
    a, b = Augment()(x, np.random.default_rng(3)), Augment()(x, np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    assert a.shape == x.shape and a.dtype == np.float32 and not np.array_equal(a, x)
    np.testing.assert_allclose(Augment(0, 0, 0)(x, rng), x)
    images = rng.random((2, 1, 28, 28)).astype(np.float32)
    assert Augment()(images, rng).shape == (2, 1, 28, 28)
    with pytest.raises(ValueError, match="not \\(28, 28\\) images"):
        Augment()(np.zeros((2, 100), np.float32), rng)


def test_augment_flip_mirrors_about_half_the_images(rng):
    from gradwise.augment import Augment
    x = rng.random((200, 1, 28, 28)).astype(np.float32)
    out = Augment(0, 0, 0, flip=True)(x, np.random.default_rng(0))
    mirrored = np.array([np.allclose(o, i[..., ::-1], atol=1e-5) for o, i in zip(out, x)])
    same = np.array([np.allclose(o, i, atol=1e-5) for o, i in zip(out, x)])
    assert np.all(mirrored ^ same) and 70 < mirrored.sum() < 130
    assert Augment.for_data("fashion-mnist").flip and not Augment.for_data("mnist").flip
