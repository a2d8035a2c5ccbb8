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


def _init(rng):
    W = [rng.standard_normal((30, 784)) / 28.0, rng.standard_normal((10, 30)) / np.sqrt(30)]
    b = [rng.standard_normal((30, 1)), rng.standard_normal((10, 1))]
    return W, b


def train_step(W, b, x, y, eta, axis):
    """The loop's forward, backward and update on one batch of columns: (W, b, cost, gW, gb, a1,
    a2), the new weights and biases as new lists (as the learner writes them)."""
    m = x.shape[1]
    a1 = sigmoid(W[0] @ x + b[0])
    a2 = sigmoid(W[1] @ a1 + b[1])
    cost = -np.sum(y * np.log(a2 + 1e-12) + (1 - y) * np.log(1 - a2 + 1e-12)) / m
    d2 = a2 - y
    d1 = W[1].T @ d2 * a1 * (1 - a1)
    gW = [d1 @ x.T / m, d2 @ a1.T / m]
    gb = [d1.sum(axis=axis, keepdims=True) / m, d2.sum(axis=axis, keepdims=True) / m]
    W = [w - eta * g for w, g in zip(W, gW)]
    b = [c - eta * g for c, g in zip(b, gb)]
    return W, b, cost, gW, gb, a1, a2


def examine_case(bug):
    """The program as doctor.examine's arguments: rows in (examine's batches), columns inside;
    the step stores the new arrays in the params (a bias summed over axis 0 comes back (30, m))."""
    Xtr, ytr, _, _ = mnist(2000, 500, seed=28)
    W, b = _init(np.random.default_rng(28))
    axis = 0 if bug else 1

    def step(p, Xb, yb, lr):
        W, b, cost, *_ = train_step([p["W1"], p["W2"]], [p["b1"], p["b2"]], Xb.T, np.eye(10)[yb].T, lr, axis)
        p["W1"], p["W2"], p["b1"], p["b2"] = *W, *b
        return cost

    def grad(p, Xb, yb):
        gW, gb = train_step([p["W1"], p["W2"]], [p["b1"], p["b2"]], Xb.T, np.eye(10)[yb].T, 0.0, axis)[3:5]
        return {"W1": gW[0], "W2": gW[1], "b1": gb[0], "b2": gb[1]}

    return {"step": step, "params": {"W1": W[0], "W2": W[1], "b1": b[0], "b2": b[1]}, "X": Xtr / 255.0,
            "y": ytr, "lr": 0.5, "batch_size": 25, "grad": grad, "train_steps": 160}


def _run(doctor, bug):
    Xtr, ytr, Xte, yte = mnist(2000, 500, seed=28)
    X = Xtr.T / 255.0
    Y = np.eye(10)[ytr].T
    reports = [doctor.check_data(Xtr / 255.0, ytr, Xte / 255.0, yte)]
    rng = np.random.default_rng(28)
    W, b = _init(rng)
    axis = 0 if bug else 1
    rec = doctor.Recorder(["W1", "W2", "b1", "b2"])
    eta, m, costs, t = 0.5, 25, [], 0
    for epoch in range(2):
        p = rng.permutation(X.shape[1])
        for k in range(0, len(p), m):
            x, y = X[:, p[k:k + m]], Y[:, p[k:k + m]]
            W, b, cost, gW, gb, a1, a2 = train_step(W, b, x, y, eta, axis)
            costs.append(cost)
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
