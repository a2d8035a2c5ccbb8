"""Figures for a run folder, drawn with matplotlib's Agg backend (no screen needed).

Each function takes plain arrays and a path, writes one PNG and returns the path.
matplotlib is an optional extra (``pip install gradwise[plot]``); ``available()`` says
whether it is installed. ``Painter`` draws a run's figures in other processes, which have
imported matplotlib while the run trained.
"""

from __future__ import annotations

import importlib.util
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np


def available() -> bool:
    """Whether matplotlib is installed; asked without importing it (0.55 s, 2-core AMD EPYC)."""
    return importlib.util.find_spec("matplotlib") is not None


def draw(calls) -> list[Path]:
    """Make the figures ``calls`` lists, ``(function, args)`` pairs of this module, in turn."""
    return [function(*args) for function, args in calls]


class Painter:
    """Processes that draw figures while this one goes on. ``Painter()`` has none yet;
    ``start(2)`` starts two, which import matplotlib at once; ``ready()`` says whether they
    have; ``draw_groups([calls, calls])`` gives each a group of figures and waits for all of
    them; ``close()`` ends them.

    matplotlib's import costs more than most figures (0.55 s against 0.1-0.3 s a figure, on
    the 2-core AMD EPYC VM), and a run's four figures wait for its end. Started when the
    training starts, painters import it meanwhile, at the lowest priority (nice 19: a core
    the run wants is the run's), and then draw side by side.

    The first painter is a fresh ``python`` that imports only gradwise and matplotlib (not
    the program that started it, as multiprocessing's "spawn" would), then forks the others;
    each talks over a pipe of its own. They run in a session of their own, so a Ctrl-C at
    the terminal reaches only the training, and each ends when its pipe closes, if this
    process dies first. A group with no painter (none started, or one that could not start,
    died or failed) is drawn in this process, so a figure that fails raises here, as it
    would have without painters. On Windows none start.
    """

    def __init__(self) -> None:
        self.workers: list[_Worker] = []

    def start(self, processes: int = 2) -> "Painter":
        """Start ``processes`` painters: one ``python``, which forks the others once it has
        imported matplotlib (a second import would cost the run's other core as much again)."""
        if os.name != "posix" or processes < 1:
            return self
        from multiprocessing import Pipe
        pipes = [Pipe() for _ in range(processes)]
        fds = [there.fileno() for _, there in pipes]
        try:
            process = subprocess.Popen(
                [sys.executable, "-c", PAINTER.format(path=str(Path(__file__).parents[1]), fds=fds)],
                pass_fds=fds, stdin=subprocess.DEVNULL, start_new_session=True,
                env={**os.environ, **ONE_THREAD})
        except OSError:                                 # no processes here: groups drawn in this one
            process = None
        for k, (here, there) in enumerate(pipes):
            there.close()
            if process is None:
                here.close()
            else:                                       # the forked ones are not ours to wait for
                self.workers.append(_Worker(process if k == 0 else None, here))
        return self

    def ready(self) -> bool:
        """True once every painter is past its imports (or dead: nothing to wait for)."""
        return all(worker.started() for worker in self.workers)

    def draw_groups(self, groups) -> list[Path]:
        """Each group of ``(function, args)`` drawn by a painter, side by side; the paths, in
        the order of the groups. A group with no painter to take it is drawn here."""
        taken = [worker.take(group) for worker, group in zip(self.workers, groups)]
        paths = []
        for k, group in enumerate(groups):
            answer = taken[k].answer() if k < len(taken) and taken[k] is not None else None
            paths += answer if answer is not None else draw(group)
        return paths

    def close(self) -> None:
        """Tell the painters to stop, and wait (a second at most) for them to end."""
        for worker in self.workers:
            worker.stop()
        for worker in self.workers:
            try:
                if worker.process is not None:
                    worker.process.wait(timeout=1)
            except subprocess.TimeoutExpired:
                worker.process.kill()
        self.workers = []

    def __enter__(self) -> "Painter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# a painter's program: lowest priority first, then the imports (gradwise from where this one is)
