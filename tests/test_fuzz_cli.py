"""Generated command lines and config files (issue #16): every one ends cleanly.

The property: ``gradwise.cli.main(argv)`` returns 0, 1 or 2 (or argparse exits with 2),
never raises, never prints a traceback, and ends within a few seconds; a refused input
(status 2) says so in one line naming the flag or the file, after at most argparse's
usage block, and leaves no run folder behind.

Training stays tiny: the data sets are the toy ones (xor: 4 samples, spirals, blobs,
gates) and a valid ``--epochs`` is at most 2; everything else is generated freely. The
CLI is called in-process with the NumPy error state a user's process has (warnings, not
conftest's ``raise``), so what is tested is what a user sees.

Measured with ``--hypothesis-show-statistics`` (2 cores): 480 command lines and
config files (6 tests x 80, plus 8 explicit examples) in about 20 s, 0 tracebacks.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gradwise import cli

SECONDS = 20                     # a generous bound for one call (a call takes ~0.05-1 s)
FUZZ = settings(max_examples=80, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
TOY_DATA = ["xor", "and", "nand", "spirals", "blobs", "0110"]
BASE = ["--data", "xor", "--epochs", "1", "--quiet", "--no-plots"]
DOCTOR_BASE = ["--data", "xor", "--epochs", "1"]       # the doctor has no run folder, no plots


def call(argv: list[str]) -> tuple[int, str, str]:
    """(status, stdout, stderr) of ``gradwise ARGV``, as a user's shell would see them."""
    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            np.errstate(divide="warn", over="warn", invalid="warn", under="ignore"):
        try:
            code = cli.main(argv)
        except SystemExit as e:                     # argparse: --help, a malformed flag
            code = e.code if isinstance(e.code, int) else 2
    seconds = time.perf_counter() - start
    assert seconds < SECONDS, f"gradwise {argv} took {seconds:.1f} s"
    return code, out.getvalue(), err.getvalue()


def assert_clean(argv: list[str], code: int, err: str, out_dir: Path | None = None,
                 names: tuple[str, ...] = ()) -> None:
    """Status 0/1/2, no traceback; a refusal is one error line (after argparse's usage)
    naming one of ``names``, and leaves no run folder."""
    assert code in (0, 1, 2), (argv, code, err)
    assert "Traceback" not in err, (argv, err)
    if code == 0:
        return
    lines = [line for line in err.split("\n") if line.strip()]
    errors = [line for line in lines if ": error: " in line]
    if code == 1 and not errors:                    # the doctor found problems: its report
        return
    assert len(errors) == 1, (argv, err)
    if lines[0].startswith("usage: "):            # argparse: usage block, then the error
        assert lines[-1] == errors[0], (argv, err)
    else:
        assert errors[0] in lines[-2:], (argv, err)
    if names and code == 2:
        assert any(name in errors[0] for name in names), (argv, errors[0])
    if code == 2 and out_dir is not None:
        assert not out_dir.exists() or not any(out_dir.iterdir()), \
            (argv, errors[0], sorted(p.name for p in out_dir.iterdir()))


# ----------------------------------------------------------------------------- values

def numbers_as_text() -> st.SearchStrategy[str]:
    """What a user might type for a number: in range or not, NaN, inf, huge, not a number."""
    return st.one_of(
        st.integers(-10**6, 10**6).map(str),
        st.integers().map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.sampled_from(["nan", "-nan", "inf", "-inf", "Infinity", "1e400", "-1e400", "1e-400",
                         "0", "-0", "0.0", "1", "2", "0.5", "0.999999", "1.0", "1e308", "", " ",
                         "1_000", "0x10", "1,5", "ten", "None", "--", "-1", "4294967296"]),
        st.text(max_size=12),
    )


def epochs_text() -> st.SearchStrategy[str]:
    """--epochs: anything but a valid count above 2 (a long run is a valid request)."""
    return numbers_as_text().filter(lambda s: not (_as_int(s) is not None and _as_int(s) > 2))


def _as_int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def sizes() -> st.SearchStrategy[str]:
    """A layer size: small, zero or negative, beyond any memory, or not a number."""
    return st.one_of(st.integers(-3, 40).map(str), st.integers(10**7, 10**30).map(str),
                     st.sampled_from(["", "x", "1.5", "nan", " 3", "٣"]))


def arch() -> st.SearchStrategy[str]:
    return st.one_of(
        st.lists(sizes(), min_size=0, max_size=5).map("-".join),
        st.lists(sizes(), min_size=1, max_size=3).map(lambda s: "-".join(["2", *s, "2"])),
        st.text(max_size=20),
    )


