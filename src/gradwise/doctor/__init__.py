"""The doctor: says why a network does not learn, with the evidence and the fix.

    from gradwise import doctor
    print(doctor.check_data(X_train, y_train, X_test, y_test))   # before training
    print(doctor.check_init(model))                              # before training
    print(doctor.diagnose(model, X, y, loss=..., optimizer=...)) # checks + a short watched run
    mon = doctor.Monitor(); model.fit(..., callbacks=[mon]); print(mon.report())
    rec = doctor.Recorder()                                      # your own NumPy loop
    rec.log(step, loss=..., weights=[...], grads=[...], activations=[...], logits=..., labels=...)
    print(rec.report())
    print(doctor.check_gradients(f, params, grads))              # your own backward pass

Every finding has a stable ``code`` (INPUT_SCALE, LR_TOO_HIGH, ...), a ``severity``, a
``message``, the ``evidence`` (numbers) and a concrete ``fix``.
"""

from __future__ import annotations

import copy

import numpy as np

from . import rules
from .findings import PRIORITY, Finding, Report
from .recorder import Monitor, Recorder


def check_data(X_train, y_train, X_test=None, y_test=None, *, num_classes: int | None = None,
               shuffled: bool = False, classification: bool = True) -> Report:
    """Data checks before training: NaN, scale, train/test mismatch, label range and shape,
    class order and balance.

    Args:
        num_classes: the model's number of outputs, if known (labels must be below it).
        shuffled: the training loop shuffles every epoch (then class order is harmless).
        classification: False for regression targets (then labels are not checked).
    """
    found = rules.nonfinite_input(X_train, "X_train")
    if X_test is not None:
        found += rules.nonfinite_input(X_test, "X_test")
    if not found:
        found += rules.input_scale(X_train, "X_train")
        if X_test is not None:
            found += rules.train_test_shift(X_train, X_test)
    if not classification:
        return Report(found)
    found += rules.label_shape(y_train, len(X_train), "y_train")
    found += rules.label_range(y_train, num_classes, "y_train")
    if y_test is not None:
        found += rules.label_shape(y_test, None if X_test is None else len(X_test), "y_test")
        found += rules.label_range(y_test, num_classes, "y_test")
    found += rules.class_ordered(y_train, shuffled_by_fit=shuffled)
    found += rules.class_imbalance(y_train)
    return Report(found)


def check_init(model_or_weights) -> Report:
    """Initialisation checks: symmetric, all-positive, too large or too small weights.

    Takes a gradwise model, or a list (or dict) of your own weight arrays; 2-D arrays are
    treated as weight matrices, anything else (biases) is skipped.
    """
    found = []
    if hasattr(model_or_weights, "layers"):
        for i, layer in enumerate(model_or_weights.layers):
            W = layer.params.get("W")
            if W is not None and W.ndim == 2:
                found += rules.init_weights(W, f"layer {i} ({type(layer).__name__}) W", fan_in=W.shape[0])
    else:
        items = (model_or_weights.items() if isinstance(model_or_weights, dict)
                 else ((f"weights[{i}]", w) for i, w in enumerate(model_or_weights)))
        for name, W in items:
            found += rules.init_weights(np.asarray(W), str(name))
    return Report(found)


def check_gradients(f, params, grads, *, eps: float = 1e-6, tol: float = 1e-6,
                    max_coords: int = 200) -> Report:
    """Check your own gradients against central differences, one coordinate at a time.

    ``f(params) -> loss`` must compute the loss from the arrays it is given. float32
    parameters are checked on float64 copies (finite differences need the precision).
    Reports GRADIENT_SHAPE (a gradient of the wrong shape) and GRADIENT_MISMATCH (which
    parameter, which entries, how far off).
    """
    from ..gradcheck import _named, check_function
    names = [name for name, _ in _named(params, "param")]
    copies = [np.array(p, dtype=np.float64) for _, p in _named(params, "param")]  # f gets these
    grad_arrays = [g for _, g in _named(grads, "grad")]
    if isinstance(params, dict):                      # f reads params by name: keep the names
        copies, grad_arrays = dict(zip(names, copies)), dict(zip(names, grad_arrays))
    report = check_function(f, copies, grad_arrays, eps=eps, tol=tol, max_coords=max_coords)
    found = []
    for pc in report.params:
        if pc.problem:
            found.append(rules._f("GRADIENT_SHAPE", "error", f"the gradient of {pc.name}: {pc.problem}",
                                  {"param_shape": list(pc.shape)},
                                  "dW = X.T @ dZ has the shape of W; db = dZ.sum(axis=0)", pc.name))
        elif not pc.ok(tol):
            numeric_zero = all(n == 0 for _, _, n in pc.worst)
            found.append(rules._f(
                "GRADIENT_MISMATCH", "error",
                f"the gradient of {pc.name} disagrees with finite differences (relative error "
                f"{pc.rel_error:.2g})." + (" The loss does not change when it moves: does f use "
                                           "the params it is given?" if numeric_zero else ""),
                {"rel_error": pc.rel_error, "checked": pc.checked,
                 "worst": [{"index": list(i), "analytic": a, "numeric": n} for i, a, n in pc.worst[:3]]},
                "compare the shapes and axes of each backward line with the forward one (dW = "
                "X.T @ dZ, db = dZ.sum(axis=0), dX = dZ @ W.T) and check for a missing 1/N", pc.name))
    return Report(found)


