"""A Nielsen-style 784-40-10 sigmoid network with column vectors and the cross-entropy cost,
trained on mini-batches of 20 stacked as columns (W @ X, X of shape (784, m)). Told that "bigger
initial weights break the symmetry faster", the learner draws W from 8 * randn: every hidden
pre-activation has a standard deviation of about 70, the sigmoids sit at exactly 0 or 1, sigma'
is zero, and the hidden layer never learns; the output layer alone cannot fit the digits."""
import numpy as np

from ._data import mnist

STYLE = "nielsen"
EXPECTED = ["INIT_TOO_LARGE", "SATURATION"]


def sig(z):
    return 1 / (1 + np.exp(-z))


def _data():
    Xtr, ytr, Xte, yte = mnist(2000, 500, seed=21)
    X = Xtr.T / 255.0                 # (784, N): one column per image
    Y = np.zeros((10, X.shape[1])); Y[ytr, np.arange(X.shape[1])] = 1
    return X, Y, ytr, Xte.T / 255.0, yte


def _init(rng, scale):
    sizes = [784, 40, 10]
    if scale is None:                       # fixed: 1/sqrt(n_in), as in chapter 3
        w = [rng.standard_normal((o, i)) / np.sqrt(i) for i, o in zip(sizes[:-1], sizes[1:])]
    else:
        w = [scale * rng.standard_normal((o, i)) for i, o in zip(sizes[:-1], sizes[1:])]
    b = [rng.standard_normal((o, 1)) for o in sizes[1:]]
    return {"w": w, "b": b}


def backprop(p, a0, y):
    """Columns in, as in the book: the cost, the gradients {"w": nw, "b": nb}, a1 and a2."""
    w, b, m = p["w"], p["b"], a0.shape[1]
    a1 = sig(w[0] @ a0 + b[0])
    a2 = sig(w[1] @ a1 + b[1])
    cost = -np.sum(np.nan_to_num(y * np.log(a2) + (1 - y) * np.log(1 - a2))) / m
    d2 = a2 - y                                   # cross-entropy: sigma' cancels
    d1 = (w[1].T @ d2) * a1 * (1 - a1)
    nw = [d1 @ a0.T / m, d2 @ a1.T / m]
    nb = [d1.sum(axis=1, keepdims=True) / m, d2.sum(axis=1, keepdims=True) / m]
    return cost, {"w": nw, "b": nb}, a1, a2


def update(p, g, eta):
    """w = w - eta * nw, as the book writes it (new lists: p's entries are replaced)."""
    p["w"] = [wi - eta * gi for wi, gi in zip(p["w"], g["w"])]
    p["b"] = [bi - eta * gi for bi, gi in zip(p["b"], g["b"])]


def examine_case(bug):
    """The program as doctor.examine's arguments: rows in (examine's batches), columns inside."""
    X, _, ytr, _, _ = _data()

    def step(p, Xb, yb, lr):
        cost, g, _, _ = backprop(p, Xb.T, np.eye(10)[yb].T)
        update(p, g, lr)
        return cost
    return {"step": step, "params": _init(np.random.default_rng(21), 8.0 if bug else None), "X": X.T,
            "y": ytr, "lr": 0.5, "batch_size": 20,
            "grad": lambda p, Xb, yb: backprop(p, Xb.T, np.eye(10)[yb].T)[1],
            "train_steps": 300}


def _run(doctor, scale):
    X, Y, ytr, Xt, yte = _data()
    reports = [doctor.check_data(X.T, ytr, Xt.T, yte)]
    rng = np.random.default_rng(21)
    p = _init(rng, scale)
    eta, m = 0.5, 20
    rec = doctor.Recorder(["w1", "w2", "b1", "b2"])
    costs = []
    step = 0
    for epoch in range(3):
        perm = rng.permutation(X.shape[1])
        for k in range(0, len(perm), m):
            cols = perm[k:k + m]
            cost, g, a1, a2 = backprop(p, X[:, cols], Y[:, cols])
            costs.append(cost)
            update(p, g, eta)
            if step % 2 == 0:
                rec.log(step, loss=cost, weights=p["w"] + p["b"], grads=g["w"] + g["b"], activations=[a1],
                        logits=a2, labels=Y[:, cols])
            step += 1
    reports.append(rec.report())
    w, b = p["w"], p["b"]
    out = sig(w[1] @ sig(w[0] @ Xt + b[0]) + b[1])
    acc = np.mean(out.argmax(axis=0) == yte)
    return reports, {"loss_start": costs[0], "loss_end": float(np.mean(costs[-10:])),
                     "accuracy": float(acc), "chance": 0.1}


def buggy(doctor):
    return _run(doctor, 8.0)


def fixed(doctor):
    return _run(doctor, None)
