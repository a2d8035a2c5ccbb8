"""The main job: train a classifier on an image data set and keep everything in a run folder.

``gradwise train`` is a thin shell over ``run(TrainConfig(...))``. Every field of
TrainConfig is a command-line flag of the same name (``batch_size`` -> ``--batch-size``).

A run folder holds::

    config.toml        the settings, enough to rerun it exactly (--config)
    checkpoint.npz     weights + optimiser + random state after the last finished epoch
    model.npz/.json    the final model (architecture, preprocessing, class names, version)
    metrics.json       per-epoch history, test metrics, per-class table, confusion matrix
    *.png              curves, confusion matrix, misclassified digits, first-layer weights
"""

from __future__ import annotations

import json
import signal
import time
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from pathlib import Path

import numpy as np

from . import data, metrics, plots
from .callbacks import Callback, EarlyStopping, History
from .checkpoint import Checkpoint, load_checkpoint
from .errors import GradwiseError
from .fileio import atomic_write_bytes
from .model import ACTIVATIONS, Sequential, mlp
from .optim import OPTIMIZERS, CosineDecay, ExponentialDecay, LinearWarmup, StepDecay
from .preprocess import model_input
from .version import __version__


@dataclass
class TrainConfig:
    data: str = "mnist"              # data set name: mnist, fashion-mnist, mnist-mini
    model: str = "mlp"               # preset: mlp (layers from --arch), mlp-large, cnn, cnn-large, lenet5
    data_dir: str | None = None      # folder holding DATA/ (default: $GRADWISE_DATA, then the cache)
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
    early_stopping: int = 0          # stop after N epochs without a better val_loss (0 = off)
    augment: bool = False            # random shifts, rotations and scalings of training images
    batchnorm: bool = False          # cnn: batch normalisation after each convolution (cnn-large: always)
    seed: int = 0                    # seeds init, shuffling, split and dropout
    out: str | None = None           # run folder (default: runs/DATA-YYYYmmdd-HHMMSS)


class RunError(GradwiseError, ValueError):
    """A run folder is missing or incomplete."""


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
    kwargs = {"weight_decay": cfg.weight_decay, "schedule": make_schedule(cfg.schedule, cfg.epochs)}
    if cfg.opt in ("sgd", "rmsprop"):
        kwargs["momentum"] = cfg.momentum
    return OPTIMIZERS[cfg.opt](cfg.lr, **kwargs)


PRESETS = ("mlp", "mlp-large", "cnn", "cnn-large", "lenet5")
IMAGE_PRESETS = ("cnn", "cnn-large", "lenet5")   # these take (N, 1, H, W) images, not rows


def build_model(cfg: TrainConfig, n_inputs: int, n_classes: int) -> Sequential:
    """The network a config asks for: ``--model`` preset, or ``--arch`` sizes for "mlp"."""
    if cfg.model not in PRESETS:
        raise ValueError(f"--model {cfg.model!r}: choose one of {', '.join(PRESETS)}")
    if cfg.act not in ACTIVATIONS:
        raise ValueError(f"--act {cfg.act!r}: choose one of {', '.join(ACTIVATIONS)}")
    if cfg.model == "mlp-large":
        return mlp([n_inputs, 800, 800, n_classes], activation=cfg.act, init=cfg.init,
                   dropout=cfg.dropout, seed=cfg.seed)
    if cfg.model in IMAGE_PRESETS:
        return cnn_preset(cfg.model, n_inputs, n_classes, dropout=cfg.dropout, seed=cfg.seed,
                          batchnorm=cfg.batchnorm)
    sizes = parse_arch(cfg.arch)
    if sizes[0] != n_inputs:
        raise ValueError(f"--arch {cfg.arch}: the first size must be the input size of {cfg.data}, "
                         f"{n_inputs}; got {sizes[0]}")
    if sizes[-1] != n_classes:
        raise ValueError(f"--arch {cfg.arch}: the last size must be the number of classes of "
                         f"{cfg.data}, {n_classes}; got {sizes[-1]}")
    return mlp(sizes, activation=cfg.act, init=cfg.init, dropout=cfg.dropout, seed=cfg.seed)


