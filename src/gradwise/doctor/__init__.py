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
    print(doctor.diagnose_text(model, ids, context=64, batch_size=12))   # a language model
    print(doctor.check_attention(probs))                         # your own attention weights
    print(doctor.lr_sweep(model, X, y, optimizer=...))          # the learning rate, measured
    print(doctor.examine(step, params, X, y, lr=...))            # experiments on your own step()
    print(doctor.diagnose(model, X, y, ..., verify=True))        # each mechanical fix tried

Every finding has a stable ``code`` (INPUT_SCALE, LR_TOO_HIGH, ...), a ``severity``, a
``message``, the ``evidence`` (numbers) and a concrete ``fix``.
"""

from __future__ import annotations

import copy
import dataclasses

import numpy as np

from ..losses import MSE, SoftmaxCrossEntropy, get_loss
from ..model import TrainingDiverged
from ..optim import Adam
from . import experiments, rules
from .checks import check_data, check_gradients, check_init
from .findings import PRIORITY, Finding, Report
from .experiments import LRSweep, examine, lr_sweep
from .recorder import Monitor, Recorder
from .sequence import check_attention, check_causal, check_initial_loss


def _where_nonfinite(model, X: np.ndarray) -> str:
    """Where NaN/inf first shows after a divergence: the first layer whose weights hold it,
    else the first layer whose output does when a batch of ``X`` is run through, layer by
    layer (the layers' public forward, not what they kept from the step that diverged)."""
    for i, layer in enumerate(model.layers):
        for name, p in layer.params.items():
            if not np.all(np.isfinite(p)):
                return f"layer {i} ({type(layer).__name__}) {name}"
    x = X
    if x.dtype.kind == "f" and not np.all(np.isfinite(x)):
        return "the input"
    with np.errstate(all="ignore"):
        for i, layer in enumerate(model.layers[:-1]):
            x = layer.forward(x, training=False)
            if not np.all(np.isfinite(x)):
                return f"the output of layer {i} ({type(layer).__name__})"
    return "the network's output"


def diagnose(model, X, y, *, loss=None, optimizer=None, epochs: int = 2, batch_size: int = 64,
             X_test=None, y_test=None, seed: int = 0, shuffle: bool = True,
             max_samples: int | None = 10000, verify: bool = False) -> Report:
    """Everything at once: data and init checks, then a short watched training run on a copy
    of the model (yours is not changed). Returns one Report, most important first.

    verify: run the experiments too (experiments.py): the learning rate swept (LR_TOO_HIGH /
    LR_TOO_LOW then come from the sweep), and each finding with a mechanical fix tried on a
    copy, the same short run repeated: the outcome on ``finding.verified``, the findings
    whose fix helped first, and ``report.experiments`` says what the trials used."""
    X, y = np.asarray(X), np.asarray(y)
    if max_samples and len(X) > max_samples:
        pick = np.random.default_rng(seed).choice(len(X), max_samples, replace=False)
        X, y = X[np.sort(pick)], y[np.sort(pick)]       # keep the order the user has
    out_b = model.layers[-1].params.get("b")
    c = len(out_b) if out_b is not None and len(out_b) > 1 else None
    loss = get_loss(loss if loss is not None else (model.loss or "SoftmaxCrossEntropy"))
    one_hot_rows = y.ndim == 2 and y.shape[1] > 1 and np.all((y == 0) | (y == 1))
    classification = not isinstance(loss, MSE) or bool(one_hot_rows)
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
                                       "nonfinite": _where_nonfinite(work, X[:batch_size])})
        watched = mon.report().findings
        if any(f.code == "CLASS_ORDERED" and f.severity != "info" for f in found):
            # a loss that jumps at every switch of class is the order's doing, not the lr's:
            # the order is the root cause (an error when the run suffers), the jumps its symptom
            watched = [f for f in watched if not (
                f.code == "LR_TOO_HIGH" and f.evidence.get("weight_norm_growth", 1) <= rules.WEIGHT_GROWTH_HIGH)]
            if any(f.severity == "error" for f in watched):
                found = [dataclasses.replace(f, severity="error") if f.code == "CLASS_ORDERED" else f
                         for f in found]
        found += watched
    else:
        found += check_init(work).findings
    if not verify or data_errors:
        return Report(found)
    return experiments.sweep_and_verify(found, model, X, y, loss=loss, optimizer=optimizer,
                                        batch_size=batch_size, epochs=epochs, seed=seed, shuffle=shuffle,
                                        X_test=X_test, y_test=y_test)[1]


