"""The doctor runs the experiment: the learning rate swept, each fix tried on a copy.

The other checks infer from what they watched. An expert does more: sweeps the learning rate
by decades instead of guessing, overfits one small batch to prove the network and its backward
pass can learn at all, and tries the suspected fix and looks at the loss again. Three entry
points do that, always on copies (your model, params and arrays are never changed):

    sweep = doctor.lr_sweep(model, X, y, optimizer=gw.SGD(0.1))      # loss against lr, the lr to use
    report = doctor.examine(step, params, X, y, lr=0.1)               # your own loop's step function
    report = doctor.diagnose(model, X, y, ..., verify=True)           # each mechanical fix tried

Every trial is a short training: the same seed, the same batches, a few hundred steps on a
subsample; each report says how many steps and samples it used.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ..losses import MSE, BinaryCrossEntropy, SoftmaxCrossEntropy, get_loss
from ..model import TrainingDiverged
from . import rules
from .checks import check_data, check_gradients
from .findings import Finding, Report

# ----------------------------------------------------------------------------- thresholds

#: The range test ends once the smoothed loss passes this multiple of its lowest value:
#: the steps have started to overshoot (Smith 2017, "Cyclical learning rates"; fastai's
#: lr_find stops at 4x too).
RANGE_DIVERGE = 4.0
#: The range test's exponential moving average of the batch losses (0.9: about ten batches).
RANGE_SMOOTH = 0.9
#: The grid's learning rates sit this many to a decade (2: 1, 3.16, 10, ...), so the best of
#: the grid is within a factor of 10 ** 0.25 = 1.78 of any rate between two of its points.
GRID_PER_DECADE = 2
#: The grid reaches this many decades below the range test's minimum (the best fixed rate
#: of a short run lies below the rate where a rising one does best).
GRID_DECADES_BELOW = 3
#: Your learning rate is called too high (too low) when it is at least this factor above
#: (below) the sweep's best one ...
SWEEP_FACTOR = 3.0
#: ... and its short run kept at least this share of the loss the best run shed (from the
#: loss at init) still to shed: a real difference, not a neighbouring grid point.
SWEEP_GAP = 0.25
#: The findings the sweep decides: its own replace any the run's evidence gave.
LR_CODES = ("LR_TOO_HIGH", "LR_TOO_LOW")
#: A fix is said to help when it raised the accuracy by more than this (percentage points) ...
#: (the same short run's accuracy spreads 0.7-4.0 points over 3 seeds on 13 of the 14 healthy
#: MNIST runs of benchmarks/doctor/experiments.py, 7.2 on an under-trained one; the smallest
#: gain a fix of a real bug gave there was 14.4: benchmarks/results/doctor-experiments.json)
VERIFY_GAIN_ACCURACY = 5.0
#: ... or, without an accuracy, lowered the loss by more than this fraction.
VERIFY_GAIN_LOSS = 0.1
#: verify and examine's verification rerun the unfixed run with this many other seeds (other
#: batches, same init) and take its spread as the noise a fix must beat, when it exceeds the
#: floors above: the log-loss of predict_proba of the same short run spreads up to 23% over 3
#: seeds on healthy MNIST runs (an overconfident wrong answer costs much), a user loop's loss
#: up to 21% (benchmarks/results/doctor-experiments.json): more than the floors.
NOISE_SEEDS = 2
#: The overfit test: a network that can learn gets one small batch's loss below this share
#: of the loss at chance within its steps.
OVERFIT_SHARE = 0.1
#: The samples of a few batches the doctor evaluates a trial on (a fixed set: same for every trial).
EVAL_SAMPLES = 1000


# ----------------------------------------------------------------------------- one short training

@dataclass
class _Setup:
    """Everything one short training of a gradwise model needs; a fix returns a changed copy."""
    model: object
    X: np.ndarray
    y: np.ndarray
    loss: object
    optimizer: object
    X_eval: np.ndarray
    y_eval: np.ndarray
    batch_size: int
    seed: int
    shuffle: bool = True


def _batches(n: int, batch_size: int, steps: int, seed: int, shuffle: bool):
    """The row indices of ``steps`` batches: epochs of a permutation (or of 0..n-1), as fit draws them."""
    rng = np.random.default_rng(seed)
    done = 0
    while done < steps:
        order = rng.permutation(n) if shuffle else np.arange(n)
        for i in range(0, n, batch_size):
            if done == steps:
                return
            yield order[i:i + batch_size]
            done += 1


def _train_model(s: _Setup, lrs, steps: int):
    """A copy of ``s.model`` trained for ``steps`` steps, the learning rate ``lrs[t]`` at step
    t (or the optimiser's own when lrs is None). Returns (model, batch losses, diverged)."""
    work = copy.deepcopy(s.model)
    opt = copy.deepcopy(s.optimizer)
    opt.state, opt.t, opt.lr = [], 0, opt.base_lr        # fresh: a used optimiser's schedule may be spent
    per_epoch = math.ceil(len(s.X) / s.batch_size)
    work.loss, work.optimizer = copy.deepcopy(s.loss), opt
    rng = np.random.default_rng(s.seed)
    for layer in work.layers:
        layer.begin_fit(rng)
    losses, diverged = [], False
    with np.errstate(all="ignore"), work._first_layer_without_input_grad():
        for t, idx in enumerate(_batches(len(s.X), s.batch_size, steps, s.seed, s.shuffle)):
            if lrs is not None:
                opt.lr = float(lrs[t])
            else:
                opt.set_epoch(t / per_epoch)                 # the schedule, as fit runs it
            try:
                value, _ = work.train_step(s.X[idx], s.y[idx])
            except (TrainingDiverged, FloatingPointError, ValueError):
                diverged = True
                break
            if not math.isfinite(value):
                diverged = True
                break
            losses.append(value)
    return work, np.array(losses), diverged


def _evaluate_model(model, s: _Setup) -> tuple[float, float | None]:
    """The loss and accuracy (None for regression) of ``model`` on the setup's evaluation rows;
    an infinite loss when the outputs are not finite."""
    with np.errstate(all="ignore"):
        try:
            out = model.forward(s.X_eval, training=False)
            if not np.all(np.isfinite(out)):
                return math.inf, _accuracy_floor(s)
            loss = get_loss(copy.deepcopy(s.loss))
            value = float(loss.forward(out, s.y_eval))
            score = loss.correct(out, s.y_eval)
        except (ValueError, FloatingPointError):
            return math.inf, _accuracy_floor(s)
    acc = None if score is None else 100.0 * score[0] / max(1, score[1])
    return (value if math.isfinite(value) else math.inf), acc


def _proba_loss(model, s: _Setup) -> float:
    """The log-loss of the class probabilities ``model`` gives (``output_proba``: what
    predict_proba returns) on the setup's evaluation rows; inf when they are not finite."""
    with np.errstate(all="ignore"):
        try:
            prob = np.asarray(model.output_proba(model.forward(s.X_eval, training=False)), dtype=np.float64)
        except (ValueError, FloatingPointError, AttributeError):
            return math.inf
        y = np.asarray(s.y_eval)
        if prob.ndim == 2 and prob.shape[1] == 1:          # one sigmoid output: P(class 1)
            t = y.reshape(-1).astype(np.float64)
            p1 = np.clip(prob[:, 0], 1e-12, 1 - 1e-12)
            value = -np.mean(t * np.log(p1) + (1 - t) * np.log(1 - p1))
        else:
            labels = y.argmax(axis=1) if y.ndim == 2 else y.astype(np.int64)
            value = -np.mean(np.log(np.clip(prob[np.arange(len(prob)), labels], 1e-12, 1.0)))
    return float(value) if math.isfinite(value) else math.inf


def _accuracy_floor(s: _Setup) -> float | None:
    return None if isinstance(get_loss(copy.deepcopy(s.loss)), MSE) and not _one_hot(s.y_eval) else 0.0


def _one_hot(y) -> bool:
    y = np.asarray(y)
    return y.ndim == 2 and y.shape[1] > 1 and bool(np.all((y == 0) | (y == 1)))


def _model_trial(s: _Setup, steps: int):
    """The trial function the sweep calls: lr (a number or a schedule) -> (eval loss, batch losses)."""
    def trial(lr):
        lrs = np.full(steps, lr) if np.isscalar(lr) else lr
        work, losses, diverged = _train_model(s, lrs, len(lrs))
        return (math.inf if diverged else _evaluate_model(work, s)[0]), losses
    return trial


# ----------------------------------------------------------------------------- the sweep

@dataclass
class LRSweep:
    """The learning-rate sweep's outcome (``lr_sweep``, ``examine``).

    Attributes:
        lr: the learning rate to use: the grid's best.
        low, high: the working range of the range test: from where the loss starts to fall
            to where it is lowest (beyond it, it climbs).
        range_lrs, range_losses: the range test's curve: smoothed loss against a learning rate
            that grows geometrically at every step.
        grid: ``(lr, loss)`` for each short run of the grid: the loss on the evaluation rows
            after ``steps`` steps at that fixed rate (inf: diverged).
        current: your learning rate, and current_loss its short run's loss (None: not given).
        initial_loss: the evaluation loss before any step.
        steps, batch_size, samples: what each short run used.
        findings: LR_TOO_HIGH / LR_TOO_LOW when your rate is far from the best one.
        plot: the figure's path, when a run folder was given and matplotlib is installed.
    """
    lr: float
    low: float | None
    high: float | None
    range_lrs: list = field(default_factory=list)
    range_losses: list = field(default_factory=list)
    grid: list = field(default_factory=list)
    current: float | None = None
    current_loss: float | None = None
    initial_loss: float | None = None
    steps: int = 0
    batch_size: int = 0
    samples: int = 0
    seconds: float = 0.0
    findings: list = field(default_factory=list)
    plot: str | None = None

    @property
    def best_loss(self) -> float:
        return min(loss for _, loss in self.grid)

    def report(self) -> Report:
        return Report(self.findings)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["findings"] = [dataclasses.asdict(f) for f in self.findings]
        d["grid"] = [[lr, (loss if math.isfinite(loss) else None)] for lr, loss in self.grid]
        return d

    def __str__(self) -> str:
        rng = (f"the loss falls from lr {self.low:.2g} to {self.high:.2g} (range test)"
               if self.low and self.high else "the range test found no rate at which the loss falls")
        lines = [f"lr sweep: use lr = {self.lr:.3g}; {rng}.",
                 f"  grid ({self.steps} steps of {self.batch_size} from {self.samples} samples each, "
                 f"loss at init {_num(self.initial_loss)}):"]
        for lr, loss in self.grid:
            mark = "  <- best" if lr == self.lr else ""
            lines.append(f"    lr {lr:<9.3g} loss {_num(loss)}{mark}")
        if self.current is not None:
            lines.append(f"  your lr {self.current:.3g}: loss {_num(self.current_loss)}")
        lines += [str(f) for f in self.findings]
        return "\n".join(lines)


def _num(x) -> str:
    return "diverged" if x is None or not math.isfinite(x) else f"{x:.4g}"


def _smoothed(losses) -> np.ndarray:
    """Exponential moving average with bias correction, as Smith's range test plots it."""
    out, avg = [], 0.0
    for t, v in enumerate(losses, 1):
        avg = RANGE_SMOOTH * avg + (1 - RANGE_SMOOTH) * v
        out.append(avg / (1 - RANGE_SMOOTH ** t))
    return np.array(out)


def _range_test(trial, lr_min: float, lr_max: float, steps: int):
    """Smith's range test: one run whose rate grows geometrically from lr_min to lr_max.
    Returns (lrs, smoothed losses up to the divergence, low, high)."""
    lrs = np.geomspace(lr_min, lr_max, steps)
    _, losses = trial(lrs)
    smooth = _smoothed(losses)
    keep = len(smooth)
    for i in range(len(smooth)):
        if not math.isfinite(smooth[i]) or smooth[i] > RANGE_DIVERGE * np.min(smooth[:i + 1]):
            keep = i
            break
    smooth, lrs = smooth[:keep], lrs[:keep]
    if len(smooth) < 5:
        return lrs, smooth, None, None
    i_min = int(np.argmin(smooth))
    drop = smooth[0] - smooth[i_min]
    if drop <= 0.05 * abs(smooth[0]):            # the loss never really fell
        return lrs, smooth, None, None
    i_low = int(np.argmax(smooth <= smooth[0] - 0.1 * drop))
    return lrs, smooth, float(lrs[i_low]), float(lrs[i_min])


def _grid_lrs(high: float | None, lr_min: float, lr_max: float) -> list[float]:
    """Half decades from GRID_DECADES_BELOW below the range test's minimum up to it (all of
    [lr_min, lr_max] by decades when the range test found no minimum)."""
    if high is None:
        k = np.arange(math.floor(math.log10(lr_min)), math.ceil(math.log10(lr_max)) + 1)
        return [float(10.0 ** e) for e in k]
    top = math.floor(math.log10(high) * GRID_PER_DECADE + 1e-9)   # the grid point at or below high
    ks = range(top - GRID_DECADES_BELOW * GRID_PER_DECADE, top + 2)
    return [float(round(10.0 ** (k / GRID_PER_DECADE), 12)) for k in ks]


def _sweep(trial, *, lr_min: float, lr_max: float, steps: int, current: float | None,
           initial_loss: float) -> LRSweep:
    """The range test, then the grid (extended by up to two points where its best is at an
    edge), then your rate's own run."""
    range_lrs, range_losses, low, high = _range_test(trial, lr_min, lr_max, steps)
    results: dict[float, float] = {}

    def run(lr):
        if lr not in results:
            results[lr] = trial(lr)[0]
        return results[lr]
    grid = _grid_lrs(high, lr_min, lr_max)
    for lr in grid:
        run(lr)
    step = 10 ** (1 / GRID_PER_DECADE) if high is not None else 10.0
    for _ in range(2):                              # the best at an edge: one more point past it
        lrs = sorted(results)
        best = min(lrs, key=lambda r: (results[r], -r))
        if best == lrs[0] and best / step >= lr_min / 10:
            run(float(round(best / step, 12)))
        elif best == lrs[-1] and best * step <= lr_max * 10 and math.isfinite(results[best]):
            run(float(round(best * step, 12)))
        else:
            break
    cur_loss = None
    if current is not None:                         # your rate is a candidate too: it may beat the grid
        cur_loss = run(float(current))
    lrs = sorted(results)
    best = min(lrs, key=lambda r: (results[r], -r))   # ties: the larger rate (it learns faster)
    return LRSweep(lr=best, low=low, high=high, range_lrs=[float(v) for v in range_lrs],
                   range_losses=[float(v) for v in range_losses],
                   grid=[(lr, float(results[lr])) for lr in lrs], current=current,
                   current_loss=cur_loss, initial_loss=initial_loss, steps=steps)


def _refined_best(sw: LRSweep) -> float:
    """The best rate between the grid's points: the vertex of a parabola in log(lr) through
    the grid's best and its two neighbours (when both are finite and the best is not at an
    edge), clipped to that interval; else the grid's best. The grid's points lie 3.16x apart,
    so a rate one point from the best may be 1.8x or 5.6x from the true best: judging it on
    the grid alone calls a rate one point away 3.16x off, and misses one 5x off between points
    (measured: lr 0.05 against a grid best of 0.01, its neighbours at 0.00316 and 0.0316 much
    worse, the parabola's best 0.0059: 8.4x)."""
    grid = sorted(sw.grid)                           # your rate's run among them: a measured point too
    i = next((k for k, (lr, _) in enumerate(grid) if lr == sw.lr), None)
    if i is None or i == 0 or i == len(grid) - 1:
        return sw.lr
    (l0, f0), (l1, f1), (l2, f2) = grid[i - 1], grid[i], grid[i + 1]
    if not all(math.isfinite(v) for v in (f0, f1, f2)):
        return sw.lr
    x0, x1, x2 = math.log10(l0), math.log10(l1), math.log10(l2)
    den = (x0 - x1) * (x0 - x2) * (x1 - x2)
    a = (x2 * (f1 - f0) + x1 * (f0 - f2) + x0 * (f2 - f1)) / den
    b = (x2 * x2 * (f0 - f1) + x1 * x1 * (f2 - f0) + x0 * x0 * (f1 - f2)) / den
    if not a > 0:
        return sw.lr
    return float(10 ** min(max(-b / (2 * a), x0), x2))


def _lr_findings(sw: LRSweep) -> list[Finding]:
    """LR_TOO_HIGH / LR_TOO_LOW from the sweep: your rate is SWEEP_FACTOR or more from the best
    one, and its short run left SWEEP_GAP or more of what the best run learned unlearned."""
    if sw.current is None or sw.current_loss is None or not math.isfinite(sw.best_loss):
        return []
    best = _refined_best(sw)
    ratio = sw.current / best
    init = sw.initial_loss if sw.initial_loss is not None and math.isfinite(sw.initial_loss) else None
    diverged = not math.isfinite(sw.current_loss)
    shed = None if init is None else init - sw.best_loss
    gap = (1.0 if diverged else None if not shed or shed <= 0
           else (sw.current_loss - sw.best_loss) / shed)
    far = SWEEP_FACTOR
    if gap is None or gap < SWEEP_GAP or (1 / far < ratio < far):
        return []
    ev = {"lr": sw.current, "best_lr": sw.lr, "lr_ratio": ratio, "best_lr_refined": best,
          "loss_at_lr": sw.current_loss if not diverged else None, "loss_at_best": sw.best_loss,
          "loss_init": init, "sweep_steps": sw.steps, "sweep_samples": sw.samples,
          "working_range": [sw.low, sw.high] if sw.low else None,
          "grid": [[lr, loss if math.isfinite(loss) else None] for lr, loss in sw.grid]}
    at = "diverged" if diverged else f"reached a loss of {sw.current_loss:.4g}"
    if ratio >= far:
        return [rules.finding("LR_TOO_HIGH", "error",
                              f"the learning rate is too high: the sweep's short runs ({sw.steps} steps) "
                              f"at your lr {sw.current:.3g} {at}, at lr {sw.lr:.3g} {sw.best_loss:.4g} (loss "
                              f"at init {init:.4g}); the best rate, between the grid's points, is near "
                              f"{best:.3g}, {ratio:.3g}x lower than yours.",
                              ev, f"use lr = {sw.lr:.3g} (the sweep's best), then tune around it")]
    return [rules.finding("LR_TOO_LOW", "warning",
                          f"the learning rate is too low: the sweep's short runs ({sw.steps} steps) at "
                          f"your lr {sw.current:.3g} {at}, at lr {sw.lr:.3g} {sw.best_loss:.4g} (loss at "
                          f"init {init:.4g}); the best rate, between the grid's points, is near {best:.3g}, "
                          f"{1 / ratio:.3g}x higher than yours.",
                          {**ev, "lr_factor": 1 / ratio},
                          f"use lr = {sw.lr:.3g} (the sweep's best), then tune around it")]


def _subsample(X, y, max_samples: int | None, seed: int):
    X, y = np.asarray(X), np.asarray(y)
    if max_samples and len(X) > max_samples:
        pick = np.sort(np.random.default_rng(seed).choice(len(X), max_samples, replace=False))
        X, y = X[pick], y[pick]                       # keep the order the user has
    return X, y


def _eval_rows(n: int, seed: int) -> np.ndarray:
    """The fixed rows every trial is scored on (the same for all: only the training differs)."""
    if n <= EVAL_SAMPLES:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed + 1).choice(n, EVAL_SAMPLES, replace=False))