def schedule() -> st.SearchStrategy[str]:
    kind = st.sampled_from(["none", "cosine", "constant", "step", "exp", "warmup", "linear", ""])
    return st.one_of(
        st.tuples(kind, st.lists(numbers_as_text(), max_size=2)).map(
            lambda t: ":".join([t[0], *t[1]])),
        numbers_as_text().map(lambda n: f"warmup:{n}+cosine"),
        st.text(max_size=16),
    )


def choice(known: list[str]) -> st.SearchStrategy[str]:
    """One of the known names, a near miss (case, spaces), or any text."""
    return st.one_of(st.sampled_from(known), st.sampled_from(known).map(str.upper),
                     st.sampled_from(known).map(lambda s: f" {s}"), st.text(max_size=12))


FLAG_VALUES = {
    "--model": choice(["mlp", "mlp-large", "cnn", "cnn-large", "lenet5"]),
    "--opt": choice(["sgd", "rmsprop", "adam", "adamw"]),
    "--act": choice(["relu", "leaky_relu", "tanh", "sigmoid"]),
    "--init": choice(["he_normal", "he_uniform", "glorot_normal", "glorot_uniform", "lecun_normal",
                      "uniform01", "normal01", "zeros"]),
    "--loss": choice(["cross_entropy", "mse"]),
    "--data": choice(TOY_DATA + ["cifar", "mnist_mini"]),
    "--schedule": schedule(),
    "--arch": arch(),
    "--lr": numbers_as_text(),
    "--momentum": numbers_as_text(),
    "--weight-decay": numbers_as_text(),
    "--dropout": numbers_as_text(),
    "--val-split": numbers_as_text(),
    "--epochs": epochs_text(),
    "--batch-size": numbers_as_text(),
    "--early-stopping": numbers_as_text(),
    "--seed": numbers_as_text(),
}
SWITCHES = ["--augment", "--batchnorm", "--no-plots", "--quiet"]


def flag_and_value() -> st.SearchStrategy[tuple[str, str]]:
    return st.sampled_from(sorted(FLAG_VALUES)).flatmap(
        lambda flag: FLAG_VALUES[flag].map(lambda value: (flag, value)))


def _argv(pairs) -> list[str]:
    """Flags as a user types them: ``--lr 0.1``, or ``--lr=-1`` for a value that starts
    with a dash (argparse reads ``--lr -1`` as two flags, a usage error of its own)."""
    argv = []
    for flag, value in pairs:
        argv += [f"{flag}={value}"] if value.startswith("-") else [flag, value]
    return argv


# ----------------------------------------------------------------------------- flags

@FUZZ
@given(pair=flag_and_value())
@example(pair=("--arch", "2-99999999999-2"))
@example(pair=("--arch", "2-100000-100000-2"))
@example(pair=("--val-split", "0.9"))
@example(pair=("--lr", "nan"))
@example(pair=("--schedule", "warmup:nan"))
@example(pair=("--schedule", "step:1:nan"))
def test_one_generated_flag_ends_cleanly_and_a_refusal_names_it(pair):
    flag, value = pair
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        argv = ["train", *BASE, "--out", str(out), *_argv([pair])]
        code, _, err = call(argv)
        assert_clean(argv, code, err, out, names=(flag, "data set" if flag == "--data" else flag))


@FUZZ
@given(pairs=st.lists(flag_and_value(), min_size=2, max_size=6),
       switches=st.lists(st.sampled_from(SWITCHES), max_size=2),
       command=st.sampled_from(["train", "train", "train", "doctor"]))
def test_generated_flag_combinations_end_cleanly(pairs, switches, command):
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        if command == "doctor":                  # its run folder and plot flags are refused
            pairs = [(flag, value) for flag, value in pairs if flag.lstrip("-").replace("-", "_")
                     not in cli.NOT_FOR_THE_DOCTOR]
            switches = [s for s in switches if s == "--batchnorm"]
            argv = [command, *DOCTOR_BASE, *_argv(pairs), *switches, "--json"]
        else:
            argv = [command, *BASE, "--out", str(out), *_argv(pairs), *switches]
        code, _, err = call(argv)
        assert_clean(argv, code, err, out)


