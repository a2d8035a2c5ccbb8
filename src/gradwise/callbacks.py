"""Callbacks: code that ``Sequential.fit`` calls at fixed points of training.

Hooks, in the order fit calls them::

    on_train_begin(logs)
      on_epoch_begin(epoch, logs)
        on_batch_end(batch, logs)      # logs: loss, size, epoch, step (global step count),
                                       #       input (the batch the network saw; a buffer the
                                       #       next step reuses: copy what you keep),
                                       #       output (the batch's network output), target
      on_epoch_end(epoch, logs)        # logs: loss, accuracy, val_loss, val_accuracy, lr, time
    on_train_end(logs)

A callback reads ``self.model`` (its layers, params and grads) and may set
``self.model.stop_training = True`` to end training after the current batch.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path



class Callback:
    """Base class: every hook does nothing."""

    model = None

    def set_model(self, model) -> None:
        self.model = model

    def on_train_begin(self, logs: dict) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: dict) -> None: ...
    def on_batch_end(self, batch: int, logs: dict) -> None: ...
    def on_epoch_end(self, epoch: int, logs: dict) -> None: ...
    def on_train_end(self, logs: dict) -> None: ...


class History(Callback):
    """Per-epoch records: ``history["loss"]``, ``"accuracy"``, ``"val_loss"``, ``"val_accuracy"``,
    ``"lr"`` and ``"time"`` (seconds), each a list with one value per epoch."""

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_epoch_end(self, epoch, logs):
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __contains__(self, key: str) -> bool:
        return key in self.history

    def to_dict(self) -> dict:
        return {"epoch": list(self.epoch), **{k: list(v) for k, v in self.history.items()}}

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"

    def _repr_html_(self) -> str:
        """A notebook shows a History as a table per epoch and its curves."""
        from .display import history_html
        return history_html(self)

    def plot(self, path=None):
        """The loss and accuracy curves: a matplotlib Figure (shown by a notebook), also
        written as a PNG to ``path`` when given. Needs the ``plot`` extra."""
        from . import plots
        if not self.history.get("loss"):
            raise ValueError("History.plot: no epoch has finished yet, so there is nothing to plot")
        if path is not None:
            plots.training_curves(self.history, path)
        return plots.curves_figure(self.history)


def format_epoch(epoch: int, epochs: int, logs: dict) -> str:
    """One line per epoch: ``epoch 3/10  loss 0.1234  acc 96.12%  val_loss ...  lr 1e-03  2.1s``."""
    parts = [f"epoch {epoch + 1}/{epochs}"]
    for key, label in (("loss", "loss"), ("accuracy", "acc"), ("val_loss", "val_loss"),
                       ("val_accuracy", "val_acc")):
        value = logs.get(key)
        if value is None:
            continue
        parts.append(f"{label} {100 * value:.2f}%" if "acc" in key else f"{label} {value:.4f}")
    if "lr" in logs:
        parts.append(f"lr {logs['lr']:.2e}")
    if "time" in logs:
        parts.append(f"{logs['time']:.1f}s")
    return "  ".join(parts)


class Progress(Callback):
    """A progress bar per epoch (samples/s, running loss, ETA) and a summary line per epoch.

    The bar is drawn on a terminal (and left on screen, as a widget, in a notebook); when
    the output is neither it is left out. The summary lines always print.
    Args:
        epochs: total epochs, for the "3/10" display.
        bar: draw the bar (tqdm) when the output is a terminal.
        file: where to write (stdout by default).
    """

    def __init__(self, epochs: int, *, bar: bool = True, file=None) -> None:
        self.epochs, self.bar, self.file = epochs, bar, file
        self._tqdm = None

    def on_epoch_begin(self, epoch, logs):
        self._sum, self._count, self._batches = 0.0, 0, 0
        if self.bar:
            from tqdm.auto import tqdm

            from .display import in_notebook
            self._tqdm = tqdm(total=logs.get("samples"), unit="sample", unit_scale=True,
                              leave=in_notebook(), disable=None, file=self.file or sys.stderr,
                              desc=f"epoch {epoch + 1}/{self.epochs}", dynamic_ncols=True)

    def on_batch_end(self, batch, logs):
        self._sum += logs["loss"] * logs["size"]
        self._count += logs["size"]
        self._batches += 1
        if self._tqdm is not None:
            self._tqdm.update(logs["size"])
            if self._batches % 20 == 0:
                self._tqdm.set_postfix(loss=f"{self._sum / self._count:.4f}", refresh=False)

    def on_epoch_end(self, epoch, logs):
        if self._tqdm is not None:
            self._tqdm.close()
            self._tqdm = None
        print(format_epoch(epoch, self.epochs, logs), file=self.file or sys.stdout, flush=True)


class LivePlot(Callback):
    """The loss and accuracy curves, redrawn in place after every epoch.

    In a notebook the figure is one output that is updated (IPython's ``display_id``), with
    the doctor's findings under it when a Monitor is given; in a terminal or a script the
    curves are written to ``path`` instead, every epoch, and the path is printed at the end.

    Args:
        path: the PNG written outside a notebook.
        doctor: a ``doctor.Monitor`` in the same ``fit``'s callbacks, placed before this one:
            its report is shown under the curves, codes found since the last epoch marked new.
        display: ``display(obj, display_id=True) -> handle`` with ``handle.update(obj)``
            (default ``IPython.display.display``; tests pass a fake).
        notebook: force the notebook or the terminal behaviour (default: detected).

    Example::

        mon = doctor.Monitor()
        model.fit(X, y, epochs=5, callbacks=[mon, gw.LivePlot(doctor=mon)])
    """

    def __init__(self, path="curves.png", *, doctor=None, display=None,
                 notebook: bool | None = None) -> None:
        self.path, self.doctor, self.display, self.notebook = Path(path), doctor, display, notebook
        self.handle = None
        self.history: dict[str, list[float]] = {}
        self.seen: set[str] = set()

    def on_train_begin(self, logs):
        self.history, self.seen, self.handle = {}, set(), None
        if self.notebook is None:
            from .display import in_notebook
            self.notebook = in_notebook()
        if self.notebook and self.display is None:
            from IPython.display import display
            self.display = display

    def on_epoch_end(self, epoch, logs):
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)
        if self.notebook:
            self._show()
        else:
            from . import plots
            if plots.available():
                plots.training_curves(self.history, self.path)

    def on_train_end(self, logs):
        if not self.notebook and self.history.get("loss"):
            from . import plots
            if plots.available():
                print(f"curves: {self.path}", file=sys.stdout, flush=True)

    def _show(self) -> None:
        from .display import HTML, curves_html
        parts = [curves_html(self.history)]
        if self.doctor is not None:
            report = self.doctor.report()
            codes = set(report.codes())
            first = len(self.history["loss"]) == 1              # after epoch 1 every code is new
            parts.append(report.to_html(new=None if first else codes - self.seen))
            self.seen |= codes
        content = HTML("".join(parts))
        if self.handle is None:
            self.handle = self.display(content, display_id=True)
        else:
            self.handle.update(content)


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    Args:
        monitor: a key of the epoch logs (``val_loss`` by default; ``val_accuracy``...).
            Keys ending in "accuracy" are maximised, the others minimised.
        patience: epochs without improvement before stopping.
        restore_best_weights: put back the weights of the best epoch when stopping.
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0,
                 restore_best_weights: bool = True) -> None:
        if patience < 1:
            raise ValueError(f"EarlyStopping: patience must be >= 1; got {patience}")
        self.monitor, self.patience, self.min_delta = monitor, int(patience), float(min_delta)
        self.restore_best_weights = restore_best_weights
        self.sign = 1.0 if monitor.endswith("accuracy") else -1.0   # bigger is better?
        self.stopped_epoch: int | None = None

    def on_train_begin(self, logs):
        self.best, self.best_epoch, self.wait, self.best_weights = -math.inf, None, 0, None

    def on_epoch_end(self, epoch, logs):
        if self.monitor not in logs:
            raise ValueError(f"EarlyStopping: no {self.monitor!r} in the epoch logs (have "
                             f"{', '.join(logs)}); pass validation_data or validation_split")
        score = self.sign * logs[self.monitor]
        if score > self.best + self.min_delta:
            self.best, self.best_epoch, self.wait = score, epoch, 0
            if self.restore_best_weights:
                self.best_weights = [p.copy() for p in self.model.params]
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs):
        if self.stopped_epoch is not None and self.best_weights is not None:
            for p, best in zip(self.model.params, self.best_weights):
                p[...] = best


class ModelCheckpoint(Callback):
    """Save the model alone (atomically) every ``every`` epochs; see
    ``gradwise.checkpoint.Checkpoint`` for a checkpoint that can resume training."""

    def __init__(self, path, every: int = 1) -> None:
        self.path, self.every = path, int(every)

    def on_epoch_end(self, epoch, logs):
        if (epoch + 1) % self.every == 0:
            self.model.save(self.path)


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda e, logs: ...)``."""

    def __init__(self, **hooks) -> None:
        allowed = {"on_train_begin", "on_epoch_begin", "on_batch_end", "on_epoch_end", "on_train_end"}
        unknown = set(hooks) - allowed
        if unknown:
            raise ValueError(f"LambdaCallback: unknown hook(s) {sorted(unknown)}; use {sorted(allowed)}")
        for name, fn in hooks.items():
            setattr(self, name, fn)


__all__ = ["Callback", "History", "Progress", "LivePlot", "EarlyStopping", "ModelCheckpoint", "LambdaCallback",
           "format_epoch"]
