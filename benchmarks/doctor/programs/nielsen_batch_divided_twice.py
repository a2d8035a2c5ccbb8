"""Nielsen's per-sample mini-batch loop (784-30-10, sigmoid, cross-entropy, eta = 0.5, batches of
50), in which the learner averages the per-sample gradients inside the accumulation
(nabla += delta_nabla / len(batch)) and then, copying the book's update, also multiplies by
eta / len(batch). The gradient is divided by the batch size twice, so the effective learning rate
is 0.01: after two epochs the network has hardly moved. The learner passes the averaged gradient
(which is correct) to the doctor."""
import random

import numpy as np

from ._data import mnist

STYLE = "nielsen"
EXPECTED = ["LR_TOO_LOW"]


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def backprop(weights, biases, x, y):
    a1 = sigmoid(weights[0] @ x + biases[0])
    a2 = sigmoid(weights[1] @ a1 + biases[1])
    d2 = a2 - y
    d1 = (weights[1].T @ d2) * a1 * (1 - a1)
    return [d1 @ x.T, d2 @ a1.T], [d1, d2], a1, a2


def update_mini_batch(p, batch, eta, bug):
    """The book's update on one mini-batch of (x, y) columns, in p (its lists replaced):
    returns the cost and the averaged gradients (nw, nb)."""
    weights, biases = p["weights"], p["biases"]
    nw = [np.zeros(w.shape) for w in weights]
    nb = [np.zeros(b.shape) for b in biases]
    cost = 0.0
    for x, y in batch:
        dw, db, a1, a2 = backprop(weights, biases, x, y)
        nw = [n + d / len(batch) for n, d in zip(nw, dw)]
        nb = [n + d / len(batch) for n, d in zip(nb, db)]
        cost += -np.sum(y * np.log(a2) + (1 - y) * np.log(1 - a2)) / len(batch)
    rate = eta / len(batch) if bug else eta
    p["weights"] = [w - rate * n for w, n in zip(weights, nw)]
    p["biases"] = [b - rate * n for b, n in zip(biases, nb)]
    return cost, nw, nb


def _pairs(X, y):
    return [(x.reshape(-1, 1), np.eye(10)[j].reshape(-1, 1)) for x, j in zip(X, y)]


def examine_case(bug):
    """The program as doctor.examine's arguments: rows in, the book's (x, y) columns inside."""
    Xtr, ytr, _, _ = mnist(2000, 500, seed=26)
    rng = np.random.default_rng(26)
    p = {"weights": [rng.standard_normal((30, 784)) / np.sqrt(784), rng.standard_normal((10, 30)) / np.sqrt(30)],
         "biases": [rng.standard_normal((30, 1)), rng.standard_normal((10, 1))]}

    def grad(q, X, y):                          # the averaged gradient, as passed to the doctor
        _, nw, nb = update_mini_batch(dict(q), _pairs(X, y), 0.0, False)
        return {"weights": nw, "biases": nb}
    return {"step": lambda q, X, y, lr: update_mini_batch(q, _pairs(X, y), lr, bug)[0], "params": p,
            "X": Xtr / 255.0, "y": ytr, "lr": 0.5, "batch_size": 50, "grad": grad,
            "train_steps": 80}


def _run(doctor, bug):
    random.seed(26)
    Xtr, ytr, Xte, yte = mnist(2000, 500, seed=26)
    train = [(x.reshape(-1, 1) / 255.0, np.eye(10)[j].reshape(-1, 1)) for x, j in zip(Xtr, ytr)]
    reports = [doctor.check_data(Xtr / 255.0, ytr, Xte / 255.0, yte)]
    rng = np.random.default_rng(26)
    p = {"weights": [rng.standard_normal((30, 784)) / np.sqrt(784), rng.standard_normal((10, 30)) / np.sqrt(30)],
         "biases": [rng.standard_normal((30, 1)), rng.standard_normal((10, 1))]}
    rec = doctor.Recorder(["w1", "w2", "b1", "b2"])
    eta, size, costs, step = 0.5, 50, [], 0
    for epoch in range(2):
        random.shuffle(train)
        for k in range(0, len(train), size):
            batch = train[k:k + size]
            cost, nw, nb = update_mini_batch(p, batch, eta, bug)
            weights, biases = p["weights"], p["biases"]
            costs.append(cost)
            xs = np.hstack([x for x, _ in batch])
            hid = sigmoid(weights[0] @ xs + biases[0])
            rec.log(step, loss=cost, weights=weights + biases, grads=nw + nb, activations=[hid],
                    logits=sigmoid(weights[1] @ hid + biases[1]),
                    labels=np.hstack([y for _, y in batch]))
            step += 1
    reports.append(rec.report())
    weights, biases = p["weights"], p["biases"]
    out = sigmoid(weights[1] @ sigmoid(weights[0] @ (Xte.T / 255.0) + biases[0]) + biases[1])
    return reports, {"loss_start": costs[0], "loss_end": float(np.mean(costs[-5:])),
                     "accuracy": float(np.mean(out.argmax(0) == yte)), "chance": 0.1}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