def _model_setup(model, X, y, loss, optimizer, batch_size, seed, max_samples, shuffle=True,
                 X_eval=None, y_eval=None) -> _Setup:
    from ..optim import Adam
    X, y = _subsample(X, y, max_samples, seed)
    loss = get_loss(loss if loss is not None else (getattr(model, "loss", None) or "SoftmaxCrossEntropy"))
    optimizer = copy.deepcopy(optimizer) if optimizer is not None else Adam(1e-3)
    if X_eval is None:
        rows = _eval_rows(len(X), seed)
        X_eval, y_eval = X[rows], y[rows]
    return _Setup(copy.deepcopy(model), X, y, loss, optimizer, np.asarray(X_eval), np.asarray(y_eval),
                  batch_size, seed, shuffle)


def lr_sweep(model, X, y, *, loss=None, optimizer=None, steps: int = 100, batch_size: int = 64,
             lr_min: float = 1e-6, lr_max: float = 10.0, seed: int = 0, max_samples: int | None = 5000,
             run_dir=None) -> LRSweep:
    """The learning rate, measured: Smith's range test, then a short grid by half decades.

    Args:
        model: a gradwise model (copied; yours is not trained).
        loss, optimizer: as for ``fit`` (default the model's loss and Adam; the optimiser's
            own rate is judged: LR_TOO_HIGH / LR_TOO_LOW when it is far from the best one).
        steps: the length of the range test and of each grid run, batch_size their batch.
        lr_min, lr_max: the range test's span.
        max_samples: the runs train on a subsample this large (the time bound).
        run_dir: a folder to write ``lr_sweep.json`` and ``lr_sweep.png`` (with matplotlib).

    Returns an LRSweep: ``.lr`` to use, ``.low``-``.high`` the working range, ``.grid``,
    ``.findings``; print it for the table.

    >>> sweep = doctor.lr_sweep(gw.mlp([784, 64, 10], seed=0), X, y, optimizer=gw.SGD(0.1))
    >>> sweep.lr                                            # e.g. 0.316
    """
    start = time.perf_counter()
    if not 0 < lr_min < lr_max:
        raise ValueError(f"lr_sweep: need 0 < lr_min < lr_max; got lr_min={lr_min!r}, lr_max={lr_max!r}")
    steps = _positive("lr_sweep", "steps", steps)
    s = _model_setup(model, X, y, loss, optimizer, batch_size, seed, max_samples)
    init_loss = _evaluate_model(s.model, s)[0]
    sw = _sweep(_model_trial(s, steps), lr_min=lr_min, lr_max=lr_max, steps=steps,
                current=float(s.optimizer.base_lr), initial_loss=init_loss)
    sw.batch_size, sw.samples = batch_size, len(s.X)
    sw.findings = _lr_findings(sw)
    sw.seconds = time.perf_counter() - start
    if run_dir is not None:
        write_sweep(sw, run_dir)
    return sw


