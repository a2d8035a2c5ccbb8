"""The main job: train a classifier on an image data set and keep everything in a run folder.

``gradwise train`` is a thin shell over ``run(TrainConfig(...))``. Every field of
TrainConfig is a command-line flag of the same name (``batch_size`` -> ``--batch-size``).

A run folder holds::

    config.toml        the settings, enough to rerun it exactly (--config)
    checkpoint.npz     weights + optimiser + random state after the last finished epoch
    model.npz/.json    the final model (architecture, preprocessing, class names, version)
    metrics.json       per-epoch history, test metrics, per-class table, confusion matrix,
                       seconds per phase of the run (timings)
    *.png              curves, confusion matrix, misclassified digits, first-layer weights
"""

from __future__ import annotations

import json
import logging
import math
import signal
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from functools import cached_property
from pathlib import Path

import numpy as np

from . import data, metrics, plots, runtime, textmodels
from .callbacks import Callback, EarlyStopping, History
from .checkpoint import Checkpoint, load_checkpoint
from .conv import BatchNorm, Conv2D, MaxPool2D
from .errors import GradwiseError, SettingError
from .fileio import atomic_write_bytes
from .model import Sequential, TrainingDiverged
from .optim import OPTIMIZERS, CosineDecay, ExponentialDecay, LinearWarmup, StepDecay
from .preprocess import model_input
from .presets import IMAGE_PRESETS, PRESETS, cnn_preset, network, parse_arch  # noqa: F401 (re-exported)
from .textmodels import TEXT_MODELS, TextTrainingData
from .version import __version__

logger = logging.getLogger(__name__)
LOSSES = ("cross_entropy", "mse")


