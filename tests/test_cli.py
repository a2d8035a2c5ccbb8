"""The command line, run in-process on a tiny MNIST-shaped set written by the test."""

import json
import subprocess
import sys

import numpy as np
import pytest

import gradwise as gw
from gradwise import cli
from gradwise.train import make_schedule, parse_arch

from test_idx import fake_set


@pytest.fixture
def tiny_mnist(tmp_path, monkeypatch, rng):
    fake_set(tmp_path, monkeypatch, rng)
    monkeypatch.setenv("GRADWISE_DATA", str(tmp_path))
    return tmp_path


def test_train_writes_a_complete_run_folder(tiny_mnist, tmp_path, capsys):
    out = tmp_path / "run"
    code = cli.main(["train", "--arch", "784-16-10", "--epochs", "2", "--batch-size", "8",
                     "--val-split", "0.25", "--out", str(out), "--quiet", "--no-plots"])
    assert code == 0
    text = capsys.readouterr().out
    assert "epoch 2/2" in text and "test accuracy" in text and str(out) in text
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint.npz", "config.toml", "metrics.json",
                                                     "model.json", "model.npz"]
    result = json.loads((out / "metrics.json").read_text())
    assert len(result["history"]["loss"]) == 2
    assert np.array(result["test"]["confusion_matrix"]).sum() == 6
    model = gw.Sequential.load(out / "model")
    assert model.meta["classes"][0] == "0" and model.meta["preprocessing"]["flatten"]


def test_config_file_and_flags_override_it(tiny_mnist, tmp_path):
    (tmp_path / "c.toml").write_text('arch = "784-8-10"\nepochs = 1\nbatch_size = 4\nlr = 0.01\n')
    out = tmp_path / "run"
    assert cli.main(["train", "--config", str(tmp_path / "c.toml"), "--lr", "0.02", "--out",
                     str(out), "--quiet"]) == 0
    saved = (out / "config.toml").read_text()
    assert 'arch = "784-8-10"' in saved and "lr = 0.02" in saved
    # the saved config.toml reruns the same training
    assert cli.main(["train", "--config", str(out / "config.toml"), "--out", str(tmp_path / "again"),
                     "--quiet"]) == 0


@pytest.mark.parametrize("argv,message", [
    (["--arch", "784-abc-10"], "e.g. 784-256-128-10"),
    (["--arch", "100-10"], "first size must be the input size of mnist, 784"),
    (["--arch", "784-32-9"], "number of classes of mnist, 10"),
    (["--opt", "adagrad"], "choose one of sgd, rmsprop, adam, adamw"),
    (["--schedule", "linear"], "step:EVERY:FACTOR"),
    (["--act", "gelu"], "choose one of relu"),
    (["--data", "cifar"], "unknown data set"),
    (["--config", "/nonexistent.toml"], "no such file"),
    # found by tests/test_fuzz_cli.py: each was a traceback, a silent run or a message
    # that named no flag
    (["--arch", "784-99999999999-10"], "--arch '784-99999999999-10': a layer of 99,999,999,999 units"),
    (["--arch", "784-100000-100000-10"], "makes 10,079,400,000 weights (37.5 GiB as float32)"),
    (["--lr", "nan"], "--lr must be a finite number; got nan"),
    (["--weight-decay", "inf"], "--weight-decay must be a finite number; got inf"),
    (["--schedule", "warmup:nan"], "LinearWarmup: epochs must be finite"),
    (["--schedule", "step:1:nan"], "factor a finite number > 0; got 1, nan"),
    (["--init", "HE_NORMAL"], "--init 'HE_NORMAL': choose one of he_normal"),
    (["--val-split", "0.99"], "--val-split 0.99 of the 20 training samples of mnist holds out 20, "
                              "leaving none to train on"),
    (["--config", "/"], "--config /: is a folder, not a TOML file"),
])
def test_bad_input_is_one_clear_line(tiny_mnist, tmp_path, argv, message, capsys):
    code = cli.main(["train", "--epochs", "1", "--out", str(tmp_path / "r"), "--quiet", *argv])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err


def test_a_refused_setting_leaves_no_run_folder(tiny_mnist, tmp_path, capsys):
    """--val-split is checked against the data's size before the run folder is made (it was
    a ZeroDivisionError in fit, after config.toml was written)."""
    out = tmp_path / "r"
    assert cli.main(["train", "--val-split", "0.99", "--out", str(out), "--quiet"]) == 2
    assert not out.exists() and "Traceback" not in capsys.readouterr().err


def test_a_config_file_nested_deeply_or_huge_is_one_clear_line(tmp_path, capsys):
    """tomllib recurses once per bracket: 5,000 of them were a RecursionError traceback."""
    deep, huge = tmp_path / "deep.toml", tmp_path / "huge.toml"
    deep.write_text("a = " + "[" * 5000 + "]" * 5000)
    huge.write_bytes(b"# " + b"x" * (1 << 21))
    assert cli.main(["train", "--config", str(deep)]) == 2
    assert f"--config {deep}: not valid TOML (nested too deeply" in capsys.readouterr().err
    assert cli.main(["train", "--config", str(huge)]) == 2
    assert "larger than the 1,048,576 bytes a config file may have" in capsys.readouterr().err


