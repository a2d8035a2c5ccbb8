"""Figures for a run folder, drawn with matplotlib's Agg backend (no screen needed).

Each function takes plain arrays and a path, writes one PNG and returns the path.
matplotlib is an optional extra (``pip install gradwise[plot]``); ``available()`` says
whether it is installed.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import numpy as np


def available() -> bool:
    try:
        import matplotlib  # noqa: F401
        return True
    except ImportError:
        return False


def draw_in_two(here, there) -> list[Path]:
    """Draw the figures ``here`` and ``there`` lists (``(function, args)`` pairs of this
    module, each function taking its path last) side by side: ``there`` in a forked copy of
    this process, which has imported matplotlib, while this one draws ``here``; the paths,
    ``here``'s first. A run's four figures: 0.87 s -> 0.62 s on 2 cores (medians of 10 main
    jobs), the other core being idle once the training is done. Where a fork is not safe
    (not Linux, or other threads running: a notebook's kernel, a web server), or the copy
    fails, this process draws ``there`` after ``here``, so a figure that fails raises here
    as it would anyway."""
    import matplotlib.backends.backend_agg  # noqa: F401  (imported once, before the fork)
    import matplotlib.figure  # noqa: F401
    pid = _fork()
    if pid == 0:                                    # the copy: draw, then end at once (no
        ok = False                                  # atexit, no flush of inherited buffers)
        try:
            draw(there)
            ok = True
        finally:
            os._exit(0 if ok else 1)
    try:
        paths = draw(here)
    finally:                                        # reaped even when a figure here fails
        drawn = pid is not None and os.waitpid(pid, 0)[1] == 0
    if drawn:
        return paths + [Path(args[-1]) for _, args in there]
    return paths + draw(there)


def draw(calls) -> list[Path]:
    """Make the figures ``calls`` lists, ``(function, args)`` pairs of this module, in turn."""
    return [function(*args) for function, args in calls]


def _fork() -> int | None:
    """``os.fork()`` where it is safe, else None: on Linux, in a process whose only other
    Python thread, if any, is tqdm's monitor (it sleeps, holding no lock, between looks at
    the bars; a run's progress bar leaves it behind). Python 3.12+ warns of any fork in a
    process with other OS threads; BLAS's idle workers are such threads, and OpenBLAS makes
    itself safe across a fork."""
    import threading
    import warnings
    monitor = getattr(sys.modules.get("tqdm._monitor"), "TMonitor", ())
    others = [t for t in threading.enumerate()
              if t is not threading.current_thread() and not isinstance(t, monitor)]
    if sys.platform != "linux" or others:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return os.fork()
    except OSError:
        return None


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
    "tight"`` would draw it twice, once to measure it (a third of the plots' time). zlib at
    level 1, not Pillow's 6: a tenth of a figure's time saved for files 13% larger."""
    from .fileio import atomic_write
    path = Path(path)
    atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=110, pil_kwargs={"compress_level": 1}))
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
    dark = 0.6 * np.nanmax(shown) if np.isfinite(shown).any() else np.inf   # white digits there
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            if cm[i, j]:
                ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=7,
                        fontweight="bold" if i == j else "normal",
                        color="white" if i != j and shown[i, j] > dark else "black")
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