@FUZZ
@given(args=st.lists(st.one_of(st.sampled_from(["--epochs", "--lr", "--data", "-x", "--", "-",
                                                "--resume", "--config", "--help", "--version"]),
                               st.text(max_size=8)), max_size=6),
       command=st.sampled_from(["train", "doctor", "evaluate", "predict", "data", "data info",
                                "data verify", "gradcheck-x", "serve --port"]))
def test_generated_words_after_a_command_end_cleanly(args, command):
    with tempfile.TemporaryDirectory() as tmp:
        argv = [*command.split(), *args]
        if command == "train":
            argv = [*argv, *BASE, "--out", str(Path(tmp) / "run")]
        elif command == "doctor":
            argv = [*argv, *DOCTOR_BASE]
        if command == "serve --port":           # never a server: only a port it refuses
            argv = [*argv[:-1], "0", *argv[-1:]] if not args else ["serve", "--port", "0", *args]
        if "--resume" in args:
            return                              # would look for runs/ in the working folder
        code, _, err = call(argv)
        assert_clean(argv, code, err)


@FUZZ
@given(subset=numbers_as_text(), top=numbers_as_text(), pixels=numbers_as_text())
def test_doctor_and_predict_numbers_end_cleanly(subset, top, pixels, tmp_path_factory):
    tmp = tmp_path_factory.getbasetemp()
    argv = ["doctor", *DOCTOR_BASE, "--json", *_argv([("--subset", subset)])]
    code, _, err = call(argv)
    assert_clean(argv, code, err, names=("--subset",))
    argv = ["predict", str(tmp / "no-run"), str(tmp / "x.png"), *_argv([("--top", top),
                                                                       ("--max-pixels", pixels)])]
    code, _, err = call(argv)
    assert_clean(argv, code, err)


# ----------------------------------------------------------------------------- config files

FIELDS = ["data", "model", "data_dir", "arch", "act", "init", "opt", "lr", "momentum",
          "weight_decay", "schedule", "dropout", "epochs", "batch_size", "val_split",
          "early_stopping", "augment", "batchnorm", "loss", "seed", "out"]


def toml_scalar(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else "inf" if value == math.inf else "-inf" \
            if value == -math.inf else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_scalar(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_scalar(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)               # a JSON string is a TOML basic string (mostly)


scalars = st.one_of(st.integers(), st.integers(-3, 3), st.floats(), st.booleans(),
                    st.text(max_size=12), st.sampled_from(TOY_DATA + ["mlp", "cnn", "adam", "sgd",
                                                                      "relu", "cosine", "mse", "2-4-2"]))
toml_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                            st.dictionaries(st.text(max_size=4), inner,
                                                                            max_size=3)),
                           max_leaves=6)


def config_text(values: dict) -> str:
    values = dict(values)
    values.setdefault("data", "xor")       # not the default mnist: a toy set trains in a blink
    epochs = values.get("epochs")
    if isinstance(epochs, int) and not isinstance(epochs, bool) and epochs > 2:
        values["epochs"] = 2               # a long run is a valid request, not a hang
    return "".join(f"{json.dumps(k)} = {toml_scalar(v)}\n" for k, v in values.items())


@FUZZ
@given(values=st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=8)), toml_values,
                              max_size=6))
def test_generated_config_files_end_cleanly_and_a_refusal_names_the_file(values):
    with tempfile.TemporaryDirectory() as tmp:
        path, out = Path(tmp) / "c.toml", Path(tmp) / "run"
        path.write_text(config_text(values), encoding="utf-8", errors="surrogatepass")
        argv = ["train", "--config", str(path), "--quiet", "--no-plots", "--out", str(out)]
        code, _, err = call(argv)
        assert_clean(argv, code, err, out, names=(str(path), "--out"))


@FUZZ
@given(content=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode),
                         st.integers(1, 3000).map(lambda n: b"a = " + b"[" * n + b"]" * n),
                         st.integers(1, 3000).map(lambda n: b"a = " + b"{b = " * n + b"}" * n),
                         st.integers(1, 400).map(lambda n: ".".join(["k"] * n).encode() + b" = 1")))
@example(content=b"a = " + b"[" * 5000 + b"]" * 5000)
@example(content=b"\xff\xfe\x00")
def test_config_files_that_are_not_toml_end_cleanly(content):
    with tempfile.TemporaryDirectory() as tmp:
        path, out = Path(tmp) / "c.toml", Path(tmp) / "run"
        path.write_bytes(content)
        argv = ["train", "--config", str(path), *BASE, "--out", str(out)]
        code, _, err = call(argv)
        assert_clean(argv, code, err, out, names=(str(path),))