def test_doctor_subset_below_zero_names_the_flag(capsys):
    assert cli.main(["doctor", "--data", "xor", "--subset", "-1"]) == 2
    assert capsys.readouterr().err == "gradwise doctor: error: --subset must be >= 0 (0: all the samples); got -1\n"


def test_running_out_of_memory_is_one_line(monkeypatch, capsys):
    def no_memory(*args, **kwargs):
        raise MemoryError("Unable to allocate 74.5 GiB for an array with shape (100000, 100000)")
    monkeypatch.setattr("gradwise.train.run", no_memory)
    assert cli.main(["train", "--data", "xor"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("gradwise train: error: not enough memory (Unable to allocate 74.5 GiB")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_a_run_whose_validation_output_overflows_has_diverged(tmp_path, capsys):
    """After one step at lr 4e11 the validation outputs are inf: that was the loss's ValueError
    and status 2 (bad usage); it is a diverged run, status 1, with the fix."""
    argv = ["train", "--data", "xor", "--epochs", "1", "--lr", "406335193088.0", "--quiet",
            "--no-plots", "--out", str(tmp_path / "r")]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert "became NaN/inf at the validation after epoch 1" in err and "Lower the learning rate" in err


def test_unknown_config_key_is_named(tmp_path, capsys):
    (tmp_path / "c.toml").write_text("epochz = 3\n")
    assert cli.main(["train", "--config", str(tmp_path / "c.toml")]) == 2
    assert "unknown setting(s) epochz" in capsys.readouterr().err


def test_gradcheck_command_prints_a_passing_table(capsys):
    assert cli.main(["gradcheck"]) == 0
    out = capsys.readouterr().out
    assert "SoftmaxCrossEntropy" in out and "all passed" in out and "FAIL" not in out


def test_console_script_help():
    done = subprocess.run([sys.executable, "-m", "gradwise.cli", "--help"], capture_output=True,
                          text=True, check=True)
    assert "train" in done.stdout and "gradcheck" in done.stdout


def test_arch_and_schedule_parsing():
    assert parse_arch("784-256-10") == [784, 256, 10]
    assert make_schedule("none", 5) is None
    assert make_schedule("step:3:10", 9)(3) == pytest.approx(0.1)
    assert make_schedule("exp:0.5", 9)(2) == 0.25
    assert make_schedule("warmup:1+cosine", 5)(0.5) == pytest.approx(0.505)


def test_data_commands(tiny_mnist, capsys):
    assert cli.main(["data", "verify", "mnist"]) == 0
    assert "OK, every file matches" in capsys.readouterr().out
    assert cli.main(["data", "info", "mnist-mini"]) == 0
    out = capsys.readouterr().out
    assert "(5000, 28, 28)" in out and "[500, 500" in out
    assert cli.main(["data", "list"]) == 0
    out = capsys.readouterr().out
    assert "mnist-mini" in out and "embedded" in out and "cache folder" in out
    assert cli.main(["data", "verify", "fashion-mnist"]) == 2
    assert "not found" in capsys.readouterr().err


def test_doctor_honours_the_config_files_epochs(tmp_path, monkeypatch, capsys):
    """The doctor's short default (2 epochs) sits under a config file, flags over both."""
    seen = []

    def record_and_stop(cfg):
        seen.append(cfg.epochs)
        raise ValueError("stop before loading data")
    monkeypatch.setattr("gradwise.train.prepare", record_and_stop)
    (tmp_path / "c.toml").write_text("epochs = 5\n")
    cli.main(["doctor", "--config", str(tmp_path / "c.toml")])
    cli.main(["doctor", "--config", str(tmp_path / "c.toml"), "--epochs", "7"])
    cli.main(["doctor"])
    assert seen == [5, 7, 2]


@pytest.mark.parametrize("argv, message", [
    (["--out", "x"], "--out is a gradwise train setting: the doctor writes no run folder"),
    (["--augment"], "--augment is a gradwise train setting"),
    (["--early-stopping", "2"], "--early-stopping is a gradwise train setting"),
    (["--model", "char-lstm", "--val-split", "0.1"], "--val-split is a gradwise train setting"),
])
def test_doctor_refuses_the_train_settings_its_run_would_ignore(argv, message, capsys):
    assert cli.main(["doctor", "--data", "xor", *argv]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--resume", "--no-plots", "--quiet"])
def test_doctor_has_no_run_folder_flags(flag, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["doctor", flag])
    assert exit_.value.code == 2 and f"unrecognized arguments: {flag}" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["serve", "--port=--"], ["doctor", "--subset=--"],
                                  ["train", "--epochs=--"], ["sample", "x", "--length=--"]])
def test_an_option_given_only_a_double_dash_is_a_usage_error(argv, capsys):
    """argparse hands "--flag=--" over as [] whatever the flag's type; serve crashed on it."""
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    flag = argv[-1].split("=")[0]
    assert exit_.value.code == 2 and f"gradwise: error: {flag} needs a value" in capsys.readouterr().err