def cnn_preset(name: str, n_inputs: int, n_classes: int, *, dropout: float = 0.0,
               seed: int | None = 0, batchnorm: bool = False, init: str | None = None) -> Sequential:
    """The image networks, for (N, 1, H, W) input:

    cnn:       conv32-pool-conv64-pool-dense128 (3x3 kernels, 'same' padding, ReLU);
               ``batchnorm`` adds BatchNorm after each convolution.
    cnn-large: conv32-conv32-pool-conv64-conv64-pool-dense256, BatchNorm after each
               convolution (a small VGG: two 3x3 convolutions see 5x5, with one more ReLU).
    lenet5:    LeCun's 1998 net (tanh, average pooling).

    ``init`` draws every weight array with that initialiser; None keeps each preset's own
    (he_normal for the ReLU nets, glorot_uniform for lenet5).
    """
    from .conv import AvgPool2D, BatchNorm, Conv2D, MaxPool2D
    from .layers import Dense, Dropout, Flatten, ReLU, Tanh
    side = int(round(n_inputs ** 0.5))
    if side * side != n_inputs or side % 4:
        raise ValueError(f"--model {name}: needs square images with a side divisible by 4; "
                         f"got {n_inputs} inputs")
    rng = np.random.default_rng(seed)
    he, glorot = init or "he_normal", init or "glorot_uniform"

    def conv(c_in, c_out, norm):
        return [Conv2D(c_in, c_out, 3, padding=1, init=he, rng=rng), *([BatchNorm(c_out)] if norm else []),
                ReLU()]

    if name in ("cnn", "cnn-large"):
        if name == "cnn":
            layers, width = [*conv(1, 32, batchnorm), MaxPool2D(2), *conv(32, 64, batchnorm), MaxPool2D(2)], 128
        else:
            layers, width = [*conv(1, 32, True), *conv(32, 32, True), MaxPool2D(2),
                             *conv(32, 64, True), *conv(64, 64, True), MaxPool2D(2)], 256
        layers += [Flatten(), Dense(64 * (side // 4) ** 2, width, init=he, rng=rng), ReLU()]
        layers += [Dropout(dropout)] if dropout else []
        return Sequential(layers + [Dense(width, n_classes, init=he, rng=rng)])
    last = (side // 2 - 4) // 2                                 # 28 -> 14 -> 10 -> 5
    return Sequential([Conv2D(1, 6, 5, padding=2, init=glorot, rng=rng), Tanh(), AvgPool2D(2),
                       Conv2D(6, 16, 5, init=glorot, rng=rng), Tanh(), AvgPool2D(2), Flatten(),
                       Dense(16 * last * last, 120, init=glorot, rng=rng), Tanh(),
                       Dense(120, 84, init=glorot, rng=rng), Tanh(),
                       Dense(84, n_classes, init=glorot, rng=rng)])


# ----------------------------------------------------------------------------- config files

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


def load_config(path: str | Path, overrides: dict | None = None,
                defaults: dict | None = None) -> TrainConfig:
    """Read a TOML file of TrainConfig fields: ``overrides`` (from flags) win over the file,
    the file wins over ``defaults``."""
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
    return TrainConfig(**{**(defaults or {}), **values, **(overrides or {})})


# ----------------------------------------------------------------------------- data

def prepare(cfg: TrainConfig):
    """Load the data set and turn it into model input, as the saved model will record it."""
    ds = data.load(cfg.data, data_dir=cfg.data_dir)
    images = cfg.model in IMAGE_PRESETS
    meta = {"data": ds.name, "classes": list(ds.classes),
            "preprocessing": {"scale": "pixels / 255", "flatten": not images,
                              "input_shape": ([1] if images else []) + list(ds.X_train.shape[1:])}}
    X_train, X_test = model_input(ds.X_train, meta), model_input(ds.X_test, meta)
    return ds, meta, X_train, ds.y_train.astype(np.intp), X_test, ds.y_test.astype(np.intp)


def latest_run(root: Path = Path("runs")) -> Path:
    """The most recently changed run folder that holds a checkpoint."""
    runs = sorted((p.parent for p in root.glob("*/checkpoint.npz")), key=lambda p: p.stat().st_mtime)
    if not runs:
        raise RunError(f"no run to resume in {root}/ (pass the run folder: --resume runs/NAME)")
    return runs[-1]


class StopOnCtrlC(Callback):
    """First Ctrl-C: finish the current batch, keep the last checkpoint, stop. Second: abort."""

    def on_train_begin(self, logs):
        self.pressed = False

        def handler(signum, frame):
            if self.pressed:
                raise KeyboardInterrupt
            self.pressed = True
            self.model.stop_training = True
            print("\nstopping after this batch (Ctrl-C again to abort now)...", flush=True)
        try:
            self._previous = signal.signal(signal.SIGINT, handler)
        except ValueError:                       # not the main thread: leave Ctrl-C alone
            self._previous = None

    def on_train_end(self, logs):
        self.restore()

    def restore(self):
        if getattr(self, "_previous", None) is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None


# ----------------------------------------------------------------------------- the run

def run(cfg: TrainConfig, *, resume: str | Path | None = None, plot: bool = True,
        verbose: int = 1, log=print) -> dict:
    """Train as ``cfg`` says (or continue the run folder ``resume``); write the run folder;
    return the final metrics (or {"interrupted": True, ...} after Ctrl-C)."""
    if resume is not None:
        out = Path(resume)
        if not (out / "config.toml").is_file():
            raise RunError(f"{out}: not a run folder (no config.toml); nothing to resume")
    else:
        out = Path(cfg.out or f"runs/{cfg.data}-{datetime.now():%Y%m%d-%H%M%S}")
    ds, meta, X_train, y_train, X_test, y_test = prepare(cfg)
    optimizer = make_optimizer(cfg)
    fit_kwargs = {}
    if resume is not None:
        ck = load_checkpoint(out / "checkpoint.npz")
        model, history = ck["model"], ck["history"]
        if ck["optimizer_type"] != type(optimizer).__name__:
            raise RunError(f"{out}: the checkpoint was made with {ck['optimizer_type']}, the config "
                           f"asks for {type(optimizer).__name__}")
        optimizer.load_state_dict(ck["optimizer_state"])
        fit_kwargs = {"initial_epoch": ck["epoch"] + 1, "resume_state": ck["training_state"]}
        log(f"resuming {out} after epoch {ck['epoch'] + 1} of {cfg.epochs}")
    else:
        n_inputs = int(np.prod(X_train.shape[1:]))
        model, history = build_model(cfg, n_inputs, len(ds.classes)), History()
        out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out / "config.toml", to_toml(asdict(cfg)).encode())
    log(f"gradwise {__version__}: {ds.name} ({len(X_train):,} train / {len(X_test):,} test) -> {out}")
    log(model.summary())
    callbacks: list[Callback] = [Checkpoint(out / "checkpoint.npz", optimizer, history)]
    if cfg.early_stopping:
        callbacks.append(EarlyStopping("val_loss", patience=cfg.early_stopping))
    ctrl_c = StopOnCtrlC()
    callbacks.append(ctrl_c)
    start = time.perf_counter()
    try:
        from .augment import Augment
        model.fit(X_train, y_train, epochs=cfg.epochs, batch_size=cfg.batch_size,
                  optimizer=optimizer, validation_split=cfg.val_split, seed=cfg.seed,
                  verbose=verbose, callbacks=callbacks, history=history,
                  augment=Augment.for_data(ds.name, tuple(ds.X_train.shape[1:])) if cfg.augment else None,
                  **fit_kwargs)
    finally:
        ctrl_c.restore()
    seconds = time.perf_counter() - start
    if model.interrupted:
        done = len(history.epoch)
        log(f"stopped: {done} of {cfg.epochs} epochs kept in {out}/checkpoint.npz; continue with "
            f"gradwise train --resume {out}")
        return {"interrupted": True, "epochs_done": done, "out": str(out)}
    model.meta = meta
    model.save(out / "model")
    result = evaluate_model(model, X_test, y_test, ds.classes)
    result.update({"gradwise_version": __version__, "config": asdict(cfg),
                   "history": history.to_dict(), "train_seconds": seconds})
    atomic_write_bytes(out / "metrics.json", json.dumps(result, indent=2).encode())
    if plot:
        written = write_plots(out, model, history.to_dict(), result, ds.X_test, X_test, y_test,
                              ds.classes, meta)
        if written is None:
            log("plots skipped: matplotlib is not installed (pip install 'gradwise[plot]')")
    log(f"test accuracy {100 * result['test']['accuracy']:.2f}%  loss {result['test']['loss']:.4f}  "
        f"({len(history.epoch)} epochs, {seconds:.1f}s); run saved in {out}/")
    return result


def evaluate_model(model: Sequential, X, y, classes) -> dict:
    predicted = model.predict(X)
    test = model.evaluate(X, y)
    report = metrics.precision_recall_f1(y, predicted, len(classes))
    return {"test": {"loss": test["loss"], "accuracy": test["accuracy"],
                     "per_class": {k: v.tolist() for k, v in report.items()},
                     "confusion_matrix": metrics.confusion_matrix(y, predicted, len(classes)).tolist()}}


def write_plots(out: Path, model, history: dict, result: dict, images, X_test, y_test, classes,
                meta) -> list[Path] | None:
    """The run's PNGs; None when matplotlib is missing."""
    if not plots.available():
        return None
    proba = model.predict_proba(X_test)
    predicted = proba.argmax(axis=1)
    wrong = np.flatnonzero(predicted != y_test)
    wrong = wrong[np.argsort(-proba[wrong, predicted[wrong]])]      # most confident mistakes first
    first = next(layer for layer in model.layers if "W" in layer.params)
    W = first.params["W"]
    if W.ndim == 4:                                   # convolution kernels (out, in, kh, kw)
        filters, filter_shape = W[:, 0].reshape(len(W), -1).T, W.shape[2:]
    else:
        filters, filter_shape = W, meta["preprocessing"]["input_shape"][-2:]
    return [
        plots.training_curves(history, out / "curves.png"),
        plots.confusion_matrix(np.array(result["test"]["confusion_matrix"]), classes,
                               out / "confusion_matrix.png"),
        plots.misclassified(images[wrong], y_test[wrong], predicted[wrong],
                            proba[wrong, predicted[wrong]], classes, out / "misclassified.png"),
        plots.first_layer_weights(filters, filter_shape, out / "first_layer_weights.png"),
    ]


def load_run(path) -> Sequential:
    """The final model of a run folder (or a model file)."""
    path = Path(path)
    candidate = path / "model" if path.is_dir() else path
    if not Path(str(candidate) + ".npz").is_file() and not candidate.with_suffix(".npz").is_file():
        if path.is_dir() and (path / "checkpoint.npz").is_file():
            raise RunError(f"{path}: the run has no final model yet (it was stopped); finish it "
                           f"with gradwise train --resume {path}")
        raise RunError(f"{path}: no run folder or model here (expected {candidate}.npz, written by "
                       f"gradwise train)")
    return Sequential.load(candidate)
