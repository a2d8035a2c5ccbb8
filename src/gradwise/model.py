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
import zipfile
from pathlib import Path

import numpy as np

from .version import __version__
from .callbacks import Callback, History, Progress
from .errors import GradwiseError, ModelFileError
from .fileio import atomic_write, atomic_write_bytes
from .functional import softmax, stable_sigmoid
from .memory import keep_freed_memory
from . import conv  # noqa: F401  (registers Conv2D, pooling and BatchNorm for load)
from .layers import LAYERS, Dense, Dropout, Layer, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .losses import LOSSES, BinaryCrossEntropy, Loss, MSE, get_loss
from .optim import Adam, Optimizer

MODEL_FORMAT = "gradwise-model"
MODEL_FORMAT_VERSION = 1
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

    # ------------------------------------------------------------------ training
    def fit(self, X, y, *, epochs: int = 1, batch_size: int | None = 32, loss=None,
            optimizer: Optimizer | None = None, validation_data=None,
            validation_split: float = 0.0, shuffle: bool = True,
            callbacks: list[Callback] | None = None, seed: int | None = None,
            verbose: int = 1, initial_epoch: int = 0, resume_state: dict | None = None,
            history: History | None = None, augment=None) -> History:
        """Train with mini-batch gradient descent.

        Args:
            X, y: inputs (N, ...) and targets (N,) labels or (N, C) rows.
            epochs: passes over the training data.
            batch_size: rows per step; 1 is online (stochastic) learning; None is full batch.
            loss: a Loss or its name; default: the model's last loss, else SoftmaxCrossEntropy.
            optimizer: default: the model's last optimiser, else Adam(1e-3).
            validation_data: ``(X_val, y_val)`` evaluated after every epoch.
            validation_split: or hold out this fraction of (X, y), chosen at random with
                ``seed`` (never the tail: data is often sorted by class).
            shuffle: reshuffle the rows every epoch (on by default: class-ordered batches
                are a classic reason a network does not learn).
            callbacks: Callback objects (progress, checkpoint, early stopping, the doctor).
            seed: seeds the shuffling, the split and dropout; the same seed on the same
                model gives bit-identical runs.
            verbose: 0 silent, 1 progress bar and a line per epoch, 2 a line per epoch.
            augment: a callable ``(batch, rng) -> batch`` applied to each training batch
                (e.g. ``gradwise.augment.Augment()``), drawing from the run's generator.
            initial_epoch, resume_state, history: continue an interrupted run exactly: the
                epoch to start at, the random-number state from ``training_state()`` saved
                at the end of the previous epoch, and the History so far (see
                ``gradwise.checkpoint``). Use the same seed and data as the first run.

        Training asks glibc's malloc to keep freed memory for reuse, for the whole process
        (``gradwise.memory``; ``GRADWISE_KEEP_MEMORY=0`` turns that off).

        A callback that sets ``model.stop_training`` in ``on_batch_end`` (Ctrl-C does) ends
        training at once: the unfinished epoch gets no ``on_epoch_end``, so no checkpoint
        ever holds half an epoch; ``model.interrupted`` is then True.

        Returns:
            History with per-epoch loss, accuracy, val_loss, val_accuracy, lr and time.
        """
        epochs = _positive_int("epochs", epochs)
        if not 0 <= validation_split < 1:
            raise ValueError(f"fit: validation_split must be in [0, 1); got {validation_split!r}")
        self.loss = loss = get_loss(loss if loss is not None else (self.loss or "SoftmaxCrossEntropy"))
        if optimizer is None:
            optimizer = self.optimizer or Adam(1e-3)
        self.optimizer = optimizer
        rng = np.random.default_rng(seed)
        X, y = self._check_xy(X, y, "fit")
        if validation_data is not None and validation_split:
            raise ValueError("fit: pass validation_data or validation_split, not both")
        if validation_split:
            order = rng.permutation(len(X))
            n_val = max(1, int(round(validation_split * len(X))))
            validation_data = (X[order[-n_val:]], y[order[-n_val:]])
            X, y = X[order[:-n_val]], y[order[:-n_val]]
        if validation_data is not None:
            validation_data = self._check_xy(*validation_data, "fit (validation_data)")
        n = len(X)
        batch_size = n if batch_size is None else min(_positive_int("batch_size", batch_size), n)
        steps = math.ceil(n / batch_size)
        for layer in self.layers:                         # dropout masks follow the seed too
            if isinstance(layer, Dropout) and layer.rng_from_fit:
                layer.rng = np.random.default_rng(rng.integers(2**63))
        self._fit_rng = rng
        if resume_state is not None:
            self._restore_training_state(resume_state)

        # one buffer for the shuffled batch, reused every step: gathering rows into it copies
        # the same bytes as X[idx] but allocates (and page-faults) nothing new; and malloc
        # told to keep the blocks the layers free, for the next step (gradwise.memory)
        keep_freed_memory()
        x_buffer = np.empty((batch_size, *X.shape[1:]), dtype=X.dtype) if shuffle else None
        history = history if history is not None else History()
        callbacks = [history, *(callbacks or [])]
        if verbose:
            callbacks.append(Progress(epochs, bar=verbose == 1))
        for cb in callbacks:
            cb.set_model(self)
        self.stop_training = self.interrupted = False
        params, grads = self.params, self.grads
        first = self.layers[0] if self.layers else None
        skip_input_grad = hasattr(first, "needs_input_grad")
        if skip_input_grad:
            first.needs_input_grad = False
        step = optimizer.t
        try:
            with np.errstate(under="ignore"):            # underflow to 0 is harmless here
                for cb in callbacks:
                    cb.on_train_begin({"epochs": epochs, "samples": n, "steps": steps})
                for epoch in range(initial_epoch, epochs):
                    for cb in callbacks:
                        cb.on_epoch_begin(epoch, {"samples": n, "steps": steps})
                    start = time.perf_counter()
                    order = rng.permutation(n) if shuffle else None
                    total_loss, correct, counted = 0.0, 0, 0
                    for b in range(steps):
                        rows = slice(b * batch_size, (b + 1) * batch_size)
                        if shuffle:
                            idx = order[rows]
                            xb = np.take(X, idx, axis=0, out=x_buffer[:len(idx)])
                            yb = y[idx]
                        else:
                            xb, yb = X[rows], y[rows]
                        optimizer.set_epoch(epoch + b / steps)
                        if augment is not None:
                            xb = augment(xb, rng)
                        out = self.forward(xb, training=True)
                        try:
                            batch_loss = loss.forward(out, yb)
                        except ValueError as e:
                            if np.all(np.isfinite(out)):
                                raise
                            raise TrainingDiverged(
                                f"the network's output became NaN/inf at epoch {epoch + 1}, step "
                                f"{b + 1} (lr={optimizer.lr:g}). Lower the learning rate, scale "
                                f"inputs to [0, 1], or use a fan-in-scaled init (he_normal); "
                                f"gradwise.doctor can tell which.") from e
                        self.backward(loss.backward())
                        optimizer.step(params, grads)
                        step += 1
                        total_loss += batch_loss * len(xb)
                        score = loss.correct(out, yb)
                        if score is not None:
                            correct += score[0]
                            counted += score[1]
                        for cb in callbacks[1:]:
                            cb.on_batch_end(b, {"loss": batch_loss, "size": len(xb),
                                                "epoch": epoch, "step": step, "input": xb,
                                                "output": out, "target": yb})
                        if self.stop_training:
                            break
                    if self.stop_training and b + 1 < steps:
                        self.interrupted = True           # half an epoch: no epoch-end hooks
                        break
                    logs = {"loss": total_loss / max(1, min(n, (b + 1) * batch_size))}
                    if counted:
                        logs["accuracy"] = correct / counted
                    if validation_data is not None:
                        val = self.evaluate(*validation_data, loss=loss)
                        logs["val_loss"] = val["loss"]
                        if "accuracy" in val:
                            logs["val_accuracy"] = val["accuracy"]
                    logs["lr"] = optimizer.lr
                    logs["time"] = time.perf_counter() - start
                    for cb in callbacks:
                        cb.on_epoch_end(epoch, logs)
                    if self.stop_training:
                        break
                for cb in callbacks:
                    cb.on_train_end({})
        finally:
            if skip_input_grad:
                first.needs_input_grad = True
        return history

    def training_state(self) -> dict:
        """The random-number state of the current (or last) fit: shuffling and dropout masks.

        Saved with a checkpoint at the end of an epoch, it lets ``fit(resume_state=...)``
        draw exactly the numbers the uninterrupted run would have drawn.
        """
        dropout = [layer.rng.bit_generator.state for layer in self.layers
                   if isinstance(layer, Dropout) and layer.rng is not None]
        return {"shuffle": self._fit_rng.bit_generator.state, "dropout": dropout}

    def _restore_training_state(self, state: dict) -> None:
        self._fit_rng.bit_generator.state = state["shuffle"]
        layers = [layer for layer in self.layers if isinstance(layer, Dropout)]
        if len(layers) != len(state["dropout"]):
            raise ValueError(f"resume_state has {len(state['dropout'])} dropout generators, the "
                             f"model has {len(layers)} Dropout layers")
        for layer, saved in zip(layers, state["dropout"]):
            if layer.rng is None:
                layer.rng = np.random.default_rng()
            layer.rng.bit_generator.state = saved

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
        return out.argmax(axis=1)

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
        if X.dtype.kind not in "biuf":
            raise ValueError(f"{who}: inputs must be numeric; got dtype {X.dtype}")
        if X.ndim < 2:
            raise ValueError(f"{who}: inputs must be (N, features) with one row per sample; got "
                             f"shape {X.shape} (for one sample use X[None, :])")
        X = X.astype(self.dtype, copy=False)
        if not np.all(np.isfinite(X)):
            bad = np.argwhere(~np.isfinite(X.reshape(len(X), -1)))[0][0]
            raise ValueError(f"{who}: inputs contain NaN or inf (first in row {bad})")
        return X

    def _check_xy(self, X, y, who: str) -> tuple[np.ndarray, np.ndarray]:
        X = self._check_x(X, who)
        y = np.asarray(y)
        if len(y) != len(X):
            raise ValueError(f"{who}: {len(X)} input rows but {len(y)} targets")
        if len(X) == 0:
            raise ValueError(f"{who}: no samples")
        return X, y

    # ------------------------------------------------------------------ save / load
    def get_config(self) -> dict:
        return {
            "format": MODEL_FORMAT,
            "format_version": MODEL_FORMAT_VERSION,
            "gradwise_version": __version__,
            "layers": [{"type": type(layer).__name__, "config": layer.get_config()}
                       for layer in self.layers],
            "loss": None if self.loss is None else {"type": type(self.loss).__name__,
                                                    "config": self.loss.get_config()},
            "meta": self.meta,
        }

    def save(self, path) -> Path:
        """Write ``PATH.npz`` (weights and architecture) and ``PATH.json`` (the architecture,
        readable). Both are written to a temporary file and renamed: a crash or an error
        midway leaves any earlier save intact. No pickle: the files are plain data.

        Returns the path of the .npz file.
        """
        base = _model_base(path)
        text = json.dumps(self.get_config(), indent=2)
        arrays = dict(self.named_params())
        arrays.update({f"{i}.{k}": v for i, layer in enumerate(self.layers)
                       for k, v in getattr(layer, "buffers", {}).items()})
        # The architecture travels inside the .npz too, so that one atomic rename keeps
        # weights and architecture consistent; the .json beside it is for people to read.
        arrays["__config__"] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
        npz = atomic_write(base.with_name(base.name + ".npz"), lambda f: np.savez(f, **arrays))
        atomic_write_bytes(base.with_name(base.name + ".json"), text.encode("utf-8") + b"\n")
        return npz

    @classmethod
    def load(cls, path) -> "Sequential":
        """Rebuild a model saved with ``save``: ``Sequential.load("run/model")``."""
        base = _model_base(path)
        npz = base.with_name(base.name + ".npz")
        if not npz.is_file():
            raise ModelFileError(f"no model file at {npz} (write one with model.save({str(base)!r}))")
        try:
            with np.load(npz, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except (zipfile.BadZipFile, ValueError, OSError, EOFError) as e:
            raise ModelFileError(f"{npz} is not a readable gradwise model file ({e})") from e
        if "__config__" not in arrays:
            raise ModelFileError(f"{npz} has no architecture record: not written by Sequential.save")
        try:
            config = json.loads(arrays.pop("__config__").tobytes().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ModelFileError(f"{npz}: the architecture record is corrupt ({e})") from e
        return cls._from_config(config, arrays, npz)

    @classmethod
    def _from_config(cls, config: dict, arrays: dict, source) -> "Sequential":
        if config.get("format") != MODEL_FORMAT:
            raise ModelFileError(f"{source}: not a gradwise model (format {config.get('format')!r})")
        if config.get("format_version", 0) > MODEL_FORMAT_VERSION:
            raise ModelFileError(f"{source} was written by a newer gradwise "
                                 f"({config.get('gradwise_version')}); upgrade gradwise to read it")
        layers = []
        for i, spec in enumerate(config["layers"]):
            if spec["type"] not in LAYERS:
                raise ModelFileError(f"{source}: layer {i} has unknown type {spec['type']!r}")
            layer = LAYERS[spec["type"]](**spec["config"])
            for name, p in {**layer.params, **getattr(layer, "buffers", {})}.items():
                key = f"{i}.{name}"
                if key not in arrays:
                    raise ModelFileError(f"{source}: missing weights {key!r}")
                if arrays[key].shape != p.shape:
                    raise ModelFileError(f"{source}: weights {key!r} have shape {arrays[key].shape}, "
                                         f"the layer expects {p.shape}")
                p[...] = arrays[key]
            layers.append(layer)
        model = cls(layers)
        if config.get("loss"):
            spec = config["loss"]
            model.loss = LOSSES[spec["type"]](**spec.get("config", {}))
        model.meta = config.get("meta") or {}
        return model


def _model_base(path) -> Path:
    """'run/model', 'run/model.npz' and 'run/model.json' all name the same saved model."""
    path = Path(path)
    return path.with_suffix("") if path.suffix in (".npz", ".json") else path


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"fit: {name} must be a positive integer; got {value!r}")
    return int(value)


ACTIVATIONS = {"relu": ReLU, "leaky_relu": LeakyReLU, "tanh": Tanh, "sigmoid": Sigmoid}
DEFAULT_INIT = {"relu": "he_normal", "leaky_relu": "he_normal", "tanh": "glorot_uniform",
                "sigmoid": "glorot_uniform"}


def mlp(sizes: list[int], *, activation: str = "relu", init: str | None = None,
        dropout: float = 0.0, seed: int | None = None, dtype=np.float32) -> Sequential:
    """A multi-layer perceptron: Dense layers of the given sizes with an activation between.

    The last layer is linear (raw logits, for SoftmaxCrossEntropy). ``init`` defaults to
    he_normal for ReLU and glorot_uniform for tanh/sigmoid.

    >>> mlp([784, 256, 10], seed=0)
    Sequential([Dense(in_features=784, out_features=256, dtype='float32'), ReLU(), Dense(in_features=256, out_features=10, dtype='float32')])
    """
    if len(sizes) < 2:
        raise ValueError(f"mlp: need at least an input and an output size; got {sizes}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"mlp: unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}")
    init = init or DEFAULT_INIT[activation]
    rng = np.random.default_rng(seed)
    layers: list[Layer] = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Dense(fan_in, fan_out, init=init, rng=rng, dtype=dtype))
        if i < len(sizes) - 2:                      # no activation after the output layer
            layers.append(ACTIVATIONS[activation]())
            if dropout:
                layers.append(Dropout(dropout))
    return Sequential(layers)
