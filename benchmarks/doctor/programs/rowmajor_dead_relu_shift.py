"""A 784-64-10 ReLU/softmax MNIST net with pixels scaled to 0..1 (all inputs non-negative). The
learner initialises W1 as 0.1 * (rand - 0.6), "slightly negative so the activations start
small". With every input >= 0, each hidden pre-activation is a sum of ~150 ink pixels times
weights of mean -0.01: it is negative for every image, all 64 ReLUs are dead from the first step,
no gradient reaches W1, and only the output bias learns the class frequencies."""
import numpy as np

from ._data import mnist

STYLE = "rowmajor"
EXPECTED = ["DEAD_RELU"]


def _data():
    Xtr, ytr, Xte, yte = mnist(1500, 500, seed=11)
    return Xtr / 255.0, ytr, Xte / 255.0, yte


def _init(rng, bug):
    return {"W1": 0.1 * (rng.random((784, 64)) - (0.6 if bug else 0.5)), "b1": np.zeros(64),
            "W2": 0.1 * (rng.random((64, 10)) - 0.5), "b2": np.zeros(10)}


def forward_backward(p, X, y):
    """One batch's loss, gradients (a dict like p), hidden activations and logits."""
    n = len(X)
    Z1 = X @ p["W1"] + p["b1"]
    A1 = np.maximum(Z1, 0)
    Z2 = A1 @ p["W2"] + p["b2"]
    E = np.exp(Z2 - Z2.max(axis=1, keepdims=True))
    P = E / E.sum(axis=1, keepdims=True)
    loss = -np.log(P[range(n), y]).mean()
    dZ2 = P.copy(); dZ2[range(n), y] -= 1; dZ2 /= n
    dW2, db2 = A1.T @ dZ2, dZ2.sum(axis=0)
    dZ1 = (dZ2 @ p["W2"].T) * (Z1 > 0)
    dW1, db1 = X.T @ dZ1, dZ1.sum(axis=0)
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}, A1, Z2


def step(p, X, y, lr):
    """The loop's update on one batch (in place); returns the loss (examine's step function)."""
    loss, g, _, _ = forward_backward(p, X, y)
    for k in p:
        p[k] -= lr * g[k]
    return loss


def examine_case(bug):
    """The program as doctor.examine's arguments: its step function, init and data."""
    Xtr, ytr, _, _ = _data()
    return {"step": step, "params": _init(np.random.default_rng(11), bug), "X": Xtr, "y": ytr,
            "lr": 0.2, "batch_size": 64, "grad": lambda p, X, y: forward_backward(p, X, y)[1],
            "train_steps": 200,
            "predict": lambda p, X: np.maximum(X @ p["W1"] + p["b1"], 0) @ p["W2"] + p["b2"]}


def _run(doctor, bug):
    Xtr, ytr, Xte, yte = _data()
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    rng = np.random.default_rng(11)
    p = _init(rng, bug)
    names = ["W1", "b1", "W2", "b2"]
    rec = doctor.Recorder(names)
    losses = []
    for it in range(200):
        j = rng.integers(0, len(Xtr), 64)
        X, y = Xtr[j], ytr[j]
        loss, g, A1, Z2 = forward_backward(p, X, y)
        losses.append(loss)
        for k in names:
            p[k] -= 0.2 * g[k]
        if it % 2 == 0:
            rec.log(it, loss=losses[-1], weights=[p[k] for k in names], grads=[g[k] for k in names],
                    activations=[A1], logits=Z2, labels=y)
    reports.append(rec.report())
    acc = np.mean((np.maximum(Xte @ p["W1"] + p["b1"], 0) @ p["W2"] + p["b2"]).argmax(1) == yte)
    return reports, {"loss_start": losses[0], "loss_end": float(np.mean(losses[-10:])),
                     "accuracy": float(acc), "chance": 0.1}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
