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


def _run(doctor, bug):
    Xtr, ytr, Xte, yte = mnist(2000, 500, seed=24)
    X = (Xtr / 255.0).T
    Y = np.eye(10)[ytr].T
    reports = [doctor.check_data(Xtr / 255.0, ytr, Xte / 255.0, yte)]
    rng = np.random.default_rng(24)
    w1 = rng.standard_normal((30, 784)) / np.sqrt(784); b1 = rng.standard_normal((30, 1))
    w2 = rng.standard_normal((10, 30)) / np.sqrt(30); b2 = rng.standard_normal((10, 1))
    rec = doctor.Recorder(["w1", "b1", "w2", "b2"])
    eta, m, costs, it = 3.0, 10, [], 0
    for epoch in range(2):
        order = rng.permutation(X.shape[1])
        for s in range(0, len(order), m):
            c = order[s:s + m]
            x, y = X[:, c], Y[:, c]
            z1 = w1 @ x + b1; a1 = sigmoid(z1)
            z2 = w2 @ a1 + b2; a2 = sigmoid(z2)
            costs.append(0.5 * np.sum((a2 - y) ** 2) / m)
            if bug:
                d2 = (a2 - y) * dsigmoid(z2)
                d1 = (w2.T @ d2) * dsigmoid(z1)
            else:
                d2 = (a2 - y) * dsigmoid(a2)
                d1 = (w2.T @ d2) * dsigmoid(a1)
            g = [d1 @ x.T / m, d1.mean(1, keepdims=True), d2 @ a1.T / m, d2.mean(1, keepdims=True)]
            w1 -= eta * g[0]; b1 -= eta * g[1]; w2 -= eta * g[2]; b2 -= eta * g[3]
            if it % 5 == 0:
                rec.log(it, loss=costs[-1], weights=[w1, b1, w2, b2], grads=g, activations=[a1],
                        logits=a2, labels=y)
            it += 1
    reports.append(rec.report())
    out = sigmoid(w2 @ sigmoid(w1 @ (Xte / 255.0).T + b1) + b2)
    return reports, {"loss_start": costs[0], "loss_end": float(np.mean(costs[-20:])),
                     "accuracy": float(np.mean(out.argmax(0) == yte)), "chance": 0.1}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
