"""Sequential: a list of layers, walked forward and backward by plain loops.

    model = Sequential([Dense(784, 256), ReLU(), Dense(256, 10)])
    history = model.fit(X, y, epochs=10, batch_size=128, optimizer=Adam(1e-3), seed=0)

The training step, in full (``fit`` adds batching, shuffling, callbacks and validation)::

    logits = model.forward(xb, training=True)     # layer by layer
    loss_value = loss.forward(logits, yb)          # mean over the batch
    model.backward(loss.backward())                # layer by layer, in reverse
    optimizer.step(model.params, model.grads)      # in place
"""

from __future__ import annotations

import json
import math
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from . import serialize
from .callbacks import Callback, History, Progress
from .errors import GradwiseError, ModelFileError
from .fileio import atomic_write_bytes
from .functional import softmax, stable_sigmoid
from . import conv  # noqa: F401  (registers Conv2D, pooling and BatchNorm for load)
from .layers import Layer, Sigmoid, Softmax
from .losses import BinaryCrossEntropy, Loss, MSE, get_loss
from .optim import Adam, Optimizer

MODEL_FORMAT, MODEL_FORMAT_VERSION = serialize.MODEL_FORMAT, serialize.MODEL_FORMAT_VERSION
PREDICT_CHUNK = 1024          # rows per forward pass in predict/evaluate: large for speed, small
                              # enough that a CNN's im2col of a chunk stays in the hundreds of MB


class TrainingDiverged(GradwiseError, FloatingPointError):
    """The loss or the network's output became NaN or infinite during fit."""


