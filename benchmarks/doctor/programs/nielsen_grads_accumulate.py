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


def _run(doctor, bug):
    Xtr, ytr, Xte, yte = mnist(2000, 500, seed=27)
    X = Xtr.T / 255.0
    T = np.zeros((10, X.shape[1])); T[ytr, range(X.shape[1])] = 1
    reports = [doctor.check_data(X.T, ytr, Xte / 255.0, yte)]
    rng = np.random.default_rng(27)
    weights = [rng.normal(0, 1 / np.sqrt(784), (30, 784)), rng.normal(0, 1 / np.sqrt(30), (10, 30))]
    biases = [np.zeros((30, 1)), np.zeros((10, 1))]
    nabla_w = [np.zeros(w.shape) for w in weights]
    nabla_b = [np.zeros(b.shape) for b in biases]
    rec = doctor.Recorder(["W1", "W2", "b1", "b2"])
    eta, m, costs, step = 0.5, 20, [], 0
    for epoch in range(2):
        perm = rng.permutation(X.shape[1])
        for k in range(0, len(perm), m):
            if not bug:
                nabla_w = [np.zeros(w.shape) for w in weights]
                nabla_b = [np.zeros(b.shape) for b in biases]
            cols = perm[k:k + m]
            x, t = X[:, cols], T[:, cols]
            h = sigmoid(weights[0] @ x + biases[0])
            o = sigmoid(weights[1] @ h + biases[1])
            costs.append(-np.mean(np.sum(t * np.log(o + 1e-12) + (1 - t) * np.log(1 - o + 1e-12), axis=0)))
            d_o = (o - t) / m
            d_h = (weights[1].T @ d_o) * h * (1 - h)
            nabla_w[1] += d_o @ h.T; nabla_b[1] += d_o.sum(1, keepdims=True)
            nabla_w[0] += d_h @ x.T; nabla_b[0] += d_h.sum(1, keepdims=True)
            for i in range(2):
                weights[i] -= eta * nabla_w[i]
                biases[i] -= eta * nabla_b[i]
            if step % 3 == 0:
                rec.log(step, loss=costs[-1], weights=weights + biases, grads=nabla_w + nabla_b,
                        activations=[h], logits=o, labels=t)
            step += 1
    reports.append(rec.report())
    out = sigmoid(weights[1] @ sigmoid(weights[0] @ (Xte.T / 255.0) + biases[0]) + biases[1])
    return reports, {"loss_start": costs[0], "loss_end": float(np.mean(costs[-10:])),
                     "accuracy": float(np.mean(out.argmax(0) == yte)), "chance": 0.1}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
