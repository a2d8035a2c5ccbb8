"""The main job: train a classifier on an image data set and keep everything in a run folder.

``gradwise train`` is a thin shell over ``run(TrainConfig(...))``. Every field of
TrainConfig is a command-line flag of the same name (``batch_size`` -> ``--batch-size``).
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from pathlib import Path

import numpy as np

from . import __version__, data, metrics
from .fileio import atomic_write_bytes
from .model import ACTIVATIONS, Sequential, mlp
from .optim import OPTIMIZERS, CosineDecay, ExponentialDecay, LinearWarmup, StepDecay


@dataclass
class TrainConfig:
    data: str = "mnist"              # data set name: mnist, fashion-mnist
    data_dir: str | None = None      # folder holding DATA/ (default: $GRADWISE_DATA)
    arch: str = "784-256-128-10"     # layer sizes, input first, classes last
    act: str = "relu"                # hidden activation: relu, leaky_relu, tanh, sigmoid
    init: str = "he_normal"          # weight initialiser (see gradwise.init)
    opt: str = "adam"                # optimiser: sgd, rmsprop, adam, adamw
    lr: float = 1e-3                 # base learning rate
    momentum: float = 0.9            # SGD / RMSprop momentum (ignored by Adam)
    weight_decay: float = 0.0        # L2 penalty (decoupled for adamw)
    schedule: str = "cosine"         # none, cosine, step:EVERY:FACTOR, exp:GAMMA, warmup:EPOCHS[+cosine]
    dropout: float = 0.2             # dropout rate after each hidden layer (0 = off)
    epochs: int = 10                 # passes over the training set
    batch_size: int = 128            # samples per step
    val_split: float = 5000 / 60000  # share of the training set held out for validation
    seed: int = 0                    # seeds init, shuffling, split and dropout
    out: str | None = None           # run folder (default: runs/DATA-YYYYmmdd-HHMMSS)


def parse_arch(arch: str) -> list[int]:
    """'784-256-10' -> [784, 256, 10], with a message that shows a good example on error."""
    try:
        sizes = [int(part) for part in arch.replace(",", "-").split("-")]
    except ValueError:
        sizes = []
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"--arch {arch!r}: expected layer sizes joined by '-', input first and "
                         f"classes last, e.g. 784-256-128-10")
    return sizes


def make_schedule(spec: str, epochs: int):
    """Parse --schedule: none | cosine | step:EVERY:FACTOR | exp:GAMMA | warmup:EPOCHS[+cosine]."""
    spec = spec.strip().lower()
    try:
        if spec in ("", "none", "constant"):
            return None
        if spec == "cosine":
            return CosineDecay(epochs)
        kind, _, rest = spec.partition(":")
        if kind == "step":
            every, _, factor = rest.partition(":")
            return StepDecay(int(every), float(factor or 10))
        if kind == "exp":
            return ExponentialDecay(float(rest))
        if kind == "warmup":
            warm, _, then = rest.partition("+")
            warm = float(warm)
            return LinearWarmup(warm, then=CosineDecay(max(epochs - warm, 1)) if then == "cosine" else None)
    except ValueError as e:
        raise ValueError(f"--schedule {spec!r}: {e}") from None
    raise ValueError(f"--schedule {spec!r}: use none, cosine, step:EVERY:FACTOR (e.g. step:3:10), "
                     f"exp:GAMMA (e.g. exp:0.9) or warmup:EPOCHS[+cosine]")


def make_optimizer(cfg: TrainConfig):
    if cfg.opt not in OPTIMIZERS:
        raise ValueError(f"--opt {cfg.opt!r}: choose one of {', '.join(OPTIMIZERS)}")
    schedule = make_schedule(cfg.schedule, cfg.epochs)
    kwargs = {"weight_decay": cfg.weight_decay, "schedule": schedule}
    if cfg.opt in ("sgd", "rmsprop"):
        kwargs["momentum"] = cfg.momentum
    return OPTIMIZERS[cfg.opt](cfg.lr, **kwargs)


def build_model(cfg: TrainConfig, n_inputs: int, n_classes: int) -> Sequential:
    sizes = parse_arch(cfg.arch)
    if sizes[0] != n_inputs:
        raise ValueError(f"--arch {cfg.arch}: the first size must be the input size of {cfg.data}, "
                         f"{n_inputs}; got {sizes[0]}")
    if sizes[-1] != n_classes:
        raise ValueError(f"--arch {cfg.arch}: the last size must be the number of classes of "
                         f"{cfg.data}, {n_classes}; got {sizes[-1]}")
    if cfg.act not in ACTIVATIONS:
        raise ValueError(f"--act {cfg.act!r}: choose one of {', '.join(ACTIVATIONS)}")
    return mlp(sizes, activation=cfg.act, init=cfg.init, dropout=cfg.dropout, seed=cfg.seed)


def to_toml(values: dict) -> str:
    """A flat dict of str/int/float/bool/None as TOML (None values are left out)."""
    lines = []
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (int, float)):
            text = repr(value)
        else:
            text = json.dumps(str(value))            # a JSON string is a valid TOML basic string
        lines.append(f"{key} = {text}")
    return "\n".join(lines) + "\n"


def load_config(path: str | Path, overrides: dict | None = None) -> TrainConfig:
    """Read a TOML file of TrainConfig fields; ``overrides`` (from flags) win."""
    try:
        import tomllib
    except ModuleNotFoundError:                     # Python 3.10
        import tomli as tomllib
    path = Path(path)
    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"--config {path}: no such file") from None
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"--config {path}: not valid TOML ({e})") from None
    known = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"--config {path}: unknown setting(s) {', '.join(unknown)}; known: "
                         f"{', '.join(sorted(known))}")
    values.update(overrides or {})
    return TrainConfig(**values)


def run(cfg: TrainConfig, *, verbose: int = 1, log=print) -> dict:
    """Train as ``cfg`` says; write the run folder; return the final metrics."""
    ds = data.load(cfg.data, data_dir=cfg.data_dir)
    X_train, X_test = data.scale_pixels(ds.X_train), data.scale_pixels(ds.X_test)
    y_train, y_test = ds.y_train.astype(np.intp), ds.y_test.astype(np.intp)
    model = build_model(cfg, X_train.shape[1], len(ds.classes))
    optimizer = make_optimizer(cfg)
    out = Path(cfg.out or f"runs/{cfg.data}-{datetime.now():%Y%m%d-%H%M%S}")
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out / "config.toml", to_toml(asdict(cfg)).encode())
    log(f"gradwise {__version__}: {cfg.data} ({len(X_train):,} train / {len(X_test):,} test, "
        f"from {ds.source}) -> {out}")
    log(model.summary())
    start = time.perf_counter()
    history = model.fit(X_train, y_train, epochs=cfg.epochs, batch_size=cfg.batch_size,
                        optimizer=optimizer, validation_split=cfg.val_split, seed=cfg.seed,
                        verbose=verbose)
    seconds = time.perf_counter() - start
    predicted = model.predict(X_test)
    test = model.evaluate(X_test, y_test)
    report = metrics.precision_recall_f1(y_test, predicted, len(ds.classes))
    model.meta = {"data": cfg.data, "classes": list(ds.classes),
                  "preprocessing": {"scale": "pixels / 255", "flatten": True,
                                    "input_shape": list(ds.X_train.shape[1:])}}
    model.save(out / "model")
    result = {
        "gradwise_version": __version__,
        "config": asdict(cfg),
        "history": history.to_dict(),
        "train_seconds": seconds,
        "test": {"loss": test["loss"], "accuracy": test["accuracy"],
                 "per_class": {k: v.tolist() for k, v in report.items()},
                 "confusion_matrix": metrics.confusion_matrix(y_test, predicted,
                                                              len(ds.classes)).tolist()},
    }
    atomic_write_bytes(out / "metrics.json", json.dumps(result, indent=2).encode())
    log(f"test accuracy {100 * test['accuracy']:.2f}%  loss {test['loss']:.4f}  "
        f"({cfg.epochs} epochs, {seconds:.1f}s); run saved in {out}/")
    return result


def stderr(message: str) -> None:
    print(message, file=sys.stderr)
