"""Logistic regression for a binary task (malignant or not, from 5 standardised measurements)
with a single sigmoid output of shape (N, 1), but the learner one-hot encoded the labels into
two columns, Y of shape (N, 2), as for a softmax. p - Y broadcasts to (N, 2); to get back to one
column the learner sums over axis 1, so the error term is 2p - 1 for every sample whatever its
label: the model is driven to output 0.5 everywhere and the accuracy is a coin flip."""
import numpy as np

STYLE = "classic"
EXPECTED = ["LABEL_SHAPE"]


def _data(bug):
    rng = np.random.default_rng(104)
    n = 600
    y = rng.integers(0, 2, n)
    X = rng.normal(size=(n, 5)) + np.outer(y, [2.0, -1.5, 1.0, 0.0, 1.5])
    X = (X - X.mean(0)) / X.std(0)
    targets = np.eye(2)[y] if bug else y.reshape(-1, 1).astype(float)
    return X[:450], targets[:450], X[450:], y[450:]


def forward_backward(p, X, T):
    """The mean log-loss of one sigmoid output against targets T, the loop's gradients
    {"W", "b"} (a two-column T summed into one), and the probabilities."""
    prob = 1 / (1 + np.exp(-(X @ p["W"] + p["b"])))          # (450, 1)
    diff = prob - T
    loss = float(-np.mean(T * np.log(prob + 1e-12) + (1 - T) * np.log(1 - prob + 1e-12)))
    if diff.shape[1] != 1:
        diff = diff.sum(axis=1, keepdims=True)
    return loss, {"W": X.T @ diff / len(X), "b": diff.mean(0)}, prob


def step(p, X, T, lr):
    """One batch gradient descent step (in place); returns the loss before it."""
    loss, g, _ = forward_backward(p, X, T)
    p["W"] -= lr * g["W"]; p["b"] -= lr * g["b"]
    return loss


def examine_case(bug):
    """The program as doctor.examine's arguments (full batch, as the loop trains)."""
    Xtr, Ttr, _, _ = _data(bug)
    return {"step": step, "params": {"W": np.zeros((5, 1)), "b": np.zeros(1)}, "X": Xtr, "y": Ttr,
            "lr": 0.5, "batch_size": len(Xtr), "grad": lambda p, X, y: forward_backward(p, X, y)[1],
            "train_steps": 300,
            "predict": lambda p, X: 1 / (1 + np.exp(-(X @ p["W"] + p["b"])))}


def _run(doctor, bug):
    Xtr, Ttr, Xte, yte = _data(bug)
    reports = [doctor.check_data(Xtr, Ttr, Xte, yte)]
    p = {"W": np.zeros((5, 1)), "b": np.zeros(1)}
    rec = doctor.Recorder(["W", "b"])
    losses = []
    for it in range(300):
        loss, g, prob = forward_backward(p, Xtr, Ttr)
        losses.append(loss)
        p["W"] -= 0.5 * g["W"]; p["b"] -= 0.5 * g["b"]
        if it % 3 == 0:
            rec.log(it, loss=losses[-1], weights=[p["W"], p["b"]], grads=[g["W"], g["b"]], logits=prob,
                    labels=Ttr)
    reports.append(rec.report())
    acc = np.mean(((Xte @ p["W"] + p["b"])[:, 0] > 0).astype(int) == yte)
    return reports, {"loss_start": losses[0], "loss_end": losses[-1], "accuracy": float(acc), "chance": 0.5}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
