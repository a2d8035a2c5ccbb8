"""A matrix-form Nielsen network (784-30-10 sigmoid/cross-entropy, a mini-batch of 25 stacked as
columns, W of shape (out, in), b of shape (out, 1)). The bias gradient is written
delta.sum(axis=0, keepdims=True), summing over the units instead of over the samples; the
result is (1, 25), and b - eta * nabla_b broadcasts every bias into an (out, 25) matrix: one bias
per position in the batch. Training runs (the batch size never changes), but the "biases" are
noise tied to batch positions, the output for a single test column is a 10 x 25 block, and its
argmax is meaningless."""
import numpy as np

from ._data import mnist

STYLE = "nielsen"
EXPECTED = ["GRADIENT_SHAPE"]


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _run(doctor, bug):
    Xtr, ytr, Xte, yte = mnist(2000, 500, seed=28)
    X = Xtr.T / 255.0
    Y = np.eye(10)[ytr].T
    reports = [doctor.check_data(Xtr / 255.0, ytr, Xte / 255.0, yte)]
    rng = np.random.default_rng(28)
    W = [rng.standard_normal((30, 784)) / 28.0, rng.standard_normal((10, 30)) / np.sqrt(30)]
    b = [rng.standard_normal((30, 1)), rng.standard_normal((10, 1))]
    axis = 0 if bug else 1
    rec = doctor.Recorder(["W1", "W2", "b1", "b2"])
    eta, m, costs, t = 0.5, 25, [], 0
    for epoch in range(2):
        p = rng.permutation(X.shape[1])
        for k in range(0, len(p), m):
            x, y = X[:, p[k:k + m]], Y[:, p[k:k + m]]
            a1 = sigmoid(W[0] @ x + b[0])
            a2 = sigmoid(W[1] @ a1 + b[1])
            costs.append(-np.sum(y * np.log(a2 + 1e-12) + (1 - y) * np.log(1 - a2 + 1e-12)) / m)
            d2 = a2 - y
            d1 = W[1].T @ d2 * a1 * (1 - a1)
            gW = [d1 @ x.T / m, d2 @ a1.T / m]
            gb = [d1.sum(axis=axis, keepdims=True) / m, d2.sum(axis=axis, keepdims=True) / m]
            W = [w - eta * g for w, g in zip(W, gW)]
            b = [c - eta * g for c, g in zip(b, gb)]
            if t % 4 == 0:
                rec.log(t, loss=costs[-1], weights=W + b, grads=gW + gb, activations=[a1], logits=a2,
                        labels=y)
            t += 1
    reports.append(rec.report())

    def feedforward(a):
        return sigmoid(W[1] @ sigmoid(W[0] @ a + b[0]) + b[1])

    correct = sum(int(np.argmax(feedforward(x.reshape(784, 1) / 255.0)) == j) for x, j in zip(Xte, yte))
    return reports, {"loss_start": costs[0], "loss_end": float(np.mean(costs[-10:])),
                     "accuracy": correct / len(yte), "chance": 0.1}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
