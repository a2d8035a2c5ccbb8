"""A 784-100-10 ReLU network on MNIST in the CS231n layout, initialised with plain np.random.randn
(no scaling, as in many blog posts) and a softmax written straight from the formula, np.exp(z) /
np.exp(z).sum(), without subtracting the row maximum, all in float32. The randn init gives
logits near a hundred, exp overflows float32 (above 88) to inf, inf/inf is NaN, and the loss is
NaN from the first step. Subtracting the max per row (and a scaled init) makes it train."""
import numpy as np

from ._data import mnist

STYLE = "rowmajor"
EXPECTED = ["NONFINITE", "INIT_TOO_LARGE"]


def softmax_naive(z):
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def softmax_stable(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _data():
    Xtr, ytr, Xte, yte = mnist(1200, 400, seed=2)
    return Xtr.astype(np.float32) / 255, ytr, Xte.astype(np.float32) / 255, yte    # float32 "to save memory"


def _init(rng, bug, n_in=784, n_h=100, n_out=10):
    if bug:
        W1 = rng.standard_normal((n_in, n_h), dtype=np.float32)
        W2 = rng.standard_normal((n_h, n_out), dtype=np.float32)
    else:
        W1 = rng.standard_normal((n_in, n_h), dtype=np.float32) * np.float32(np.sqrt(2 / n_in))
        W2 = rng.standard_normal((n_h, n_out), dtype=np.float32) * np.float32(np.sqrt(1 / n_h))
    return {"W1": W1, "b1": np.zeros(n_h, np.float32), "W2": W2, "b2": np.zeros(n_out, np.float32)}


def forward_backward(p, x, t, softmax):
    """One batch (t one-hot): its loss, gradients (a dict like p), hidden activations, logits."""
    z1 = x @ p["W1"] + p["b1"]
    a1 = np.maximum(z1, 0)
    z2 = a1 @ p["W2"] + p["b2"]
    pr = softmax(z2)
    loss = -np.sum(t * np.log(pr + 1e-12)) / len(x)
    d2 = (pr - t) / len(x)
    d1 = (d2 @ p["W2"].T) * (z1 > 0)
    return loss, {"W1": x.T @ d1, "b1": d1.sum(0), "W2": a1.T @ d2, "b2": d2.sum(0)}, a1, z2


def step(p, x, t, lr, softmax):
    """The loop's update on one batch (in place); returns the loss before it."""
    loss, g, _, _ = forward_backward(p, x, t, softmax)
    for k in ("W1", "b1", "W2", "b2"):
        p[k] -= lr * g[k]
    return loss


def examine_case(bug):
    """The program as doctor.examine's arguments: integer labels in, one-hot inside."""
    X_train, ytr, _, _ = _data()
    softmax = softmax_naive if bug else softmax_stable
    eye = np.eye(10, dtype=np.float32)
    return {"step": lambda p, x, y, lr: step(p, x, eye[y], lr, softmax),
            "params": _init(np.random.default_rng(2), bug), "X": X_train, "y": ytr, "lr": 0.2,
            "batch_size": 50, "grad": lambda p, x, y: forward_backward(p, x, eye[y], softmax)[1],
            "train_steps": 96}


def _run(doctor, bug):
    X_train, ytr, X_test, yte = _data()
    reports = [doctor.check_data(X_train, ytr, X_test, yte)]
    rng = np.random.default_rng(2)
    p = _init(rng, bug)
    softmax = softmax_naive if bug else softmax_stable
    Y = np.eye(10, dtype=np.float32)[ytr]
    names = ["W1", "b1", "W2", "b2"]
    rec = doctor.Recorder(names)
    hist = []
    for epoch in range(4):
        order = rng.permutation(len(X_train))
        for i in range(0, len(order), 50):
            j = order[i:i + 50]
            loss, g, a1, z2 = forward_backward(p, X_train[j], Y[j], softmax)
            hist.append(loss)
            for k in names:
                p[k] -= 0.2 * g[k]
            rec.log(len(hist) - 1, loss=loss, weights=[p[k] for k in names],
                    grads=[g[k] for k in names], activations=[a1], logits=z2, labels=ytr[j])
    reports.append(rec.report())
    acc = np.mean(softmax(np.maximum(X_test @ p["W1"] + p["b1"], 0) @ p["W2"] + p["b2"]).argmax(1) == yte)
    return reports, {"loss_start": hist[0], "loss_end": float(np.mean(hist[-5:])),
                     "accuracy": float(acc), "chance": 0.1}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