def write_sweep(sw: LRSweep, run_dir) -> Path:
    """``lr_sweep.json`` (and ``lr_sweep.png`` when matplotlib is installed) in ``run_dir``."""
    import json

    from .. import plots
    from ..fileio import atomic_write_bytes
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / "lr_sweep.json"
    if plots.available():
        sw.plot = str(plots._save(sweep_figure(sw), run_dir / "lr_sweep.png"))
    atomic_write_bytes(path, json.dumps(sw.to_dict(), indent=1, default=float).encode())
    return path


def sweep_figure(sw: LRSweep):
    """The sweep as a matplotlib Figure (made without pyplot, as plots.curves_figure): the range
    test's smoothed loss and the grid's short runs against the learning rate, log scale; the
    chosen rate and yours marked."""
    from matplotlib.figure import Figure
    fig = Figure(figsize=(6.4, 3.8))
    ax = fig.subplots()
    if sw.range_lrs:
        ax.plot(sw.range_lrs, sw.range_losses, "-", color="#90a4ae", label="range test (smoothed)")
    finite = [(lr, loss) for lr, loss in sw.grid if math.isfinite(loss)]
    if finite:
        ax.plot(*zip(*finite), "o-", color="#1565c0", label=f"grid: loss after {sw.steps} steps")
    ax.axvline(sw.lr, color="#2e7d32", ls="--", label=f"chosen lr {sw.lr:.3g}")
    if sw.current is not None:
        ax.axvline(sw.current, color="#c62828", ls=":", label=f"your lr {sw.current:.3g}")
    if sw.low and sw.high:
        ax.axvspan(sw.low, sw.high, color="#a5d6a7", alpha=0.25, label="the loss falls")
    ax.set_xscale("log")
    ax.set(xlabel="learning rate", ylabel="loss", title="learning-rate sweep")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def _positive(who: str, name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{who}: {name} must be a positive integer; got {value!r}")
    return int(value)


# ----------------------------------------------------------------------------- your own loop

@dataclass
class _UserSetup:
    """One short training of a user's step function: what a fix may change is here."""
    step: Callable
    params: object
    X: np.ndarray
    y: np.ndarray
    X_eval: np.ndarray
    y_eval: np.ndarray
    batch_size: int
    seed: int
    loss: Callable | None = None
    lr: float | None = None


#: How deep examine looks for your arrays inside the params (a dict of lists of layer
#: objects is three levels: params["layers"][0].W).
PARAMS_DEPTH = 4


def _children(obj):
    """(name, child, setter) for the parts of a container or plain object examine looks into:
    a dict's items, a list's or tuple's entries, an object's attributes."""
    if isinstance(obj, dict):
        return [(str(k), v) for k, v in obj.items()]
    if isinstance(obj, (list, tuple)):
        return [(f"[{i}]", v) for i, v in enumerate(obj)]
    if hasattr(obj, "__dict__") and not isinstance(obj, type) and not callable(obj):
        return [(k, v) for k, v in vars(obj).items() if not k.startswith("__")]
    return []


def _float_arrays(params, prefix: str = "", depth: int = 0) -> list[tuple[str, np.ndarray]]:
    """The params' arrays of real numbers, named by where they sit: dict keys, list positions
    and attributes, nested (``W1``, ``Ws[0]``, ``layers[1].b``); a bare list is numbered
    ``param 0``, ``param 1``, ... The order is the one your structure holds them in."""
    if isinstance(params, np.ndarray):
        return [(prefix or "param 0", params)] if params.dtype.kind == "f" else []
    if depth > PARAMS_DEPTH:
        return []
    out = []
    for name, child in _children(params):
        if not prefix and name.startswith("["):
            full = f"param {name[1:-1]}"
        elif name.startswith("["):
            full = prefix + name
        else:
            full = f"{prefix}.{name}" if prefix else name
        out += _float_arrays(child, full, depth + 1)
    return out


def _with_arrays(params, arrays):
    """A deep copy of ``params`` whose real arrays are ``arrays``, in _float_arrays' order
    (the gradient check nudges flat arrays; your loss reads your structure)."""
    work = copy.deepcopy(params)
    it = iter(arrays)

    def fill(obj, depth):
        if isinstance(obj, np.ndarray):
            return next(it) if obj.dtype.kind == "f" else obj
        if depth > PARAMS_DEPTH:
            return obj
        if isinstance(obj, tuple):
            return tuple(fill(v, depth + 1) for v in obj)
        if isinstance(obj, (dict, list)):
            for k in (list(obj) if isinstance(obj, dict) else range(len(obj))):
                obj[k] = fill(obj[k], depth + 1)
        elif _children(obj):
            for k, v in _children(obj):
                setattr(obj, k, fill(v, depth + 1))
        return obj
    return fill(work, 0)


def _user_loss(s: _UserSetup, params, X, y) -> float:
    """The loss of ``params`` on (X, y): your ``loss`` if given, else your step at lr = 0 on a
    copy (a step returns the loss before its update; at lr 0 it moves nothing)."""
    with np.errstate(all="ignore"):
        try:
            value = (s.loss(params, X, y) if s.loss is not None
                     else copy.deepcopy(s.step)(copy.deepcopy(params), X, y, 0.0))
            value = float(np.asarray(value, dtype=np.float64).sum())
        except (FloatingPointError, ValueError, OverflowError, ZeroDivisionError):
            return math.inf
    return value if math.isfinite(value) else math.inf


def _train_user(s: _UserSetup, lrs, steps: int, *, rows=None, watch=None):
    """Copies of the params (and of the step: a callable object keeps its velocity or its
    accumulated gradients in itself) trained ``steps`` steps at ``lrs[t]``; on the rows
    ``rows`` every step when given (the overfit test), else on shuffled batches. ``watch``: (before(params, rows) -> x,
    after(t, params, loss, x)) around each step. Returns (params, batch losses, diverged)."""
    params, step = copy.deepcopy(s.params), copy.deepcopy(s.step)
    losses, diverged = [], False
    batches = (iter([rows] * steps) if rows is not None
               else _batches(len(s.X), s.batch_size, steps, s.seed, True))
    with np.errstate(all="ignore"):
        for t, idx in enumerate(batches):
            seen = watch[0](params, idx) if watch is not None else None
            try:
                value = float(np.asarray(step(params, s.X[idx], s.y[idx], float(lrs[t])),
                                         dtype=np.float64).sum())
            except (FloatingPointError, ValueError, OverflowError, ZeroDivisionError):
                diverged = True
                break
            if not math.isfinite(value):
                diverged = True
                break
            losses.append(value)
            if watch is not None:
                watch[1](t, params, value, seen)
    return params, np.array(losses), diverged


def _user_trial(s: _UserSetup, steps: int):
    def trial(lr):
        lrs = np.full(steps, lr) if np.isscalar(lr) else lr
        params, losses, diverged = _train_user(s, lrs, len(lrs))
        return (math.inf if diverged else _user_loss(s, params, s.X_eval, s.y_eval)), losses
    return trial


def _classes(y, num_classes: int | None) -> int | None:
    """The number of classes: given, or read from one-hot rows or integer labels (None: regression)."""
    if num_classes is not None:
        return int(num_classes)
    y = np.asarray(y)
    if _one_hot(y):
        return int(y.shape[1])
    if y.dtype.kind in "iub" or (y.dtype.kind == "f" and y.size and np.all(y == np.round(y))
                                  and y.min() >= 0 and y.max() < 1000 and len(np.unique(y)) <= 100):
        y = y.reshape(len(y), -1)
        if y.shape[1] == 1:
            return max(2, int(np.max(y)) + 1)
    return None


#: The codes a watched run of a step function can name (what the Recorder sees of it: the
#: loss, the weights, your gradients); the others need the activations or a longer run.
#: Not GRADIENT_NOT_RESET: the Recorder reads it from logged gradients that grow while they
#: stay parallel, a sign of a buffer in a loop that logs it, but examine logs what your grad
#: returns for the current params, and a full-batch run escaping a tiny init's plateau grows
#: such a gradient 3.8x at a cosine of 0.994 (CS231n's spiral, correct). examine tests for
#: the buffer directly instead: your grad called twice on the same params and batch
#: (_stateful_grad), and the updates against the gradients (_summed_updates).
WATCHED_CODES = ("MOMENTUM", "WEIGHTS_FROZEN", "LOSS_SUMMED", "EXPLODING_GRADIENT")


#: A classifier's short run that ends at this share of the chance loss or above (the loss of
#: predicting the class frequencies, whatever the input) has learned nothing from the input:
#: the init findings are then not harmless (a huge init that the first steps collapse to a
#: constant output ends there, a lower loss than its own start but no learning).
CHANCE_SHARE = 0.95


def _chance_loss(y, c) -> float | None:
    """The cross-entropy of always predicting the training labels' frequencies (ln C when
    balanced); None for regression or labels examine cannot read as classes."""
    if c is None or c < 2:
        return None
    y = np.asarray(y)
    if _one_hot(y):
        freq = y.mean(axis=0)
    elif y.dtype.kind in "iub" or (y.dtype.kind == "f" and np.all(y == np.round(y))):
        labels = y.reshape(-1).astype(np.int64)
        if labels.min() < 0:
            return None
        freq = np.bincount(labels, minlength=c) / len(labels)
    else:
        return None
    freq = freq[freq > 0]
    return float(-np.sum(freq * np.log(freq)))


#: The codes the watched run can also name when it sees your network's outputs (``predict``):
#: those the Recorder reads from the logits and labels you log.
OUTPUT_CODES = ("LABEL_SHAPE", "NO_BIAS", "NOT_LINEARLY_SEPARABLE")


def examine(step, params, X, y, *, grad=None, loss=None, lr: float | None = None,
            num_classes: int | None = None, batch_size: int = 32, steps: int = 100, seed: int = 0,
            max_samples: int | None = 5000, verify: bool = True, train_steps: int | None = None,
            predict=None) -> Report:
    """The doctor's experiments on your own NumPy loop, through its step function.

    You hand over ``step(params, X_batch, y_batch, lr) -> loss``, which updates ``params`` in
    place (and, if you have one, ``grad(params, X, y) -> grads`` in the params' structure).
    On copies of the params (yours are never changed) the doctor checks the data and the
    init, the loss at init against chance (ln C for C classes), your gradients against
    finite differences (with ``grad``), sweeps the learning rate by half decades, tries to
    overfit one small batch, watches a short run at your ``lr``, and with ``verify`` tries
    each mechanical fix (scaled inputs, a fan-in-scaled init, the sweep's lr) on a copy.

    A step that keeps state (a velocity, accumulated gradients) should be a callable object:
    each trial runs on a deep copy of it, so every trial starts fresh.

    Args:
        params: a dict (or list) of your arrays. X, y: the training data (a subsample of
            ``max_samples`` is used). loss: ``loss(params, X, y) -> float`` (else your step
            at lr 0 measures it). lr: the rate you train with (judged against the sweep).
        num_classes: when y does not tell (e.g. labels of a few classes missing).
        steps, batch_size: each short run's length and batch.
        predict: ``predict(params, X_batch) -> outputs``, your network's outputs (scores or
            probabilities) for a batch: the watched run then sees them as a Recorder sees the
            logits you log, and can name what only the outputs show (OUTPUT_CODES: labels of
            the wrong shape for the outputs, a missing bias, classes no line separates).
        train_steps: how many steps you train for, when longer than ``steps``: a rate that is
            only slow costs nothing if it catches up by then, so LR_TOO_LOW is confirmed on
            runs that long (up to TRAIN_STEPS_MAX) at your rate and the sweep's.

    Returns a Report with the usual codes; ``report.experiments`` says what each trial used.

    A CS231n-style loop (rows are samples, ``X @ W``) wraps as::

        def step(p, X, y, lr):
            loss, g = forward_backward(p, X, y)             # your function
            for k in p: p[k] -= lr * g[k]
            return loss
        doctor.examine(step, {"W1": W1, "b1": b1, "W2": W2, "b2": b2}, X, y, lr=1e-3,
                       grad=lambda p, X, y: forward_backward(p, X, y)[1])

    A Nielsen-style one (column vectors, ``W`` of shape (out, in), lists of layers)::

        def step(p, X, y, lr):
            nw, nb = backprop_batch(p["weights"], p["biases"], X.T, np.eye(10)[y].T)   # (in, N), (10, N)
            for w, b, dw, db in zip(p["weights"], p["biases"], nw, nb):
                w -= lr / len(X) * dw; b -= lr / len(X) * db
            return cost(p, X, y)
        doctor.examine(step, {"weights": net.weights, "biases": net.biases}, X, y, lr=3.0)
    """
    start = time.perf_counter()
    if not callable(step):
        raise TypeError(f"examine: step must be a function step(params, X_batch, y_batch, lr) -> loss; "
                        f"got {type(step).__name__}")
    steps, batch_size = _positive("examine", "steps", steps), _positive("examine", "batch_size", batch_size)
    X, y = _subsample(X, y, max_samples, seed)
    rows = _eval_rows(len(X), seed)
    s = _UserSetup(step, copy.deepcopy(params), X, y, X[rows], y[rows], batch_size, seed, loss, lr)
    c = _classes(y, num_classes)
    found = list(check_data(X, y, num_classes=num_classes, shuffled=True,
                            classification=c is not None).findings)
    found = [f for f in found if f.code != "CLASS_ORDERED"]        # examine draws its own batches
    arrays = _float_arrays(s.params)
    out_width = c if c is not None else (y.shape[1] if y.ndim == 2 else 1)
    with np.errstate(all="ignore"):
        inits = rules.init_logged([a for _, a in arrays], [n for n, _ in arrays], out_width)
    init_loss = _user_loss(s, s.params, s.X_eval, s.y_eval)
    used = {"samples": len(X), "steps": steps, "batch_size": batch_size, "eval_samples": len(rows)}
    if grad is not None:
        found += _gradient_findings(s, grad, used, scaled=any(f.code == "INPUT_SCALE" for f in found))
    sw = _sweep(_user_trial(s, steps), lr_min=1e-6, lr_max=10.0, steps=steps, current=lr,
                initial_loss=init_loss)
    sw.batch_size, sw.samples = batch_size, len(X)
    found += _confirm_rate(_lr_findings(sw), s, sw, lr, train_steps, used)
    overfit = _overfit(s, sw, used, 1 if c == 2 else out_width,      # two classes: one output suffices
                       train_steps, lr)
    chance = _chance_loss(y, c)
    suffers = bool(overfit) or any(f.code == "LR_TOO_HIGH" for f in found) or (
        lr is not None and sw.current_loss is not None and init_loss - sw.current_loss
        < 0.5 * (init_loss - sw.best_loss)) or (
        chance is not None and sw.current_loss is not None and sw.current_loss >= CHANCE_SHARE * chance)
    found += [f if suffers else dataclasses.replace(f, severity="info") for f in inits]
    if c is not None and c >= 2:
        found += rules.initial_loss(init_loss, c, suffering=suffers)
    found += overfit
    found += _watched(s, lr if lr is not None else sw.lr, steps, grad, c, predict)
    used.update(initial_loss=init_loss, sweep=sw.to_dict(), seconds=None)
    report = Report(found)
    if verify:
        report = _verify_user(report, s, sw, steps, used)
    used["seconds"] = time.perf_counter() - start
    report.experiments = used
    return report


#: The longest run (steps) examine trains to confirm LR_TOO_LOW at your training's length.
TRAIN_STEPS_MAX = 3000


def _confirm_rate(found: list[Finding], s: _UserSetup, sw: LRSweep, lr, train_steps, used: dict) -> list[Finding]:
    """LR_TOO_LOW or LR_TOO_HIGH kept only if your rate is still SWEEP_GAP behind the sweep's
    best after ``train_steps`` steps, your training's own length: the sweep's short runs
    favour fast rates, and their few steps are noisy. A low rate is slow, not wrong (measured:
    online SGD at lr 0.005 lost 45% of the best run's progress in the sweep's 300 steps, but
    ended within the seeds' spread of lr 0.0316 after its own 2,500: 87.7% against 89.3%
    accuracy, over 3 seeds); a high one that did not diverge can be as good once the run is as
    long as yours (measured: a correct per-neuron XOR network at lr 0.5 read as 5,000x too
    high from 100 steps that had not left the plateau at any rate)."""
    judged = [f for f in found if f.code in LR_CODES]
    if not judged or lr is None or train_steps is None or train_steps <= sw.steps:
        return found
    if judged[0].code == "LR_TOO_HIGH" and not (sw.current_loss is not None and math.isfinite(sw.current_loss)):
        return found                                  # it diverged: no longer run would rescue it
    n = int(min(train_steps, TRAIN_STEPS_MAX))
    trial = _user_trial(s, n)
    mine, best = trial(float(lr))[0], trial(float(sw.lr))[0]
    init = sw.initial_loss
    shed = None if init is None or not math.isfinite(init) or not math.isfinite(best) else init - best
    gap = None if not shed or shed <= 0 or not math.isfinite(mine) else (mine - best) / shed
    used["lr_at_train_steps"] = {"steps": n, "loss_at_lr": mine, "loss_at_best": best, "gap": gap}
    if (gap is not None and gap < SWEEP_GAP) or (gap is None and math.isfinite(mine) and mine <= best):
        return [f for f in found if f.code not in LR_CODES]
    return found


def _gradient_findings(s: _UserSetup, grad, used: dict, scaled: bool = False) -> list[Finding]:
    """check_gradients on a batch of 8 samples, your ``grad`` against finite differences of
    the loss (your ``loss``, else your step at lr 0). With ``scaled`` (INPUT_SCALE found) the
    batch is standardised first: the check tests your code, which any input exercises, and
    inputs of 0..255 saturate the softmax, where a clipped log(p + eps) is flat in float64
    while its analytic gradient p - y is not (measured: numeric 0 against analytic 26 on
    correct code, a false GRADIENT_MISMATCH)."""
    rows = np.arange(min(8, len(s.X)))
    Xg, yg = s.X[rows], s.y[rows]
    if scaled:
        Xg = _standardise(Xg, s.X)
    with np.errstate(all="ignore"):
        try:
            params = copy.deepcopy(s.params)
            grads = grad(params, Xg, yg)
            flat = dict(_float_arrays(params))                # names kept; nested params flattened
            g = [a for _, a in _float_arrays(grads)]         # your grads, in the same order
            g, turned = _layout(flat, g)
            rep = check_gradients(lambda q: _user_loss(s, _with_arrays(params, list(q.values())), Xg, yg),
                                  flat, dict(zip(flat, g)) if len(g) == len(flat) else g, max_coords=50,
                                  tol=_gradcheck_tol(_user_loss(s, params, Xg, yg), g))
        except (TypeError, ValueError, IndexError, FloatingPointError) as e:
            used["gradient_check"] = f"not run: {type(e).__name__}: {e}"
            return []
    found_state = _stateful_grad(grad, s.params, Xg, yg)
    if turned:
        used["gradient_layout"] = (f"the gradients of {', '.join(turned)} are the transpose of their "
                                   f"weights ((in, out) against (out, in)): compared transposed")
    used["gradient_check"] = (f"{len(rows)} samples" + (" (standardised)" if scaled else "")
                              + ", up to 50 entries per array")
    found = list(rep.findings)
    factor = _constant_factor(found, s, params, flat, g, Xg, yg) if found else None
    if factor is not None:
        used["gradient_check"] += f"; your gradients are {factor:.4g}x the loss's, a constant factor"
        found = [dataclasses.replace(f, severity="info", message=(
            f"{f.message} Every gradient is {factor:.4g}x the one of the loss your step returns: a "
            f"constant factor (the loss you report is scaled against the one you differentiate, e.g. "
            f"a mean over all outputs against a sum over them), the same as an lr {factor:.4g}x yours."),
            evidence={**f.evidence, "constant_factor": factor}) if f.code == "GRADIENT_MISMATCH" else f
            for f in found]
    return found_state + found


def _layout(flat: dict, grads: list):
    """Your gradients with any that is the exact transpose of its (non-square) weight turned
    back (a loop that keeps dW in the (in, out) layout of an (out, in) W and updates with
    W -= lr * dW.T is correct), and the names of those turned."""
    if len(grads) != len(flat):
        return grads, []
    out, turned = [], []
    for (name, p), g in zip(flat.items(), grads):
        g = np.asarray(g)
        if p.ndim == 2 and g.ndim == 2 and p.shape[0] != p.shape[1] and g.shape == p.shape[::-1]:
            out.append(g.T)
            turned.append(name)
        else:
            out.append(g)
    return out, turned


def _stateful_grad(grad, params, X, y) -> list[Finding]:
    """GRADIENT_NOT_RESET when your grad, called twice on the same params and batch, returns
    about twice its first answer the second time: it adds into a buffer it never zeroes."""
    try:
        first = [np.array(a, dtype=np.float64) for _, a in _float_arrays(grad(copy.deepcopy(params), X, y))]
        second = [np.array(a, dtype=np.float64) for _, a in _float_arrays(grad(copy.deepcopy(params), X, y))]
    except Exception:                                  # noqa: BLE001 - their grad: judged elsewhere
        return []
    if len(first) != len(second) or not first:
        return []
    num = sum(float(np.sum(a * b)) for a, b in zip(first, second))
    den = sum(float(np.sum(a * a)) for a in first)
    if not den > 0 or not math.isfinite(num / den):
        return []
    ratio = num / den                                  # 1 for a pure function, 2 for a buffer
    if abs(ratio - 2.0) > 0.1:
        return []
    return [rules.finding("GRADIENT_NOT_RESET", "error",
                          f"your grad returns {ratio:.3g}x its first answer when called a second time on "
                          f"the same params and batch: it adds each gradient into a buffer that is never "
                          f"zeroed, so every step applies the sum of all gradients so far.",
                          {"grad_norm_growth": ratio},
                          "compute each gradient afresh (dW = ..., not dW += ...), or zero the buffers at "
                          "the start of every call")]


def _constant_factor(found, s, params, flat, g, Xg, yg) -> float | None:
    """When every mismatch is one and the same factor k (your gradient = k x the loss's):
    k, read from the worst entry and confirmed by a second check of g / k that passes
    everywhere; else None. A constant factor changes the step's length, not its direction."""
    worst = [w for f in found if f.code == "GRADIENT_MISMATCH" for w in f.evidence.get("worst", [])]
    if len(worst) != sum(len(f.evidence.get("worst", [])) for f in found) or not worst:
        return None                                    # a GRADIENT_SHAPE among them: no factor
    w = max(worst, key=lambda e: abs(e["numeric"]))
    if not w["numeric"] or not math.isfinite(w["analytic"] / w["numeric"]):
        return None
    k = w["analytic"] / w["numeric"]
    if k <= 0:
        return None                                    # a sign flip is a direction
    scaled = [np.asarray(a, dtype=np.float64) / k for a in g]
    rep = check_gradients(lambda q: _user_loss(s, _with_arrays(params, list(q.values())), Xg, yg),
                          flat, dict(zip(flat, scaled)), max_coords=50,
                          tol=_gradcheck_tol(_user_loss(s, params, Xg, yg), scaled))
    return float(k) if not rep.findings else None


#: The gradient check's nudge (check_gradients' default) and tolerance at an ordinary loss.
GRADCHECK_EPS, GRADCHECK_TOL = 1e-6, 1e-6
#: Float64 arithmetic on a loss of size |f| rounds it by ~|f| * 2.2e-16 per operation; a
#: forward pass is many operations: the finite difference's error is taken as this many ulps.
GRADCHECK_ULPS = 100


def _gradcheck_tol(f0: float, grads) -> float:
    """The relative error a central difference cannot resolve at this loss: its rounding,
    ~GRADCHECK_ULPS * |f| * eps_machine / h per entry, against the typical entry of the
    array whose gradient is smallest (check_gradients compares each array with one tol).
    At a loss of a few units it is far below GRADCHECK_TOL (which then holds); a loss of 8000
    (a huge init's logits) rounds the differences by ~1e-5 of a gradient of 0.1, which
    check_gradients would otherwise call a mismatch (measured: rel. error 8e-6 on correct code)."""
    arrays = [np.asarray(a, dtype=np.float64) for a in grads if np.size(a)]
    if not arrays or not math.isfinite(f0):
        return GRADCHECK_TOL
    sizes = [math.sqrt(float(np.mean(a * a))) for a in arrays]    # one tol for all: the smallest array's
    sizes = [r for r in sizes if r > 0 and math.isfinite(r)]
    if not sizes:
        return GRADCHECK_TOL
    rms = min(sizes)
    noise = GRADCHECK_ULPS * abs(f0) * np.finfo(np.float64).eps / GRADCHECK_EPS
    return max(GRADCHECK_TOL, noise / rms)


#: The overfit test's batch: this many samples, fewer for a model with fewer parameters per
#: output (see _overfit).
OVERFIT_SAMPLES = 16


def _overfit(s: _UserSetup, sw: LRSweep, used: dict, out_width: int = 1,
             train_steps: int | None = None, lr: float | None = None) -> list[Finding]:
    """Can the loop learn one batch by heart? Up to 3*steps steps on the same 16 samples at
    the sweep's best rate and 3x it, then a third of it (300 steps on one batch may diverge
    at a rate that 100 steps on fresh batches survive: a diverged run says the rate is too
    high, not that the loop cannot learn); NOT_LEARNING when none gets the loss below
    OVERFIT_SHARE of where it started. The batch holds at most as many samples as the model
    has parameters per output: a model can fit that many points exactly (a line through n <=
    d + 1 points, a linear classifier that separates them), but a logistic regression with 5
    parameters cannot learn 16 overlapping points by heart, however correct its loop
    (measured: a correct one stopped above the test's bar: a false NOT_LEARNING). When your
    training is longer (``train_steps``), a loop that failed gets that many steps (at most
    TRAIN_STEPS_MAX), at the sweep's best rate, at yours ``lr`` and a third of the best,
    before it is called broken: XOR's plateau outlasts 300 steps of a correct per-neuron loop
    that learns it in its own 8,000, and a sweep whose short runs all sat on the plateau
    picks a rate no better than any other."""
    size = sum(a.size for _, a in _float_arrays(s.params))
    rows = np.arange(min(OVERFIT_SAMPLES, len(s.X), max(1, size // max(1, out_width))))
    n = 3 * sw.steps
    start = _user_loss(s, s.params, s.X[rows], s.y[rows])
    learned = lambda loss: math.isfinite(start) and loss <= OVERFIT_SHARE * start   # noqa: E731

    def lowest(rates, n: int, best: float) -> float:
        for rate in dict.fromkeys(r for r in rates if r):    # in order, until one learns
            if learned(best):
                break
            params, _, diverged = _train_user(s, np.full(n, float(rate)), n, rows=rows)
            if not diverged:
                best = min(best, _user_loss(s, params, s.X[rows], s.y[rows]))
        return best

    best = lowest((sw.lr, 3 * sw.lr, sw.lr / 3), n, math.inf)   # the last only when both others failed
    longer = int(min(train_steps or 0, TRAIN_STEPS_MAX))
    if math.isfinite(start) and start > 0 and not learned(best) and longer > n:
        n = longer
        best = lowest((sw.lr, lr, sw.lr / 3), n, best)
    used["overfit"] = {"samples": len(rows), "steps": n, "loss_start": start, "loss_end": best}
    if not math.isfinite(start) or start <= 0 or best <= OVERFIT_SHARE * start:
        return []
    return [rules.finding("NOT_LEARNING", "error",
                          f"the loop cannot learn even one batch by heart: {n} steps on the same "
                          f"{len(rows)} samples take its loss from {start:.4g} only to {_num(best)}, at the "
                          f"sweep's best lr {sw.lr:.3g}, 3x and 1/3 of it. Something between the loss and the "
                          f"update is broken.",
                          {"overfit_samples": len(rows), "overfit_steps": n, "overfit_loss_start": start,
                           "overfit_loss_end": best if math.isfinite(best) else None, "best_lr": sw.lr},
                          "check the backward pass with doctor.check_gradients (pass grad= to examine), "
                          "then that every parameter is updated in place (p -= lr * g, not p = p - lr * g "
                          "on a copy)")]


def _watched(s: _UserSetup, lr: float, steps: int, grad, c, predict=None) -> list[Finding]:
    """A short run at your rate under a Recorder (loss, weights, your gradients when given):
    the codes of WATCHED_CODES that it names."""
    from .recorder import Recorder
    names = [n for n, _ in _float_arrays(s.params)]
    rec = Recorder(names, budget=None)

    prev: list = []                                # the weights before the step, for its update

    batch: list = []                               # the rows of the step being watched

    def before(params, idx):                       # the gradient the step is about to apply
        batch[:] = [idx, None]
        if predict is not None:                    # the outputs of the forward pass the step's loss is of
            try:
                batch[1] = np.asarray(predict(copy.deepcopy(params), s.X[idx]), dtype=np.float64)
            except Exception:                      # noqa: BLE001 - their predict fails: no outputs
                batch[1] = None
        if grad is None:
            return None
        prev[:] = [np.array(a, dtype=np.float64) for _, a in _float_arrays(params)]
        try:
            g = grad(copy.deepcopy(params), s.X[idx], s.y[idx])
            return [np.array(a) for _, a in _float_arrays(g)]
        except Exception:                          # noqa: BLE001 - their grad fails here: no gradients
            return None
    cosines: dict[str, list] = {}                  # per param: cos(update, -gradient) at each step

    passed: dict[str, np.ndarray] = {}             # per bias entry: any non-zero gradient yet?
    biases = _bias_names(_float_arrays(s.params))

    def after(t, params, loss, grads):             # logged after the update, as the README shows
        outputs = batch[1]
        rec.log(t, loss=loss, weights=[a for _, a in _float_arrays(params)], grads=grads,
                **({"logits": outputs, "labels": s.y[batch[0]]} if outputs is not None else {}))
        if grads is not None and len(grads) == len(names) and len(prev) == len(names):
            now = [a for _, a in _float_arrays(params)]
            for name, g, w0, w1 in zip(names, grads, prev, now):
                g = np.asarray(g, dtype=np.float64)
                if g.ndim == 2 and w0.ndim == 2 and g.shape == w0.shape[::-1] != w0.shape:
                    g = g.T                        # your (in, out) layout of an (out, in) weight
                if g.shape == w0.shape == np.shape(w1) and g.size >= 2:
                    d = np.asarray(w1, dtype=np.float64) - w0
                    den = float(np.linalg.norm(d) * np.linalg.norm(g))
                    if den > 0 and math.isfinite(den):
                        cosines.setdefault(name, []).append(float(-np.sum(d * g)) / den)
        if grads is not None and len(grads) == len(names):
            for name, g in zip(names, grads):
                if name in biases and _bias_like(g):
                    seen = np.asarray(g).reshape(-1) != 0
                    before_ = passed.get(name)
                    passed[name] = seen if before_ is None or before_.shape != seen.shape else before_ | seen
    _train_user(s, np.full(steps, lr), steps, watch=(before, after))
    with np.errstate(all="ignore"):
        found = rec.report(num_classes=c, lr=lr).findings
    codes = WATCHED_CODES + (OUTPUT_CODES if predict is not None else ())
    found = [f for f in found if f.code in codes and f.severity != "info"]
    return found + _summed_updates(found) + _dead_units(passed, steps) + _unrelated_updates(cosines)


#: A step moves a parameter along a direction unrelated to its gradient when the mean cosine
#: of its update with minus the gradient stays below this over the watched run, while another
#: parameter's is above UPDATE_ALONG: plain SGD gives 1, momentum and Adam 0.3-0.9 (a positive
#: lean), a random direction 0 +- 1/sqrt(size * steps) (0.01 for 64 x 10 weights over 100 steps).
UPDATE_UNRELATED = 0.1
UPDATE_ALONG = 0.5


def _unrelated_updates(cosines: dict) -> list[Finding]:
    """GRADIENT_MISMATCH when your step moves some parameter in a direction unrelated to the
    gradient your grad gives for it (a dW "made to fit" by a reshape that scrambles its
    entries), while it moves others along theirs: the step applies something else to it.
    (Moving against it, cosine -1, is update_signs' wrong-sign case, which the Recorder names.)"""
    means = {n: float(np.mean(c)) for n, c in cosines.items() if len(c) >= 5}
    unrelated = {n: m for n, m in means.items() if abs(m) < UPDATE_UNRELATED}
    along = {n: m for n, m in means.items() if m > UPDATE_ALONG}
    if not unrelated or not along:
        return []
    names = ", ".join(unrelated)
    return [rules.finding(
        "GRADIENT_MISMATCH", "error",
        f"your step moves {names} in a direction unrelated to the gradient your grad gives for it "
        f"(mean cosine of the update with minus the gradient {np.mean(list(unrelated.values())):+.2f} "
        f"over the watched run), while it moves {', '.join(along)} along theirs "
        f"({np.mean(list(along.values())):+.2f}): the update of {names} applies something else (an "
        f"array reshaped to fit, scrambling its entries; another parameter's gradient).",
        {"unrelated": unrelated, "along": along, "checks": min(len(cosines[n]) for n in unrelated)},
        "apply each parameter's own gradient in its own layout: W -= lr * dW with dW.shape == W.shape "
        "(transpose it, dW.T, if you computed it (out, in); never reshape)", next(iter(unrelated)))]


def _summed_updates(found: list[Finding]) -> list[Finding]:
    """GRADIENT_NOT_RESET beside a MOMENTUM fitted from your gradients: with ``grad`` giving each
    batch's fresh gradient, an update that is the sum of every gradient so far (mu = 1) is what
    both ``v = v + g; w -= lr * v`` and a buffer never zeroed (``nabla += g; w -= lr * nabla``)
    do, step for step: the same numbers, so examine names both and says it cannot tell them
    apart (the Recorder can, in your loop: there the gradient you log is the buffer itself)."""
    out = []
    for f in found:
        mu = f.evidence.get("fitted_momentum") if f.code == "MOMENTUM" else None
        if mu is not None and not any(g.code == "GRADIENT_NOT_RESET" for g in found):
            out.append(rules.finding(
                "GRADIENT_NOT_RESET", "error",
                f"each update is the sum of every gradient so far (fitted from your updates against "
                f"your grad: {mu:.3f} x the last update + this gradient): gradient buffers that are "
                f"never zeroed do exactly that, as does a velocity never damped (MOMENTUM); a step "
                f"function shows the same numbers for both.",
                {"fitted_momentum": mu},
                "compute each step's gradients afresh (dW = ..., or zero the buffers at the start of "
                "every step); if it is a velocity, decay it (v = 0.9 * v + g)"))
    return out


def _bias_names(arrays) -> set[str]:
    """The params that are a layer's biases: one entry per unit (1-D, (n, 1) or (1, n)) with a
    weight matrix beside them that has n units on one side ((n, 1) alone is a weight column:
    a unit with n inputs)."""
    sides = {d for _, a in arrays if a.ndim == 2 and min(a.shape) > 1 for d in a.shape}
    return {name for name, a in arrays if _bias_like(a) and a.size in sides}


def _bias_like(g) -> bool:
    """A gradient of one entry per unit: 1-D, or a row or column ((1, n), (n, 1)), n >= 2."""
    g = np.asarray(g)
    return g.dtype.kind == "f" and g.size >= 2 and (g.ndim == 1 or (g.ndim == 2 and min(g.shape) == 1))


def _dead_units(passed: dict, steps: int) -> list[Finding]:
    """DEAD_RELU from your gradients: a unit whose bias gradient (the sum of its deltas over
    the batch) was exactly 0 at every step of the watched run passed no gradient for any
    sample it saw: a ReLU off on all of them (a sigmoid or tanh only comes close to 0, never
    exactly; an output unit always has some error). Named when more than DEAD_LAYER_SHARE of
    a layer's units are such, as the Recorder names dead layers from their activations."""
    out = []
    for name, alive in passed.items():
        share = 1.0 - float(np.mean(alive))
        if share > rules.DEAD_LAYER_SHARE:
            out.append(rules.finding(
                "DEAD_RELU", "error" if share > 0.9 else "warning",
                f"{100 * share:.0f}% of the units whose bias is {name} passed no gradient at any of the "
                f"{steps} steps of the watched run (their bias gradient was exactly 0 every time): dead "
                f"ReLUs, off on every sample they saw.",
                {"dead_share": share},
                "start biases at 0 (not negative) and weights centred on 0 (a fan-in-scaled normal), "
                "lower the learning rate, or use LeakyReLU", name))
    return out


# ----------------------------------------------------------------------------- each fix, tried

#: The longest short run a verification trains (steps): the time bound of verify.
VERIFY_STEPS = 300
#: The samples a verification trains on (a subsample of yours).
VERIFY_SAMPLES = 5000


def _standardise(X: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """X scaled with ref's statistics (the training set's): per feature for tabular columns
    of different scales, one mean and std for pixels and other same-unit features (a per-pixel
    std of a border pixel is ~0: dividing by it blows up the rare image that has ink there)."""
    ref = np.asarray(ref, dtype=np.float64)
    finite = np.where(np.isfinite(ref), ref, np.nan)
    per_feature = ref.ndim == 2 and ref.shape[1] <= 64
    if per_feature:
        mu, sd = np.nanmean(finite, axis=0), np.nanstd(finite, axis=0)
        sd = np.where(sd > 1e-12, sd, 1.0)
    else:
        mu, sd = np.nanmean(finite), np.nanstd(finite) or 1.0
    return ((np.asarray(X, dtype=np.float64) - mu) / sd).astype(np.float32)


def _fix_scale(s, ctx):
    return dataclasses.replace(s, X=_standardise(s.X, s.X), X_eval=_standardise(s.X_eval, s.X))


def _fix_nonfinite_rows(s, ctx):
    def rows(X):
        return np.all(np.isfinite(np.asarray(X, dtype=np.float64).reshape(len(X), -1)), axis=1)
    keep, keep_eval = rows(s.X), rows(s.X_eval)
    return dataclasses.replace(s, X=s.X[keep], y=s.y[keep], X_eval=s.X_eval[keep_eval],
                               y_eval=s.y_eval[keep_eval])


def _fix_shuffle(s, ctx):
    return dataclasses.replace(s, shuffle=True)


def _fix_init(s, ctx):
    """Every Dense and Conv2D weight drawn afresh, fan-in scaled for the activation after it
    (he_normal before ReLU-like units, glorot_uniform before tanh/sigmoid and at the output);
    biases zero."""
    from ..init import get_initializer
    model = copy.deepcopy(s.model)
    rng = np.random.default_rng(s.seed)
    layers = model.layers
    for i, layer in enumerate(layers):
        W = layer.params.get("W")
        if W is None or W.ndim < 2:
            continue
        after = next((type(l).__name__ for l in layers[i + 1:] if not l.params), "")
        name = "glorot_uniform" if after in ("Tanh", "Sigmoid", "Softmax", "") or i == len(layers) - 1 else "he_normal"
        shape = W.shape if W.ndim != 2 else W.shape
        layer.params["W"][...] = get_initializer(name)(shape, rng, W.dtype)
        if "b" in layer.params:
            layer.params["b"][...] = 0
    return dataclasses.replace(s, model=model)


def _fix_lr(s, ctx):
    opt = copy.deepcopy(s.optimizer)
    opt.base_lr = opt.lr = ctx["lr"]
    return dataclasses.replace(s, optimizer=opt)


def _fix_clip(s, ctx):
    opt = copy.deepcopy(s.optimizer)
    opt.clip_norm = 1.0
    return dataclasses.replace(s, optimizer=opt)


def _fix_output_loss(s, ctx):
    """The output and the loss made to agree: a final Softmax dropped before
    SoftmaxCrossEntropy; a Sigmoid before BCE(from_logits=True) dropped; BCE told the truth
    about raw scores; a Sigmoid/Softmax output trained with MSE on classes: the activation
    dropped and SoftmaxCrossEntropy (BCE for one output) on the logits."""
    model, loss = copy.deepcopy(s.model), copy.deepcopy(s.loss)
    last = type(model.layers[-1]).__name__ if model.layers else ""
    if isinstance(loss, SoftmaxCrossEntropy) and last == "Softmax":
        model.layers.pop()
    elif isinstance(loss, BinaryCrossEntropy) and loss.from_logits and last == "Sigmoid":
        model.layers.pop()
    elif isinstance(loss, BinaryCrossEntropy) and not loss.from_logits and last not in ("Sigmoid", "Softmax"):
        loss = BinaryCrossEntropy(from_logits=True)
    elif isinstance(loss, MSE) and last in ("Sigmoid", "Softmax"):
        model.layers.pop()
        width = s.y.shape[1] if s.y.ndim == 2 else 1
        loss = BinaryCrossEntropy() if width == 1 else SoftmaxCrossEntropy()
    else:
        return None
    return dataclasses.replace(s, model=model, loss=loss)


#: Each code with a mechanical fix: what is tried, and how (on the setup, a copy).
_INIT_FIX = ("a fan-in-scaled init (he_normal / glorot_uniform), zero biases", _fix_init)
_LR_FIX = ("the sweep's learning rate", _fix_lr)
_CLIP_FIX = ("clip the gradient norm to 1", _fix_clip)
MODEL_FIXES = {
    "NONFINITE_INPUT": ("drop the rows with NaN/inf", _fix_nonfinite_rows),
    "INPUT_SCALE": ("standardise the inputs with the training set's mean and std", _fix_scale),
    "CLASS_ORDERED": ("shuffle every epoch", _fix_shuffle),
    "OUTPUT_LOSS_MISMATCH": ("make the output and the loss agree", _fix_output_loss),
    **dict.fromkeys(("INIT_SYMMETRIC", "INIT_ALL_POSITIVE", "INIT_TOO_LARGE", "INIT_TOO_SMALL",
                     "DEAD_RELU"), _INIT_FIX),
    **dict.fromkeys(LR_CODES, _LR_FIX),
    **dict.fromkeys(("EXPLODING_GRADIENT", "NONFINITE"), _CLIP_FIX),
}


def _outcome(fix: str, metric: str, before: float, after: float, steps: int, samples: int,
             noise: float | None = None) -> dict:
    """The verified field of a finding: before and after, and whether the fix helped: a gain
    beyond the larger of the fixed floor (VERIFY_GAIN_ACCURACY / VERIFY_GAIN_LOSS) and
    ``noise``, the spread of the unfixed run itself over seeds when it was measured."""
    if metric == "accuracy":
        gain, need = after - before, max(VERIFY_GAIN_ACCURACY, noise or 0.0)
    else:
        b = before if math.isfinite(before) else None
        a = after if math.isfinite(after) else None
        gain = (1.0 if b is None and a is not None else -1.0 if a is None and b is not None
                else 0.0 if a is None else (b - a) / max(abs(b), 1e-12))
        need = max(VERIFY_GAIN_LOSS, noise or 0.0)
    verdict = "helped" if gain > need else "hurt" if gain < -need else "no change"
    return {"fix": fix, "metric": metric, "before": before if math.isfinite(before) else None,
            "after": after if math.isfinite(after) else None, "gain": float(gain),
            "helped": verdict == "helped", "verdict": verdict, "noise": need, "steps": steps,
            "samples": samples}


def _spread(values, relative: bool) -> float:
    """max - min of finite values (over their mean's size when ``relative``); 0 for fewer than 2."""
    v = [x for x in values if x is not None and math.isfinite(x)]
    if len(v) < 2:
        return 0.0
    d = max(v) - min(v)
    return d / max(abs(float(np.mean(v))), 1e-12) if relative else d


def _with_proba_loss(outcome: dict, before: float, after: float, noise: float | None = None) -> dict:
    """A classifier's outcome judged on two measures: the accuracy and the log-loss of the
    probabilities the model gives (predict_proba). Some fixes change which class wins (an
    init, a rate); others change what the outputs mean and leave the winner alone (a softmax
    applied twice flattens the probabilities, monotonic, so argmax and accuracy barely move).
    Helped: one measure gained beyond its noise, the other did not lose beyond its noise;
    hurt: one lost, neither gained; otherwise no change (or mixed: one up, one down)."""
    p = _outcome(outcome["fix"], "loss", before, after, outcome["steps"], outcome["samples"], noise)
    acc, nll = outcome["verdict"], p["verdict"]
    if "helped" in (acc, nll) and "hurt" not in (acc, nll):
        verdict = "helped"
    elif "hurt" in (acc, nll) and "helped" not in (acc, nll):
        verdict = "hurt"
    else:
        verdict = "mixed" if {acc, nll} == {"helped", "hurt"} else "no change"
    return {**outcome, "verdict": verdict, "helped": verdict == "helped",
            "proba_loss_before": p["before"], "proba_loss_after": p["after"], "proba_loss_gain": p["gain"],
            "accuracy_verdict": acc, "proba_loss_verdict": nll, "proba_loss_noise": p["noise"]}


def sweep_and_verify(found: list, model, X, y, *, loss=None, optimizer=None, batch_size: int = 64,
                     epochs: int = 2, seed: int = 0, shuffle: bool = True, X_test=None, y_test=None,
                     on_sweep=None) -> tuple[LRSweep, Report]:
    """What ``diagnose(..., verify=True)`` adds to the findings ``found``: the learning rate
    swept (its LR_TOO_HIGH / LR_TOO_LOW replace any the run's own evidence gave), then each
    finding with a mechanical fix tried (``verify_model``). The sweep comes back too, and goes
    to ``on_sweep`` as soon as it is done, for a page that draws it while the fixes run."""
    sweep = lr_sweep(model, X, y, loss=loss, optimizer=optimizer, batch_size=batch_size, seed=seed)
    if on_sweep is not None:
        on_sweep(sweep)
    kept = [f for f in found if f.code not in LR_CODES] + sweep.findings
    return sweep, verify_model(Report(kept), model, X, y, loss=loss, optimizer=optimizer,
                               batch_size=batch_size, epochs=epochs, seed=seed, shuffle=shuffle,
                               X_test=X_test, y_test=y_test, sweep=sweep)


def verify_model(report: Report, model, X, y, *, loss=None, optimizer=None, batch_size: int = 64,
                 epochs: int = 2, seed: int = 0, shuffle: bool = True, X_test=None, y_test=None,
                 max_samples: int | None = VERIFY_SAMPLES, sweep: LRSweep | None = None) -> Report:
    """Each finding of ``report`` that has a mechanical fix (MODEL_FIXES), tried: the fix
    applied to a copy, the same short training rerun (same seed, same batches), the outcome
    on the finding's ``verified`` field. Findings whose fix helped come first, the largest
    gain first. ``diagnose(..., verify=True)`` calls this."""
    s = _model_setup(model, X, y, loss, optimizer, batch_size, seed, max_samples, shuffle,
                     X_test, y_test)
    steps = min(VERIFY_STEPS, max(1, epochs * math.ceil(len(s.X) / batch_size)))
    classify = _accuracy_floor(s) is not None

    def scores(setup):
        work, _, _ = _train_model(setup, None, steps)
        value, acc = _evaluate_model(work, setup)
        return (acc if classify else value), (_proba_loss(work, setup) if classify else None)

    def score(setup):
        return scores(setup)[0]
    metric = "accuracy" if classify else "loss"
    ctx = {"lr": sweep.lr if sweep is not None else None}
    before, before_nll = scores(s)
    repeats = [scores(dataclasses.replace(s, seed=s.seed + k)) for k in range(1, NOISE_SEEDS + 1)]
    noise = _spread([before] + [r[0] for r in repeats], relative=not classify)
    noise_nll = _spread([before_nll] + [r[1] for r in repeats], relative=True) if classify else None
    tried: dict[tuple, dict] = {}
    out = []
    for f in report.findings:
        entry = MODEL_FIXES.get(f.code)
        if entry is None or f.severity == "info" or (entry[1] is _fix_lr and ctx["lr"] is None):
            out.append(f)
            continue
        text, apply = entry
        if (text, f.code) not in tried:
            fixed = apply(s, ctx)
            if fixed is None:
                out.append(f)
                continue
            if apply is _fix_lr:
                text = f"lr = {ctx['lr']:.3g} (the sweep's best)"
            after, after_nll = scores(fixed)
            out_ = _outcome(text, metric, before, after, steps, len(s.X), noise)
            if before_nll is not None:
                out_ = _with_proba_loss(out_, before_nll, after_nll, noise_nll)
            tried[(entry[0], f.code)] = out_
        out.append(dataclasses.replace(f, verified=tried[(entry[0], f.code)]))
    result = Report(out)
    result.experiments = {"verify_steps": steps, "verify_samples": len(s.X), "batch_size": batch_size,
                          "baseline": before, "metric": metric, "baseline_proba_loss": before_nll,
                          "baseline_repeats": repeats, "noise": noise, "noise_proba_loss": noise_nll,
                          "sweep": sweep.to_dict() if sweep is not None else None}
    return result


def _verify_user(report: Report, s: _UserSetup, sw: LRSweep, steps: int, used: dict) -> Report:
    """examine's verification: the fixes a step function allows (the inputs standardised,
    then at the better of your lr and a sweep's on them; the sweep's lr), each tried on the same
    short run, against that run at your lr."""
    lr = s.lr if s.lr is not None else sw.lr

    def score(setup, rate):
        params, _, diverged = _train_user(setup, np.full(steps, rate), steps)
        return math.inf if diverged else _user_loss(setup, params, setup.X_eval, setup.y_eval)
    before = None
    out = []
    for f in report.findings:
        if f.severity == "info" or f.code not in ("INPUT_SCALE", *LR_CODES):
            out.append(f)
            continue
        if before is None:
            before = score(s, lr)
            repeats = [score(dataclasses.replace(s, seed=s.seed + k), lr) for k in range(1, NOISE_SEEDS + 1)]
            noise = _spread([before] + repeats, relative=True)
            used["verify_noise"] = {"losses": [before] + repeats, "relative_spread": noise}
        if f.code == "INPUT_SCALE":
            # rescaling the inputs rescales the gradients, so the rate that suits them changes too
            # (lr 1e-8 on raw house prices learns; on standardised ones it learns nothing): the
            # scaled inputs at the better of your rate and the best of a sweep on them, against
            # your run as it is.
            fixed = _fix_scale(s, None)
            sw2 = _sweep(_user_trial(fixed, steps), lr_min=1e-6, lr_max=10.0, steps=steps, current=lr,
                         initial_loss=_user_loss(fixed, fixed.params, fixed.X_eval, fixed.y_eval))
            text = ("standardise the inputs with the training set's mean and std" + (
                "" if sw2.lr == lr else f", then lr = {sw2.lr:.3g} (the sweep's best on them)"))
            out.append(dataclasses.replace(f, verified=_outcome(text, "loss", before, sw2.best_loss,
                                                                steps, len(s.X), noise)))
            continue
        after, text = score(s, sw.lr), f"lr = {sw.lr:.3g} (the sweep's best)"
        out.append(dataclasses.replace(f, verified=_outcome(text, "loss", before, after, steps, len(s.X),
                                                            noise)))
    return Report(out)
