"""Watching a run: the Recorder (for your own NumPy loop) and the Monitor (a fit callback).

Both keep a *trace*: one record per call, with the loss, and on the calls that are checks
the summary numbers (gradient and update sizes, dead or saturated units, predicted
classes...). The rules in ``rules.py`` read the trace; nothing here judges.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np

from ..callbacks import Callback
from ..functional import log_softmax
from ..layers import Sigmoid, Softmax
from ..losses import MSE, BinaryCrossEntropy, SoftmaxCrossEntropy
from . import rules
from .checks import check_init
from .findings import Finding, Report
from .sequence import SequenceWatch, exploding_gradient_in_trace


#: Share of the wall time that a Recorder may spend: the loss is kept at every call (a
#: microsecond or two), the full summary only on the calls it can afford within this share
#: (see Recorder).
BUDGET = 0.05
#: Consecutive calls summarised in full at each check: the gradient cosine needs a pair of
#: consecutive steps and the momentum fit three.
RUN = 3
#: The first calls are always summarised, then at least one check in every window of calls
#: that doubles in length (8, 16, 32, ...): the rules need a few checks to judge and compare
#: the start of training with its end, however small the budget.
FIRST_WINDOW = 8
#: Seconds of full summaries that are free, not paid from the budget: a short run (a
#: perceptron, XOR, a few hundred tiny steps) is watched in full, whatever its step costs, so
#: its verdict does not hang on how busy the machine was. A long run hardly notices them.
ALLOWANCE = 0.02
_NUMBERS = frozenset("biuf")
#: Single units (no weight matrix) up to this many weights get a fingerprint of their weights
#: at each check, to see a perceptron's updates go round in a cycle (the same weights again,
#: errors left).
CYCLE_PARAMS = 10_000


def _step(step) -> int:
    if type(step) is int:
        return step
    if isinstance(step, (str, bytes)):
        raise TypeError(f"Recorder.log: step must be a number; got {step!r}")
    try:
        return int(step)
    except TypeError:
        raise TypeError(f"Recorder.log: step must be a number; got {step!r}") from None
    except (ValueError, OverflowError):
        raise ValueError(f"Recorder.log: step must be a finite number; got {step!r}") from None


def _scalar(x) -> float | None:
    """A loss as a float, or None when it is not one number (a list, a string, an array of
    per-sample losses, a complex number)."""
    if type(x) is np.float64 or type(x) is np.float32:
        return float(x)
    if isinstance(x, (float, int, np.floating, np.integer)):
        try:
            return float(x)
        except OverflowError:                      # an int beyond float range
            return None
    a = _array(x)
    if a is None or a.size != 1 or a.dtype.kind not in _NUMBERS:
        return None
    return float(a.reshape(-1)[0])


def _array(x) -> np.ndarray | None:
    """``x`` as a plain ndarray, or None when NumPy cannot read it (ragged lists, objects
    whose __array__ fails)."""
    if type(x) is np.ndarray:
        return x
    try:
        return np.asarray(x)
    except Exception:                              # noqa: BLE001 - whatever the user passed
        return None


def _numbers(x, *, keep_bool: bool = False) -> np.ndarray | None:
    """A numeric array (floats as they are, float16 as float32, integers as float64), or None
    for what holds no numbers (strings, objects, complex numbers)."""
    a = _array(x)
    if a is None:
        return None
    kind = a.dtype.kind
    if kind == "f":
        return a if a.dtype.itemsize >= 4 else a.astype(np.float32)
    if kind == "b" and keep_bool:
        return a
    if kind in "biu":
        return a.astype(np.float64)
    return None


def _arrays(x, *, keep_bool: bool = False):
    """(list of numeric arrays or None for each entry, names from a dict's keys or None);
    a single array or number counts as a list of one."""
    if x is None:
        return None, None
    names = None
    if isinstance(x, dict):
        names, x = [str(k) for k in x], list(x.values())
    elif isinstance(x, (list, tuple)):
        x = list(x)
    elif isinstance(x, (np.ndarray, np.generic, int, float, str, bytes)):
        x = [x]
    else:
        try:
            x = list(x)
        except TypeError:
            x = [x]
    return [_numbers(a, keep_bool=keep_bool) for a in x], names


def _sq(a: np.ndarray) -> float:
    """Sum of squares by a BLAS dot product (inf on overflow, nan with NaN), no temporary
    array for a contiguous one."""
    flat = a.reshape(-1)
    return float(np.dot(flat, flat))


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a.reshape(-1), b.reshape(-1)))


def _norm(a) -> float:
    """L2 norm by a BLAS dot product: no temporary arrays."""
    flat = np.ravel(a)
    if flat.dtype.kind != "f":
        flat = flat.astype(np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.sqrt(np.dot(flat, flat)))


def _kind(a: np.ndarray, lo: float, hi: float) -> str:
    """Guess an activation from finite values in [lo, hi]: relu (>= 0, many exact zeros),
    sigmoid, tanh."""
    if lo >= 0 and np.count_nonzero(a) < 0.95 * a.size:
        return "relu"
    if lo >= 0 and hi <= 1:
        return "sigmoid"
    if lo >= -1 and hi <= 1:
        return "tanh"
    return "linear"


def _transposed_follow(names, W, G, delta, dd, prev) -> dict:
    """For each parameter whose gradient is logged transposed ((in, out) against (out, in)):
    the cosines of its update with that gradient's transpose and with the gradient reshaped
    to the parameter's shape (entries in memory order), now or at the last look (a loop may
    update before or after it logs), whichever fits better. A transpose's fit near -1: the
    update is its step, and the layout is only the loop's convention."""
    out = {}
    for i, (w, g, d, s_d) in enumerate(zip(W, G, delta, dd)):
        if w is None or g is None or d is None or w.ndim != 2 or g.shape != w.shape[::-1] \
                or g.shape == w.shape or not s_d:
            continue
        best = (0.0, 0.0)
        earlier = prev.get("g")[i] if prev.get("g") is not None and len(prev["g"]) == len(W) else None
        for cand in (g, earlier):
            if cand is None or cand.shape != g.shape:
                continue
            s_g = _sq(cand)
            if s_g and math.isfinite(s_g) and math.isfinite(s_d):
                norm = math.sqrt(s_d * s_g)
                c_t = _dot(d, np.ascontiguousarray(cand.T)) / norm       # transposed back
                c_r = _dot(d, cand) / norm                                # reshaped to fit
                if max(abs(c_t), abs(c_r)) > max(abs(best[0]), abs(best[1])):
                    best = (c_t, c_r)
        out[names[i] if i < len(names) else f"param {i}"] = best
    return out