@dataclass
class TrainConfig:
    """The settings of a training run. None means "the default of the network or optimiser
    asked for": a setting given that it has no use for is refused, never silently dropped."""

    data: str | None = None          # data set: mnist (default), fashion-mnist, mnist-mini; text models:
                                     # tinyshakespeare (default) or the path of a UTF-8 text file
    model: str = "mlp"               # preset: mlp (layers from --arch), mlp-large, cnn, cnn-large, lenet5;
                                     # the text models char-lstm, gpt-mini (see gradwise.textmodels)
    data_dir: str | None = None      # folder holding DATA/ (default: $GRADWISE_DATA, then the cache)
    arch: str | None = None          # mlp: layer sizes, input first, classes last (default INPUTS-256-128-CLASSES)
    act: str | None = None           # mlp: hidden activation: relu (default), leaky_relu, tanh, sigmoid
    init: str | None = None          # weight initialiser (default: he_normal for ReLU nets, glorot_uniform for tanh/sigmoid)
    opt: str | None = None           # optimiser: sgd, rmsprop, adam, adamw (default adam; gpt-mini adamw)
    lr: float | None = None          # base learning rate (default: 4e-3 for mlp, 2e-3 char-lstm, 1e-3 others)
    momentum: float | None = None    # sgd / rmsprop momentum (default 0.9; adam has its own betas)
    weight_decay: float | None = None   # L2 penalty, decoupled for adamw (default 0; gpt-mini 0.1)
    schedule: str = "cosine"         # none, cosine, step:EVERY:FACTOR, exp:GAMMA, warmup:EPOCHS[+cosine]
    dropout: float | None = None     # dropout rate after each hidden layer (default: 0 for mlp, 0.2 for the others)
    epochs: int | None = None        # passes over the training set (default: mlp 3, its 98.1% of MNIST; 4 the others)
    batch_size: int | None = None    # samples per step (default 128; text models: windows, see Recipe)
    val_split: float | None = None   # share of the training set held out for validation (default 5000/60000)
    iters: int | None = None         # text models: optimiser steps (default: char-lstm 1500, gpt-mini 2000)
    context: int | None = None       # text models: characters per window, the model's context (default 64)
    eval_every: int | None = None    # text models: steps between validation passes (default 250)
    early_stopping: int = 0          # stop after N epochs without a better val_loss (0 = off)
    augment: bool = False            # random shifts, rotations and scalings of training images
    batchnorm: bool = False          # cnn: batch normalisation after each convolution (cnn-large: always)
    loss: str = "cross_entropy"      # cross_entropy, or mse on one-hot targets (a classic mistake)
    seed: int = 0                    # seeds init, shuffling, split and dropout
    out: str | None = None           # run folder (default: runs/DATA-YYYYmmdd-HHMMSS)

    def __post_init__(self) -> None:
        """Fill in the defaults of the network asked for: an image network's epochs, batch
        size and validation share; a text model's steps, windows and optimiser (its Recipe).
        Settings of the other kind stay None, so that one given is seen and refused."""
        text = isinstance(self.model, str) and self.model in TEXT_MODELS
        if text:
            r = textmodels.recipe(self.model)
            iters = self.iters if isinstance(self.iters, int) and self.iters >= 1 else r.iters
            every = max(d for d in range(1, min(r.eval_every, iters) + 1) if iters % d == 0)
            defaults = {"data": "tinyshakespeare", "batch_size": r.batch_size, "iters": r.iters,
                        "context": r.context, "eval_every": every, "opt": r.opt,
                        "weight_decay": r.weight_decay}
        else:
            defaults = {"data": "mnist", "epochs": DEFAULT_EPOCHS.get(self.model, 4), "batch_size": 128,
                        "val_split": 5000 / 60000,
                        "opt": "adam", "weight_decay": 0.0}
        for name, value in defaults.items():
            if getattr(self, name) is None:
                setattr(self, name, value)

    def check(self) -> TrainConfig:
        """Every field of the right type and in range; SettingError names the first that is not."""
        for f in fields(self):
            value, kind = getattr(self, f.name), str(f.type).split(" |")[0]
            if value is None and "None" in str(f.type):
                continue
            ok = {"int": isinstance(value, int) and not isinstance(value, bool),
                  "float": isinstance(value, (int, float)) and not isinstance(value, bool),
                  "bool": isinstance(value, bool), "str": isinstance(value, str)}[kind]
            if not ok:
                raise SettingError(f.name, f"expected {_KIND_WORDS[kind]}; got {value!r}")
        for name in ("lr", "momentum", "weight_decay", "dropout", "val_split"):
            value = getattr(self, name)
            if isinstance(value, float) and not math.isfinite(value):
                raise SettingError(name, f"must be a finite number; got {value!r}")
        for name, lo, hi in (("epochs", 1, None), ("batch_size", 1, None), ("iters", 1, None),
                             ("context", 1, None), ("eval_every", 1, None), ("early_stopping", 0, None),
                             ("seed", 0, 2**32 - 1), ("lr", 0, None), ("weight_decay", 0, None)):
            value = getattr(self, name)
            if value is None:                          # lr: the network's default
                continue
            if value < lo or (name == "lr" and value == 0) or (hi is not None and value > hi):
                bound = "> 0" if name == "lr" else f">= {lo}" + (f" and <= {hi}" if hi else "")
                raise SettingError(name, f"must be {bound}; got {value!r}")
        for name in ("val_split", "dropout", "momentum"):
            value = getattr(self, name)
            if value is not None and not 0 <= value < 1:
                raise SettingError(name, f"must be in [0, 1); got {value!r}")
        if self.loss not in LOSSES:
            raise SettingError("loss", f"{self.loss!r}: choose one of {', '.join(LOSSES)}")
        text = self.model in TEXT_MODELS
        if self.early_stopping and not self.val_split and not text:
            raise SettingError("early_stopping", "needs a validation set to watch (val_split > 0)")
        self._refuse_the_other_kinds_settings(text)
        make_optimizer(self)                        # opt, momentum and schedule, before any data
        if self.model not in PRESETS and not text:
            raise SettingError("model", f"{self.model!r}: choose one of {', '.join(PRESETS + TEXT_MODELS)}")
        if self.arch is not None:
            parse_arch(self.arch)
        return self

    def _refuse_the_other_kinds_settings(self, text: bool) -> None:
        """A text model trains by steps on windows of a text; an image network by epochs
        over images: a setting only the other kind uses is refused, naming what to use."""
        if not text:
            for name in ("iters", "context", "eval_every"):
                if getattr(self, name) is not None:
                    raise SettingError(name, f"is for the text models ({', '.join(TEXT_MODELS)}); "
                                             f"model {self.model} trains by --epochs")
            return
        for name, use in (("epochs", "it trains by steps: use --iters"),
                          ("val_split", "it validates on the last 10% of the text"),
                          ("arch", "its layers are fixed"), ("act", "its layers are fixed"),
                          ("init", "its layers draw their own weights"),
                          ("dropout", "it has no dropout")):
            if getattr(self, name) is not None:
                raise SettingError(name, f"is of no use to model {self.model} ({use})")
        for name in ("augment", "batchnorm"):
            if getattr(self, name):
                raise SettingError(name, f"is for image networks, not model {self.model}")
        if self.loss != "cross_entropy":
            raise SettingError("loss", f"{self.loss!r}: model {self.model} predicts the next "
                                       f"character with cross_entropy")
        if self.iters % self.eval_every:
            fits = max(d for d in range(1, self.eval_every + 1) if self.iters % d == 0)
            raise SettingError("eval_every", f"{self.eval_every} does not divide --iters {self.iters} "
                                             f"(each validation pass ends an equal block of steps); "
                                             f"use e.g. --eval-every {fits}")


