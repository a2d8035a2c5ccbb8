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


def _run(doctor, bug):
    Xtr, ytr, Xte, yte = mnist(1200, 400, seed=2)
    X_train = Xtr.astype(np.float32) / 255       # float32 "to save memory"
    X_test = Xte.astype(np.float32) / 255
    reports = [doctor.check_data(X_train, ytr, X_test, yte)]
    rng = np.random.default_rng(2)
    n_in, n_h, n_out = 784, 100, 10
    if bug:
        W1 = rng.standard_normal((n_in, n_h), dtype=np.float32)
        W2 = rng.standard_normal((n_h, n_out), dtype=np.float32)
        softmax = softmax_naive
    else:
        W1 = rng.standard_normal((n_in, n_h), dtype=np.float32) * np.float32(np.sqrt(2 / n_in))
        W2 = rng.standard_normal((n_h, n_out), dtype=np.float32) * np.float32(np.sqrt(1 / n_h))
        softmax = softmax_stable
    b1, b2 = np.zeros(n_h, np.float32), np.zeros(n_out, np.float32)
    Y = np.eye(n_out, dtype=np.float32)[ytr]
    rec = doctor.Recorder(["W1", "b1", "W2", "b2"])
    hist = []
    for epoch in range(4):
        order = rng.permutation(len(X_train))
        for i in range(0, len(order), 50):
            j = order[i:i + 50]
            x, t = X_train[j], Y[j]
            z1 = x @ W1 + b1
            a1 = np.maximum(z1, 0)
            z2 = a1 @ W2 + b2
            p = softmax(z2)
            loss = -np.sum(t * np.log(p + 1e-12)) / len(j)
            hist.append(loss)
            d2 = (p - t) / len(j)
            gW2, gb2 = a1.T @ d2, d2.sum(0)
            d1 = (d2 @ W2.T) * (z1 > 0)
            gW1, gb1 = x.T @ d1, d1.sum(0)
            W1 -= 0.2 * gW1; b1 -= 0.2 * gb1; W2 -= 0.2 * gW2; b2 -= 0.2 * gb2
            rec.log(len(hist) - 1, loss=loss, weights=[W1, b1, W2, b2],
                    grads=[gW1, gb1, gW2, gb2], activations=[a1], logits=z2, labels=ytr[j])
    reports.append(rec.report())
    acc = np.mean(softmax(np.maximum(X_test @ W1 + b1, 0) @ W2 + b2).argmax(1) == yte)
    return reports, {"loss_start": hist[0], "loss_end": float(np.mean(hist[-5:])),
                     "accuracy": float(acc), "chance": 0.1}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