def _update_cosines(A, a_sq, delta, dd) -> list:
    """Per parameter, the cosine of its update ``delta`` with an array of its own (``a_sq``
    and ``dd`` their squared norms), None where either is missing, zero or of another size.
    With the gradient: -1 for a plain step against it, +1 for one along it (a loop that logs
    the negative gradient and adds it); with the weights: -1 for a decay towards zero."""
    out = []
    for g, s_g, d, s_d in zip(A, a_sq, delta, dd):
        if g is None or d is None or g.size != d.size or not s_g or not s_d \
                or not math.isfinite(s_g * s_d):
            out.append(None)
        else:
            out.append(_dot(d, g) / math.sqrt(s_g * s_d))
    return out


def _same_along(a: np.ndarray, axis: int) -> bool:
    """Every slice of ``a`` along ``axis`` (of length 2 or more) equals the first, to float
    rounding. Two numbers are compared first (a tenth of a microsecond), so the usual answer,
    no, costs next to nothing."""
    if a.ndim not in (1, 2) or axis >= a.ndim or a.shape[axis] < 2 or a.size == 0 \
            or a.dtype.kind not in "biuf":
        return False
    if a.dtype.kind == "b":                                  # masks: equal or not, no tolerance
        return bool(np.all(a == np.take(a, [0], axis=axis)))
    x0, x1 = (float(a[0]), float(a[1])) if a.ndim == 1 else (
        (float(a[0, 0]), float(a[1, 0])) if axis == 0 else (float(a[0, 0]), float(a[0, 1])))
    if abs(x1 - x0) > 1e-6 * max(abs(x0), abs(x1)):
        return False
    first = np.take(a, [0], axis=axis)
    tol = 1e-6 * float(np.max(np.abs(first)))
    return bool(np.all(np.abs(a - first) <= tol))


def _uniform_gradients(W, G, g_sq, constant_widths=()) -> list[int]:
    """The parameters whose (nonzero) gradient is the same number along an axis along which
    their weights differ: a weight gradient is the unit's error times each weight's own
    input, so it is uniform along the inputs only when every input is the same, which an
    activation of that width with one value for all its units explains (``constant_widths``).
    ``g_sq``: the gradients' squared norms, already at hand."""
    out = []
    for i, (w, g, s) in enumerate(zip(W, G, g_sq)):
        if not s or w is None or g is None or w.shape != g.shape or w.ndim not in (1, 2):
            continue
        if any(_same_along(g, axis) and not _same_along(w, axis) and g.shape[axis] not in constant_widths
               for axis in range(g.ndim)):
            out.append(i)
    return out


def _on_grid(weights) -> bool:
    """All the weights are whole multiples of one step (they started at 0 or on integers and
    moved by a learning rate like 0.25 on 0/1 inputs): then a pre-activation of exactly zero
    is arithmetic, not a missing bias."""
    arrays, _ = _arrays(weights)
    if arrays is None:
        return False
    values = np.concatenate([np.abs(a.reshape(-1)).astype(np.float64) for a in arrays if a is not None])
    values = values[values > 0]
    if values.size == 0:
        return True
    steps = values / values.min()
    return bool(np.all(np.abs(steps - np.round(steps)) < 1e-9 * np.maximum(steps, 1)))


def _zero_rows(r: dict, a2: np.ndarray, at: float) -> None:
    """Count the samples (rows) whose every unit sits exactly at f(0) (0.5 for a sigmoid, 0
    for tanh or a linear score): their pre-activations are exactly zero, which takes an input
    of all zeros into units without a bias."""
    k = int(np.count_nonzero(np.all(a2 == at, axis=1)))
    if k:
        r["zero_rows"] = max(r.get("zero_rows", 0), k)


def _fit(aa: float, ag: float, gg: float, ad: float, gd: float, dd: float):
    """(mu, c, relative residual) of the least-squares fit ``delta = mu * prev + c * g`` from
    its six dot products (aa = prev.prev, ag = prev.g, ...), or None where undetermined. The
    residual comes from the same dot products, so it is exact only to about the square root
    of their rounding (1e-7 in float64; 3e-3 for a million float32 numbers, where the exact
    one is 3e-4): far below the rule's threshold (0.05), and no temporary array."""
    det = aa * gg - ag * ag
    if dd == 0 or not math.isfinite(det) or not math.isfinite(dd) or det <= 1e-12 * aa * gg:
        return None
    mu = (ad * gg - ag * gd) / det
    c = (aa * gd - ag * ad) / det
    r2 = dd - 2 * mu * ad - 2 * c * gd + mu * mu * aa + 2 * mu * c * ag + c * c * gg
    if not math.isfinite(r2):
        return None
    return float(mu), float(c), math.sqrt(max(r2, 0.0) / dd)


def _one_hot_vector(y: np.ndarray) -> bool:
    return y.size > 1 and bool(np.all((y == 0) | (y == 1))) and int(y.sum()) == 1