# ----------------------------------------------------------------------------- diagnose a text model

#: Steps of ``diagnose_text``'s watched run (gradwise doctor on a text model): the loss leaves
#: ln(V), spikes show against a running median, and gpt-mini takes under a minute on 2 cores.
TEXT_STEPS = 150
#: Steps between the Monitor's checks in that run (each a pair of steps): 15 checks in 150.
TEXT_EVERY = 10


def diagnose_text(model, ids, *, context: int, batch_size: int, optimizer=None,
                  steps: int = TEXT_STEPS, every: int = TEXT_EVERY, seed: int = 0) -> Report:
    """The doctor on a language model, on a copy of it (``model`` is not changed):

    1. INITIAL_LOSS: the untrained model's loss on a batch of windows against ln(V);
    2. CAUSAL_LEAK: does a position's output move when a later token changes (by experiment);
    3. a watched run of ``steps`` optimiser steps on random windows of ``ids`` (nanoGPT's
       get_batch), with ``doctor.Monitor``: EXPLODING_GRADIENT through time,
       ATTENTION_COLLAPSED, and the generic rules that apply to token predictions.

    Args:
        model: a gradwise model, (B, T) integer ids -> (B, T, V) logits.
        ids: the training text as token ids (1-D integers), e.g. ``gw.data.load_text(p).train``.
        context, batch_size: the window length T and the windows per step.
        optimizer: what training uses (its clipping and schedule too); default Adam(1e-3).
        steps, every: the watched run's length and the Monitor's spacing of checks.
        seed: seeds the windows.
    """
    from ..textmodels import Windows
    ids = np.asarray(ids)
    if ids.ndim != 1 or ids.dtype.kind not in "iu" or len(ids) <= context + 1:
        raise ValueError(f"diagnose_text: ids must be a 1-D array of token ids longer than the context "
                         f"({context} + 1); got shape {ids.shape}, dtype {ids.dtype}")
    work = copy.deepcopy(model)
    optimizer = copy.deepcopy(optimizer) if optimizer is not None else Adam(1e-3)
    probe = Windows(ids, context, batch_size, 1, np.random.default_rng(seed))
    _, X, y = next(probe.epoch())
    found = list(check_initial_loss(work, X, y).findings)
    found += check_causal(work, X[:2]).findings
    mon = Monitor(every=every)
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            work.fit(None, None, epochs=1, loss=SoftmaxCrossEntropy(), optimizer=optimizer,
                     callbacks=[mon], seed=seed, verbose=0,
                     batches=lambda rng: Windows(ids, context, batch_size, steps, rng))
    except TrainingDiverged:
        step = mon.recorder.trace[-1]["step"] + 1 if mon.recorder.trace else 1
        mon.recorder.trace.append({"step": step, "loss": float("nan"), "nonfinite": "the network's output"})
    watched = mon.report().findings
    if any(f.code == "INITIAL_LOSS" for f in found):          # said once, against ln(V)
        watched = [f for f in watched if f.code != "INITIAL_LOSS"]
    return Report([*found, *watched])


__all__ = ["Finding", "Report", "PRIORITY", "check_data", "check_init", "check_gradients",
           "Recorder", "Monitor", "diagnose", "rules", "check_causal", "check_initial_loss",
           "check_attention", "diagnose_text", "TEXT_STEPS",
           "lr_sweep", "examine", "LRSweep", "experiments"]
