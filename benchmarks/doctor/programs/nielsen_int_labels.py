"""A Nielsen-style 784-30-10 sigmoid network (column vectors, per-sample backprop, mini-batches
of 10, cross-entropy delta a - y). The learner builds the training pairs the way the book builds
its *test* data, (x, j) with the digit j as a plain integer, instead of a (10, 1) one-hot column.
a - j broadcasts without complaint: every one of the ten outputs is pushed towards the value j
(7, say), which a sigmoid can only approach by saturating at 1. All outputs go to 1 for every
image and test accuracy is at chance."""
import random

import numpy as np

from ._data import mnist

STYLE = "nielsen"
EXPECTED = ["LABEL_SHAPE"]


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


class Net:
    def __init__(self, sizes, rng):
        self.sizes = sizes
        self.biases = [rng.standard_normal((n, 1)) for n in sizes[1:]]
        self.weights = [rng.standard_normal((n, m)) / np.sqrt(m) for m, n in zip(sizes[:-1], sizes[1:])]

    def feedforward(self, a):
        for b, w in zip(self.biases, self.weights):
            a = sigmoid(w @ a + b)
        return a

    def backprop(self, x, y):
        acts, zs = [x], []
        for b, w in zip(self.biases, self.weights):
            zs.append(w @ acts[-1] + b)
            acts.append(sigmoid(zs[-1]))
        delta = acts[-1] - y
        nb = [None, delta]
        nw = [None, delta @ acts[1].T]
        delta = (self.weights[1].T @ delta) * acts[1] * (1 - acts[1])
        nb[0] = delta
        nw[0] = delta @ x.T
        return nb, nw, acts

    def update(self, batch, eta):
        """One mini-batch: backprop summed over it and the update (new lists of arrays):
        (cost, sw, sb, the last sample's activations, the targets, its output)."""
        ys = []
        sb = [np.zeros(b.shape) for b in self.biases]
        sw = [np.zeros(w.shape) for w in self.weights]
        cost = 0
        for x, y in batch:
            nb, nw, acts = self.backprop(x, y)
            ys.append(y)
            sb = [s + d for s, d in zip(sb, nb)]
            sw = [s + d for s, d in zip(sw, nw)]
            out = acts[-1]
            cost += float(-np.mean(y * np.log(out + 1e-12) + (1 - y) * np.log(1 - out + 1e-12)))
        self.weights = [w - eta / len(batch) * g for w, g in zip(self.weights, sw)]
        self.biases = [b - eta / len(batch) * g for b, g in zip(self.biases, sb)]
        return cost / len(batch), sw, sb, acts, ys, out

    def train(self, data, epochs, size, eta, rec):
        self.costs = []
        step = 0
        for ep in range(epochs):
            random.shuffle(data)
            for i in range(0, len(data), size):
                batch = data[i:i + size]
                cost, sw, sb, acts, ys, out = self.update(batch, eta)
                self.costs.append(cost)
                if step % 5 == 0:
                    rec.log(step, loss=self.costs[-1], weights=self.weights + self.biases,
                            grads=[g / len(batch) for g in sw + sb], activations=[acts[1]],
                            logits=out, labels=ys[-1])
                step += 1


def _onehot(bug):
    if bug:
        return lambda j: int(j)                          # the label itself
    return lambda j: np.eye(10)[j].reshape(10, 1)        # (10, 1)


def examine_case(bug):
    """The program as doctor.examine's arguments: examine's rows and labels become its
    (x, target) pairs, the target as it builds it (the bare int in the buggy one), through its
    own Net.update; the step stores the new arrays in the params."""
    Xtr, ytr, _, _ = mnist(2000, 500, seed=22)
    net = Net([784, 30, 10], np.random.default_rng(22))
    onehot = _onehot(bug)

    def step(p, Xb, yb, lr):
        net.weights, net.biases = [p["w1"], p["w2"]], [p["b1"], p["b2"]]
        cost = net.update([(x.reshape(784, 1), onehot(j)) for x, j in zip(Xb, yb)], lr)[0]
        p["w1"], p["w2"], p["b1"], p["b2"] = *net.weights, *net.biases
        return cost

    return {"step": step, "params": {"w1": net.weights[0], "w2": net.weights[1], "b1": net.biases[0],
                                     "b2": net.biases[1]},
            "X": Xtr / 255.0, "y": ytr, "lr": 0.5, "batch_size": 10, "train_steps": 400,
            "predict": lambda p, X: sigmoid(p["w2"] @ sigmoid(p["w1"] @ X.T + p["b1"]) + p["b2"]).T}


def _run(doctor, bug):
    random.seed(22)
    Xtr, ytr, Xte, yte = mnist(2000, 500, seed=22)
    onehot = _onehot(bug)
    data = [((x / 255.0).reshape(784, 1), onehot(j)) for x, j in zip(Xtr, ytr)]
    reports = [doctor.check_data(Xtr / 255.0, ytr, Xte / 255.0, yte)]
    net = Net([784, 30, 10], np.random.default_rng(22))
    rec = doctor.Recorder(["w1", "w2", "b1", "b2"])
    net.train(data, 2, 10, 0.5, rec)
    reports.append(rec.report())
    correct = sum(int(np.argmax(net.feedforward((x / 255.0).reshape(784, 1))) == j) for x, j in zip(Xte, yte))
    return reports, {"loss_start": net.costs[0], "loss_end": float(np.mean(net.costs[-10:])),
                     "accuracy": correct / len(yte), "chance": 0.1}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
