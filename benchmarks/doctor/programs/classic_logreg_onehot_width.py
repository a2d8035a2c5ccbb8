"""Logistic regression for a binary task (malignant or not, from 5 standardised measurements)
with a single sigmoid output of shape (N, 1), but the learner one-hot encoded the labels into
two columns, Y of shape (N, 2), as for a softmax. p - Y broadcasts to (N, 2); to get back to one
column the learner sums over axis 1, so the error term is 2p - 1 for every sample whatever its
label: the model is driven to output 0.5 everywhere and the accuracy is a coin flip."""
import numpy as np

STYLE = "classic"
EXPECTED = ["LABEL_SHAPE"]


def _run(doctor, bug):
    rng = np.random.default_rng(104)
    n = 600
    y = rng.integers(0, 2, n)
    X = rng.normal(size=(n, 5)) + np.outer(y, [2.0, -1.5, 1.0, 0.0, 1.5])
    X = (X - X.mean(0)) / X.std(0)
    targets = np.eye(2)[y] if bug else y.reshape(-1, 1).astype(float)
    Xtr, Ttr, Xte, yte = X[:450], targets[:450], X[450:], y[450:]
    reports = [doctor.check_data(Xtr, Ttr, Xte, yte)]
    W, b = np.zeros((5, 1)), np.zeros(1)
    rec = doctor.Recorder(["W", "b"])
    losses = []
    for it in range(300):
        p = 1 / (1 + np.exp(-(Xtr @ W + b)))          # (450, 1)
        diff = p - Ttr
        losses.append(float(-np.mean(Ttr * np.log(p + 1e-12) + (1 - Ttr) * np.log(1 - p + 1e-12))))
        if diff.shape[1] != 1:
            diff = diff.sum(axis=1, keepdims=True)
        dW, db = Xtr.T @ diff / len(Xtr), diff.mean(0)
        W -= 0.5 * dW; b -= 0.5 * db
        if it % 3 == 0:
            rec.log(it, loss=losses[-1], weights=[W, b], grads=[dW, db], logits=p, labels=Ttr)
    reports.append(rec.report())
    acc = np.mean(((Xte @ W + b)[:, 0] > 0).astype(int) == yte)
    return reports, {"loss_start": losses[0], "loss_end": losses[-1], "accuracy": float(acc), "chance": 0.5}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