PAINTER = ("import os, sys; os.nice(19); sys.path.insert(0, {path!r}); "
           "from gradwise.plots import _paint; _paint(*{fds})")
# a painter multiplies no matrices: no BLAS threads (and none to make its forks unsafe)
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


class _Worker:
    """One painter process and this end of its pipe."""

    def __init__(self, process: subprocess.Popen, connection) -> None:
        self.process, self.connection, self.ready = process, connection, False

    def started(self) -> bool:
        """Whether it has said "ready" (read once), or died."""
        if not self.ready:
            try:                                        # a fork's death shows as the pipe's end
                self.ready = (self.connection.recv() == "ready" if self.connection.poll()
                              else self.process is not None and self.process.poll() is not None)
            except (OSError, EOFError):                 # dead: poll saw the end of the pipe
                self.ready = True
        return self.ready

    def take(self, group) -> "_Worker | None":
        """Send it ``group`` to draw; None when it cannot be sent."""
        try:
            self.connection.send(group)
            return self
        except (OSError, ValueError):
            return None

    def answer(self) -> list[Path] | None:
        """The paths it drew; None if it died or a figure failed."""
        try:
            while not self.ready:                     # its "ready" comes first
                self.ready = self.connection.recv() == "ready"
            answer = self.connection.recv()
        except (OSError, EOFError):
            return None
        return answer if isinstance(answer, list) else None

    def stop(self) -> None:
        try:
            self.connection.send(None)
            self.connection.close()
        except (OSError, ValueError):
            pass


def _paint(fd: int, *others: int) -> None:
    """A painter (``PAINTER``): draw one figure to load the fonts, fork a painter for each of
    ``others``, say "ready", then draw each group it is sent, answering with the paths (None
    when a figure failed), until None or the end of the pipe."""
    import io

    fig = _figure((1, 1))
    fig.text(0.5, 0.5, "0")
    fig.savefig(io.BytesIO(), format="png")
    for k, other in enumerate(others):
        if os.fork() == 0:                          # the fork: serve ``other``, and only it
            for unused in (fd, *others[:k], *others[k + 1:]):
                os.close(unused)
            _serve(other)
        os.close(other)
    _serve(fd)


def _serve(fd: int) -> None:
    """Answer the run on ``fd`` (see ``_paint``), then end the process at once: its files
    are written, and tearing down matplotlib would keep the run waiting (0.1 s)."""
    try:
        _answer(fd)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def _answer(fd: int) -> None:
    from multiprocessing.connection import Connection

    connection = Connection(fd)
    try:
        connection.send("ready")
        while (group := connection.recv()) is not None:
            try:
                answer = draw(group)
            except Exception:                       # redrawn by the run, which shows the error
                answer = None
            connection.send(answer)
    except (EOFError, OSError):                     # the run has gone
        pass


def _figure(figsize):
    """A matplotlib Figure of its own, drawn by Agg when saved: no pyplot (its import and
    figure manager: 0.1 s of a run's plots), and nothing that touches the user's backend."""
    from matplotlib.figure import Figure
    return Figure(figsize=figsize)


def _cmap(name: str):
    """A colour map with NaN (the background of a tiled sheet) drawn white."""
    import matplotlib
    return matplotlib.colormaps[name].with_extremes(bad="white")


def _save(fig, path) -> Path:
    """The figure as a PNG, atomically. Each figure sets its own margins: ``bbox_inches=
    "tight"`` would draw it twice, once to measure it (a third of the plots' time)."""
    from .fileio import atomic_write
    path = Path(path)
    atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=110))
    return path


def training_curves(history: dict, path) -> Path:
    """Loss and accuracy per epoch, training and validation side by side."""
    return _save(curves_figure(history), path)


