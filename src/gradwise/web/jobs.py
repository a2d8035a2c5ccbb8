"""A training run started from the learn page: checked settings, a worker thread, an event log.

The page posts settings; ``TrainSettings.parse`` checks every field (type and range) and
says which one is wrong, quoting what was typed. ``Job`` trains in a worker thread (NumPy's
matmuls release the GIL, so the server keeps answering) and appends events to a list that
any number of server-sent-event streams read from their own position; each append wakes
the listeners that the streams registered (``add_listener``), so a stream never waits in a
thread of its own:

    {"type": "start", ...settings, "n_train", "n_test", "steps_per_epoch"}
    {"type": "batch", "epoch", "step", "loss", "accuracy"}   # a few dozen per epoch
    {"type": "epoch", "epoch", "loss", "accuracy", "val_loss", "val_accuracy"}
    {"type": "weights", "step", "images": [[values 0..255], ...]}   # first-layer units (28x28)
                                                                    # or conv kernels (3x3)
    {"type": "finding", "code", "severity", "message", "evidence", "fix", "where"}
    {"type": "withdrawn", "code", "where", "step"}  # a finding sent before no longer holds
    {"type": "experiments"}                         # the run ended: the doctor tries its fixes
    {"type": "experiments", "error"}                # ...and they failed (the run's end stands)
    {"type": "sweep", "lr", "low", "high", "grid", "current", "current_loss", ...}   # lr_sweep
    {"type": "verified", "code", "where", "verified": {"fix", "before", "after", "verdict", ...},
     "tried": "the outcome in words"}
    {"type": "end", "status": "finished" | "stopped" | "diverged" | "failed", "message"}

The "make it fail" menu injects the classic mistakes the doctor exists to name.
"""

from __future__ import annotations

import copy
import json
import math
import threading
import time
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from ..callbacks import Callback

MISTAKES = {
    "unscaled": "pixels left in 0..255",
    "uniform_init": "weights drawn from uniform(0, 1)",
    "lr_x100": "learning rate x100",
    "class_order": "training data sorted by class, never shuffled",
    "sigmoid_mse": "sigmoid output with mean squared error",
}
DATASETS = ("mnist-mini", "mnist", "fashion-mnist")
NETWORKS = ("mlp", "cnn")           # cnn: gradwise.train.cnn_preset("cnn"), ReLU, `hidden` unused
ACTIVATIONS = ("relu", "tanh", "sigmoid")
# the page's optimiser menu, as TrainConfig's (opt, momentum)
OPTIMIZER_CHOICES = {"sgd": ("sgd", 0.0), "momentum": ("sgd", 0.9), "adam": ("adam", None),
                     "rmsprop": ("rmsprop", 0.0)}
MAX_HIDDEN_LAYERS, MAX_UNITS = 4, 1024
MAX_EPOCHS = 50
BATCH_EVENTS_PER_EPOCH = 40        # points on the live loss curve per epoch
WEIGHT_UNITS = 16                  # first-layer units shown as images


class SettingsError(ValueError):
    """A setting from the page is missing, of the wrong type or out of range."""


