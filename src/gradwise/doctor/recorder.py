"""Watching a run: the Recorder (for your own NumPy loop) and the Monitor (a fit callback).

Both keep a *trace*: one record of summary numbers per check (loss, gradient and update
sizes, dead or saturated units, predicted classes...). The rules in ``rules.py`` read the
trace; nothing here judges.
"""

from __future__ import annotations

import math

import numpy as np

from ..callbacks import Callback
from ..functional import log_softmax
from ..layers import Sigmoid, Softmax
from ..losses import MSE, BinaryCrossEntropy, SoftmaxCrossEntropy
from . import rules
from .checks import check_init
from .findings import Finding, Report


def _flat(arrays) -> np.ndarray:
    """One flat copy of every array, in their own float type (float32 stays float32)."""
    flats = [np.ravel(a) for a in arrays]
    flats = [f if f.dtype.kind == "f" else f.astype(np.float64) for f in flats]
    return np.concatenate(flats) if flats else np.zeros(0)


def _norm(a) -> float:
    """L2 norm by a BLAS dot product: the Monitor's hot spot, so no temporary arrays."""
    flat = np.ravel(a)
    if flat.dtype.kind != "f":
        flat = flat.astype(np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.sqrt(np.dot(flat, flat)))


def _kind(a: np.ndarray) -> str:
    """Guess an activation from its values: relu (>= 0, many exact zeros), sigmoid, tanh."""
    if a.size == 0 or not np.all(np.isfinite(a)):
        return "linear"
    lo, hi = float(a.min()), float(a.max())
    if lo >= 0 and np.mean(a == 0) > 0.05:
        return "relu"
    if lo >= 0 and hi <= 1:
        return "sigmoid"
    if lo >= -1 and hi <= 1:
        return "tanh"
    return "linear"