def curves_figure(history: dict):
    """The figure of ``training_curves``, not saved: a matplotlib ``Figure`` made without
    pyplot, so drawing it in a notebook leaves the notebook's plotting backend alone."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter
    epochs = np.arange(1, len(history["loss"]) + 1)
    fig = Figure(figsize=(10, 3.8))
    ax_loss, ax_acc = fig.subplots(1, 2)
    fig.subplots_adjust(left=0.075, right=0.985, bottom=0.13, top=0.92, wspace=0.22)
    ax_loss.plot(epochs, history["loss"], "o-", label="train")
    if "val_loss" in history:
        ax_loss.plot(epochs, history["val_loss"], "s-", label="validation")
    ax_loss.set(title="loss", xlabel="epoch", ylabel="cross-entropy")
    ax_loss.set_yscale("log")
    for set_formatter in (ax_loss.yaxis.set_major_formatter, ax_loss.yaxis.set_minor_formatter):
        set_formatter(FuncFormatter(_log_tick_label))
    if "accuracy" in history:
        ax_acc.plot(epochs, 100 * np.asarray(history["accuracy"]), "o-", label="train")
    if "val_accuracy" in history:
        ax_acc.plot(epochs, 100 * np.asarray(history["val_accuracy"]), "s-", label="validation")
    ax_acc.set(title="accuracy", xlabel="epoch", ylabel="%")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
        ax.xaxis.get_major_locator().set_params(integer=True)
    return fig


def _log_tick_label(value: float, _position) -> str:
    """Ticks of a log axis as plain numbers at 1, 2, 3 and 5 x 10^k (0.05, not 5x10^-2:
    matplotlib's default writes math text, and its parser costs 0.2-0.4 s a figure)."""
    if value <= 0:
        return ""
    leading = round(value / 10 ** math.floor(math.log10(value)))
    return f"{value:g}" if leading in (1, 2, 3, 5) else ""


def confusion_matrix(cm: np.ndarray, classes, path) -> Path:
    """Counts of true class (rows) against predicted class (columns), diagonal = correct."""
    cm = np.asarray(cm)
    # margins in inches, from the longest class name (a character of the 10-point ticks is
    # about 0.085 in wide; rotated by 45 degrees it takes 0.7 of that in height)
    rotate = len(str(classes[0])) > 2
    names = 0.085 * max(len(str(c)) for c in classes)
    left, bottom = 0.45 + names, 0.45 + (0.7 * names if rotate else 0.15)
    width, height = 5.9 + left, 5.1 + bottom
    fig = _figure((width, height))
    ax = fig.subplots()
    fig.subplots_adjust(left=left / width, right=1 - 0.15 / width, bottom=bottom / height,
                        top=1 - 0.35 / height)
    shown = cm.astype(float).copy()
    np.fill_diagonal(shown, np.nan)                 # colour the mistakes; the diagonal dwarfs them
    im = ax.imshow(shown, cmap="Reds")
    fig.colorbar(im, ax=ax, label="errors")
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            if cm[i, j]:
                ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=7,
                        fontweight="bold" if i == j else "normal")
    ticks = np.arange(len(classes))
    ax.set_xticks(ticks, [str(c) for c in classes], rotation=45 if rotate else 0,
                  ha="right" if rotate else "center", rotation_mode="anchor" if rotate else "default")
    ax.set_yticks(ticks, [str(c) for c in classes])
    ax.set(xlabel="predicted", ylabel="true", title="confusion matrix (off-diagonal = errors)")
    return _save(fig, path)