@dataclass
class TrainSettings:
    data: str = "mnist-mini"
    network: str = "mlp"
    hidden: list[int] = field(default_factory=lambda: [64])
    activation: str = "relu"
    optimizer: str = "adam"
    lr: float = 1e-3
    epochs: int = 1
    batch_size: int = 64
    seed: int = 0
    mistakes: list[str] = field(default_factory=list)
    experiments: bool = False     # after the run: the lr sweep and each fix tried (verify);
                                  # the page's checkbox, checked by default, sends it

    @classmethod
    def parse(cls, body: dict) -> TrainSettings:
        """Check a JSON object from the page, field by field; unknown keys are refused."""
        if not isinstance(body, dict):
            raise SettingsError("the body must be a JSON object of settings")
        unknown = set(body) - set(cls.__dataclass_fields__)
        if unknown:
            raise SettingsError(f"unknown setting(s) {sorted(unknown)}; known: "
                                f"{sorted(cls.__dataclass_fields__)}")
        s = cls()
        if "data" in body:
            s.data = _choice(body["data"], DATASETS, "data")
        if "network" in body:
            s.network = _choice(body["network"], NETWORKS, "network")
        if "hidden" in body:
            h = body["hidden"]
            if not isinstance(h, list) or len(h) > MAX_HIDDEN_LAYERS:
                raise SettingsError(f"hidden: a list of at most {MAX_HIDDEN_LAYERS} layer sizes "
                                    f"(e.g. [128, 64]); got {_shown(h)}")
            s.hidden = [_int(v, "hidden", 1, MAX_UNITS) for v in h]
        if "activation" in body:
            s.activation = _choice(body["activation"], ACTIVATIONS, "activation")
        if "optimizer" in body:
            s.optimizer = _choice(body["optimizer"], tuple(OPTIMIZER_CHOICES), "optimizer")
        if "lr" in body:
            s.lr = _float(body["lr"], "lr", 1e-6, 10.0)
        if "epochs" in body:
            s.epochs = _int(body["epochs"], "epochs", 1, MAX_EPOCHS)
        if "batch_size" in body:
            s.batch_size = _int(body["batch_size"], "batch_size", 1, 4096)
        if "seed" in body:
            s.seed = _int(body["seed"], "seed", 0, 2**31 - 1)
        if "mistakes" in body:
            m = body["mistakes"]
            if not isinstance(m, list):
                raise SettingsError(f"mistakes: a list drawn from {sorted(MISTAKES)}; got {_shown(m)}")
            s.mistakes = sorted({_choice(v, tuple(MISTAKES), "mistakes") for v in m})
        if "experiments" in body:
            if not isinstance(body["experiments"], bool):
                raise SettingsError(f"experiments: true or false; got {_shown(body['experiments'])}")
            s.experiments = body["experiments"]
        return s

    def config(self):
        """The run as a ``TrainConfig`` (the one settings type of every training job), with
        the mistakes that live in settings applied: uniform(0, 1) weights, the learning rate
        x100, sigmoid + MSE. ``hidden`` becomes ``arch`` once the data's sizes are known
        (``Job`` does that); the test set is the validation data, so nothing is held out."""
        from ..train import TrainConfig
        opt, momentum = OPTIMIZER_CHOICES[self.optimizer]
        mse = "sigmoid_mse" in self.mistakes
        return TrainConfig(
            data=self.data, model=self.network, opt=opt, momentum=momentum, schedule="none",
            lr=self.lr * (100 if "lr_x100" in self.mistakes else 1), epochs=self.epochs,
            batch_size=self.batch_size, seed=self.seed, dropout=0.0, val_split=0.0,
            act=("sigmoid" if mse else self.activation) if self.network == "mlp" else None,
            init="uniform01" if "uniform_init" in self.mistakes else None,
            loss="mse" if mse else "cross_entropy")


def _choice(v, allowed, name):
    if not isinstance(v, str) or v not in allowed:
        raise SettingsError(f"{name}: {_shown(v)} is not one of {', '.join(allowed)}")
    return v


def _int(v, name, lo, hi):
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise SettingsError(f"{name}: expected a whole number from {lo} to {hi}; got {_shown(v)}")
    return v


def _float(v, name, lo, hi):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not lo <= v <= hi:
        raise SettingsError(f"{name}: expected a number from {lo:g} to {hi:g}; got {_shown(v)}")
    return float(v)


SHOWN_CHARS = 40                   # a longer value is cut in the message


def _shown(v) -> str:
    """A value from the page as it was typed, for a message: text in double quotes, JSON's
    null as null (never Python's None), an empty field said in words.

    >>> _shown("abc"), _shown(None), _shown(""), _shown("1e-3")
    ('"abc"', 'null', 'an empty field ("")', '"1e-3" (text: send the number itself, not a string)')
    """
    if v == "":
        return 'an empty field ("")'
    try:
        text = json.dumps(v)
    except (TypeError, ValueError):
        text = repr(v)
    if len(text) > SHOWN_CHARS:
        text = text[:SHOWN_CHARS - 3] + "..."
    if isinstance(v, str) and _is_number(v):
        text += " (text: send the number itself, not a string)"
    return text


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def first_layer_images(W: np.ndarray, units: int = WEIGHT_UNITS) -> list[list[int]]:
    """The incoming weights of the first ``units`` hidden units (Dense W (inputs, units)), or
    the first ``units`` kernels of a convolution (W (C_out, 1, kh, kw)), each scaled to 0..255
    (grey = 0)."""
    if W.ndim == 4:                                                 # conv kernels as rows
        W = W.reshape(W.shape[0], -1).T                             # (kh*kw, C_out)
    W = np.asarray(W[:, :units], dtype=np.float64).T                # (units, inputs)
    scale = np.abs(W).max(axis=1, keepdims=True)
    scale[~np.isfinite(scale) | (scale == 0)] = 1.0
    img = np.nan_to_num(127.5 + 127.5 * W / scale, nan=127.5, posinf=255, neginf=0)
    return np.clip(np.rint(img), 0, 255).astype(int).tolist()


