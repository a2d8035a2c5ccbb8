"""A Nielsen-style 784-30-10 sigmoid/cross-entropy network on MNIST, column vectors, trained with
mini-batches of 10. The learner builds the training list by looping over the digit folders
0, 1, ..., 9 (so the data is sorted by class) and slices mini-batches in that order without ever
shuffling: each stretch of training sees only one digit, and by the end of every epoch the net
has learned "everything is a 9". Test accuracy is about 10%."""
import numpy as np

from ._data import mnist

STYLE = "nielsen"
EXPECTED = ["CLASS_ORDERED"]


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _run(doctor, bug):
    Xtr, ytr, Xte, yte = mnist(2000, 500, seed=23)
    # "one folder per digit": the training set is assembled class by class
    training = []
    for digit in range(10):
        for x in Xtr[ytr == digit]:
            t = np.zeros((10, 1)); t[digit] = 1
            training.append((x.reshape(784, 1) / 255.0, t))
    rng = np.random.default_rng(23)
    if not bug:                                      # the fix: shuffle once, and every epoch
        training = [training[i] for i in rng.permutation(len(training))]
    X_all = np.hstack([x for x, _ in training]).T
    y_all = np.array([int(t.argmax()) for _, t in training])
    reports = [doctor.check_data(X_all, y_all, Xte / 255.0, yte)]
    W = [rng.standard_normal((30, 784)) / np.sqrt(784), rng.standard_normal((10, 30)) / np.sqrt(30)]
    B = [np.zeros((30, 1)), np.zeros((10, 1))]
    eta, size = 0.5, 10
    rec = doctor.Recorder(["W1", "W2", "B1", "B2"])
    costs, step = [], 0
    for epoch in range(2):
        if not bug:
            training = [training[i] for i in rng.permutation(len(training))]
        for k in range(0, len(training), size):
            batch = training[k:k + size]
            x = np.hstack([a for a, _ in batch]); y = np.hstack([t for _, t in batch])
            h = sigmoid(W[0] @ x + B[0]); o = sigmoid(W[1] @ h + B[1])
            costs.append(float(-np.sum(y * np.log(o) + (1 - y) * np.log(1 - o)) / size))
            d2 = o - y
            d1 = (W[1].T @ d2) * h * (1 - h)
            gW = [d1 @ x.T / size, d2 @ h.T / size]
            gB = [d1.mean(axis=1, keepdims=True), d2.mean(axis=1, keepdims=True)]
            for i in range(2):
                W[i] -= eta * gW[i]; B[i] -= eta * gB[i]
            if step % 4 == 0:
                rec.log(step, loss=costs[-1], weights=W + B, grads=gW + gB, activations=[h],
                        logits=o, labels=y)
            step += 1
    reports.append(rec.report())
    out = sigmoid(W[1] @ sigmoid(W[0] @ (Xte.T / 255.0) + B[0]) + B[1])
    acc = float(np.mean(out.argmax(0) == yte))
    return reports, {"loss_start": costs[0], "loss_end": float(np.mean(costs[-20:])), "accuracy": acc,
                     "chance": 0.1}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
