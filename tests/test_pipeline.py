"""One training pipeline (train.prepare / train.build) for `gradwise train`, `gradwise doctor`
and the web page; every setting takes effect or is refused; resumed runs stay what they were."""

import inspect
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import gradwise as gw
from gradwise import cli, train
from gradwise.errors import SettingError
from gradwise.train import TrainConfig


def gradwise(*args, check=False, timeout=300):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    done = subprocess.run([sys.executable, "-m", "gradwise.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=env)
    if check and done.returncode != 0:
        raise AssertionError(f"exit {done.returncode}\n{done.stdout}\n{done.stderr}")
    return done


def test_fit_reads_as_the_training_step():
    lines = inspect.getsource(gw.Sequential.fit).splitlines()
    assert len(lines) <= 60, f"Sequential.fit has {len(lines)} lines"
    step = inspect.getsource(gw.Sequential.train_step)
    for line in ("self.forward(xb, training=True)", "self.backward(self.loss.backward())",
                 "self.optimizer.step(self.params, self.grads)"):
        assert line in step


def test_fit_takes_no_type_checks_and_leaves_malloc_alone():
    source = inspect.getsource(gw.model)
    assert "isinstance(layer, Dropout)" not in source and "hasattr(" not in source
    assert "keep_freed_memory" not in source


def test_first_layer_skips_its_input_gradient_only_while_training(rng):
    model = gw.mlp([4, 8, 2], seed=0)
    seen = []
    model.fit(rng.normal(size=(16, 4)), rng.integers(0, 2, 16), epochs=1, verbose=0,
              callbacks=[gw.LambdaCallback(on_batch_end=lambda b, logs: seen.append(
                  model.layers[0].needs_input_grad))])
    assert seen and not any(seen)
    assert model.layers[0].needs_input_grad


@pytest.mark.parametrize("changes,field,words", [
    ({"model": "mlp-large", "arch": "784-32-10"}, "arch", "no use to model mlp-large"),
    ({"model": "cnn", "act": "tanh"}, "act", "no use to model cnn"),
    ({"model": "lenet5", "dropout": 0.3}, "dropout", "no use to model lenet5"),
    ({"model": "mlp", "batchnorm": True}, "batchnorm", "image networks"),
    ({"opt": "adam", "momentum": 0.5}, "momentum", "no use to adam"),
])
def test_settings_of_no_use_are_refused_by_name(changes, field, words):
    with pytest.raises(SettingError, match=words) as e:
        train.build_model(TrainConfig(**changes), 784, 10)
        train.make_optimizer(TrainConfig(**changes))
    assert e.value.field == field


@pytest.mark.parametrize("changes,field", [
    ({"epochs": "ten"}, "epochs"), ({"epochs": 0}, "epochs"), ({"batch_size": 0}, "batch_size"),
    ({"seed": -1}, "seed"), ({"val_split": 1.0}, "val_split"), ({"lr": 0}, "lr"),
    ({"loss": "hinge"}, "loss"), ({"augment": "yes"}, "augment"),
    ({"early_stopping": 3, "val_split": 0.0}, "early_stopping"),
])
def test_config_check_names_the_setting(changes, field):
    with pytest.raises(SettingError) as e:
        TrainConfig(**changes).check()
    assert e.value.field == field


def test_the_cli_shows_a_setting_as_its_flag(tmp_path, capsys):
    assert cli.main(["train", "--batch-size", "0", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "--batch-size must be >= 1" in err
    assert not (tmp_path / "r").exists()                 # refused before any file was made


def test_init_reaches_the_image_presets():
    he = train.build_model(TrainConfig(model="cnn"), 784, 10)
    uniform = train.build_model(TrainConfig(model="cnn", init="uniform01"), 784, 10)
    W = uniform.layers[0].params["W"]
    assert W.min() >= 0 and W.max() <= 1 and not np.array_equal(W, he.layers[0].params["W"])


def test_default_mlp_is_the_784_256_128_10_network():
    model = train.build_model(TrainConfig(), 784, 10)
    assert [l.params["W"].shape for l in model.layers if "W" in l.params] == [(784, 256), (256, 128), (128, 10)]
    assert not any(isinstance(l, gw.Dropout) for l in model.layers)      # none by default for mlp
    large = train.build_model(TrainConfig(model="mlp-large"), 784, 10)
    assert sum(isinstance(l, gw.Dropout) for l in large.layers) == 2


def test_prepare_and_build_share_one_preprocessing():
    prepared, pre = train.prepare(TrainConfig(data="mnist-mini", model="cnn"))
    assert prepared.X_train.shape[1:] == (1, 28, 28) and pre.input_shape == (1, 28, 28)
    assert prepared.X_train.max() <= 1.0 and prepared.meta(pre)["preprocessing"]["scale"] == "pixels / 255"
    raw = prepared.prepared_as(train.Preprocessing("none", flatten=True))
    assert raw.X_train.shape[1:] == (784,) and raw.X_train.max() > 1


def test_a_run_trains_from_the_stored_pixels_and_never_makes_the_scaled_training_set(tmp_path, monkeypatch):
    """run() scales each batch as it is drawn (fit's transform), so the float32 copy of the
    training images (188 MB for MNIST) is never made; asked for, it is the same numbers."""
    made = []
    real = train.TrainingData.X_train.func
    monkeypatch.setattr(train.TrainingData, "X_train", property(lambda self: made.append(1) or real(self)))
    result = train.run(TrainConfig(data="mnist-mini", epochs=1, out=str(tmp_path / "r")), plot=False,
                       verbose=0)
    assert made == [] and result["test"]["accuracy"] > 0.2
    prepared, pre = train.prepare(TrainConfig(data="mnist-mini"))
    assert np.array_equal(prepared.X_train, pre.apply(prepared.train_images)) and made == [1]


def test_resume_refuses_flags_that_change_the_model_and_keeps_its_config(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", "--data", "mnist-mini", "--arch", "784-16-10", "--epochs", "1", "--quiet",
            "--no-plots", "--out", str(out)]
    assert cli.main(args) == 0
    before = (out / "config.toml").read_bytes()
    capsys.readouterr()
    assert cli.main(["train", "--resume", str(out), "--arch", "784-32-10"]) == 2
    err = capsys.readouterr().err
    assert "--arch" in err and "784-16-10" in err and "784-32-10" in err
    assert (out / "config.toml").read_bytes() == before


@pytest.mark.slow
def test_a_batchnorm_cnn_killed_after_an_epoch_resumes_to_the_same_weights(tmp_path):
    """The checkpoint holds BatchNorm's running statistics as Sequential.save does (one
    serialiser): SIGKILL after epoch 1, --resume, identical state to an uninterrupted run."""
    args = ["--data", "mnist-mini", "--model", "cnn", "--batchnorm", "--epochs", "3",
            "--batch-size", "128", "--no-plots", "--quiet", "--seed", "1"]
    gradwise("train", *args, "--out", tmp_path / "full", check=True)

    killed = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "gradwise.cli", "train", *args, "--out", str(killed)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONUNBUFFERED="1"))
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and "epoch 1/3" not in proc.stdout.readline():
        pass
    proc.send_signal(signal.SIGKILL)                       # during epoch 2: no chance to clean up
    proc.wait()
    assert not (killed / "model.npz").exists()
    done = gradwise("train", "--resume", killed, check=True)
    assert "resuming" in done.stdout and "epoch 3/3" in done.stdout

    a = gw.Sequential.load(tmp_path / "full" / "model").state_dict()
    b = gw.Sequential.load(killed / "model").state_dict()
    assert "1.running_mean" in a and a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    history = [json.loads((d / "metrics.json").read_text())["history"]["loss"] for d in (tmp_path / "full", killed)]
    assert history[0] == history[1]