def tile(images: np.ndarray, cols: int, gap: int, top: int = 0) -> np.ndarray:
    """Images laid out as one picture, ``cols`` to a row, NaN (drawn as the background)
    around them: ``gap`` pixels between neighbours and ``top`` more above each row, room for
    a caption.

    One picture drawn once is what keeps a figure of many small images cheap: a grid of
    axes is a set of artists per image for matplotlib to lay out and draw (2.8 s for the
    100 axes of a run's two grids, 2-core AMD EPYC).

    Shape:
        images (N, H, W) -> (rows * (top + H + gap) - gap, cols * (W + gap) - gap),
        rows = ceil(N / cols)

    >>> tile(np.ones((3, 2, 2)), cols=2, gap=1).shape
    (5, 5)
    """
    n, h, w = images.shape
    rows = max(1, -(-n // cols))
    cell_h, cell_w = top + h + gap, w + gap
    sheet = np.full((rows * cell_h - gap, cols * cell_w - gap), np.nan)     # NaN: background
    for k in range(n):
        r, c = divmod(k, cols)
        y, x = r * cell_h + top, c * cell_w
        sheet[y:y + h, x:x + w] = images[k]                                  # (H, W) in its cell
    return sheet


def _sheet_figure(sheet: np.ndarray, width: float, title_band: float = 0.4, side: float = 0.0):
    """A figure whose one axes holds ``sheet`` (a tiled picture) ``width`` inches wide, at its
    own aspect, under a band of ``title_band`` inches for the title and between ``side``
    inches left and right (room for captions wider than a picture): no margins to trim."""
    h, w = sheet.shape
    height = width * h / w
    fig = _figure((width + 2 * side, height + title_band))
    ax = fig.add_axes((side / (width + 2 * side), 0.0, width / (width + 2 * side),
                       height / (height + title_band)))
    ax.axis("off")
    return fig, ax


def misclassified(images: np.ndarray, y_true, y_pred, confidence, classes, path,
                  limit: int = 36) -> Path:
    """A grid of test images the model got wrong: true -> predicted (confidence)."""
    images = np.asarray(images)[:limit]
    n, (h, w), cols = len(images), images.shape[1:], 6
    rows = max(1, int(np.ceil(n / cols)))
    gap, top = w // 4, h // 3                          # a caption band above each image
    sheet = tile(images.astype(float), cols, gap, top)
    captions = [f"{classes[y_true[k]]} → {classes[y_pred[k]]} ({100 * confidence[k]:.0f}%)"
                for k in range(n)]
    # an 8-point character is about 0.065 in wide; a caption wider than its picture
    # overhangs by half the difference on each side, the outer columns into the margin
    picture = cols * 1.6 * w / sheet.shape[1]
    side = max([0.0] + [(0.065 * len(c) - picture) / 2 for c in captions]) + 0.05
    fig, ax = _sheet_figure(sheet, cols * 1.6, side=side)
    ax.imshow(sheet, cmap=_cmap("gray"), vmin=0, vmax=float(images.max()) if n else 1.0,
              interpolation="nearest")
    for k, caption in enumerate(captions):
        r, c = divmod(k, cols)
        ax.text(c * (w + gap) + w / 2, r * (top + h + gap) + top - 1, caption,
                ha="center", va="bottom", fontsize=8, clip_on=False)
    fig.suptitle(f"misclassified test images (true → predicted), {n} shown", fontsize=10,
                 y=1 - 0.1 / fig.get_figheight())
    return _save(fig, path)


def first_layer_weights(W: np.ndarray, image_shape, path, limit: int = 64) -> Path:
    """Each first-layer unit's incoming weights drawn as an image (red +, blue -), each
    scaled to its own largest |weight|."""
    n = min(limit, W.shape[1])
    cols = 8
    rows = int(np.ceil(n / cols))
    units = np.asarray(W[:, :n], dtype=float).T.reshape(n, *image_shape)      # (n, H, W)
    largest = np.abs(units).max(axis=(1, 2), keepdims=True)                   # (n, 1, 1)
    units = units / np.where(largest > 0, largest, 1.0)                       # each in [-1, 1]
    sheet = tile(units, cols, gap=max(1, image_shape[1] // 6))
    fig, ax = _sheet_figure(sheet, cols * 1.1)
    ax.imshow(sheet, cmap=_cmap("bwr"), vmin=-1, vmax=1,
              interpolation="nearest")
    fig.suptitle(f"first-layer weights, {n} of {W.shape[1]} units (red +, blue -)", fontsize=10,
                 y=1 - 0.1 / fig.get_figheight())
    return _save(fig, path)