def _one_hot_columns(y: np.ndarray) -> bool:
    """Each column of y is one-hot and the rows are not: one sample per column."""
    if y.ndim != 2 or min(y.shape) < 2 or not np.all((y == 0) | (y == 1)):
        return False
    return bool(np.all(y.sum(axis=0) == 1)) and not bool(np.all(y.sum(axis=1) == 1))


def fit_momentum(delta, prev_delta, g) -> tuple[float, float, float] | None:
    """Least-squares fit of ``delta = mu * prev_delta + c * g`` over every parameter.

    SGD with momentum mu makes every update exactly mu times the last one minus lr times the
    gradient; plain SGD gives mu = 0; an undamped velocity (v = v + g) gives mu = 1. Returns
    (mu, c, relative residual), or None where the fit is undetermined.
    """
    aa, ag, gg = float(prev_delta @ prev_delta), float(prev_delta @ g), float(g @ g)
    ad, gd, dd = float(prev_delta @ delta), float(g @ delta), float(delta @ delta)
    fit = _fit(aa, ag, gg, ad, gd, dd)
    if fit is None:
        return None
    mu, c, _ = fit
    resid = _norm(delta - mu * prev_delta - c * g) / math.sqrt(dd)   # exact, with temporaries
    return mu, c, float(resid)


