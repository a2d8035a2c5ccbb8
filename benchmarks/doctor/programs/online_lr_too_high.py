"""Plain online SGD on MNIST: one image per step, a 784-64-10 ReLU/softmax net stored as
W1 (784, 64) and W2 (64, 10), pixels scaled to 0..1. Impatient with the slow start, the
learner sets lr = 0.5. For single-sample updates that is far too large: within a few hundred
steps a handful of huge updates kill most ReLUs and the net answers one class."""
import numpy as np

from ._data import mnist

STYLE = "online"
EXPECTED = ["LR_TOO_HIGH"]


def _run(doctor, lr):
    Xtr, ytr, Xte, yte = mnist(2000, 500, seed=40)
    Xtr, Xte = Xtr / 255.0, Xte / 255.0
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    rng = np.random.default_rng(40)
    W1 = rng.normal(0, np.sqrt(2 / 784), (784, 64)); b1 = np.zeros(64)
    W2 = rng.normal(0, np.sqrt(1 / 64), (64, 10)); b2 = np.zeros(10)
    rec = doctor.Recorder(["W1", "b1", "W2", "b2"])
    losses = []
    for i, n in enumerate(rng.permutation(2000)):
        x, label = Xtr[n], ytr[n]
        z = x @ W1 + b1
        h = np.maximum(z, 0)
        s = h @ W2 + b2
        p = np.exp(s - s.max()); p /= p.sum()
        losses.append(-np.log(p[label] + 1e-12))
        ds = p.copy(); ds[label] -= 1
        gW2 = np.outer(h, ds); gb2 = ds
        dh = (W2 @ ds) * (z > 0)
        gW1 = np.outer(x, dh); gb1 = dh
        W1 -= lr * gW1; b1 -= lr * gb1; W2 -= lr * gW2; b2 -= lr * gb2
        if i % 10 == 0:
            rec.log(i, loss=losses[-1], weights=[W1, b1, W2, b2], grads=[gW1, gb1, gW2, gb2],
                    activations=[h], logits=s, labels=label)
    reports.append(rec.report())
    acc = np.mean((np.maximum(Xte @ W1 + b1, 0) @ W2 + b2).argmax(1) == yte)
    return reports, {"loss_start": float(np.mean(losses[:50])), "loss_end": float(np.mean(losses[-200:])),
                     "accuracy": float(acc), "chance": 0.1}


def buggy(doctor):
    return _run(doctor, 0.5)


def fixed(doctor):
    return _run(doctor, 0.01)