_KIND_WORDS = {"int": "a whole number", "float": "a number", "bool": "true or false", "str": "text"}




class RunError(GradwiseError, ValueError):
    """A run folder is missing or incomplete."""


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
        raise SettingError("schedule", f"{spec!r}: {e}") from None
    raise SettingError("schedule", f"{spec!r}: use none, cosine, step:EVERY:FACTOR (e.g. step:3:10), "
                                  f"exp:GAMMA (e.g. exp:0.9) or warmup:EPOCHS[+cosine]")


def make_optimizer(cfg: TrainConfig):
    """The optimiser a config asks for, with its learning-rate schedule."""
    if not isinstance(cfg.opt, str) or cfg.opt not in OPTIMIZERS:
        raise SettingError("opt", f"{cfg.opt!r}: choose one of {', '.join(OPTIMIZERS)}")
    if cfg.model in TEXT_MODELS:
        return textmodels.make_optimizer(cfg, OPTIMIZERS, learning_rate(cfg))
    kwargs = {"weight_decay": cfg.weight_decay, "schedule": make_schedule(cfg.schedule, cfg.epochs)}
    if cfg.opt in ("sgd", "rmsprop"):
        kwargs["momentum"] = 0.9 if cfg.momentum is None else cfg.momentum
    elif cfg.momentum is not None:
        raise SettingError("momentum", f"is of no use to {cfg.opt} (its betas play that part); "
                                       f"use it with sgd or rmsprop")
    return OPTIMIZERS[cfg.opt](learning_rate(cfg), **kwargs)


# The default model's recipe: no dropout, Adam 4e-3, 3 epochs, cosine, batch 128 reach 98.1% of
# MNIST (seeds 0-4: mean 98.12%, min 98.07%), in 3/4 of the time of 4 epochs at 3e-3 (mean
# 98.20%, min 98.18%). Tried with 3 epochs, same seeds (mean / min): lr 2e-3 97.88/97.82,
# 5e-3 98.07/98.00, 6e-3 98.08/98.02, warm-up 0.3 epoch + 4e-3 98.03/97.96, batch 96 at 2.5e-3
# 98.03/97.96, batch 256 at 5e-3 97.86/97.79, 784-256-10 97.72/97.63; 4 epochs at batch 256 and
# lr 4e-3 / 6e-3: 98.06/97.98, 98.08/97.93. The other networks keep 1e-3 and 4 epochs, which
# their recorded runs used.
DEFAULT_LR = {"mlp": 4e-3}
DEFAULT_EPOCHS = {"mlp": 3}


def learning_rate(cfg: TrainConfig) -> float:
    """``cfg.lr``, or the default of the network it asks for."""
    if cfg.lr is None and cfg.model in TEXT_MODELS:
        return textmodels.recipe(cfg.model).lr
    return cfg.lr if cfg.lr is not None else DEFAULT_LR.get(cfg.model, 1e-3)


def build_model(cfg: TrainConfig, n_inputs: int, n_classes: int) -> Sequential:
    """The network a config asks for: ``--model`` preset, or ``--arch`` sizes for "mlp"
    (a text model: ``n_inputs`` is its context, ``n_classes`` the size of its vocabulary)."""
    if cfg.model in TEXT_MODELS:
        return textmodels.build(cfg.model, n_classes, context=n_inputs, seed=cfg.seed)
    return network(cfg.model, n_inputs, n_classes, arch=cfg.arch, act=cfg.act, init=cfg.init,
                   dropout=cfg.dropout, batchnorm=cfg.batchnorm or None, seed=cfg.seed, data=cfg.data)


# ----------------------------------------------------------------------------- the pipeline

@dataclass(frozen=True)
class Preprocessing:
    """How uint8 images become the model's input; saved in ``model.meta["preprocessing"]``
    so that ``gradwise predict``, the web page and evaluation prepare images the same way."""

    scale: str = "pixels / 255"      # or "none" (pixels left in 0..255: a classic mistake)
    flatten: bool = True             # rows of H*W values (MLPs) or (1, H, W) images (CNNs)
    input_shape: tuple = ()          # one input as the model takes it, e.g. (1, 28, 28)

    def to_dict(self) -> dict:
        return {"scale": self.scale, "flatten": self.flatten, "input_shape": list(self.input_shape)}

    def apply(self, images: np.ndarray) -> np.ndarray:
        return model_input(images, {"preprocessing": self.to_dict()})