class Recorder:
    """Watch your own training loop. Call ``log`` once per step (or every few steps) with
    whatever you have, then ``report()``.

    >>> rec = Recorder()
    >>> for step in range(100):                     # doctest: +SKIP
    ...     ...forward, backward, update...
    ...     rec.log(step, loss=loss, weights=[W1, b1, W2, b2], grads=[dW1, db1, dW2, db2],
    ...             activations=[A1], logits=Z2, labels=y_batch)
    >>> print(rec.report())                          # doctest: +SKIP

    Pass the weights *after* the step's update and the gradients that made it. Arrays are
    summarised at once (copied only into the Recorder's own buffers, for the next call's
    comparison), so you may reuse yours.

    Cheap by design: every call keeps the loss (and notes a NaN/inf loss), a microsecond or
    two; the full summary (norms, updates, gradient cosine, momentum fit, dead and saturated
    units, predictions) is taken on *checks*, runs of ``RUN`` consecutive calls, as often as
    ``budget`` allows: the Recorder times the calls' spacing and its own runs, and starts a
    run every k-th call, k the power of two that keeps its runs within ``budget`` (5%) of
    the time (the same calls on a busy machine as on a quiet one, as long as its cost
    against your step stays within a factor of two). The first calls are always checked, then at
    least one run in every window of calls that doubles in length (8, 16, 32, ... calls),
    and a first NaN/inf loss is summarised at once, to say where it came from.
    The first ``allowance`` seconds (20 ms) of summaries are free: every call is checked until
    they are spent, so a short run is watched in full on any machine.
    ``budget=None`` summarises every call (the Monitor, which picks its own steps).
    ``clock`` is for tests.

    ``log`` never raises on what it is watching for (mismatched or malformed arrays, NaN,
    labels of the wrong shape...): it records what it can read and skips the rest. Only a
    ``step`` that is not a number is refused (TypeError / ValueError naming it).
    """

    def __init__(self, names: list[str] | None = None, *, budget: float | None = BUDGET,
                 allowance: float = ALLOWANCE, clock=time.perf_counter) -> None:
        if budget is not None and not (isinstance(budget, (int, float)) and 0 <= budget <= 1):
            raise ValueError(f"Recorder: budget must be a share of the time in [0, 1] or None; "
                             f"got {budget!r}")
        if not (isinstance(allowance, (int, float)) and 0 <= allowance < math.inf):
            raise ValueError(f"Recorder: allowance must be seconds >= 0; got {allowance!r}")
        self.names = list(names) if names is not None else None
        self.budget = budget
        self._free_left = float(allowance)         # seconds of free summaries left
        self._free = False                          # the allowance pays for the current run
        self.trace: list[dict] = []
        self.findings: list[Finding] = []          # found at log time (e.g. shape mismatches)
        self.num_classes: int | None = None
        self.target_width: int | None = None       # one-hot targets wider or narrower than the outputs
        self.output_width: int | None = None       # the network's outputs per sample (first seen)
        self._first_w: list | None = None          # the first weights seen, for the init checks
        self._n_values = 0                          # how many numbers those weights hold
        self._clock = clock
        self._calls = 0
        self._interval = None                      # the user's step: seconds from the end of one
        self._last_exit: float | None = None       # call to the start of the next (mean)
        self._spacing = math.inf                   # calls from one run's start to the next's
        self._light = 0.0                          # seconds a cheap call takes (mean)
        self._run_left = 0                         # checked calls left in the current run
        self._in_run = False
        self._run_spent = 0.0
        self._run_cost = math.inf                  # what a run of checks costs, measured
        # windows of calls (start, end]: 0, then (0, 8], (8, 24], (24, 56], ...
        self._win_start, self._win_end, self._win_len, self._last_run = -1, 0, FIRST_WINDOW, -1
        self._nonfinite_seen = False
        self._label_pool: dict[int, int] = {}     # every check's labels, counted by class
        self._seen: set = set()                    # findings already recorded
        self._n_params: int | None = None          # the parameter count of the first call
        self._n_acts: int | None = None
        self._names: tuple | None = None
        self._prev: dict | None = None             # the last checked call, when just before
        self._buf: dict = {}                       # copies for the next comparison, reused

    # ------------------------------------------------------------------ logging
    def log(self, step: int, *, loss=None, weights=None, grads=None, activations=None,
            logits=None, labels=None, activation_kinds=None) -> None:
        start = self._clock()
        if type(step) is not int:
            step = _step(step)
        value = loss if type(loss) is float else None if loss is None else _scalar(loss)
        r: dict = {"step": step, "loss": value}
        bad = value is not None and not math.isfinite(value)
        if bad:
            r["nonfinite"] = "the loss"
        if self._first_w is None and weights is not None:
            self._first_w = self._first_weights(weights)
        if self.budget is None or self._check(start, bad):
            with np.errstate(all="ignore"):
                self._summarise(r, step, weights, grads, activations, activation_kinds,
                                logits, labels, self.budget is None or self._run_left > 0)
            if "nonfinite" in r:
                self._nonfinite_seen = True
            self.trace.append(r)
            end = self._clock()
            if self._in_run and self._free:
                self._free_left -= end - start
            if self._in_run:
                self._spent(end - start)
            self._last_exit = end
        else:
            self._prev = None                      # the next check starts afresh
            self.trace.append(r)
            end = self._clock()
            self._light = 0.9 * self._light + 0.1 * (end - start)   # what a cheap call costs
            self._last_exit = end
        self._calls += 1

    def _first_weights(self, weights) -> list:
        """A copy of the weights at the first call (after one update: still the init), for
        the init checks at report time, when the output's width tells their layout."""
        try:
            arrays = [np.array(w) for w in (weights if isinstance(weights, (list, tuple)) else [weights])]
            self._n_values = int(sum(a.size for a in arrays))
            return arrays
        except Exception:                          # noqa: BLE001 - weights it cannot read: no verdict
            return []

    def _init_checks(self) -> list:
        """The init rules on the first weights, in the layout their shapes and the output's
        width give."""
        arrays = self._first_w or []
        names = self.names if self.names and len(self.names) == len(arrays) else [
            f"param {i}" for i in range(len(arrays))]
        try:
            with np.errstate(all="ignore"):         # huge or NaN weights: no overflow error
                return rules.init_logged(arrays, names, self.output_width)
        except (TypeError, ValueError, ArithmeticError):
            return []

    def _check(self, now: float, bad: bool) -> bool:
        """Whether this call is summarised in full: inside a run of checks, at the start of
        one the budget can pay for or the schedule requires, or at a first NaN/inf loss."""
        # the user's own step, the Recorder's time left out: a run of checks must not count
        # itself in the step it is paid from (it would double its own budget)
        if self._last_exit is not None:
            dt = now - self._last_exit
            self._interval = dt if self._interval is None else 0.9 * self._interval + 0.1 * dt
        if self._run_left:
            self._run_left -= 1
            return True
        if self._calls >= self._win_end:            # a window closes: was a run started in it?
            due = self._last_run <= self._win_start
            self._win_start, self._win_end = self._win_end, self._win_end + self._win_len
            self._win_len *= 2
        else:
            due = False
        if due or self._free_left > 0 or self._calls % self._spacing == 0:
            self._run_left, self._in_run, self._last_run = RUN - 1, True, self._calls
            self._run_spent = 0.0
            self._free = self._free_left > 0        # the allowance pays for this run
            return True
        return bad and not self._nonfinite_seen

    def _spent(self, cost: float) -> None:
        """A call of a run of checks took ``cost`` seconds. At the run's end its cost sets the
        spacing of the runs: the power of two of calls, at least, over which ``budget`` of the
        time pays for one run. Runs then start at the calls that are multiples of it, so the
        same program gets the same checks however busy the machine is, as long as its cost
        against the user's step stays within a factor of two (and a little: it grows at once
        when more is needed, shrinks only when well under half suffices)."""
        self._run_spent += cost
        if self._run_left == 0:
            self._run_cost = (self._run_spent if self._run_cost == math.inf
                              else 0.5 * (self._run_cost + self._run_spent))
            self._in_run = False
            if self.budget and self._interval:
                # the budget of a call, less what every cheap call costs, pays for the runs
                spare = self.budget * self._interval - self._light
                need = self._run_cost / spare if spare > 0 else math.inf   # calls a run needs
                spacing = (2 ** max(2, math.ceil(math.log2(max(need, 1.0)))) if need < 2 ** 40
                           else math.inf)
                if spacing > self._spacing or need < 0.35 * self._spacing:
                    self._spacing = spacing

    def _summarise(self, r, step, weights, grads, activations, kinds, logits, labels, keep):
        y = self._labels(labels)
        n = None if y is None else len(y)
        if activations is not None:
            self._log_activations(r, _arrays(activations, keep_bool=True)[0], kinds, n)
        prev, self._prev = self._prev, None
        if weights is not None or grads is not None:
            self._log_params(r, step, weights, grads, prev, keep)
        if logits is not None:
            self._log_outputs(r, _numbers(logits), y, _numbers(labels) if labels is not None else None)
        if self._n_values:
            r["param_count"] = self._n_values           # numbers in the weights, not arrays
        if r.get("zero_rows") and weights is not None and _on_grid(weights):
            del r["zero_rows"]                          # exact zeros by arithmetic, no evidence

    @staticmethod
    def _labels(labels):
        if labels is None:
            return None
        y = _array(labels)
        if y is None or y.dtype.kind not in "iuf" or y.size == 0:
            return None
        return rules.class_labels(y)

    def _log_activations(self, r, acts, kinds, n):
        if self._n_acts is None:
            self._n_acts = len(acts)
        names, dead_l, sat_l = [], [], []
        for i, a in enumerate(acts):
            name = f"activation {i}"
            names.append(name)
            dead = sat = None
            if a is not None and a.size:
                lo, hi = float(a.min()), float(a.max())     # NaN and inf show here
                if not (math.isfinite(lo) and math.isfinite(hi)):
                    r.setdefault("nonfinite", name)
                else:
                    if a.ndim == 2 and n is not None and len(a) != n and a.shape[1] == n:
                        a = a.T                             # (units, N): samples as columns
                    kind = kinds[i] if kinds and i < len(kinds) and kinds[i] else _kind(a, lo, hi)
                    a2 = a.reshape(len(a), -1) if a.ndim > 1 else a[None]
                    if a2.ndim == 2 and a2.dtype.kind == "f" and (
                            hi - lo <= 1e-6 * max(abs(lo), abs(hi)) or _same_along(a2, 1)):
                        # every unit gives the same number (saturated at 1, say): a layer fed
                        # with it gets a gradient uniform along its inputs, and rightly so (an
                        # on-mask all True says nothing of the values: not counted)
                        r.setdefault("constant_widths", []).append(a2.shape[1])
                    if kind == "relu" and len(a2) >= 8:
                        active = np.count_nonzero(a2 > 0, axis=0)
                        dead = float(np.count_nonzero(active < rules.DEAD_UNIT_ACTIVE * len(a2))
                                     / active.size)
                    elif kind in ("sigmoid", "tanh"):
                        low = 0.0 if kind == "sigmoid" else -1.0
                        m = rules.SATURATION_MARGIN * (1 - low)
                        sat = float(np.count_nonzero((a2 < low + m) | (a2 > 1 - m)) / a2.size)
                        if i == 0 and a2.ndim == 2 and a2.shape[1] >= 2:
                            _zero_rows(r, a2, 0.5 if kind == "sigmoid" else 0.0)
            dead_l.append(dead)
            sat_l.append(sat)
        if len(acts) == self._n_acts:               # per-layer lists line up across the trace
            r["act_names"], r["dead_share"], r["saturated_share"] = names, dead_l, sat_l

    def _param_names(self, count: int, given) -> list[str]:
        key = (count, tuple(given) if given else None)
        if self._names is None or self._names[0] != key:
            src = self.names or given or []
            names = [str(src[i]) if i < len(src) else f"param {i}" for i in range(count)]
            self._names = (key, names)
        return self._names[1]

    def _finding_once(self, key, *args) -> None:
        if key not in self._seen:
            self._seen.add(key)
            self.findings.append(rules.finding(*args))

    def _check_shapes(self, names, W, G) -> None:
        if len(W) != len(G):
            self._finding_once(
                ("count", len(W), len(G)), "GRADIENT_SHAPE", "error",
                f"{len(W)} parameters but {len(G)} gradients were passed: each parameter needs "
                f"its gradient, in the same order.", {"params": len(W), "grads": len(G)},
                "pass grads=[dW1, db1, dW2, db2] for weights=[W1, b1, W2, b2]")
            return
        for name, w, g in zip(names, W, G):
            if w is None or g is None or w.shape == g.shape:
                continue
            self._finding_once(
                ("shape", name, w.shape, g.shape), "GRADIENT_SHAPE", "error",
                f"the gradient of {name} has shape {g.shape} but the parameter has shape "
                f"{w.shape}: " + ("a transposed gradient." if g.shape[::-1] == w.shape
                                  else "summed over the wrong axis, or a broadcast gone wrong."),
                {"param_shape": list(w.shape), "grad_shape": list(g.shape)},
                "dW = X.T @ dZ has the shape of W (in, out); db = dZ.sum(axis=0) sums over "
                "the batch (axis 0), giving the shape of b", name)

    def _buffers(self, key: str, arrays) -> list:
        """Reusable copies shaped as ``arrays`` (fresh memory costs page faults each time)."""
        sig = tuple(None if a is None else (a.shape, a.dtype) for a in arrays)
        have = self._buf.get(key)
        if have is None or have[0] != sig:
            have = (sig, [None if a is None else np.empty(a.shape, a.dtype) for a in arrays])
            self._buf[key] = have
        return have[1]

    def _log_params(self, r, step, weights, grads, prev, keep):
        W, w_keys = _arrays(weights)
        G, g_keys = _arrays(grads)
        count = len(W) if W is not None else len(G)
        names = self._param_names(count, w_keys or g_keys)
        if self._n_params is None:
            self._n_params = count
        lists = count == self._n_params             # per-parameter lists line up across the trace
        if lists:
            r["param_names"] = names
            r["param_sizes"] = [None if a is None else a.size for a in (G if G is not None else W)]
        if W is not None and G is not None:
            self._check_shapes(names, W, G)
        gap = max(1, step - prev["step"]) if prev is not None else None
        state = {"step": step}
        g_sq = None
        if G is not None:
            g_sq = [None if g is None else _sq(g) for g in G]
            finite = [s for s in g_sq if s is not None]
            total = sum(finite)
            r["grad_norm"] = math.sqrt(total) if math.isfinite(total) else float("inf")
            g_norms = [float("nan") if s is None else math.sqrt(s) for s in g_sq]
            if lists and len(G) == count:
                r["grad_norms"] = g_norms
            for i, s in enumerate(g_sq):
                if s is not None and not math.isfinite(s):
                    name = names[i] if i < len(names) else f"param {i}"
                    r.setdefault("nonfinite", f"the gradient of {name}")
            # rms of the first and the last weight matrix's gradient, from the norms above
            rms = [math.sqrt(s / g.size) for g, s in zip(G, g_sq)
                   if g is not None and g.ndim == 2 and g.size]
            if len(rms) >= 2 and rms[-1] > 0 and math.isfinite(rms[0]) and math.isfinite(rms[-1]):
                r["first_last_grad"] = rms[0] / rms[-1]
            sig_g = tuple(None if g is None else g.size for g in G)
            if (prev is not None and gap <= 10 and prev.get("sig_g") == sig_g   # the last call's
                    and math.isfinite(total)):                                # (a loop may log every k-th step)
                dots = [_dot(g, c) for g, c in zip(G, prev["g"]) if g is not None]
                denom = r["grad_norm"] * prev["g_norm"]
                if denom > 0 and math.isfinite(denom) and dots:
                    r["grad_cosine"] = float(sum(dots) / denom)
            if keep:                                 # after the cosine: one buffer serves
                copies = self._buffers("g", G)
                for g, c in zip(G, copies):
                    if g is not None:
                        np.copyto(c, g)
                state.update(g=copies, sig_g=sig_g, g_norm=r["grad_norm"])
        if W is not None:
            w_sq = [None if w is None else _sq(w) for w in W]
            for i, (w, s) in enumerate(zip(W, w_sq)):
                if s is not None and not math.isfinite(s) and not np.all(np.isfinite(w)):
                    name = names[i] if i < len(names) else f"param {i}"
                    r.setdefault("nonfinite", f"the weights {name}")
            total_w = sum(s for s in w_sq if s is not None)
            w_norm = r["weight_norm"] = math.sqrt(total_w)
            r["param_count"] = sum(w.size for w in W if w is not None)
            # several units: a weight matrix, or weight vectors of two sizes or more (a network
            # of neuron objects: each layer's fan-in is one size); else a single unit
            sizes = {w.size for w in W if w is not None and w.ndim == 1 and w.size > 1}
            r["several_units"] = len(sizes) >= 2 or any(
                w is not None and w.ndim == 2 and min(w.shape) > 1 for w in W)
            if r["param_count"] <= CYCLE_PARAMS and not r["several_units"]:   # a single unit: do its
                # weights come back? (a perceptron's cycle; a network's weights never repeat exactly)
                r["weights_key"] = hash(b"".join(np.round(w.astype(np.float64), 9).tobytes()
                                                 for w in W if w is not None))
            if lists:
                r["param_norms"] = [float("nan") if s is None else math.sqrt(s) for s in w_sq]
            sig_w = tuple(None if w is None else (w.shape, w.dtype) for w in W)
            delta = None
            if prev is not None and prev.get("sig_w") == sig_w:
                dkey = "d2" if prev.get("dkey") == "d" else "d"   # the last delta stays
                delta = self._buffers(dkey, W)
                dd = []
                for w, c, d in zip(W, prev["w"], delta):
                    if w is not None:
                        np.subtract(w, c, out=d)
                        dd.append(_sq(d))
                    else:
                        dd.append(None)
                upd = math.sqrt(sum(s for s in dd if s is not None)) / gap
                r["update_norm"] = upd
                r["update_ratio"] = upd / w_norm if w_norm > 0 else None
                if r.get("grad_norm"):
                    r["update_per_grad"] = upd / r["grad_norm"]
                if lists:
                    r["param_update"] = [float("nan") if s is None else math.sqrt(s) / gap
                                         for s in dd]
                    if G is not None and len(G) == len(W):
                        r["update_grad_cos"] = _update_cosines(G, g_sq, delta, dd)
                    r["gap"] = gap
                    if gap == 1:                    # one step: is it a decay towards zero?
                        r["update_weight_cos"] = _update_cosines(W, w_sq, delta, dd)
                    if G is not None and len(G) == len(W):
                        r["uniform_grads"] = _uniform_gradients(W, G, g_sq, r.get("constant_widths", ()))
                        follow = _transposed_follow(names, W, G, delta, dd, prev)
                        if follow:
                            r["transposed_follow"] = follow
                pairs = G is not None and len(G) == len(W) and all(
                    (w is None) == (g is None) and (w is None or w.size == g.size)
                    for w, g in zip(W, G))
                # the last update against the one before, over the same number of steps: an
                # undamped velocity repeats it (mu = 1) however many steps each spans, a damped
                # one shrinks it (0.9 ** gap), plain SGD forgets it (mu = 0)
                if pairs and prev.get("d") is not None and prev.get("d_gap") == gap:
                    dots = [(_dot(p, g), _dot(p, d), _dot(g, d)) for p, g, d in
                            zip(prev["d"], G, delta) if g is not None]
                    aa = sum(s for s in prev["dd"] if s is not None)
                    gg = sum(s for s in g_sq if s is not None)
                    dd_t = sum(s for s in dd if s is not None)
                    ag, ad, gd = (sum(x[k] for x in dots) for k in range(3))
                    r["momentum_fit"] = _fit(aa, ag, gg, ad, gd, dd_t)
                    r["momentum_gap"] = gap
                    if gg > 0 and dd_t > 0:         # what the gradient alone leaves unexplained
                        r["grad_alone_residual"] = math.sqrt(max(0.0, 1 - gd * gd / (gg * dd_t)))
                state.update(d=delta, dd=dd, dkey=dkey, d_gap=gap)
            if keep:
                copies = self._buffers("w", W)
                for w, c in zip(W, copies):
                    if w is not None:
                        np.copyto(c, w)
                state.update(w=copies, sig_w=sig_w)
        if keep:
            self._prev = state

    def _log_outputs(self, r, z, y, raw=None):
        if z is None or z.size == 0 or z.ndim not in (1, 2):
            return
        mixed = (raw is not None and raw.ndim in (1, 2) and z.ndim != raw.ndim   # (N,) against (N, 1)
                 and ("predictions" if z.ndim == 2 else "targets"))
        if z.ndim == 1:                             # N outputs of one unit, or one sample's C
            one_sample = raw is None or raw.ndim == 0 or raw.size == 1 or (
                raw.ndim == 1 and raw.size == z.size and _one_hot_vector(raw))
            if one_sample:
                z = z[None, :]
                if raw is not None and raw.ndim == 1 and raw.size == z.shape[1] > 1:
                    raw = raw[None, :]              # its one-hot label
                    y = raw.argmax(axis=1)
            else:
                z = z[:, None]
        if z.ndim == 2 and z.shape[1] == 1 < z.shape[0] and raw is not None and raw.size == 1:
            z = z.T                                 # one label: one sample, its C outputs a column
        if raw is not None and raw.ndim == 2 and _one_hot_columns(raw) and raw.shape == z.shape:
            z, raw = z.T, raw.T                     # one-hot columns: samples as columns (Nielsen)
            y = raw.argmax(axis=1)
        if raw is not None and raw.ndim == 2 and raw.shape == z.shape[::-1] and z.shape[0] != z.shape[1]:
            raw = raw.T                             # targets as columns, like the outputs
        if y is not None and len(z) != len(y) and z.shape[1] == len(y):
            z = z.T                                 # (C, N): samples as columns
        if raw is not None and raw.ndim == 2 and raw.shape[0] == z.shape[1] != z.shape[0]:
            raw = raw.T
        n, c = z.shape
        if self.output_width is None:
            self.output_width = c
        finite = bool(np.all(np.isfinite(z)))
        if finite and raw is not None and raw.size and np.all(np.isfinite(raw)):
            r["output_range"] = (float(z.min()), float(z.max()), c)
            r["target_max"] = float(raw.max())
        if not finite:
            r.setdefault("nonfinite", "the network's output")
            return
        if raw is not None and raw.ndim == 2 and len(raw) == n and raw.shape[1] > 1 and raw.shape[1] != c \
                and np.all((raw == 0) | (raw == 1)):
            self.target_width = raw.shape[1]       # one-hot rows of another width than the outputs
        if c == 1 and raw is not None and raw.size == n:
            self._log_one_output(r, z[:, 0], raw.reshape(-1).astype(np.float64), mixed)
            return
        if c >= 2:
            self.num_classes = c
            counts = np.bincount(z.argmax(axis=1), minlength=c)
            r["top_pred"], r["top_pred_share"] = int(counts.argmax()), float(counts.max() / n)
        if y is None or len(y) != n:
            return
        lo, hi = int(y.min()), int(y.max())
        if hi - lo <= 4 * n + c:                                # labels far apart: no huge bincount
            counts = np.bincount(y - lo)
            r["top_label_share"] = float(counts.max() / n)
            self._pool_labels(r, lo, counts)
        else:
            r["top_label_share"] = float(np.unique(y, return_counts=True)[1].max() / n)
        if c >= 2:
            r["accuracy"] = float(np.mean(z.argmax(axis=1) == y))
        if c >= 2 and lo >= 0 and hi < c:
            r["mean_ce"] = float(-np.mean(log_softmax(z.astype(np.float64))[np.arange(n), y]))
            r["batch"] = n
            if z.min() >= 0 and z.max() <= 1 and np.allclose(z.sum(axis=1), 1, atol=1e-3):
                # rows of probabilities: their own cross-entropy, beside the one of their softmax
                picked = z[np.arange(n), y].astype(np.float64)
                r["prob_ce"] = float(-np.mean(np.log(np.maximum(picked, 1e-300))))

    def _pool_labels(self, r, lo: int, counts) -> None:
        """Pool the labels of every check and record the most common class's share of all
        labels seen so far: the chance level of always answering it. One check says little of
        it when it holds a few samples (online learning, a four-row truth table) or one class
        (data fed in class order)."""
        for k, v in enumerate(counts.tolist()):
            if v:
                self._label_pool[lo + k] = self._label_pool.get(lo + k, 0) + v
        r["pooled_top_share"] = max(self._label_pool.values()) / sum(self._label_pool.values())

    def _log_one_output(self, r, out, t, mixed):
        """One output per sample. Against 0/1 targets a classifier: its answer is out > 0.5
        for probabilities (outputs in [0, 1]), out > 0 for logits. Otherwise a regression:
        the share of the targets' variance explained (r2), the mean and spread of the errors
        (an offset the model cannot remove: no bias), and, when outputs and targets differ in
        shape ((N, 1) against (N,)), the mean square of their (N, N) broadcast difference."""
        n = len(out)
        r["batch"] = n
        # probabilities in [0, 1]; a value of exactly 0 is no sigmoid's (a perceptron's score)
        probs = out.min() >= 0 and out.max() <= 1 and not np.any(out == 0)
        _zero_rows(r, out[:, None], 0.5 if probs else 0.0)
        if np.all((t == 0) | (t == 1)):
            pred = (out > (0.5 if probs else 0.0)).astype(np.float64)
            r["top_pred"], r["top_pred_share"] = int(pred.mean() >= 0.5), float(max(pred.mean(), 1 - pred.mean()))
            r["top_label_share"] = float(max(t.mean(), 1 - t.mean()))
            self._pool_labels(r, 0, np.bincount(t.astype(np.int64), minlength=2))
            r["accuracy"] = float(np.mean(pred == t))
            return
        err = out.astype(np.float64) - t
        mse, var = float(np.mean(err * err)), float(np.var(t))
        r["pair_mse"], r["resid_mean"], r["resid_std"] = mse, float(err.mean()), float(err.std())
        o = out.astype(np.float64)
        r["out_mean"], r["out_var"] = float(o.mean()), float(o.var())
        r["resid_out_cov"] = float(np.mean((o - r["out_mean"]) * (err - r["resid_mean"])))
        if var > 0:
            r["r2"] = 1 - mse / var
        if mixed and r.get("loss") is not None and n <= 2048:
            r["column"] = mixed                # which of the two is (N, 1)
            r["broadcast_mse"] = float(np.mean((out[:, None] - t[None, :]) ** 2))

    # ------------------------------------------------------------------ verdict
    @np.errstate(all="ignore")                     # never a crash, under np.seterr(all="raise") too
    def report(self, *, num_classes: int | None = None, lr: float | None = None,
               clip_norm: float | None = None) -> Report:
        """Run every training rule over the trace; ``clip_norm``: the gradient clipping your
        loop applies, if any (EXPLODING_GRADIENT then says what to change instead)."""
        t = self.trace
        c = num_classes or self.num_classes
        found = [rules.layout_followed(f, t) for f in self.findings]
        found += rules.nonfinite(t)
        found += rules.loss_summed(t)
        found += rules.gradient_not_reset(t)
        found += rules.momentum(t)
        found += rules.update_signs(t) or rules.uniform_gradients(t)
        found += rules.learning_rate(t, lr)
        found += rules.weights_frozen(t)
        found += exploding_gradient_in_trace(t, clip_norm)
        found += rules.vanishing_gradient(t, c)
        found += rules.saturation(t, c)
        found += rules.dead_relu(t)
        found += rules.single_class(t)
        found += rules.batches_of_one_class(t)
        found += rules.stalled(t, c)
        found += rules.weights_cycle(t)
        found += rules.targets_outside_outputs(t)
        found += rules.broadcast_residual(t)
        found += rules.softmax_twice(t)
        found += rules.label_width(self.output_width or self.num_classes, self.target_width)
        found += rules.missing_bias(t) or rules.zero_input_no_bias(t)
        verdict = rules.not_learning(t, c, errors=any(f.severity != "info" for f in found))
        found += verdict
        # the first weights' init checks: a cause when the run suffers, else only a note
        suffers = rules.suffering(t, c) or any(f.code == "NOT_LEARNING" for f in verdict)
        found += [f if suffers else dataclasses.replace(f, severity="info")
                  for f in self._init_checks()]
        if 0 < len(t) < rules.MIN_CHECKS:
            found.append(rules.finding(
                "TOO_FEW_STEPS", "info", f"only {len(t)} step(s) logged: too few to judge the run "
                f"(at least {rules.MIN_CHECKS}).", {"logged": len(t)}, "call rec.log at every step"))
        first = next((r["loss"] for r in t if r.get("loss") is not None), None)
        if first is not None and rules.chance_loss(t, c):
            found += rules.initial_loss(first, c, rules.suffering(t, c))
        return Report(found)