def fit_momentum(delta, prev_delta, g) -> tuple[float, float, float] | None:
    """Least-squares fit of ``delta = mu * prev_delta + c * g`` over every parameter.

    SGD with momentum mu makes every update exactly mu times the last one minus lr times the
    gradient; plain SGD gives mu = 0; an undamped velocity (v = v + g) gives mu = 1. Returns
    (mu, c, relative residual), or None where the fit is undetermined.
    """
    aa, ag, gg = float(prev_delta @ prev_delta), float(prev_delta @ g), float(g @ g)
    ad, gd, dd = float(prev_delta @ delta), float(g @ delta), float(delta @ delta)
    det = aa * gg - ag * ag
    if dd == 0 or det <= 1e-12 * aa * gg or not np.isfinite(det):
        return None
    mu = (ad * gg - ag * gd) / det
    c = (aa * gd - ag * ad) / det
    resid = _norm(delta - mu * prev_delta - c * g) / math.sqrt(dd)
    return float(mu), float(c), float(resid)


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
    summarised at once (copied only as flat vectors for the next comparison), so you may
    reuse your buffers.
    """

    def __init__(self, names: list[str] | None = None) -> None:
        self.names = names
        self.trace: list[dict] = []
        self.findings: list[Finding] = []          # found at log time (e.g. shape mismatches)
        self._prev_w: np.ndarray | None = None
        self._prev_g: np.ndarray | None = None
        self._prev_step: int | None = None
        self._prev_delta: np.ndarray | None = None
        self.num_classes: int | None = None

    # ------------------------------------------------------------------ logging
    def log(self, step: int, *, loss=None, weights=None, grads=None, activations=None,
            logits=None, labels=None, activation_kinds=None) -> None:
        r: dict = {"step": int(step), "loss": None if loss is None else float(loss)}
        if loss is not None and not math.isfinite(float(loss)):
            r["nonfinite"] = "the loss"
        names = self.names or [f"param {i}" for i in range(len(weights if weights is not None else grads or []))]
        if activations is not None:
            self._log_activations(r, activations, activation_kinds)
        if weights is not None or grads is not None:
            self._log_params(r, names, weights, grads, step)
        if logits is not None:
            self._log_outputs(r, np.asarray(logits), labels)
        self._prev_step = int(step)
        self.trace.append(r)

    def _log_activations(self, r, activations, kinds):
        r["act_names"], r["dead_share"], r["saturated_share"] = [], [], []
        for i, a in enumerate(activations):
            a = np.asarray(a)
            name = f"activation {i}"
            r["act_names"].append(name)
            if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
                r.setdefault("nonfinite", name)
            kind = (kinds[i] if kinds else None) or _kind(a)
            a2 = a.reshape(len(a), -1) if a.ndim > 1 else a[None]
            dead = sat = None
            if kind == "relu" and len(a2) >= 8:
                dead = float(np.mean(np.mean(a2 > 0, axis=0) < rules.DEAD_UNIT_ACTIVE))
            elif kind in ("sigmoid", "tanh"):
                lo = 0.0 if kind == "sigmoid" else -1.0
                m = rules.SATURATION_MARGIN * (1 - lo)
                sat = float(np.mean((a2 < lo + m) | (a2 > 1 - m)))
            r["dead_share"].append(dead)
            r["saturated_share"].append(sat)

    def _log_params(self, r, names, weights, grads, step):
        r["param_names"] = list(names)
        if weights is not None and grads is not None:
            for name, w, g in zip(names, weights, grads):
                if np.shape(w) != np.shape(g):
                    self.findings.append(rules.finding(
                        "GRADIENT_SHAPE", "error",
                        f"the gradient of {name} has shape {np.shape(g)} but the parameter has shape "
                        f"{np.shape(w)}: " + ("a transposed gradient." if np.shape(g)[::-1] == np.shape(w)
                                              else "summed over the wrong axis, or a broadcast gone wrong."),
                        {"param_shape": list(np.shape(w)), "grad_shape": list(np.shape(g))},
                        "dW = X.T @ dZ has the shape of W (in, out); db = dZ.sum(axis=0) sums over "
                        "the batch (axis 0), giving the shape of b", name))
        flat_g = None
        if grads is not None:
            g_norms = [_norm(g) for g in grads]
            r["grad_norms"] = g_norms
            r["grad_norm"] = math.sqrt(sum(n * n for n in g_norms)) if all(map(math.isfinite, g_norms)) else float("inf")
            for name, n in zip(names, g_norms):
                if not math.isfinite(n):
                    r.setdefault("nonfinite", f"the gradient of {name}")
            # rms of the first and the last weight matrix's gradient, from the norms above
            rms = [n / math.sqrt(np.size(g)) for g, n in zip(grads, g_norms) if np.ndim(g) == 2]
            if len(rms) >= 2 and rms[-1] > 0 and math.isfinite(rms[0]) and math.isfinite(rms[-1]):
                r["first_last_grad"] = rms[0] / rms[-1]
            flat_g = _flat(grads)
            if self._prev_g is not None and self._prev_step == step - 1 and flat_g.shape == self._prev_g.shape:
                denom = r["grad_norm"] * _norm(self._prev_g)
                if denom > 0 and math.isfinite(denom):
                    r["grad_cosine"] = float(np.dot(flat_g, self._prev_g) / denom)
            self._prev_g = flat_g
        if weights is not None:
            for name, w in zip(names, weights):
                if not np.all(np.isfinite(w)):
                    r.setdefault("nonfinite", f"the weights {name}")
            flat_w = _flat(weights)
            w_norm = r["weight_norm"] = _norm(flat_w)
            r["param_norms"] = [_norm(w) for w in weights]
            if self._prev_w is not None and flat_w.shape == self._prev_w.shape and self._prev_step is not None:
                gap = max(1, step - self._prev_step)
                with np.errstate(over="ignore", invalid="ignore"):
                    delta = flat_w - self._prev_w
                r["update_norm"] = _norm(delta) / gap
                r["update_ratio"] = r["update_norm"] / w_norm if w_norm > 0 else None
                if r.get("grad_norm"):
                    r["update_per_grad"] = r["update_norm"] / r["grad_norm"]
                sizes = np.cumsum([0] + [np.size(w) for w in weights])
                r["param_update"] = [_norm(delta[a:b]) for a, b in zip(sizes[:-1], sizes[1:])]
                if (gap == 1 and flat_g is not None and self._prev_delta is not None
                        and flat_g.shape == delta.shape == self._prev_delta.shape):
                    r["momentum_fit"] = fit_momentum(delta, self._prev_delta, flat_g)
                self._prev_delta = delta if gap == 1 else None
            self._prev_w = flat_w

    def _log_outputs(self, r, logits, labels):
        if logits.ndim != 2 or len(logits) == 0:
            return
        if not np.all(np.isfinite(logits)):
            r.setdefault("nonfinite", "the network's output")
            return
        n, c = logits.shape
        if c >= 2:
            self.num_classes = c
            pred = logits.argmax(axis=1)
            counts = np.bincount(pred, minlength=c)
            r["top_pred"], r["top_pred_share"] = int(counts.argmax()), float(counts.max() / n)
        if labels is None:
            return
        y = rules.class_labels(labels)
        if y is None or len(y) != n:
            return
        r["top_label_share"] = float(np.bincount(y - y.min()).max() / n)
        if c >= 2 and y.min() >= 0 and y.max() < c:
            with np.errstate(under="ignore"):
                r["mean_ce"] = float(-np.mean(log_softmax(logits.astype(np.float64))[np.arange(n), y]))
            r["batch"] = n

    # ------------------------------------------------------------------ verdict
    def report(self, *, num_classes: int | None = None, lr: float | None = None) -> Report:
        """Run every training rule over the trace."""
        t = self.trace
        c = num_classes or self.num_classes
        found = list(self.findings)
        found += rules.nonfinite(t)
        found += rules.loss_summed(t)
        found += rules.gradient_not_reset(t)
        found += rules.momentum(t)
        found += rules.learning_rate(t, lr)
        found += rules.weights_frozen(t)
        found += rules.exploding_gradient(t)
        found += rules.vanishing_gradient(t)
        found += rules.saturation(t)
        found += rules.dead_relu(t)
        found += rules.single_class(t)
        found += rules.stalled(t, c)
        first = next((r["loss"] for r in t if r.get("loss") is not None), None)
        if first is not None and c:
            found += rules.initial_loss(first, c, rules.suffering(t))
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

    def on_train_begin(self, logs):
        self.recorder = Recorder([name for name, _ in self.model.named_params()])
        self.epochs = []
        self.static = list(check_init(self.model).findings)
        self.static += _model_loss_findings(self.model, self.model.loss)
        self._act_layers = [(i, layer) for i, layer in enumerate(self.model.layers)
                            if layer.activation is not None]         # relu, sigmoid, tanh

    def on_batch_end(self, batch, logs):
        step = logs["step"]
        if step != 1 and step % self.every not in (0, 1):
            return
        if step == 1 and self.check_inputs and logs.get("input") is not None:
            x, name = logs["input"], "X (the first training batch)"
            self.static += rules.nonfinite_input(x, name) or rules.input_scale(x, name)
        # two consecutive steps per check: the update and the gradient cosine need a pair
        acts = [layer.activity() for _, layer in self._act_layers]   # on-masks, or outputs
        kinds = [layer.activation for _, layer in self._act_layers]
        self.recorder.log(step, loss=logs["loss"], weights=self.model.params, grads=self.model.grads,
                          activations=acts, activation_kinds=kinds, logits=logs.get("output"),
                          labels=logs.get("target"))
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
        # judge the update/gradient trends on the check-to-check pairs only
        report = self.recorder.report(num_classes=c, lr=lr)
        return Report([*self.static, *report.findings, *rules.overfitting(self.epochs)])


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
