"""A 784-128-64-10 ReLU/softmax MNIST classifier, vectorised, whose weights come from
np.random.rand (uniform on [0, 1)) "because weights should be between 0 and 1", biases zero.
Every hidden unit sums hundreds of positive input-times-weight terms, all units of a layer
compute nearly the same thing, the logits are in the tens of thousands and the loss is
enormous; the stable softmax keeps it finite but the network predicts one class."""
import numpy as np

from ._data import mnist

STYLE = "rowmajor"
EXPECTED = ["INIT_ALL_POSITIVE", "INIT_TOO_LARGE"]


def _run(doctor, bug):
    Xtr, ytr, Xte, yte = mnist(1500, 500, seed=7)
    Xtr, Xte = Xtr / 255.0, Xte / 255.0
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    rng = np.random.default_rng(7)
    sizes = [784, 128, 64, 10]
    if bug:
        Ws = [rng.random((a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    else:
        Ws = [rng.normal(0, np.sqrt(2 / a), (a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    Bs = [np.zeros(b) for b in sizes[1:]]
    lr = 0.05
    rec = doctor.Recorder(["W1", "b1", "W2", "b2", "W3", "b3"])
    curve = []
    for step in range(150):
        sel = rng.integers(0, len(Xtr), 64)
        xb, yb = Xtr[sel], ytr[sel]
        acts = [xb]
        for W, b in zip(Ws[:-1], Bs[:-1]):
            acts.append(np.maximum(0, acts[-1].dot(W) + b))
        logits = acts[-1].dot(Ws[-1]) + Bs[-1]
        shifted = logits - logits.max(axis=1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -logp[np.arange(64), yb].mean()
        curve.append(loss)
        delta = np.exp(logp); delta[np.arange(64), yb] -= 1; delta /= 64
        gW, gB = [None] * 3, [None] * 3
        for k in (2, 1, 0):
            gW[k] = acts[k].T.dot(delta); gB[k] = delta.sum(0)
            if k:
                delta = delta.dot(Ws[k].T) * (acts[k] > 0)
        for k in range(3):
            Ws[k] -= lr * gW[k]; Bs[k] -= lr * gB[k]
        rec.log(step, loss=loss, weights=[Ws[0], Bs[0], Ws[1], Bs[1], Ws[2], Bs[2]],
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