class Monitor(Callback):
    """The doctor as a ``fit`` callback: ``model.fit(..., callbacks=[mon]); print(mon.report())``.

    Looks at the model on two consecutive steps out of every ``every`` (a few array norms and
    a flat copy of the weights: a few percent of the training time), and after every epoch;
    with ``check_inputs`` (the default) also at the first batch's inputs, for NaN and scale
    (pixels left in 0..255), which ``check_data`` would say before training: ``diagnose``
    runs that itself and turns this off.
    """

    def __init__(self, every: int = 50, *, check_inputs: bool = True) -> None:
        self.every = max(1, int(every))
        self.check_inputs = check_inputs
        self.recorder = Recorder()
        self.epochs: list[dict] = []
        self.static: list[Finding] = []
        self.sequence: SequenceWatch | None = None

    def on_train_begin(self, logs):
        self.recorder = Recorder([name for name, _ in self.model.named_params()],
                                 budget=None)                         # it picks its own steps
        self.epochs = []
        self.static = list(check_init(self.model).findings)
        self.static += _model_loss_findings(self.model, self.model.loss)
        self._act_layers = [(i, layer) for i, layer in enumerate(self.model.layers)
                            if layer.activation is not None]         # relu, sigmoid, tanh
        self.sequence = SequenceWatch.of(self.model)                  # None but for sequence models

    def on_batch_end(self, batch, logs):
        step = logs["step"]
        if self.sequence is not None:               # every step: gradient norm and loss
            self.sequence.on_batch_end(logs)
        if step != 1 and step % self.every not in (0, 1):
            return
        output, target = logs.get("output"), logs.get("target")
        if self.sequence is not None:               # attention; (B, T, V) as B*T predictions
            output, target = self.sequence.on_check(output, target)
        if step == 1 and self.check_inputs and logs.get("input") is not None:
            x, name = logs["input"], "X (the first training batch)"
            self.static += rules.nonfinite_input(x, name) or rules.input_scale(x, name)
        # two consecutive steps per check: the update and the gradient cosine need a pair
        acts = [layer.activity() for _, layer in self._act_layers]   # on-masks, or outputs
        kinds = [layer.activation for _, layer in self._act_layers]
        self.recorder.log(step, loss=logs["loss"], weights=self.model.params, grads=self.model.grads,
                          activations=acts, activation_kinds=kinds, logits=output, labels=target)
        if self.recorder.trace[-1].get("act_names"):
            names = [f"layer {i} ({type(layer).__name__})" for i, layer in self._act_layers]
            self.recorder.trace[-1]["act_names"] = names

    def on_epoch_end(self, epoch, logs):
        self.epochs.append(dict(logs))

    def report(self) -> Report:
        lr = getattr(self.model.optimizer, "base_lr", None) if self.model is not None else None
        try:
            c = self.model.num_outputs() if self.model is not None else None
        except ValueError:                           # no layer with a bias: width unknown
            c = None
        c = c if c is not None and c > 1 else None
        clip = getattr(self.model.optimizer, "clip_norm", None) if self.model is not None else None
        # judge the update/gradient trends on the check-to-check pairs only
        report = self.recorder.report(num_classes=c, lr=lr, clip_norm=clip)
        found = [*self.static, *report.findings, *rules.overfitting(self.epochs)]
        if self.sequence is not None:
            found = self.sequence.findings(found, clip)
        return Report(found)


def _model_loss_findings(model, loss) -> list[Finding]:
    """OUTPUT_LOSS_MISMATCH for the model's last layer and its loss, each recognised by its
    class (a subclass of Softmax counts as Softmax), named as the rule names them."""
    if loss is None or not model.layers:
        return []
    last = model.layers[-1]
    last_name = next((cls.__name__ for cls in (Softmax, Sigmoid) if isinstance(last, cls)),
                     type(last).__name__)
    loss_name = next((cls.__name__ for cls in (SoftmaxCrossEntropy, BinaryCrossEntropy, MSE)
                      if isinstance(loss, cls)), type(loss).__name__)
    from_logits = getattr(loss, "from_logits", None)
    return rules.output_loss_mismatch(last_name, loss_name, from_logits)
