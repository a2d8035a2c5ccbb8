"""A Nielsen-style 784-30-10 sigmoid network (column vectors, mini-batches as matrices,
quadratic cost, eta 3.0). The learner wrote the derivative helper in terms of the *output*,
dsigmoid(s) = s * (1 - s), which is right for s = sigmoid(z), but calls it on the pre-activation
z stored during the forward pass. z * (1 - z) is negative whenever z > 1 or z < 0, so most
units get a gradient of the wrong sign and size; the cost does not come down."""
import numpy as np

from ._data import mnist

STYLE = "nielsen"
EXPECTED = ["GRADIENT_MISMATCH"]


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def dsigmoid(s):
    return s * (1.0 - s)


def _data():
    Xtr, ytr, Xte, yte = mnist(2000, 500, seed=24)
    return Xtr / 255.0, ytr, Xte / 255.0, yte


def _init(rng):
    return {"w1": rng.standard_normal((30, 784)) / np.sqrt(784), "b1": rng.standard_normal((30, 1)),
            "w2": rng.standard_normal((10, 30)) / np.sqrt(30), "b2": rng.standard_normal((10, 1))}


def backprop(p, x, y, bug):
    """Columns in (x: (784, m), y one-hot (10, m)): the quadratic cost, the gradients (a dict
    like p), a1 and a2."""
    m = x.shape[1]
    z1 = p["w1"] @ x + p["b1"]; a1 = sigmoid(z1)
    z2 = p["w2"] @ a1 + p["b2"]; a2 = sigmoid(z2)
    cost = 0.5 * np.sum((a2 - y) ** 2) / m
    if bug:
        d2 = (a2 - y) * dsigmoid(z2)
        d1 = (p["w2"].T @ d2) * dsigmoid(z1)
    else:
        d2 = (a2 - y) * dsigmoid(a2)
        d1 = (p["w2"].T @ d2) * dsigmoid(a1)
    g = {"w1": d1 @ x.T / m, "b1": d1.mean(1, keepdims=True), "w2": d2 @ a1.T / m,
         "b2": d2.mean(1, keepdims=True)}
    return cost, g, a1, a2


def examine_case(bug):
    """The program as doctor.examine's arguments: rows in (examine's batches), columns inside."""
    Xtr, ytr, _, _ = _data()

    def step(p, Xb, yb, lr):
        cost, g, _, _ = backprop(p, Xb.T, np.eye(10)[yb].T, bug)
        for k in p:
            p[k] -= lr * g[k]
        return cost
    return {"step": step, "params": _init(np.random.default_rng(24)), "X": Xtr, "y": ytr, "lr": 3.0,
            "batch_size": 10, "grad": lambda p, Xb, yb: backprop(p, Xb.T, np.eye(10)[yb].T, bug)[1],
            "train_steps": 400}


def _run(doctor, bug):
    Xtr, ytr, Xte, yte = _data()
    X = Xtr.T
    Y = np.eye(10)[ytr].T
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    rng = np.random.default_rng(24)
    p = _init(rng)
    names = ["w1", "b1", "w2", "b2"]
    rec = doctor.Recorder(names)
    eta, m, costs, it = 3.0, 10, [], 0
    for epoch in range(2):
        order = rng.permutation(X.shape[1])
        for s in range(0, len(order), m):
            c = order[s:s + m]
            cost, gd, a1, a2 = backprop(p, X[:, c], Y[:, c], bug)
            costs.append(cost)
            g = [gd[k] for k in names]
            for k in names:
                p[k] -= eta * gd[k]
            if it % 5 == 0:
                rec.log(it, loss=costs[-1], weights=[p[k] for k in names], grads=g, activations=[a1],
                        logits=a2, labels=Y[:, c])
            it += 1
    reports.append(rec.report())
    out = sigmoid(p["w2"] @ sigmoid(p["w1"] @ Xte.T + p["b1"]) + p["b2"])
    return reports, {"loss_start": costs[0], "loss_end": float(np.mean(costs[-20:])),
                     "accuracy": float(np.mean(out.argmax(0) == yte)), "chance": 0.1}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
