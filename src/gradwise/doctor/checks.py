"""The doctor's checks before training: the data, the initialisation, your gradients.

Each takes plain arrays (or a model), runs the rules of ``rules.py`` and returns a Report.
``Monitor`` (recorder.py) runs ``check_init`` when training begins; ``diagnose`` runs them all.
"""

from __future__ import annotations

import numpy as np

from ..gradcheck import check_function, named_arrays
from . import rules
from .findings import Report


def check_data(X_train, y_train, X_test=None, y_test=None, *, num_classes: int | None = None,
               shuffled: bool = False, classification: bool = True) -> Report:
    """Data checks before training: NaN, scale, train/test mismatch, label range and shape,
    class order and balance.

    Args:
        num_classes: the model's number of outputs, if known (labels must be below it).
        shuffled: the training loop shuffles every epoch (then class order is harmless).
        classification: False for regression targets (then labels are not checked).
    """
    X_train, y_train = _data(X_train, "X_train"), _data(y_train, "y_train")
    X_test = None if X_test is None else _data(X_test, "X_test")
    y_test = None if y_test is None else _data(y_test, "y_test")
    if num_classes is not None and (isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer))
                                    or num_classes < 1):
        raise ValueError(f"check_data: num_classes must be a whole number >= 1 (the model's outputs) "
                         f"or None; got {num_classes!r}")
    with np.errstate(all="ignore"):              # under np.seterr(all="raise") too
        return Report(_data_findings(X_train, y_train, X_test, y_test, num_classes, shuffled,
                                     classification))


def _data(a, name: str) -> np.ndarray:
    """``a`` as an array of numbers with one entry (row) per sample, or a ValueError /
    TypeError that names the argument and says what it got."""
    try:
        arr = np.asarray(a)
    except (ValueError, TypeError) as e:          # ragged lists
        raise ValueError(f"check_data: {name} cannot be read as an array ({e}); pass a NumPy array "
                         f"with one row per sample") from None
    if arr.dtype == bool:
        arr = arr.astype(np.uint8)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"check_data: {name} holds {arr.dtype} values, not numbers (got "
                        f"{type(a).__name__}); convert it first, e.g. np.asarray({name}, dtype=float)")
    if arr.ndim == 0:
        raise ValueError(f"check_data: {name} is a single number ({arr.item()!r}), not samples; pass "
                         f"an array with one row (or label) per sample")
    if len(arr) == 0:
        raise ValueError(f"check_data: {name} is empty (shape {arr.shape}): there are no samples to check")
    return arr


def _data_findings(X_train, y_train, X_test, y_test, num_classes, shuffled, classification) -> list:
    found = rules.nonfinite_input(X_train, "X_train")
    if X_test is not None:
        found += rules.nonfinite_input(X_test, "X_test")
    if not found:
        found += rules.input_wrapped(X_train, "X_train")
        found += rules.input_scale(X_train, "X_train")
        if X_test is not None:
            found += rules.train_test_shift(X_train, X_test)
    if not classification:
        return found
    found += rules.label_shape(y_train, len(X_train), "y_train")
    found += rules.label_range(y_train, num_classes, "y_train")
    if y_test is not None:
        found += rules.label_shape(y_test, None if X_test is None else len(X_test), "y_test")
        found += rules.label_range(y_test, num_classes, "y_test")
    found += rules.class_ordered(y_train, shuffled_by_fit=shuffled)
    found += rules.class_imbalance(y_train)
    return found


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
        if isinstance(model_or_weights, np.ndarray):
            model_or_weights = [model_or_weights]
        if isinstance(model_or_weights, dict):
            items = model_or_weights.items()
        elif isinstance(model_or_weights, (list, tuple)):
            items = ((f"weights[{i}]", w) for i, w in enumerate(model_or_weights))
        else:
            raise TypeError(f"check_init: model_or_weights must be a gradwise model, or a list or dict "
                            f"of weight arrays; got {type(model_or_weights).__name__}")
        with np.errstate(all="ignore"):
            for name, W in items:
                W = _weight_matrix(W)
                if W is not None:
                    found += rules.init_weights(W, str(name))
    return Report(found)


def _weight_matrix(w) -> np.ndarray | None:
    """A 2-D array of real numbers (a weight matrix) from ``w``, else None (a bias, a
    scalar, something that is no array of numbers: nothing to check)."""
    try:
        a = np.asarray(w)
    except (ValueError, TypeError):
        return None
    if a.ndim != 2 or a.size == 0 or a.dtype.kind not in "iuf":
        return None
    return a.astype(np.float64, copy=False)


def check_gradients(f, params, grads, *, eps: float = 1e-6, tol: float = 1e-6,
                    max_coords: int = 200) -> Report:
    """Check your own gradients against central differences, one coordinate at a time.

    ``f(params) -> loss`` must compute the loss from the arrays it is given. float32
    parameters are checked on float64 copies (finite differences need the precision).
    Reports GRADIENT_SHAPE (a gradient of the wrong shape) and GRADIENT_MISMATCH (which
    parameter, which entries, how far off).
    """
    names = [name for name, _ in named_arrays(params, "param")]
    copies = [np.array(p, dtype=np.float64) for _, p in named_arrays(params, "param")]  # f gets these
    grad_arrays = [g for _, g in named_arrays(grads, "grad")]
    if isinstance(params, dict):                      # f reads params by name: keep the names
        copies, grad_arrays = dict(zip(names, copies)), dict(zip(names, grad_arrays))
    report = check_function(f, copies, grad_arrays, eps=eps, tol=tol, max_coords=max_coords,
                            skip_kinks=True)                # a ReLU's kink is no wrong gradient
    found = []
    for pc in report.params:
        if pc.problem:
            found.append(rules.finding("GRADIENT_SHAPE", "error", f"the gradient of {pc.name}: {pc.problem}",
                                  {"param_shape": list(pc.shape)},
                                  "dW = X.T @ dZ has the shape of W; db = dZ.sum(axis=0)", pc.name))
        elif not pc.ok(tol):
            numeric_zero = all(n == 0 for _, _, n in pc.worst)
            found.append(rules.finding(
                "GRADIENT_MISMATCH", "error",
                f"the gradient of {pc.name} disagrees with finite differences (relative error "
                f"{pc.rel_error:.2g})." + (" The loss does not change when it moves: does f use "
                                           "the params it is given?" if numeric_zero else ""),
                {"rel_error": pc.rel_error, "checked": pc.checked,
                 "worst": [{"index": list(i), "analytic": a, "numeric": n} for i, a, n in pc.worst[:3]]},
                "compare the shapes and axes of each backward line with the forward one (dW = "
                "X.T @ dZ, db = dZ.sum(axis=0), dX = dZ @ W.T) and check for a missing 1/N", pc.name))
    return Report(found)
