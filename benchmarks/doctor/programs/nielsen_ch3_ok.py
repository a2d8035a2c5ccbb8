"""Correct program: the chapter-3 network, 784-100-10 sigmoid with the cross-entropy cost,
weights from randn / sqrt(n_in), L2 regularisation (lambda = 1.0 over the training set size),
matrix-form mini-batches of 20 (W @ X with X of shape (784, m)), eta = 0.5, three epochs.
It reaches ~90% on held-out digits; nothing is wrong."""
import numpy as np

from ._data import mnist

STYLE = "nielsen"
EXPECTED = []


def fixed(doctor):
    Xtr, ytr, Xte, yte = mnist(2000, 500, seed=31)
    X = Xtr.T.astype(np.float64) / 255; Xt = Xte.T.astype(np.float64) / 255
    Y = np.eye(10)[:, ytr]
    reports = [doctor.check_data(X.T, ytr, Xt.T, yte)]
    rng = np.random.default_rng(31)
    sizes = [784, 100, 10]
    ws = [rng.standard_normal((o, i)) / np.sqrt(i) for i, o in zip(sizes[:-1], sizes[1:])]
    bs = [rng.standard_normal((o, 1)) for o in sizes[1:]]
    n, lmbda, eta, m = X.shape[1], 1.0, 0.5, 20
    rec = doctor.Recorder(["w1", "w2", "b1", "b2"])
    costs, step = [], 0
    for epoch in range(3):
        order = rng.permutation(n)
        for k in range(0, n, m):
            c = order[k:k + m]
            x, y = X[:, c], Y[:, c]
            a = [x]
            for w, b in zip(ws, bs):
                a.append(1 / (1 + np.exp(-(w @ a[-1] + b))))
            costs.append(-np.sum(np.nan_to_num(y * np.log(a[-1]) + (1 - y) * np.log(1 - a[-1]))) / m
                         + 0.5 * lmbda / n * sum(np.sum(w ** 2) for w in ws))
            delta = a[-1] - y
            gw, gb = [None, None], [None, None]
            for l in (1, 0):
                gw[l] = delta @ a[l].T / m + lmbda / n * ws[l]
                gb[l] = delta.mean(axis=1, keepdims=True)
                if l:
                    delta = (ws[l].T @ delta) * a[l] * (1 - a[l])
            ws = [w - eta * g for w, g in zip(ws, gw)]
            bs = [b - eta * g for b, g in zip(bs, gb)]
            if step % 3 == 0:
                rec.log(step, loss=costs[-1], weights=ws + bs, grads=gw + gb, activations=[a[1]],
                        logits=a[-1], labels=y)
            step += 1
    reports.append(rec.report())
    a = Xt
    for w, b in zip(ws, bs):
        a = 1 / (1 + np.exp(-(w @ a + b)))
    return reports, {"loss_start": costs[0], "loss_end": float(np.mean(costs[-10:])),
                     "accuracy": float(np.mean(a.argmax(0) == yte)), "chance": 0.1}