class Job:
    """One training run in a worker thread, its settings and the events it has sent."""

    def __init__(self, settings: TrainSettings, *, data_dir=None) -> None:
        self.settings = settings
        self.data_dir = data_dir
        self.events: list[dict] = []
        self.texts: list[str] = []              # each event as JSON, made once for every stream
        self.status = "starting"
        self.model = None                       # the trained model (with .meta), once finished
        self.started = time.time()
        self._stop = threading.Event()
        self._changed = threading.Condition()
        self._listeners: list = []              # called (no arguments) after each new event
        self._thread = threading.Thread(target=self._run, name="gradwise-train", daemon=True)

    # ---------------------------------------------------------------- control

    def start(self) -> Job:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def emit(self, event: dict) -> None:
        # strict JSON: NaN/inf (a diverged loss) become null, which the page draws as a gap
        event = json.loads(json.dumps(event, default=_plain), parse_constant=lambda _: None)
        text = json.dumps(event)
        with self._changed:
            self.texts.append(text)             # texts first: a reader goes by len(events)
            self.events.append(event)
            self._changed.notify_all()
            listeners = list(self._listeners)
        for wake in listeners:
            wake()

    def add_listener(self, wake) -> None:
        """Call ``wake()`` (in the training thread: it must be quick and thread-safe, such as
        ``loop.call_soon_threadsafe(event.set)``) after each new event."""
        with self._changed:
            self._listeners.append(wake)

    def remove_listener(self, wake) -> None:
        with self._changed:
            self._listeners.remove(wake)

    def wait_for(self, index: int, timeout: float) -> bool:
        """Wait until there is an event at ``index`` (or the timeout); True if there is."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self.events) > index, timeout)

    # ---------------------------------------------------------------- the run

    def _run(self) -> None:
        from ..model import TrainingDiverged
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
                self.status = "running"
                self._train()
            self.status = "stopped" if self._stop.is_set() else "finished"
            message = ("stopped from the page" if self._stop.is_set()
                       else "try it on the draw page (Use on the draw page)")
        except TrainingDiverged as e:
            self.status, message = "diverged", str(e)
        except Exception as e:                  # reported on the page, never a dead thread
            self.status, message = "failed", f"{type(e).__name__}: {e}"
        self.emit({"type": "end", "status": self.status, "message": message})

    def _prepare(self):
        """The data as the model will see it, the model and its optimiser, through the same
        ``prepare`` and ``build`` as ``gradwise train``; the draw page prepares a drawing with
        the ``model.meta`` it records."""
        from .. import train
        from ..layers import Sigmoid
        s = self.settings
        cfg = s.config()
        cfg.data_dir = self.data_dir
        prepared, pre = train.prepare(cfg, download=False)
        if "unscaled" in s.mistakes:
            pre = replace(pre, scale="none")
            prepared = prepared.prepared_as(pre)
        if s.network == "mlp":
            cfg.arch = "-".join(map(str, [prepared.n_inputs, *s.hidden, len(prepared.classes)]))
        model, optimizer = train.build(cfg, prepared)
        if "sigmoid_mse" in s.mistakes:
            model.layers.append(Sigmoid())
        model.meta = prepared.meta(pre)
        return cfg, prepared, model, optimizer

    def _train(self) -> None:
        from .. import doctor, train
        s = self.settings
        cfg, prepared, model, optimizer = self._prepare()
        X, y = prepared.X_train, prepared.y_train
        if "class_order" in s.mistakes:
            order = np.argsort(y, kind="stable")
            X, y = X[order], y[order]
        n_classes = len(prepared.classes)
        targets, test_targets = (train.targets(cfg, labels, n_classes) for labels in (y, prepared.y_test))
        Xt, yt = prepared.X_test, prepared.y_test
        steps = math.ceil(len(X) / s.batch_size)
        self.emit({"type": "start", **asdict(s), "classes": list(prepared.classes), "n_train": len(X),
                   "n_test": len(Xt), "steps_per_epoch": steps,
                   "mistake_names": [MISTAKES[m] for m in s.mistakes]})
        shuffle = "class_order" not in s.mistakes
        before = doctor.check_data(X, y, Xt, yt, num_classes=n_classes, shuffled=shuffle)
        watcher = _Watcher(self, every=max(1, steps // BATCH_EVENTS_PER_EPOCH), initial=before)
        self.emit({"type": "weights", "step": 0, "images": first_layer_images(model.layers[0].params["W"])})
        if s.experiments:                       # the experiments start from the untrained model
            untrained, unused_optimizer = copy.deepcopy(model), copy.deepcopy(optimizer)
        try:
            model.fit(X, targets, epochs=s.epochs, batch_size=s.batch_size, loss=cfg.loss,
                      optimizer=optimizer, validation_data=(Xt, test_targets), seed=s.seed,
                      shuffle=shuffle, verbose=0, callbacks=[watcher.monitor, watcher])
        finally:                                # a diverged run is where the experiments matter most
            watcher.send_findings()
            if s.experiments and not self._stop.is_set():
                try:                            # never hides how the run itself ended
                    self._experiments(watcher, untrained, unused_optimizer, X, targets, cfg.loss,
                                      (Xt, test_targets), shuffle)
                except Exception as e:
                    self.emit({"type": "experiments", "error": f"{type(e).__name__}: {e}"})
        if not self._stop.is_set():
            self.model = model

    def _experiments(self, watcher: "_Watcher", untrained, optimizer, X, targets, loss, test,
                     shuffle: bool) -> None:
        """After the run, what ``doctor.diagnose(..., verify=True)`` does, on the page: the
        learning rate swept, and each finding with a mechanical fix tried on a copy of the
        untrained model (same seed, same batches, a subsample: doctor/experiments.py), so the
        page shows the loss against the rate and, under each finding, before and after."""
        from ..doctor import experiments
        from ..doctor.findings import verified_text
        s = self.settings
        self.emit({"type": "experiments"})
        _, report = experiments.sweep_and_verify(
            watcher.current(), untrained, X, targets, loss=loss, optimizer=optimizer,
            batch_size=s.batch_size, seed=s.seed, shuffle=shuffle, X_test=test[0], y_test=test[1],
            on_sweep=lambda sweep: self.emit({"type": "sweep", **sweep.to_dict()}))
        for f in report.findings:
            if (f.code, f.where) not in watcher.sent:     # the sweep's own LR finding
                watcher.sent.add((f.code, f.where))
                self.emit({"type": "finding", **asdict(f),
                           "tried": verified_text(f.verified) if f.verified else None})
            elif f.verified:
                self.emit({"type": "verified", "code": f.code, "where": f.where, "verified": f.verified,
                           "tried": verified_text(f.verified)})


class _Watcher(Callback):
    """Turns the run into page events; the doctor's Monitor watches beside it."""

    def __init__(self, job: Job, every: int, initial) -> None:
        from ..doctor.recorder import Monitor
        self.job, self.every = job, every
        self.monitor = Monitor(every=every, check_inputs=False)   # check_data ran before
        self.initial = list(initial.findings)
        self.sent: set[tuple] = set()

    def current(self) -> list:
        """The findings that hold now: the data's, checked before the run, and the Monitor's."""
        return self.initial + (list(self.monitor.report().findings) if self.monitor.model else [])

    def send_findings(self, step: int | None = None) -> None:
        """Send each finding that newly holds, and withdraw each sent one that no longer
        does (the run recovered), so the page shows what the library reports now."""
        found = self.current()
        now = {(f.code, f.where) for f in found}
        for code, where in sorted(self.sent - now, key=str):
            self.sent.discard((code, where))
            self.job.emit({"type": "withdrawn", "code": code, "where": where, "step": step})
        for f in found:
            key = (f.code, f.where)
            if key not in self.sent:
                self.sent.add(key)
                self.job.emit({"type": "finding", **asdict(f)})

    def on_train_begin(self, logs):
        self.send_findings()                    # data and init findings, before the first step

    def on_batch_end(self, batch, logs):
        if self.job._stop.is_set():
            self.model.stop_training = True
        step = logs["step"]
        if step % self.every and batch != 0:
            return
        out, target = logs["output"], logs["target"]
        truth = target.argmax(axis=1) if target.ndim == 2 else target
        acc = float(np.mean(out.argmax(axis=1) == truth))
        self.job.emit({"type": "batch", "epoch": logs["epoch"], "step": step,
                       "loss": float(logs["loss"]), "accuracy": acc})
        if step % (4 * self.every) == 0:
            self.job.emit({"type": "weights", "step": step,
                           "images": first_layer_images(self.model.layers[0].params["W"])})
            self.send_findings(step)

    def on_epoch_end(self, epoch, logs):
        self.job.emit({"type": "epoch", "epoch": epoch,
                       **{k: logs.get(k) for k in ("loss", "accuracy", "val_loss", "val_accuracy")}})
        self.job.emit({"type": "weights", "step": -1,
                       "images": first_layer_images(self.model.layers[0].params["W"])})
        self.send_findings()


def _plain(v):
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    raise TypeError(f"{type(v).__name__} is not JSON")
