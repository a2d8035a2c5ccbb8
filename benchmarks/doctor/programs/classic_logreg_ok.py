"""Correct program: binary logistic regression by full-batch gradient descent on 0/1 labels,
three standardised features, weights (3,) and a scalar bias, the mean log-loss, lr 0.5, 300
iterations. ~90% test accuracy on overlapping classes; nothing is wrong."""
import numpy as np

STYLE = "classic"
EXPECTED = []


def _data():
    rng = np.random.default_rng(111)
    n = 800
    y = (rng.random(n) < 0.5).astype(int)
    X = rng.normal(size=(n, 3)) + np.outer(y, [1.5, -1.0, 1.2])
    X = (X - X[:600].mean(0)) / X[:600].std(0)
    return X[:600], y[:600], X[600:], y[600:]


def forward_backward(p, X, y):
    """The mean log-loss, its gradients {"w", "b"} and the logits."""
    z = X @ p["w"] + p["b"][0]
    prob = 1 / (1 + np.exp(-z))
    loss = float(-np.mean(y * np.log(prob + 1e-12) + (1 - y) * np.log(1 - prob + 1e-12)))
    dz = prob - y
    return loss, {"w": X.T @ dz / len(y), "b": np.array([dz.mean()])}, z


def step(p, X, y, lr):
    """One batch gradient descent step (in place); returns the loss before it."""
    loss, g, _ = forward_backward(p, X, y)
    p["w"] -= lr * g["w"]; p["b"] -= lr * g["b"]
    return loss


def examine_case(bug=False):
    """The program as doctor.examine's arguments (full batch, as the loop trains)."""
    Xtr, ytr, _, _ = _data()
    return {"step": step, "params": {"w": np.zeros(3), "b": np.zeros(1)}, "X": Xtr, "y": ytr, "lr": 0.5,
            "batch_size": len(Xtr), "grad": lambda p, X, y: forward_backward(p, X, y)[1],
            "train_steps": 300,
            "predict": lambda p, X: X @ p["w"] + p["b"][0]}


def fixed(doctor):
    Xtr, ytr, Xte, yte = _data()
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    p = {"w": np.zeros(3), "b": np.zeros(1)}
    rec = doctor.Recorder(["w", "b"])
    losses = []
    for it in range(300):
        loss, g, z = forward_backward(p, Xtr, ytr)
        losses.append(loss)
        p["w"] -= 0.5 * g["w"]; p["b"] -= 0.5 * g["b"]
        if it % 3 == 0:
            rec.log(it, loss=losses[-1], weights=[p["w"], p["b"]], grads=[g["w"], g["b"]],
                    logits=z, labels=ytr)
    reports.append(rec.report())
    acc = np.mean(((Xte @ p["w"] + p["b"][0]) > 0).astype(int) == yte)
    return reports, {"loss_start": losses[0], "loss_end": losses[-1], "accuracy": float(acc), "chance": 0.5}
