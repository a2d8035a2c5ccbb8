"""A 784-128-64-10 ReLU/softmax MNIST classifier, vectorised, whose weights come from
np.random.rand (uniform on [0, 1)) "because weights should be between 0 and 1", biases zero.
Every hidden unit sums hundreds of positive input-times-weight terms, all units of a layer
compute nearly the same thing, the logits are in the tens of thousands and the loss is
enormous; the stable softmax keeps it finite but the network predicts one class."""
import numpy as np

from ._data import mnist

STYLE = "rowmajor"
EXPECTED = ["INIT_ALL_POSITIVE", "INIT_TOO_LARGE"]


SIZES = [784, 128, 64, 10]


def _data():
    Xtr, ytr, Xte, yte = mnist(1500, 500, seed=7)
    return Xtr / 255.0, ytr, Xte / 255.0, yte


def _init(rng, bug):
    sizes = SIZES
    if bug:
        Ws = [rng.random((a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    else:
        Ws = [rng.normal(0, np.sqrt(2 / a), (a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    return {"Ws": Ws, "Bs": [np.zeros(b) for b in sizes[1:]]}


def forward_backward(p, xb, yb):
    """One batch's loss, gradients ({"Ws": [...], "Bs": [...]}), activations and logits."""
    Ws, Bs, n = p["Ws"], p["Bs"], len(xb)
    acts = [xb]
    for W, b in zip(Ws[:-1], Bs[:-1]):
        acts.append(np.maximum(0, acts[-1].dot(W) + b))
    logits = acts[-1].dot(Ws[-1]) + Bs[-1]
    shifted = logits - logits.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -logp[np.arange(n), yb].mean()
    delta = np.exp(logp); delta[np.arange(n), yb] -= 1; delta /= n
    gW, gB = [None] * 3, [None] * 3
    for k in (2, 1, 0):
        gW[k] = acts[k].T.dot(delta); gB[k] = delta.sum(0)
        if k:
            delta = delta.dot(Ws[k].T) * (acts[k] > 0)
    return loss, {"Ws": gW, "Bs": gB}, acts, logits


def step(p, X, y, lr):
    """The loop's update on one batch (in place); returns the loss (examine's step function)."""
    loss, g, _, _ = forward_backward(p, X, y)
    for k in range(3):
        p["Ws"][k] -= lr * g["Ws"][k]; p["Bs"][k] -= lr * g["Bs"][k]
    return loss


def examine_case(bug):
    """The program as doctor.examine's arguments: its step function, init and data."""
    Xtr, ytr, _, _ = _data()
    return {"step": step, "params": _init(np.random.default_rng(7), bug), "X": Xtr, "y": ytr,
            "lr": 0.05, "batch_size": 64, "grad": lambda p, X, y: forward_backward(p, X, y)[1],
            "train_steps": 150}


def _run(doctor, bug):
    Xtr, ytr, Xte, yte = _data()
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    rng = np.random.default_rng(7)
    p = _init(rng, bug)
    Ws, Bs = p["Ws"], p["Bs"]
    lr = 0.05
    rec = doctor.Recorder(["W1", "b1", "W2", "b2", "W3", "b3"])
    curve = []
    for it in range(150):
        sel = rng.integers(0, len(Xtr), 64)
        xb, yb = Xtr[sel], ytr[sel]
        loss, g, acts, logits = forward_backward(p, xb, yb)
        gW, gB = g["Ws"], g["Bs"]
        curve.append(loss)
        for k in range(3):
            Ws[k] -= lr * gW[k]; Bs[k] -= lr * gB[k]
        rec.log(it, loss=loss, weights=[Ws[0], Bs[0], Ws[1], Bs[1], Ws[2], Bs[2]],
                grads=[gW[0], gB[0], gW[1], gB[1], gW[2], gB[2]], activations=acts[1:],
                logits=logits, labels=yb)
    reports.append(rec.report())
    a = Xte
    for W, b in zip(Ws[:-1], Bs[:-1]):
        a = np.maximum(0, a @ W + b)
    acc = np.mean((a @ Ws[-1] + Bs[-1]).argmax(1) == yte)
    return reports, {"loss_start": curve[0], "loss_end": float(np.mean(curve[-10:])),
                     "accuracy": float(acc), "chance": 0.1}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
