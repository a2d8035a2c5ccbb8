"""A Nielsen-style 784-30-10 sigmoid/cross-entropy network where the learner, to "avoid
reallocating arrays", creates nabla_w and nabla_b once before the epoch loop and adds every
mini-batch's gradient into them, never zeroing them. Each update applies the sum of all the
gradients seen so far: the steps keep growing in the first direction found, the weights run off
and the network saturates on a few classes."""
import numpy as np

from ._data import mnist

STYLE = "nielsen"
EXPECTED = ["GRADIENT_NOT_RESET"]


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _data():
    Xtr, ytr, Xte, yte = mnist(2000, 500, seed=27)
    return Xtr / 255.0, ytr, Xte / 255.0, yte


def _init(rng):
    return {"weights": [rng.normal(0, 1 / np.sqrt(784), (30, 784)), rng.normal(0, 1 / np.sqrt(30), (10, 30))],
            "biases": [np.zeros((30, 1)), np.zeros((10, 1))]}


def backprop(p, x, t):
    """Columns in (x: (784, m), t one-hot (10, m)): the cost, this batch's gradients
    {"weights": [...], "biases": [...]}, h and o."""
    weights, biases, m = p["weights"], p["biases"], x.shape[1]
    h = sigmoid(weights[0] @ x + biases[0])
    o = sigmoid(weights[1] @ h + biases[1])
    cost = -np.mean(np.sum(t * np.log(o + 1e-12) + (1 - t) * np.log(1 - o + 1e-12), axis=0))
    d_o = (o - t) / m
    d_h = (weights[1].T @ d_o) * h * (1 - h)
    return cost, {"weights": [d_h @ x.T, d_o @ h.T], "biases": [d_h.sum(1, keepdims=True),
                                                            d_o.sum(1, keepdims=True)]}, h, o


class Trainer:
    """The loop's update with its nabla buffers: made once, and (the bug) never zeroed."""

    def __init__(self, p, bug):
        self.bug = bug
        self.nabla_w = [np.zeros(w.shape) for w in p["weights"]]
        self.nabla_b = [np.zeros(b.shape) for b in p["biases"]]

    def step(self, p, x, t, eta):
        """One mini-batch, columns in; returns (cost, h, o)."""
        if not self.bug:
            self.nabla_w = [np.zeros(w.shape) for w in p["weights"]]
            self.nabla_b = [np.zeros(b.shape) for b in p["biases"]]
        cost, g, h, o = backprop(p, x, t)
        for i in (1, 0):
            self.nabla_w[i] += g["weights"][i]; self.nabla_b[i] += g["biases"][i]
        for i in range(2):
            p["weights"][i] -= eta * self.nabla_w[i]
            p["biases"][i] -= eta * self.nabla_b[i]
        return cost, h, o

    def __call__(self, p, Xb, yb, lr):           # examine's step: rows in
        return self.step(p, Xb.T, np.eye(10)[yb].T, lr)[0]


def examine_case(bug):
    """The program as doctor.examine's arguments: a Trainer (it keeps the buffers) as the step."""
    Xtr, ytr, _, _ = _data()
    p = _init(np.random.default_rng(27))
    return {"step": Trainer(p, bug), "params": p, "X": Xtr, "y": ytr, "lr": 0.5, "batch_size": 20,
            "grad": lambda q, Xb, yb: backprop(q, Xb.T, np.eye(10)[yb].T)[1],
            "train_steps": 200}


def _run(doctor, bug):
    Xtr, ytr, Xte, yte = _data()
    X = Xtr.T
    T = np.zeros((10, X.shape[1])); T[ytr, range(X.shape[1])] = 1
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    rng = np.random.default_rng(27)
    p = _init(rng)
    weights, biases = p["weights"], p["biases"]
    trainer = Trainer(p, bug)
    rec = doctor.Recorder(["W1", "W2", "b1", "b2"])
    eta, m, costs, step = 0.5, 20, [], 0
    for epoch in range(2):
        perm = rng.permutation(X.shape[1])
        for k in range(0, len(perm), m):
            cols = perm[k:k + m]
            cost, h, o = trainer.step(p, X[:, cols], T[:, cols], eta)
            costs.append(cost)
            if step % 3 == 0:
                rec.log(step, loss=costs[-1], weights=weights + biases,
                        grads=trainer.nabla_w + trainer.nabla_b, activations=[h], logits=o, labels=T[:, cols])
            step += 1
    reports.append(rec.report())
    out = sigmoid(weights[1] @ sigmoid(weights[0] @ Xte.T + biases[0]) + biases[1])
    return reports, {"loss_start": costs[0], "loss_end": float(np.mean(costs[-10:])),
                     "accuracy": float(np.mean(out.argmax(0) == yte)), "chance": 0.1}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
