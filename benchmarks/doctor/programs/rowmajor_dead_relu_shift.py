"""A 784-64-10 ReLU/softmax MNIST net with pixels scaled to 0..1 (all inputs non-negative). The
learner initialises W1 as 0.1 * (rand - 0.6), "slightly negative so the activations start
small". With every input >= 0, each hidden pre-activation is a sum of ~150 ink pixels times
weights of mean -0.01: it is negative for every image, all 64 ReLUs are dead from the first step,
no gradient reaches W1, and only the output bias learns the class frequencies."""
import numpy as np

from ._data import mnist

STYLE = "rowmajor"
EXPECTED = ["DEAD_RELU"]


def _run(doctor, bug):
    Xtr, ytr, Xte, yte = mnist(1500, 500, seed=11)
    Xtr, Xte = Xtr / 255.0, Xte / 255.0
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    rng = np.random.default_rng(11)
    W1 = 0.1 * (rng.random((784, 64)) - (0.6 if bug else 0.5))
    b1 = np.zeros(64)
    W2 = 0.1 * (rng.random((64, 10)) - 0.5)
    b2 = np.zeros(10)
    rec = doctor.Recorder(["W1", "b1", "W2", "b2"])
    losses = []
    for step in range(200):
        j = rng.integers(0, len(Xtr), 64)
        X, y = Xtr[j], ytr[j]
        Z1 = X @ W1 + b1
        A1 = np.maximum(Z1, 0)
        Z2 = A1 @ W2 + b2
        E = np.exp(Z2 - Z2.max(axis=1, keepdims=True))
        P = E / E.sum(axis=1, keepdims=True)
        losses.append(-np.log(P[range(64), y]).mean())
        dZ2 = P.copy(); dZ2[range(64), y] -= 1; dZ2 /= 64
        dW2, db2 = A1.T @ dZ2, dZ2.sum(axis=0)
        dZ1 = (dZ2 @ W2.T) * (Z1 > 0)
        dW1, db1 = X.T @ dZ1, dZ1.sum(axis=0)
        W1 -= 0.2 * dW1; b1 -= 0.2 * db1; W2 -= 0.2 * dW2; b2 -= 0.2 * db2
        if step % 2 == 0:
            rec.log(step, loss=losses[-1], weights=[W1, b1, W2, b2], grads=[dW1, db1, dW2, db2],
                    activations=[A1], logits=Z2, labels=y)
    reports.append(rec.report())
    acc = np.mean((np.maximum(Xte @ W1 + b1, 0) @ W2 + b2).argmax(1) == yte)
    return reports, {"loss_start": losses[0], "loss_end": float(np.mean(losses[-10:])),
                     "accuracy": float(acc), "chance": 0.1}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
