"""Correct program: the chapter-3 network, 784-100-10 sigmoid with the cross-entropy cost,
weights from randn / sqrt(n_in), L2 regularisation (lambda = 1.0 over the training set size),
matrix-form mini-batches of 20 (W @ X with X of shape (784, m)), eta = 0.5, three epochs.
It reaches ~90% on held-out digits; nothing is wrong."""
import numpy as np

from ._data import mnist

STYLE = "nielsen"
EXPECTED = []


def _init(rng):
    sizes = [784, 100, 10]
    ws = [rng.standard_normal((o, i)) / np.sqrt(i) for i, o in zip(sizes[:-1], sizes[1:])]
    bs = [rng.standard_normal((o, 1)) for o in sizes[1:]]
    return ws, bs


def train_step(ws, bs, x, y, eta, lmbda, n):
    """The loop's forward, backward (cross-entropy, L2 over n training samples) and update on one
    batch of columns: (ws, bs, cost, gw, gb, activations), the new arrays as new lists."""
    m = x.shape[1]
    a = [x]
    for w, b in zip(ws, bs):
        a.append(1 / (1 + np.exp(-(w @ a[-1] + b))))
    cost = (-np.sum(np.nan_to_num(y * np.log(a[-1]) + (1 - y) * np.log(1 - a[-1]))) / m
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
    return ws, bs, cost, gw, gb, a


def examine_case(bug=False):
    """The program as doctor.examine's arguments: rows in, columns inside (the L2 term over the
    2000 training samples, as the loop has it); the step stores the new arrays in the params."""
    Xtr, ytr, _, _ = mnist(2000, 500, seed=31)
    ws, bs = _init(np.random.default_rng(31))

    def step(p, Xb, yb, lr):
        ws, bs, cost, *_ = train_step([p["w1"], p["w2"]], [p["b1"], p["b2"]], Xb.T, np.eye(10)[:, yb], lr, 1.0, 2000)
        p["w1"], p["w2"], p["b1"], p["b2"] = *ws, *bs
        return cost

    def grad(p, Xb, yb):
        gw, gb = train_step([p["w1"], p["w2"]], [p["b1"], p["b2"]], Xb.T, np.eye(10)[:, yb], 0.0, 1.0, 2000)[3:5]
        return {"w1": gw[0], "w2": gw[1], "b1": gb[0], "b2": gb[1]}

    return {"step": step, "params": {"w1": ws[0], "w2": ws[1], "b1": bs[0], "b2": bs[1]},
            "X": Xtr.astype(np.float64) / 255, "y": ytr, "lr": 0.5, "batch_size": 20, "grad": grad,
            "train_steps": 300}


def fixed(doctor):
    Xtr, ytr, Xte, yte = mnist(2000, 500, seed=31)
    X = Xtr.T.astype(np.float64) / 255; Xt = Xte.T.astype(np.float64) / 255
    Y = np.eye(10)[:, ytr]
    reports = [doctor.check_data(X.T, ytr, Xt.T, yte)]
    rng = np.random.default_rng(31)
    sizes = [784, 100, 10]
    ws, bs = _init(rng)
    n, lmbda, eta, m = X.shape[1], 1.0, 0.5, 20
    rec = doctor.Recorder(["w1", "w2", "b1", "b2"])
    costs, step = [], 0
    for epoch in range(3):
        order = rng.permutation(n)
        for k in range(0, n, m):
            c = order[k:k + m]
            x, y = X[:, c], Y[:, c]
            ws, bs, cost, gw, gb, a = train_step(ws, bs, x, y, eta, lmbda, n)
            costs.append(cost)
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