class Sequential:
    """A feed-forward network: the output of each layer is the input of the next.

    Args:
        layers: the layers, in order.

    Attributes:
        layers: the list of layers (walk it, index it, replace one).
        loss: the loss last used by ``fit`` (saved with the model; decides what
            ``predict_proba`` means).
        meta: a JSON-serialisable dict saved with the model (preprocessing, class names...).
    """

    def __init__(self, layers: list[Layer]) -> None:
        layers = list(layers)
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"Sequential: item {i} is {type(layer).__name__}, not a Layer "
                                f"(did you pass the class instead of an instance, e.g. ReLU instead of ReLU()?)")
        self.layers = layers
        self.loss: Loss | None = None
        self.optimizer: Optimizer | None = None
        self.meta: dict = {}
        self.stop_training = False
        self.interrupted = False
        self._fit_rng: np.random.Generator | None = None

    # ------------------------------------------------------------------ the two passes
    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x, training=training)
        return x

    def backward(self, grad: np.ndarray) -> np.ndarray | None:
        for layer in reversed(self.layers):
            grad = layer.backward(grad)
            if grad is None:          # the first layer skipped dL/dinput (see fit)
                break
        return grad

    # ------------------------------------------------------------------ parameters
    @property
    def params(self) -> list[np.ndarray]:
        """Every trainable array, layer by layer (the order optimisers rely on)."""
        return [p for layer in self.layers for p in layer.params.values()]

    @property
    def grads(self) -> list[np.ndarray]:
        """The gradient arrays, parallel to ``params``."""
        return [layer.grads[k] for layer in self.layers for k in layer.params]

    def named_params(self) -> list[tuple[str, np.ndarray]]:
        """``("0.W", array), ("0.b", array), ...``: layer index and parameter name."""
        return [(f"{i}.{k}", p) for i, layer in enumerate(self.layers) for k, p in layer.params.items()]

    @property
    def dtype(self) -> np.dtype:
        params = self.params
        return params[0].dtype if params else np.dtype(np.float32)

    def num_params(self) -> int:
        return sum(p.size for p in self.params)

    def num_outputs(self) -> int:
        """The width of the model's output (the number of classes of a classifier): the size
        of the last layer with a bias; activations after it keep that width."""
        for layer in reversed(self.layers):
            b = layer.params.get("b")
            if b is not None:
                return len(b)
        raise ValueError("the model has no layer with a bias, so its output width is not known")

    def summary(self) -> str:
        rows = [f"{'#':>3}  {'layer':<34} {'params':>10}"]
        for i, layer in enumerate(self.layers):
            rows.append(f"{i:>3}  {repr(layer):<34} {sum(p.size for p in layer.params.values()):>10,}")
        rows.append(f"{'':>3}  {'total':<34} {self.num_params():>10,}")
        return "\n".join(rows)

    def __repr__(self) -> str:
        return "Sequential([" + ", ".join(repr(layer) for layer in self.layers) + "])"

    def _repr_html_(self) -> str:
        """A notebook shows a model as its summary table."""
        from .display import summary_html
        return summary_html(self)

    # ------------------------------------------------------------------ training
    def train_step(self, xb: np.ndarray, yb: np.ndarray) -> tuple[float, np.ndarray]:
        """One step of gradient descent on a batch, with ``self.loss`` and ``self.optimizer``
        (set by ``fit``): the four lines of the module docstring. Returns the batch's loss
        and the network's output."""
        out = self.forward(xb, training=True)
        loss_value = _loss_or_diverged(self.loss, out, yb, self.optimizer)
        self.backward(self.loss.backward())
        self.optimizer.step(self.params, self.grads)
        return loss_value, out

    def fit(self, X, y, *, epochs: int = 1, batch_size: int | None = 32, loss=None,
            optimizer: Optimizer | None = None, validation_data=None, validation_split: float = 0.0,
            shuffle: bool = True, callbacks: list[Callback] | None = None, seed: int | None = None,
            verbose: int = 1, initial_epoch: int = 0, resume_state: dict | None = None,
            history: History | None = None, augment=None, batches=None, transform=None) -> History:
        """Train with mini-batch gradient descent: every epoch, ``train_step`` on each batch
        (reshuffled unless ``shuffle=False``: class-ordered batches are a classic reason a
        network does not learn), then the validation loss and the callbacks' epoch end.

        X, y: inputs (N, ...) and targets: (N,) labels or (N, C) rows. batch_size: rows per
        step (1: online learning; None: the full batch). loss: a Loss or its name, optimizer:
        default the model's last ones, else SoftmaxCrossEntropy and Adam(1e-3).
        validation_data: ``(X_val, y_val)``, or validation_split: the fraction of (X, y) held
        out, drawn at random with ``seed`` (never the tail: data is often sorted by class).
        callbacks: Callback objects (progress, checkpoint, early stopping, the doctor).
        seed: seeds shuffling, the split and the layers' own draws (dropout masks): the same
        seed on the same model gives bit-identical runs. verbose: 0 silent, 1 a progress bar
        and a line per epoch, 2 the lines only. augment: ``(batch, rng) -> batch``, applied
        to each training batch. initial_epoch, resume_state, history: continue a stopped run
        exactly (the next epoch, ``training_state()`` saved after the last one, the History
        so far: see gradwise.checkpoint). batches(rng): the batches instead of X, y (text windows).
        transform: ``rows -> model input``, on each batch as drawn and on the validation rows,
        before augment: X may stay as stored (uint8 pixels; ``train.Preprocessing.apply``).

        A callback that sets ``model.stop_training`` in ``on_batch_end`` ends training at once
        (the unfinished epoch gets no ``on_epoch_end``: no checkpoint holds half an epoch) and
        ``model.interrupted`` is then True. A stop between batches ends it after that epoch,
        as interrupted if the asker set ``interrupted`` too (Ctrl-C does) and epochs were left.
        Returns the History: loss, accuracy, val_loss, val_accuracy, lr and time per epoch.
        """
        epochs = _positive_int("epochs", epochs)
        rng = np.random.default_rng(seed)
        batches, validation_data = self._fit_batches(X, y, batch_size, shuffle, augment, rng, batches,
                                                     validation_data, validation_split, transform)
        self._begin_fit(loss, optimizer, rng, resume_state)
        history = history if history is not None else History()
        callbacks = [history, *(callbacks or []), *([Progress(epochs, bar=verbose == 1)] if verbose else [])]
        _call(callbacks, "set_model", self)
        with np.errstate(under="ignore"), self._first_layer_without_input_grad():   # underflow to 0: harmless
            _call(callbacks, "on_train_begin", {"epochs": epochs, "samples": batches.samples,
                                                "steps": batches.steps})
            finished = initial_epoch >= epochs
            for epoch in range(initial_epoch, epochs):
                _call(callbacks, "on_epoch_begin", epoch, {"samples": batches.samples, "steps": batches.steps})
                start = time.perf_counter()
                logs = self._train_epoch(epoch, batches, callbacks)
                if logs is None:                              # stopped mid-epoch: no epoch end
                    self.interrupted = True
                    break
                if validation_data is not None:
                    logs.update(self._validation_logs(validation_data, epoch))
                logs.update(lr=self.optimizer.lr, time=time.perf_counter() - start)
                _call(callbacks, "on_epoch_end", epoch, logs)
                finished = epoch == epochs - 1
                if self.stop_training:
                    break
            if finished:                                      # a stop after the last epoch's end
                self.interrupted = False                      # loses nothing
            _call(callbacks, "on_train_end", {})
        return history

    def _validation_logs(self, validation_data, epoch: int) -> dict[str, float]:
        """val_loss (and val_accuracy) after an epoch; TrainingDiverged, as for a training
        batch, when the loss cannot be had because the outputs are no longer finite."""
        try:
            logs = {f"val_{k}": v for k, v in self.evaluate(*validation_data).items()}
        except ValueError as e:
            X = validation_data[0]
            if all(np.all(np.isfinite(self.forward(X[i:i + PREDICT_CHUNK])))
                   for i in range(0, len(X), PREDICT_CHUNK)):
                raise
            raise _diverged(f"the validation after epoch {epoch + 1}", self.optimizer) from e
        if not math.isfinite(logs["val_loss"]):      # finite outputs so large that the loss overflowed
            raise _diverged(f"the validation after epoch {epoch + 1}", self.optimizer)
        return logs

    def _fit_batches(self, X, y, batch_size, shuffle, augment, rng, batches, validation_data,
                     validation_split, transform=None):
        """The source of fit's batches (of X, y, or ``batches(rng)``) and the checked
        validation pair."""
        if batches is not None:
            if validation_data is not None:
                validation_data = self._check_xy(*validation_data, "fit (validation_data)")
            return batches(rng), validation_data
        X, y, rows, validation_data = self._fit_data(X, y, validation_data, validation_split, rng,
                                                     transform)
        return _Batches(X, y, batch_size, shuffle, augment, rng, rows, transform), validation_data

    def _fit_data(self, X, y, validation_data, validation_split, rng, transform=None):
        """Checked arrays, the rows of them to train on (None: all) and the validation pair
        (split off at random if asked). The training rows stay where they are in X: the
        batches gather them by index, as they would from a copy (MNIST's: 172 MB not copied).
        With a ``transform``, X is checked a batch at a time, by the model, as it is drawn."""
        if not 0 <= validation_split < 1:
            raise ValueError(f"fit: validation_split must be in [0, 1); got {validation_split!r}")
        if transform is None:
            X, y = self._check_xy(X, y, "fit")
        else:
            X, y = np.asarray(X), np.asarray(y)
            self._check_lengths(X, y, "fit")
        if validation_data is not None and validation_split:
            raise ValueError("fit: pass validation_data or validation_split, not both")
        if validation_split:
            order = rng.permutation(len(X))
            n_val = max(1, int(round(validation_split * len(X))))
            if n_val >= len(X):
                raise ValueError(f"fit: validation_split {validation_split!r} of {len(X)} samples "
                                 f"holds out {n_val}, leaving none to train on; use a smaller split")
            validation_data = (X[order[-n_val:]], y[order[-n_val:]])
            rows = order[:-n_val]
        else:
            rows = None
        if validation_data is not None:
            X_val, y_val = validation_data
            validation_data = self._check_xy(X_val if transform is None else transform(np.asarray(X_val)),
                                             y_val, "fit (validation_data)")
        return X, y, rows, validation_data

    def _begin_fit(self, loss, optimizer, rng, resume_state) -> None:
        """Settle the loss and optimiser, hand the layers the run's generator, and restore
        the random state of a resumed run."""
        self.loss = get_loss(loss if loss is not None else (self.loss or "SoftmaxCrossEntropy"))
        self.optimizer = optimizer if optimizer is not None else (self.optimizer or Adam(1e-3))
        for layer in self.layers:
            layer.begin_fit(rng)
        self._fit_rng = rng
        self.stop_training = self.interrupted = False
        if resume_state is not None:
            self._restore_training_state(resume_state)

    @contextmanager
    def _first_layer_without_input_grad(self):
        """Nobody needs dL/d(input): the first layer may skip computing it while training."""
        first = self.layers[0] if self.layers else None
        skip = first is not None and first.can_skip_input_grad and first.needs_input_grad
        if skip:
            first.needs_input_grad = False
        try:
            yield
        finally:
            if skip:
                first.needs_input_grad = True

    def _train_epoch(self, epoch: int, batches: "_Batches", callbacks) -> dict | None:
        """One pass over the batches; the epoch's mean loss and accuracy, or None when a
        callback stopped training before the last batch."""
        total_loss, correct, counted, seen = 0.0, 0, 0, 0
        for b, xb, yb in batches.epoch():
            self.optimizer.set_epoch(epoch + b / batches.steps)
            try:
                batch_loss, out = self.train_step(xb, yb)
            except TrainingDiverged as e:                     # say where, in epochs
                raise _diverged(f"epoch {epoch + 1}, step {b + 1}", self.optimizer) from e.__cause__
            seen += len(xb)
            total_loss += batch_loss * len(xb)
            score = self.loss.correct(out, yb)
            if score is not None:
                correct, counted = correct + score[0], counted + score[1]
            _call(callbacks, "on_batch_end", b, {"loss": batch_loss, "size": len(xb), "epoch": epoch,
                                                 "step": self.optimizer.t, "input": xb, "output": out,
                                                 "target": yb})
            if self.stop_training and b + 1 < batches.steps:
                return None
        logs = {"loss": total_loss / max(1, seen)}
        if counted:
            logs["accuracy"] = correct / counted
        return logs

    def training_state(self) -> dict:
        """The random-number state of the current (or last) fit: shuffling and dropout masks.

        Saved with a checkpoint at the end of an epoch, it lets ``fit(resume_state=...)``
        draw exactly the numbers the uninterrupted run would have drawn.
        """
        layers = [s for layer in self.layers if (s := layer.random_state()) is not None]
        return {"shuffle": self._fit_rng.bit_generator.state, "dropout": layers}

    def _restore_training_state(self, state: dict) -> None:
        self._fit_rng.bit_generator.state = state["shuffle"]
        layers = [layer for layer in self.layers if layer.random_state() is not None]
        if len(layers) != len(state["dropout"]):
            raise ValueError(f"resume_state has {len(state['dropout'])} dropout generators, the "
                             f"model has {len(layers)} layers that draw random numbers")
        for layer, saved in zip(layers, state["dropout"]):
            layer.set_random_state(saved)

    # ------------------------------------------------------------------ inference
    def _forward_chunks(self, X) -> np.ndarray:
        X = self._check_x(X, "predict")
        with np.errstate(under="ignore"):
            outs = [self.forward(X[i:i + PREDICT_CHUNK]) for i in range(0, len(X), PREDICT_CHUNK)]
        return np.concatenate(outs) if outs else self.forward(X)

    def predict_logits(self, X) -> np.ndarray:
        """The raw output of the last layer, in chunks of PREDICT_CHUNK rows."""
        return self._forward_chunks(X)

    def _is_classifier(self) -> bool:
        return not (isinstance(self.loss, MSE) and not isinstance(self.layers[-1], (Softmax, Sigmoid)))

    def output_proba(self, out: np.ndarray) -> np.ndarray:
        """The probabilities that the model's raw output ``out`` stands for (what
        ``predict_proba`` returns): as they are after a Softmax or Sigmoid layer, else the
        softmax of the logits, or their sigmoid for one output or a binary cross-entropy."""
        if isinstance(self.layers[-1], (Softmax, Sigmoid)):
            return out                                        # already probabilities
        if isinstance(self.loss, BinaryCrossEntropy) or out.shape[-1] == 1:
            return stable_sigmoid(out)
        return softmax(out)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (N, C); for one sigmoid output (N, 1), P(class 1)."""
        return self.output_proba(self._forward_chunks(X))

    def predict(self, X) -> np.ndarray:
        """Class indices (N,) for a classifier; the raw outputs for a regression model
        (trained with MSE and no Softmax/Sigmoid output)."""
        out = self._forward_chunks(X)
        if not self._is_classifier():
            return out
        if out.shape[-1] == 1:
            threshold = 0.5 if isinstance(self.layers[-1], Sigmoid) else 0.0   # logit 0 = p 0.5
            return (out[:, 0] > threshold).astype(np.intp)
        return out.argmax(axis=-1)                            # (N,), or (B, T) for a sequence model

    def evaluate(self, X, y, *, loss=None) -> dict[str, float]:
        """Mean loss and (for classification) accuracy on (X, y), without training."""
        loss = get_loss(loss if loss is not None else (self.loss or "SoftmaxCrossEntropy"))
        X, y = self._check_xy(X, y, "evaluate")
        total, correct, counted = 0.0, 0, 0
        with np.errstate(under="ignore"):
            for i in range(0, len(X), PREDICT_CHUNK):
                xb, yb = X[i:i + PREDICT_CHUNK], y[i:i + PREDICT_CHUNK]
                out = self.forward(xb)
                total += loss.forward(out, yb) * len(xb)
                score = loss.correct(out, yb)
                if score is not None:
                    correct, counted = correct + score[0], counted + score[1]
        result = {"loss": total / len(X)}
        if counted:
            result["accuracy"] = correct / counted
        return result

    # ------------------------------------------------------------------ input checks
    def _check_x(self, X, who: str) -> np.ndarray:
        X = np.asarray(X)
        if self.layers and self.layers[0].integer_input:      # token ids (B, T): kept as integers
            if X.dtype.kind not in "iu":
                raise ValueError(f"{who}: the model's first layer ({type(self.layers[0]).__name__}) "
                                 f"takes integer token ids; got dtype {X.dtype} (encode the text "
                                 f"with the model's vocabulary, model.meta['vocab'])")
            return X
        if X.dtype.kind not in "biuf":
            raise ValueError(f"{who}: inputs must be numeric; got dtype {X.dtype}")
        if X.ndim < 2:
            raise ValueError(f"{who}: inputs must be (N, features) with one row per sample; got "
                             f"shape {X.shape} (for one sample use X[None, :])")
        X = X.astype(self.dtype, copy=False)
        # one pass, no mask: a float64 sum of float32 numbers is finite exactly when all are
        # (it cannot overflow); the mask is made only to say where the first bad one is
        if not math.isfinite(float(np.sum(X, dtype=np.float64))) and not np.all(np.isfinite(X)):
            bad = np.argwhere(~np.isfinite(X.reshape(len(X), -1)))[0][0]
            raise ValueError(f"{who}: inputs contain NaN or inf (first in row {bad})")
        return X

    def _check_xy(self, X, y, who: str) -> tuple[np.ndarray, np.ndarray]:
        X = self._check_x(X, who)
        y = np.asarray(y)
        self._check_lengths(X, y, who)
        return X, y

    @staticmethod
    def _check_lengths(X: np.ndarray, y: np.ndarray, who: str) -> None:
        if X.ndim == 0 or y.ndim == 0 or len(X) != len(y):
            raise ValueError(f"{who}: {len(X) if X.ndim else 'no'} input rows but "
                             f"{len(y) if y.ndim else 'no'} targets")
        if len(X) == 0:
            raise ValueError(f"{who}: no samples")

    # ------------------------------------------------------------------ save / load
    def state_dict(self) -> dict[str, np.ndarray]:
        """Every array that defines the model, by name: parameters and buffers (BatchNorm's
        running statistics), ``"0.W"``, ``"1.running_mean"``... (see gradwise.serialize)."""
        return serialize.state_arrays(self.layers)

    def load_state_dict(self, arrays: dict[str, np.ndarray], source="state") -> None:
        """Copy arrays named as ``state_dict`` names them into the model."""
        serialize.load_state(self.layers, arrays, source)

    def get_config(self) -> dict:
        return serialize.model_config(self)

    def save(self, path) -> Path:
        """Write ``PATH.npz`` (weights and architecture) and ``PATH.json`` (the architecture,
        readable). Both are written to a temporary file and renamed: a crash or an error
        midway leaves any earlier save intact. No pickle: the files are plain data.

        Returns the path of the .npz file.
        """
        base = _model_base(path)
        config = self.get_config()
        # The architecture travels inside the .npz too, so that one atomic rename keeps
        # weights and architecture consistent; the .json beside it is for people to read.
        npz = serialize.write_npz(base.with_name(base.name + ".npz"), self.state_dict(), "__config__", config)
        atomic_write_bytes(base.with_name(base.name + ".json"),
                           json.dumps(config, indent=2).encode("utf-8") + b"\n")
        return npz

    @classmethod
    def load(cls, path) -> "Sequential":
        """Rebuild a model saved with ``save``: ``Sequential.load("run/model")``."""
        base = _model_base(path)
        npz = base.with_name(base.name + ".npz")
        if not npz.is_file():
            raise ModelFileError(f"no model file at {npz} (write one with model.save({str(base)!r}))")
        arrays, config = serialize.read_npz(npz, "__config__", "model file", "Sequential.save")
        return cls.from_config(config, arrays, npz)

    @classmethod
    def from_config(cls, config: dict, arrays: dict, source="model") -> "Sequential":
        """The model a ``get_config()`` record describes, with the ``state_dict()`` arrays."""
        layers, loss, meta = serialize.build_layers(config, source, arrays)
        serialize.load_state(layers, arrays, source)
        model = cls(layers)
        model.loss, model.meta = loss, meta
        return model


def _model_base(path) -> Path:
    """'run/model', 'run/model.npz' and 'run/model.json' all name the same saved model."""
    path = Path(path)
    return path.with_suffix("") if path.suffix in (".npz", ".json") else path


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"fit: {name} must be a positive integer; got {value!r}")
    return int(value)


class _Batches:
    """The mini-batches of one epoch after another: reshuffled each epoch from the run's
    generator (gathered into one buffer reused every step: the same bytes as ``X[idx]``,
    with nothing new allocated or page-faulted), transformed and augmented if asked.
    ``rows``: the rows of X, y to draw from, in this order (None: all of them), as if X
    were ``X[rows]``."""

    def __init__(self, X, y, batch_size, shuffle: bool, augment, rng, rows=None,
                 transform=None) -> None:
        n = len(X) if rows is None else len(rows)
        self.X, self.y, self.shuffle, self.augment, self.rng = X, y, shuffle, augment, rng
        self.rows, self.transform = rows, transform
        self.size = n if batch_size is None else min(_positive_int("batch_size", batch_size), n)
        self.samples, self.steps = n, math.ceil(n / self.size)
        self.buffer = np.empty((self.size, *X.shape[1:]), dtype=X.dtype) if shuffle else None

    def epoch(self):
        """Yields (index, inputs, targets) for each batch of a new epoch."""
        order = self.rng.permutation(self.samples) if self.shuffle else None
        for b in range(self.steps):
            rows = slice(b * self.size, (b + 1) * self.size)
            if self.shuffle:
                idx = order[rows] if self.rows is None else self.rows[order[rows]]
                xb, yb = np.take(self.X, idx, axis=0, out=self.buffer[:len(idx)]), self.y[idx]
            elif self.rows is None:
                xb, yb = self.X[rows], self.y[rows]
            else:
                idx = self.rows[rows]
                xb, yb = self.X[idx], self.y[idx]
            if self.transform is not None:
                xb = self.transform(xb)
            yield b, (xb if self.augment is None else self.augment(xb, self.rng)), yb


def _call(callbacks, hook: str, *args) -> None:
    for cb in callbacks:
        getattr(cb, hook)(*args)


def _diverged(where: str, optimizer) -> TrainingDiverged:
    return TrainingDiverged(
        f"the network's output became NaN/inf at {where} (lr={optimizer.lr:g}). Lower the learning "
        f"rate, scale inputs to [0, 1], or use a fan-in-scaled init (he_normal); gradwise.doctor "
        f"can tell which.")


def _loss_or_diverged(loss, out, target, optimizer) -> float:
    """The loss of a batch; TrainingDiverged (at the optimiser's next step) when it cannot be
    had because the output is not finite."""
    try:
        return loss.forward(out, target)
    except ValueError as e:
        if np.all(np.isfinite(out)):
            raise
        raise _diverged(f"step {optimizer.t + 1}", optimizer) from e
