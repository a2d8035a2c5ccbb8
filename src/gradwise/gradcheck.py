"""Finite-difference gradient checks: is a backward pass right?

The analytic gradient of a scalar function f is compared with central differences,

    df/dp_i  ~  (f(p + eps e_i) - f(p - eps e_i)) / (2 eps),

nudging **one coordinate at a time** and putting it back before the next. (Nudging all
weights at once measures a directional derivative, a single number, and cannot say which
entry is wrong: a classic mistake.) Everything runs in float64: in float32 the rounding
error of f, about 1e-7 |f| / eps, drowns the derivative.

For each parameter the report gives the relative error over the coordinates checked,

    rel = ||analytic - numeric|| / (||analytic|| + ||numeric||)      (0 when both are 0)

and its worst entries. With eps = 1e-6 a correct float64 backward gives rel ~ 1e-9 or
less; anything above ``tol`` (1e-6) names a bug (or a kink of ReLU hit by the nudge).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

DEFAULT_EPS = 1e-6
DEFAULT_TOL = 1e-6
DEFAULT_MAX_COORDS = 200     # per parameter: all coordinates of small arrays, a sample of big ones
#: A gradient below this on both sides (analytic and numeric) counts as zero and agrees:
#: a gradient that is exactly 0 (a conv bias before batch norm) meets finite differences of
#: ~1e-10 rounding noise, which would read as a relative error of 1.
DEFAULT_ATOL = 1e-8
#: Central differences round: each loss value is exact only to about an ulp of the loss, so the
#: slope (f+ - f-) / 2 eps carries ~ulp(f) / eps of noise, and an entry is judged on what it
#: differs by beyond this many of those (a gradient of 1.2e-7 under a loss of 1 meets 5e-11 of
#: noise: a relative error of 5e-4 between two right answers).
ROUNDING_ULPS = 16


@dataclass
class ParamCheck:
    """The check of one parameter: its relative error and its worst entries."""
    name: str
    shape: tuple
    rel_error: float
    checked: int                           # coordinates compared
    worst: list = field(default_factory=list)   # [(index, analytic, numeric), ...] worst first
    problem: str | None = None             # e.g. a gradient of the wrong shape
    zero: bool = False                     # both gradients are below DEFAULT_ATOL: they agree on 0
    kinks: int = 0                         # coordinates left out: f is not smooth there (skip_kinks)

    def ok(self, tol: float = DEFAULT_TOL) -> bool:
        return self.problem is None and (self.zero or self.rel_error < tol)


@dataclass
class GradcheckReport:
    """Result of a gradient check: ``ok``, ``max_rel_error``, ``params`` (one ParamCheck each)."""
    params: list[ParamCheck]
    tol: float = DEFAULT_TOL

    @property
    def ok(self) -> bool:
        return all(p.ok(self.tol) for p in self.params)

    @property
    def max_rel_error(self) -> float:
        """The largest relative error, over the parameters whose gradient is not zero."""
        return max((np.inf if p.problem else p.rel_error for p in self.params if not p.zero),
                    default=0.0)

    @property
    def failed(self) -> list[ParamCheck]:
        return [p for p in self.params if not p.ok(self.tol)]

    def __getitem__(self, name: str) -> ParamCheck:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def __str__(self) -> str:
        lines = [f"{'parameter':<14} {'shape':<14} {'checked':>7}  {'rel error':>9}  result"]
        for p in self.params:
            verdict = "ok (zero gradient)" if p.zero else "ok" if p.ok(self.tol) else "FAIL"
            lines.append(f"{p.name:<14} {str(p.shape):<14} {p.checked:>7}  {p.rel_error:9.2e}  {verdict}")
            if p.problem:
                lines.append(f"    {p.problem}")
            elif not p.ok(self.tol):
                for idx, a, n in p.worst[:5]:
                    lines.append(f"    at {idx}: analytic {a:+.6e}  numeric {n:+.6e}")
        lines.append(f"{'OK' if self.ok else 'FAILED'}: max relative error {self.max_rel_error:.2e} "
                     f"(tolerance {self.tol:.0e})")
        return "\n".join(lines)


def named_arrays(arrays, what: str) -> list[tuple[str, np.ndarray]]:
    """``(name, array)`` pairs: a dict's own keys, else ``what[0]``, ``what[1]``, ... (for a
    list, or a single array)."""
    if isinstance(arrays, Mapping):
        return [(str(k), v) for k, v in arrays.items()]
    if isinstance(arrays, np.ndarray):
        return [(f"{what}[0]", arrays)]
    return [(f"{what}[{i}]", v) for i, v in enumerate(arrays)]


def check_function(f: Callable[..., float], params, grads, *, eps: float = DEFAULT_EPS,
                   tol: float = DEFAULT_TOL, max_coords: int = DEFAULT_MAX_COORDS,
                   rng: np.random.Generator | None = None, skip_kinks: bool = False) -> GradcheckReport:
    """Check gradients of any code: ``f(params) -> scalar`` against ``grads``.

    Args:
        f: called with ``params`` (the same object you pass) and returning the loss. The
            arrays in ``params`` are nudged in place, one entry at a time, and restored.
        params: a list or dict of float64 arrays (the ones f reads).
        grads: your analytic gradients, same structure and shapes as params.
        eps: the nudge. tol: relative error above which a parameter fails.
        max_coords: check every coordinate of arrays up to this size, a random sample of
            this many for bigger ones.
        skip_kinks: leave out coordinates where f is not smooth within ``eps`` (a ReLU or a
            max switching inside the nudge): there the central difference is no derivative.
            Seen in the numbers: the curvature term (f(x+h) - 2 f(x) + f(x-h)) / 2h, ~f''h
            for a smooth f, is as large as the disagreement itself.

    >>> W = np.array([[1.0, 2.0]]); f = lambda p: float(np.sum(p[0] ** 2))
    >>> check_function(f, [W], [2 * W]).ok
    True
    """
    for what, v in (("eps", eps), ("tol", tol)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v < math.inf:
            raise ValueError(f"check_function: {what} must be a number > 0; got {v!r}")
    rng = np.random.default_rng(0) if rng is None else rng
    named_p, named_g = named_arrays(params, "param"), named_arrays(grads, "grad")
    if len(named_p) != len(named_g):
        raise ValueError(f"check_function: {len(named_p)} parameters but {len(named_g)} gradients")
    checks = []
    for (name, p), (_, g) in zip(named_p, named_g):
        if not isinstance(p, np.ndarray) or p.dtype != np.float64:
            raise TypeError(f"check_function: parameter {name!r} must be a float64 ndarray (got "
                            f"{getattr(p, 'dtype', type(p).__name__)}); finite differences in float32 "
                            f"are too coarse: cast with .astype(np.float64)")
        g = np.asarray(g, dtype=np.float64)
        if g.shape != p.shape:
            checks.append(ParamCheck(name, p.shape, np.inf, 0, problem=(
                f"gradient has shape {g.shape} but the parameter has shape {p.shape} (a transpose, "
                f"or a sum over the wrong axis?)")))
            continue
        with np.errstate(under="ignore"):           # tiny numbers flush to 0: harmless
            checks.append(_check_one(f, params, name, p, g, eps, max_coords, rng, skip_kinks))
    return GradcheckReport(checks, tol)


def _loss_of(f, params) -> float:
    """f(params) as one number, or a TypeError saying what f returned instead."""
    value = f(params)
    try:
        return float(value)
    except (TypeError, ValueError):
        shape = getattr(value, "shape", None)
        got = f"an array of shape {shape}" if shape is not None else repr(value)[:80]
        raise TypeError(f"check_function: f(params) must return the loss as one number; it "
                        f"returned {got} (sum or average it: return float(loss.mean()))") from None


def _nudged(f, params, flat, i: int, h: float) -> tuple[float, float]:
    """f with entry i of ``flat`` (a view into one of ``params``) moved by +h and by -h; the
    entry is put back before returning."""
    old = flat[i]
    flat[i] = old + h
    f_plus = _loss_of(f, params)
    flat[i] = old - h
    f_minus = _loss_of(f, params)
    flat[i] = old
    return f_plus, f_minus


def _check_one(f, params, name, p, g, eps, max_coords, rng, skip_kinks=False) -> ParamCheck:
    if not p.flags.c_contiguous:
        raise ValueError(f"check_function: parameter {name!r} must be C-contiguous to be nudged "
                         f"in place (pass np.ascontiguousarray(p) to f and here)")
    flat = p.reshape(-1)                                   # a view: nudges write into p
    coords = (np.arange(p.size) if p.size <= max_coords
              else np.sort(rng.choice(p.size, size=max_coords, replace=False)))
    numeric, curvature = np.empty(len(coords)), np.zeros(len(coords))
    f0 = _loss_of(f, params) if skip_kinks else 0.0
    scale = 1.0                                            # the largest loss seen: its ulp
    for j, i in enumerate(coords):
        f_plus, f_minus = _nudged(f, params, flat, i, eps)
        numeric[j] = (f_plus - f_minus) / (2 * eps)
        if math.isfinite(f_plus) and math.isfinite(f_minus):
            scale = max(scale, abs(f_plus), abs(f_minus))
        curvature[j] = (f_plus - 2 * f0 + f_minus) / (2 * eps)
    analytic = g.reshape(-1)[coords]
    kinks = 0
    if skip_kinks:
        gap = np.abs(analytic - numeric)
        kinked = (np.abs(curvature) > 0.5 * gap) & (gap > DEFAULT_ATOL)
        for j in np.flatnonzero(~kinked & (gap > DEFAULT_ATOL)):   # several kinks may cancel in
            f_plus, f_minus = _nudged(f, params, flat, coords[j], eps / 10)   # the curvature: a
            finer = (f_plus - f_minus) / (2 * eps / 10)         # tenth of the nudge, another slope
            rounding = 1e-16 * max(1.0, abs(f0)) / (eps / 10)          # the finer nudge's noise
            kinked[j] = abs(finer - numeric[j]) > 0.1 * gap[j] + 10 * rounding
        smooth = ~kinked
        kinks = int(len(coords) - smooth.sum())
        coords, numeric, analytic = coords[smooth], numeric[smooth], analytic[smooth]
    diff = np.abs(analytic - numeric)
    noise = ROUNDING_ULPS * np.finfo(np.float64).eps * scale / (2 * eps)
    denom = np.linalg.norm(analytic) + np.linalg.norm(numeric)
    rel = float(np.linalg.norm(np.maximum(diff - noise, 0.0)) / denom) if denom > 0 else 0.0
    worst = [(tuple(int(v) for v in np.unravel_index(coords[k], p.shape)), float(analytic[k]),
              float(numeric[k])) for k in np.argsort(-diff)[:10]]
    zero = bool(coords.size) and max(np.abs(analytic).max(), np.abs(numeric).max()) < DEFAULT_ATOL
    return ParamCheck(name, p.shape, rel, len(coords), worst, zero=zero, kinks=kinks)


def _float64_copy(obj):
    """A deep copy with every float array in ``params``/``grads`` (and buffers) in float64."""
    obj = copy.deepcopy(obj)
    layers = obj.layers if hasattr(obj, "layers") else [obj]
    for layer in layers:
        for d in (layer.params, layer.grads, getattr(layer, "buffers", {})):
            for k in d:
                d[k] = d[k].astype(np.float64)
    return obj


def _rng_restorer(layers):
    """Dropout draws a mask per forward: replay the same masks on every evaluation of f."""
    states = [(layer, layer.rng.bit_generator.state) for layer in layers
              if getattr(layer, "rng", None) is not None]

    def restore():
        for layer, state in states:
            layer.rng.bit_generator.state = state
    return restore


def check_layer(layer, x: np.ndarray, *, training: bool = True, eps: float = DEFAULT_EPS,
                tol: float = DEFAULT_TOL, max_coords: int = DEFAULT_MAX_COORDS,
                seed: int = 0) -> GradcheckReport:
    """Check a layer's backward: gradients of every parameter and of the input.

    The layer is copied to float64 (the original is untouched) and the scalar
    ``f = sum(forward(x) * R)`` with a fixed random R is differentiated, so every output
    entry counts with a different weight.
    """
    layer = _float64_copy(layer)
    if hasattr(layer, "needs_input_grad"):
        layer.needs_input_grad = True
    x = np.array(x, dtype=np.float64)
    rng = np.random.default_rng(seed)
    restore = _rng_restorer([layer])
    with np.errstate(under="ignore"):
        restore()
        y = layer.forward(x, training=training)
        R = rng.standard_normal(y.shape)                    # random upstream gradient
        dx = layer.backward(R)
        arrays = {"input": x, **layer.params}
        grads = {"input": dx, **{k: layer.grads[k].copy() for k in layer.params}}

        def f(_):
            restore()
            return float(np.sum(layer.forward(x, training=training) * R))
        return check_function(f, arrays, grads, eps=eps, tol=tol, max_coords=max_coords, rng=rng)


def check_loss(loss, pred: np.ndarray, target: np.ndarray, *, eps: float = DEFAULT_EPS,
               tol: float = DEFAULT_TOL, max_coords: int = DEFAULT_MAX_COORDS) -> GradcheckReport:
    """Check ``loss.backward()`` against finite differences of ``loss.forward(pred, target)``."""
    pred = np.array(pred, dtype=np.float64)
    target = np.asarray(target)
    if target.dtype.kind == "f":
        target = target.astype(np.float64)
    with np.errstate(under="ignore"):
        loss.forward(pred, target)
        grad = loss.backward().copy()
        return check_function(lambda p: loss.forward(p["pred"], target), {"pred": pred},
                              {"pred": grad}, eps=eps, tol=tol, max_coords=max_coords)


def check_model(model, X: np.ndarray, y: np.ndarray, loss, *, training: bool = True,
                eps: float = DEFAULT_EPS, tol: float = DEFAULT_TOL,
                max_coords: int = DEFAULT_MAX_COORDS) -> GradcheckReport:
    """Check the whole chain: ``loss(model(X), y)`` against the model's backward, for every
    parameter of every layer (named "0.W", "0.b", "2.W", ...)."""
    model = _float64_copy(model)
    for layer in model.layers:
        if hasattr(layer, "needs_input_grad"):
            layer.needs_input_grad = True
    X = np.asarray(X, dtype=np.float64)
    restore = _rng_restorer(model.layers)
    with np.errstate(under="ignore"):
        restore()
        loss.forward(model.forward(X, training=training), y)
        model.backward(loss.backward())
        names = [name for name, _ in model.named_params()]
        params = dict(zip(names, model.params))
        grads = dict(zip(names, [g.copy() for g in model.grads]))

        def f(_):
            restore()
            return loss.forward(model.forward(X, training=training), y)
        return check_function(f, params, grads, eps=eps, tol=tol, max_coords=max_coords)


def check_all(seed: int = 0) -> tuple[str, bool]:
    """Check every built-in layer and loss; return a printable table and whether all passed."""
    from . import conv as C
    from . import layers as L
    from . import losses
    from . import recurrent as R

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((6, 5))
    x[np.abs(x) < 1e-3] = 0.5                       # keep ReLU's kink out of the nudges
    labels = rng.integers(0, 5, 6)
    images = rng.standard_normal((3, 2, 6, 6))
    binary = rng.integers(0, 2, (6, 5)).astype(np.float64)
    sequences = rng.standard_normal((2, 4, 5))                 # (B, T, F)
    cases = [
        ("Dense", lambda: check_layer(L.Dense(5, 4, rng=rng), x)),
        ("ReLU", lambda: check_layer(L.ReLU(), x)),
        ("LeakyReLU", lambda: check_layer(L.LeakyReLU(0.1), x)),
        ("Sigmoid", lambda: check_layer(L.Sigmoid(), x)),
        ("Tanh", lambda: check_layer(L.Tanh(), x)),
        ("Softmax", lambda: check_layer(L.Softmax(), x)),
        ("Identity", lambda: check_layer(L.Identity(), x)),
        ("Dropout", lambda: check_layer(L.Dropout(0.3, rng=np.random.default_rng(seed)), x)),
        ("Flatten", lambda: check_layer(L.Flatten(), x.reshape(6, 5, 1))),
        ("Conv2D", lambda: check_layer(C.Conv2D(2, 3, 3, stride=2, padding=1, rng=rng), images)),
        ("MaxPool2D", lambda: check_layer(C.MaxPool2D(2), images)),
        ("AvgPool2D", lambda: check_layer(C.AvgPool2D(3, stride=2, padding=1), images)),
        ("GlobalAvgPool2D", lambda: check_layer(C.GlobalAvgPool2D(), images)),
        ("BatchNorm", lambda: check_layer(C.BatchNorm(2), images)),
        ("RNN", lambda: check_layer(R.RNN(5, 4, rng=rng), sequences)),
        ("LSTM", lambda: check_layer(R.LSTM(5, 4, rng=rng), sequences)),
        ("SoftmaxCrossEntropy", lambda: check_loss(losses.SoftmaxCrossEntropy(), x, labels)),
        ("MSE", lambda: check_loss(losses.MSE(), x, binary)),
        ("BinaryCrossEntropy", lambda: check_loss(losses.BinaryCrossEntropy(), x, binary)),
        ("BinaryCrossEntropy(p)", lambda: check_loss(
            losses.BinaryCrossEntropy(from_logits=False), 1 / (1 + np.exp(-x)), binary)),
    ]
    lines = [f"{'component':<22} {'parameters':<20} {'max rel error':>13}  result"]
    all_ok = True
    for name, run in cases:
        report = run()
        all_ok &= report.ok
        names = ",".join(p.name for p in report.params)
        lines.append(f"{name:<22} {names:<20} {report.max_rel_error:13.2e}  "
                     f"{'ok' if report.ok else 'FAIL'}")
    lines.append(f"{'all passed' if all_ok else 'SOME FAILED'} (float64 central differences, "
                 f"eps {DEFAULT_EPS:g}, tolerance {DEFAULT_TOL:g})")
    return "\n".join(lines), all_ok