def _where_nonfinite(model) -> str:
    """The first layer whose weights or input hold NaN/inf, after a divergence."""
    for i, layer in enumerate(model.layers):
        for name, p in layer.params.items():
            if not np.all(np.isfinite(p)):
                return f"layer {i} ({type(layer).__name__}) {name}"
        x = getattr(layer, "x", None)
        if x is not None and not np.all(np.isfinite(x)):
            return f"the output of layer {i - 1}" if i else "the input"
    return "the network's output"


def diagnose(model, X, y, *, loss=None, optimizer=None, epochs: int = 2, batch_size: int = 64,
             X_test=None, y_test=None, seed: int = 0, shuffle: bool = True,
             max_samples: int | None = 10000) -> Report:
    """Everything at once: data and init checks, then a short watched training run on a copy
    of the model (yours is not changed). Returns one Report, most important first."""
    from ..losses import get_loss
    from ..model import TrainingDiverged
    from ..optim import Adam
    X, y = np.asarray(X), np.asarray(y)
    if max_samples and len(X) > max_samples:
        pick = np.random.default_rng(seed).choice(len(X), max_samples, replace=False)
        X, y = X[np.sort(pick)], y[np.sort(pick)]       # keep the order the user has
    out_b = model.layers[-1].params.get("b")
    c = len(out_b) if out_b is not None and len(out_b) > 1 else None
    loss = get_loss(loss if loss is not None else (model.loss or "SoftmaxCrossEntropy"))
    one_hot_rows = y.ndim == 2 and y.shape[1] > 1 and np.all((y == 0) | (y == 1))
    classification = type(loss).__name__ != "MSE" or bool(one_hot_rows)
    found = list(check_data(X, y, X_test, y_test, num_classes=c, shuffled=shuffle,
                            classification=classification).findings)
    work = copy.deepcopy(model)
    optimizer = copy.deepcopy(optimizer) if optimizer is not None else Adam(1e-3)
    mon = Monitor(every=max(1, min(10, (len(X) // batch_size) // 8 or 1)), check_inputs=False)
    data_errors = any(f.severity == "error" and f.code in ("LABEL_RANGE", "LABEL_SHAPE",
                                                           "NONFINITE_INPUT") for f in found)
    if not data_errors:
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                work.fit(X, y, epochs=epochs, batch_size=batch_size, loss=loss, optimizer=optimizer,
                         callbacks=[mon], seed=seed, shuffle=shuffle, verbose=0,
                         validation_data=(X_test, y_test) if X_test is not None else None)
        except TrainingDiverged:
            step = mon.recorder.trace[-1]["step"] + 1 if mon.recorder.trace else 1
            mon.recorder.trace.append({"step": step, "loss": float("nan"),
                                       "nonfinite": _where_nonfinite(work)})
        watched = mon.report().findings
        if any(f.code == "CLASS_ORDERED" and f.severity != "info" for f in found):
            # a loss that jumps at every switch of class is the order's doing, not the lr's
            watched = [f for f in watched if not (
                f.code == "LR_TOO_HIGH" and f.evidence.get("weight_norm_growth", 1) <= rules.WEIGHT_GROWTH_HIGH)]
        found += watched
    else:
        found += check_init(work).findings
    return Report(found)


__all__ = ["Finding", "Report", "PRIORITY", "check_data", "check_init", "check_gradients",
           "Recorder", "Monitor", "diagnose", "rules"]