@dataclass
class TrainingData:
    """A data set as the model sees it (X arrays after preprocessing ``pre``, integer
    labels), with the raw images kept for the plots and for preparing them another way.
    ``X_train`` is made when first asked for: ``run`` trains from the images, a batch at a
    time (``fit(transform=pre.apply)``), and never needs it (MNIST's: 188 MB of float32)."""

    name: str
    classes: list[str]
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    train_images: np.ndarray
    test_images: np.ndarray
    pre: Preprocessing

    @cached_property
    def X_train(self) -> np.ndarray:
        return self.pre.apply(self.train_images)

    @property
    def n_inputs(self) -> int:
        return int(np.prod(self.train_images.shape[1:]))

    @property
    def image_shape(self) -> tuple:
        return tuple(self.train_images.shape[1:])

    def meta(self, pre: Preprocessing) -> dict:
        """What a model trained on this data keeps in ``model.meta``."""
        return {"data": self.name, "classes": list(self.classes), "preprocessing": pre.to_dict()}

    def prepared_as(self, pre: Preprocessing) -> TrainingData:
        """The same data through another preprocessing (the doctor's raw pixels)."""
        return TrainingData(self.name, self.classes, self.y_train, pre.apply(self.test_images), self.y_test,
                            self.train_images, self.test_images, pre)


def prepare(cfg: TrainConfig, *, download: bool = True
            ) -> tuple[TrainingData | TextTrainingData, Preprocessing | None]:
    """Load the data set and turn it into model input, as the saved model will record it
    (``download=False``: only from files on this machine, as the web page does). A text
    model gets a TextTrainingData and no Preprocessing (None)."""
    cfg.check()
    if cfg.model in TEXT_MODELS:
        return textmodels.prepare_text(cfg, load_text_data(cfg)), None
    if cfg.augment and cfg.data not in (*data.IDX_SETS, "mnist-mini"):
        raise SettingError("augment", f"distorts images; {cfg.data} is not a set of images")
    ds = data.load(cfg.data, data_dir=cfg.data_dir, download=download)
    if isinstance(ds, data.TextData):
        raise SettingError("model", f"{cfg.model} classifies images or rows of numbers; {ds.name} is "
                                    f"a text: use --model {' or '.join(TEXT_MODELS)}")
    images = cfg.model in IMAGE_PRESETS
    if images and ds.X_train.ndim != 3:
        raise SettingError("model", f"{cfg.model} takes images; {ds.name} has rows of "
                                    f"{ds.X_train.shape[1:]} values (use --model mlp)")
    shape = ((1,) if images else ()) + tuple(ds.X_train.shape[1:])
    pixels = ds.X_train.dtype == np.uint8                       # images; toy sets come as floats
    pre = Preprocessing("pixels / 255" if pixels else "none", flatten=not images, input_shape=shape)
    prepared = TrainingData(ds.name, list(ds.classes), ds.y_train.astype(np.intp), pre.apply(ds.X_test),
                            ds.y_test.astype(np.intp), ds.X_train, ds.X_test, pre)
    return prepared, pre


def load_text_data(cfg: TrainConfig) -> data.TextData:
    """The text a text model's ``--data`` names: a named text (tinyshakespeare) or a file."""
    if cfg.data in data.TEXT_SETS:
        return data.load(cfg.data, data_dir=cfg.data_dir)
    if Path(cfg.data).is_file():
        return data.load_text(cfg.data)
    raise SettingError("data", f"{cfg.data!r}: model {cfg.model} reads a text: give "
                               f"{', '.join(data.TEXT_SETS)} or the path of a UTF-8 text file")


def check_split(cfg: TrainConfig, n: int) -> None:
    """SettingError unless ``val_split`` of ``n`` samples leaves some to train on (fit holds
    out ``max(1, round(val_split * n))``)."""
    held = max(1, round(cfg.val_split * n)) if cfg.val_split else 0
    if held >= n:
        raise SettingError("val_split", f"{cfg.val_split!r} of the {n:,} training samples of {cfg.data} "
                                        f"holds out {held:,}, leaving none to train on; use a smaller "
                                        f"share (0 holds none out)")


