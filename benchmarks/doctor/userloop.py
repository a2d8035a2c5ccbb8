"""A beginner's NumPy training loop, written out in full, with the classic bugs switchable.

The doctor's benchmark runs it with and without each bug and asks the doctor (through a
Recorder, or check_gradients) what is wrong. Nothing here uses gradwise's engine.
"""

from __future__ import annotations

import numpy as np


def relu(z):
    return np.maximum(z, 0)


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def init(rng, sizes=(784, 64, 10)):
    n_in, n_h, n_out = sizes
    return {"W1": rng.standard_normal((n_in, n_h)) * np.sqrt(2 / n_in), "b1": np.zeros(n_h),
            "W2": rng.standard_normal((n_h, n_out)) * np.sqrt(2 / n_h), "b2": np.zeros(n_out)}


def forward_backward(p, xb, yb, bug=None):
    """Loss and gradients of a 2-layer ReLU MLP with softmax cross-entropy."""
    n = len(xb)
    Z1 = xb @ p["W1"] + p["b1"]                        # (N, H)
    A1 = relu(Z1)
    Z2 = A1 @ p["W2"] + p["b2"]                        # (N, C)
    P = softmax(Z2)
    Y = np.eye(Z2.shape[1])[yb]
    ce = -np.log(P[np.arange(n), yb] + 1e-12)
    loss = ce.sum() if bug == "loss_summed" else ce.mean()
    dZ2 = (P - Y) if bug == "loss_summed" else (P - Y) / n
    dW2 = A1.T @ dZ2                                   # (H, C)
    db2 = dZ2.sum(axis=0)
    dZ1 = (dZ2 @ p["W2"].T) * (Z1 > 0)                 # (N, H)
    dW1 = xb.T @ dZ1                                   # (D, H)
    db1 = dZ1.sum(axis=0)
    if bug == "transposed_dW":
        dW2 = dZ2.T @ A1                               # (C, H): transposed
    if bug == "bias_wrong_axis":
        db1 = dZ1.sum(axis=1)                          # (N,): over the units, not the batch
    grads = {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
    return loss, grads, A1, Z2


def train(X, y, rec, *, bug=None, lr=0.1, steps=150, batch=64, seed=0, mu=0.9, hidden=64):
    """Mini-batch SGD (with momentum when bug == "momentum_no_decay": v = v + g)."""
    rng = np.random.default_rng(seed)
    p = init(rng, (X.shape[1], hidden, int(y.max()) + 1))
    acc = {k: np.zeros_like(v) for k, v in p.items()}
    vel = {k: np.zeros_like(v) for k, v in p.items()}
    for step in range(steps):
        idx = rng.integers(0, len(X), batch)
        with np.errstate(all="ignore"):
            loss, g, A1, Z2 = forward_backward(p, X[idx], y[idx], bug)
        if bug == "grad_not_reset":
            for k in g:
                acc[k] += g[k]                         # summed over steps, never zeroed
            g = acc
        with np.errstate(all="ignore"):
            for k in p:
                step_g = g[k]
                if bug == "transposed_dW" and g[k].shape != p[k].shape:
                    step_g = g[k].reshape(p[k].shape)  # "made it fit": the entries scrambled
                elif g[k].shape[::-1] == p[k].shape and g[k].shape != p[k].shape:
                    step_g = g[k].T
                if step_g.shape != p[k].shape:
                    step_g = np.resize(step_g, p[k].shape)   # what a broadcast would smear in
                if bug == "momentum_no_decay":
                    vel[k] = vel[k] + step_g           # no decay factor
                    step_g = vel[k]
                if bug == "frozen" and k == "W1":
                    new_W1 = p[k] - lr * step_g        # noqa: F841  (updates a copy, never stored)
                    continue
                p[k] -= lr * step_g
        rec.log(step, loss=loss, weights=list(p.values()), grads=list(g.values()),
                activations=[A1], logits=Z2, labels=y[idx])       # after the update
    return p