def targets(cfg: TrainConfig, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """What the config's loss takes as targets: the labels, or one-hot rows for mse."""
    return np.eye(n_classes, dtype=np.float32)[labels] if cfg.loss == "mse" else labels


def build(cfg: TrainConfig, prepared: TrainingData) -> tuple[Sequential, object]:
    """The model and the optimiser a config asks for, sized for the prepared data."""
    return build_model(cfg, prepared.n_inputs, len(prepared.classes)), make_optimizer(cfg)


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


MAX_CONFIG_BYTES = 1 << 20      # a config file is a few lines; a larger one is not one


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
        with open(path, "rb") as f:
            raw = f.read(MAX_CONFIG_BYTES + 1)          # /dev/zero is a file too: read a bounded part
    except FileNotFoundError:
        raise SettingError("config", f"{path}: no such file") from None
    except IsADirectoryError:
        raise SettingError("config", f"{path}: is a folder, not a TOML file") from None
    except OSError as e:
        raise SettingError("config", f"{path}: cannot be read ({e.strerror})") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise SettingError("config", f"{path}: larger than the {MAX_CONFIG_BYTES:,} bytes a config "
                                     f"file may have (a run's config.toml is under 1 KB)")
    try:
        values = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise SettingError("config", f"{path}: not valid TOML ({e})") from None
    except RecursionError:                          # tomllib recurses once per nested [ or {
        raise SettingError("config", f"{path}: not valid TOML (nested too deeply; settings are "
                                     f"flat: key = value)") from None
    known = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise SettingError("config", f"{path}: unknown setting(s) {', '.join(unknown)}; known: "
                                     f"{', '.join(sorted(known))}")
    try:
        return TrainConfig(**{**(defaults or {}), **values, **(overrides or {})}).check()
    except SettingError as e:
        where = "" if e.field in (overrides or {}) else f" (in {path})"
        raise SettingError(e.field, e.detail + where) from None


# settings a resumed run may be given anew: where the data lies changes nothing it computes
RESUMABLE = ("data_dir",)


def _run_config_file(run_dir) -> Path:
    """``run_dir``'s config.toml, or RunError when it is no run folder."""
    path = Path(run_dir) / "config.toml"
    if not path.is_file():
        raise RunError(f"{run_dir}: not a run folder (no config.toml); nothing to resume")
    return path


def resume_config(run_dir: Path, overrides: dict) -> TrainConfig:
    """The config of the run in ``run_dir``, to be continued as it was: a setting given
    that differs from the stored one is refused (it would train another network than the
    checkpoint's, or end at other weights than the uninterrupted run)."""
    saved = load_config(_run_config_file(run_dir))
    changed = [k for k, v in overrides.items() if k not in RESUMABLE and getattr(saved, k) != v]
    if changed:
        others = "".join(f", {k} ({getattr(saved, k)!r} -> {overrides[k]!r})" for k in changed[1:])
        raise SettingError(changed[0], f"cannot change in a resumed run (the run has "
                                       f"{getattr(saved, changed[0])!r}, you gave {overrides[changed[0]]!r}"
                                       f"{'; also ' + others[2:] if others else ''}): it continues with "
                                       f"its own config.toml; start a new run to change it")
    for k in RESUMABLE:
        if k in overrides:
            setattr(saved, k, overrides[k])
    return saved


def latest_run(root: Path = Path("runs")) -> Path:
    """The most recently changed run folder that holds a checkpoint."""
    runs = sorted((p.parent for p in root.glob("*/checkpoint.npz")), key=lambda p: p.stat().st_mtime)
    if not runs:
        raise RunError(f"no run to resume in {root}/ (pass the run folder: --resume runs/NAME)")
    return runs[-1]


class StopOnCtrlC(Callback):
    """First Ctrl-C: finish the current batch, keep the last checkpoint, stop. Second: abort."""

    def __init__(self, log=None) -> None:
        self.log = log or logger.warning

    def on_train_begin(self, logs):
        self.pressed = False

        def handler(signum, frame):
            if self.pressed:
                raise KeyboardInterrupt
            self.pressed = True
            self.model.stop_training = self.model.interrupted = True   # even between batches
            self.log("\nstopping after this batch (Ctrl-C again to abort now)...")
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


DIVERGED_FACTOR = 100      # a batch loss this many times its reference (the larger of the
                           # first batch's loss and chance level)... healthy runs measured on
                           # mnist-mini peaked at 54x (adam lr 0.1, rmsprop lr 0.01), lr 1e6 at 1e22x
DIVERGED_STEPS = 5         # ...this many steps in a row: the run has diverged
TYPICAL_LR = {"sgd": 0.1, "rmsprop": 1e-3, "adam": 1e-3, "adamw": 1e-3}


def chance_loss(loss: str, n_classes: int) -> float:
    """The loss of a network that knows nothing and says so: every class 1/C."""
    c = max(n_classes, 2)
    return float(np.log(c)) if loss == "cross_entropy" else (c - 1) / c**2   # mse on one-hot rows


class StopOnDivergence(Callback):
    """Stops a run whose loss has blown up, even while it stays finite: a batch loss over
    DIVERGED_FACTOR x its reference for DIVERGED_STEPS steps in a row, or weights that are
    no longer finite at an epoch's end, raise TrainingDiverged saying where and what to do.

    (``fit`` itself stops at the first NaN/inf output; a loss of 1e18 is finite, and a run
    at lr 1e6 would otherwise finish "successfully" at chance accuracy.)
    """

    def __init__(self, cfg: TrainConfig, n_classes: int) -> None:
        self.chance = chance_loss(cfg.loss, n_classes)
        self.opt, self.lr = cfg.opt, learning_rate(cfg)

    def on_train_begin(self, logs):
        self.reference, self.above = None, 0

    def on_batch_end(self, batch, logs):
        loss = logs["loss"]
        if self.reference is None:
            self.reference = max(loss, self.chance)
        self.above = self.above + 1 if loss > DIVERGED_FACTOR * self.reference else 0
        if self.above >= DIVERGED_STEPS:
            raise self._diverged(f"epoch {logs['epoch'] + 1}, step {batch + 1}",
                                 f"the loss has stayed above {DIVERGED_FACTOR}x its start "
                                 f"({self.reference:.3g}) for {self.above} steps (now {loss:.3g})")

    def on_epoch_end(self, epoch, logs):
        bad = [name for name, p in self.model.named_params() if not np.all(np.isfinite(p))]
        if bad:
            raise self._diverged(f"the end of epoch {epoch + 1}", f"the weights {bad[0]} are "
                                                                  f"no longer finite")

    def _diverged(self, where: str, what: str) -> TrainingDiverged:
        lower = min(self.lr / 10, TYPICAL_LR.get(self.opt, self.lr / 10))
        return TrainingDiverged(f"the run diverged at {where}: {what}. Lower the learning rate "
                                f"(--lr {self.lr:g} -> e.g. {lower:g}), scale inputs to [0, 1], or "
                                f"use a fan-in-scaled init (he_normal); gradwise doctor can tell which")


# ----------------------------------------------------------------------------- the run

KERNELS_LOAD_SECONDS = 1.4     # importing numba and reading its cached kernels, once a process
                               # (2-core AMD EPYC, 2026-12; the first run ever compiles: 3-5 s)
FUSED_STEP_SAVING = 1.9e-9     # seconds the fused optimiser step saves per parameter per step
                               # (PERF_NOTES: Adam over 670k float32 parameters, 1.79 -> 0.50 ms)
KERNEL_LAYERS = (Conv2D, MaxPool2D, BatchNorm)   # their twins are 2-20x faster than NumPy


def kernels_pay(model: Sequential, steps: int) -> bool:
    """Whether the compiled kernels (gradwise.fast) are worth loading for a run of ``steps``
    training steps: always for a network with convolutions, max pooling or BatchNorm; for
    Dense layers alone only the optimiser step gains (ReLU's twin: a few percent), and only a
    long run makes up for the loading (784-256-128-10, 4 epochs of MNIST: 0.8 s saved, 1.4 s
    spent; 10 epochs: 1.9 s saved). The default run, 3 epochs, says no, and rightly: forced on,
    the whole command took 4.33 s against 3.63 s (medians of 4, alternating, 2026-12-02), its
    later epochs no faster (0.72 s against 0.66-0.69 s: numba's threads and OpenBLAS's share
    the 2 cores). Either way the numbers are the same to float rounding."""
    if any(isinstance(layer, KERNEL_LAYERS) for layer in model.layers):
        return True
    return model.num_params() * steps * FUSED_STEP_SAVING > KERNELS_LOAD_SECONDS


def training_steps(cfg: TrainConfig, n: int) -> int:
    """The optimiser steps of the whole run on ``n`` samples (less those ``val_split`` holds out)."""
    held = max(1, round(cfg.val_split * n)) if cfg.val_split else 0
    return cfg.epochs * math.ceil((n - held) / min(cfg.batch_size, n - held))


class Stopwatch:
    """Seconds spent in each phase of a run (``metrics.json``'s ``timings``), measured with
    ``time.perf_counter``; ``total`` is the time since the watch started.

    >>> clock = Stopwatch()
    >>> with clock.phase("data"):
    ...     pass
    >>> sorted(clock.timings())
    ['data', 'total']
    """

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.seconds: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start

    def timings(self) -> dict[str, float]:
        return {**{k: round(v, 4) for k, v in self.seconds.items()},
                "total": round(time.perf_counter() - self.start, 4)}


def run(cfg: TrainConfig, *, resume: str | Path | None = None, plot: bool = True,
        verbose: int = 1, log=None) -> dict:
    """Train as ``cfg`` says (or continue the run folder ``resume``, whose own config.toml
    ``cfg`` should be: see ``resume_config``); write the run folder; return the final
    metrics (or {"interrupted": True, ...} after Ctrl-C). ``log`` takes the progress lines
    (default: this module's logger; the CLI prints them)."""
    log = log or logger.info
    clock = Stopwatch()
    cfg.check()
    if resume is not None:
        out = _run_config_file(resume).parent
    else:
        out = Path(cfg.out or f"runs/{Path(cfg.data).stem}-{datetime.now():%Y%m%d-%H%M%S}")
    with clock.phase("data"):                            # load, verify, scale
        prepared, pre = prepare(cfg)
    text = isinstance(prepared, TextTrainingData)
    with clock.phase("build"):
        if text:
            y_train, y_test = prepared.y_train, prepared.y_test
        else:
            check_split(cfg, len(prepared.y_train))
            y_train, y_test = (targets(cfg, y, len(prepared.classes)) for y in (prepared.y_train, prepared.y_test))
        model, optimizer = build(cfg, prepared)          # every setting checked before any file
        fit_kwargs = {"history": History()}
        if resume is not None:
            ck = load_checkpoint(out / "checkpoint.npz")
            model = ck["model"]
            if ck["optimizer_type"] != type(optimizer).__name__:
                raise RunError(f"{out}: the checkpoint was made with {ck['optimizer_type']}, the config "
                               f"asks for {type(optimizer).__name__}")
            optimizer.load_state_dict(ck["optimizer_state"])
            fit_kwargs = {"initial_epoch": ck["epoch"] + 1, "resume_state": ck["training_state"],
                          "history": ck["history"]}
            log(f"resuming {out} after {_done(cfg, ck['epoch'] + 1)}")
        else:
            out.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(out / "config.toml", to_toml(asdict(cfg)).encode())
    history = fit_kwargs["history"]
    if text:
        log(f"gradwise {__version__}: {prepared.name} ({len(prepared.text.train):,} train / "
            f"{len(prepared.text.val):,} validation characters, {len(prepared.classes)} distinct) -> {out}")
    else:
        log(f"gradwise {__version__}: {prepared.name} ({len(prepared.y_train):,} train / "
            f"{len(prepared.X_test):,} test) -> {out}")
    log(model.summary())
    callbacks: list[Callback] = [StopOnDivergence(cfg, len(prepared.classes)),   # before the checkpoint
                                 Checkpoint(out / "checkpoint.npz", optimizer, history)]
    if cfg.early_stopping:
        callbacks.append(EarlyStopping("val_loss", patience=cfg.early_stopping))
    ctrl_c = StopOnCtrlC(log)
    callbacks.append(ctrl_c)
    steps = cfg.iters if text else training_steps(cfg, len(prepared.y_train))
    kernels = runtime.settings.kernels and kernels_pay(model, steps)
    start = time.perf_counter()
    try:                                    # overflow is what StopOnDivergence reports, with the fix
        from .augment import Augment
        with np.errstate(over="ignore", invalid="ignore"), clock.phase("training"), \
                runtime.using(kernels=kernels):
            if text:                        # random windows, a validation pass every eval_every steps
                train_ids = prepared.text.train
                model.fit(None, None, epochs=textmodels.rounds(cfg), optimizer=optimizer,
                          validation_data=(prepared.X_test, y_test), seed=cfg.seed, verbose=0,
                          callbacks=callbacks + ([textmodels.TextProgress(cfg, bar=verbose == 1)]
                                                 if verbose else []),
                          batches=lambda rng: textmodels.Windows(train_ids, cfg.context, cfg.batch_size,
                                                                 cfg.eval_every, rng),
                          **fit_kwargs)
            else:
                model.fit(prepared.train_images, y_train, transform=prepared.pre.apply,   # scaled per batch
                          epochs=cfg.epochs, batch_size=cfg.batch_size,
                          loss="mse" if cfg.loss == "mse" else None, optimizer=optimizer,
                          validation_split=cfg.val_split, seed=cfg.seed, verbose=verbose, callbacks=callbacks,
                          augment=Augment.for_data(prepared.name, prepared.image_shape) if cfg.augment else None,
                          **fit_kwargs)
    finally:
        ctrl_c.restore()
    seconds = time.perf_counter() - start
    if model.interrupted:
        done = len(history.epoch)
        log(f"stopped: {_done(cfg, done)} kept in {out}/checkpoint.npz; continue with "
            f"gradwise train --resume {out}")
        return {"interrupted": True, "epochs_done": done, "out": str(out)}
    model.meta = prepared.meta(cfg.model if text else pre)
    with clock.phase("saving"):
        model.save(out / "model")
    with clock.phase("evaluation"), runtime.using(kernels=kernels):
        if text:                            # the last pass already read the whole validation text
            steps = (len(history.epoch) - fit_kwargs.get("initial_epoch", 0)) * cfg.eval_every   # this process's
            result = {"val_loss": history["val_loss"][-1], "val_accuracy": history["val_accuracy"][-1],
                      "tokens_per_second": steps * cfg.batch_size * cfg.context / seconds}
        else:
            result = evaluate_model(model, prepared.X_test, y_test, prepared.classes)
    result.update({"gradwise_version": __version__, "config": asdict(cfg),
                   "history": history.to_dict(), "train_seconds": seconds})
    with clock.phase("saving"):                          # written before the plots: a plotting
        result["timings"] = clock.timings()              # failure loses no number
        atomic_write_bytes(out / "metrics.json", json.dumps(result, indent=2).encode())
    if plot:
        with clock.phase("plots"), runtime.using(kernels=kernels):
            if text:                        # the curves: no classes to confuse, no images
                written = [plots.training_curves(history.to_dict(), out / "curves.png")] \
                    if plots.available() else None
            else:
                written = write_plots(out, model, history.to_dict(), result, prepared.test_images,
                                      prepared.X_test, prepared.y_test, prepared.classes, model.meta)
        if written is None:
            log("plots skipped: matplotlib is not installed (pip install 'gradwise[plot]')")
        result["timings"] = clock.timings()              # now with the plots' time, rewritten
        atomic_write_bytes(out / "metrics.json", json.dumps(result, indent=2).encode())   # atomically
    if text:
        log(f"val_loss {result['val_loss']:.4f} nats/character ({cfg.iters} steps, {seconds:.1f}s, "
            f"{result['tokens_per_second']:,.0f} tokens/s); run saved in {out}/; sample it with "
            f"gradwise sample {out}")
    else:
        log(f"test accuracy {100 * result['test']['accuracy']:.2f}%  loss {result['test']['loss']:.4f}  "
            f"({len(history.epoch)} epochs, {seconds:.1f}s); run saved in {out}/")
    return result


def _done(cfg: TrainConfig, rounds: int) -> str:
    """How far ``rounds`` finished epochs (a text model's: validation passes) got."""
    if cfg.model in TEXT_MODELS:
        return f"step {min(rounds * cfg.eval_every, cfg.iters)} of {cfg.iters}"
    return f"{rounds} of {cfg.epochs} epochs"


def evaluate_model(model: Sequential, X, y, classes) -> dict:
    """Test loss, accuracy, per-class table and confusion matrix (y: labels or one-hot rows)."""
    labels = y.argmax(axis=1) if y.ndim == 2 else y
    predicted = model.predict(X)
    test = model.evaluate(X, y)
    report = metrics.precision_recall_f1(labels, predicted, len(classes))
    return {"test": {"loss": test["loss"], "accuracy": test["accuracy"],
                     "per_class": {k: v.tolist() for k, v in report.items()},
                     "confusion_matrix": metrics.confusion_matrix(labels, predicted, len(classes)).tolist()}}


def write_plots(out: Path, model, history: dict, result: dict, images, X_test, y_test, classes,
                meta) -> list[Path] | None:
    """The run's PNGs, two side by side (``plots.draw_in_two``); None when matplotlib is
    missing. The pictures of digits (mistakes, first-layer weights) are drawn only for data
    made of images: a toy set's rows of two numbers are no picture."""
    if not plots.available():
        return None
    numbers = [(plots.training_curves, (history, out / "curves.png")),
               (plots.confusion_matrix, (np.array(result["test"]["confusion_matrix"]), classes,
                                         out / "confusion_matrix.png"))]
    if np.ndim(images) != 3:                          # not (N, H, W) pictures
        return plots.draw(numbers)
    return plots.draw_in_two(numbers, _image_plots(out, model, images, X_test, y_test, classes, meta))


def _image_plots(out: Path, model, images, X_test, y_test, classes, meta) -> list:
    """The figures of the test images the model gets most confidently wrong, and of its
    first layer's weights, as ``(function, args)`` pairs for ``plots.draw``."""
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
    return [(plots.misclassified, (images[wrong], y_test[wrong], predicted[wrong],
                                   proba[wrong, predicted[wrong]], classes, out / "misclassified.png")),
            (plots.first_layer_weights, (filters, filter_shape, out / "first_layer_weights.png"))]


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
