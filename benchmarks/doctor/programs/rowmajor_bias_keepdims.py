"""A 6-16-2 tanh regression net (two targets with large offsets, rows = samples) trained full
batch. For the bias gradients the learner sums over axis=1 with keepdims (over the units, not the
samples) and writes b = b - lr * db, so after the first step each bias silently becomes an
(N, units) matrix: one private bias per training row. The network memorises the training rows
and the test score (same N, so nothing crashes) is poor. The gradients logged are (N, 1) against
biases of 2 and 16 entries."""
import numpy as np

STYLE = "rowmajor"
EXPECTED = ["GRADIENT_SHAPE"]


def _make(rng, n):
    X = rng.normal(size=(n, 6))
    A = rng.normal(size=(6, 2))
    Y = np.tanh(X @ A * 0.7) * 2 + np.array([4.0, -3.0]) + 0.1 * rng.normal(size=(n, 2))
    return X, Y


def _data():
    rng = np.random.default_rng(5)
    X_all, Y_all = _make(rng, 600)
    return X_all[:300], Y_all[:300], X_all[300:], Y_all[300:], rng


def _init(rng):
    return {"W1": rng.normal(size=(6, 16)) * 0.4, "b1": np.zeros((1, 16)),
            "W2": rng.normal(size=(16, 2)) * 0.25, "b2": np.zeros((1, 2))}


def forward_backward(p, X, Y, bug):
    """The batch's mean squared error, gradients (a dict like p), hidden activations and outputs."""
    H = np.tanh(X @ p["W1"] + p["b1"])
    P = H @ p["W2"] + p["b2"]
    E = P - Y
    dP = 2 * E / len(X)
    dW2 = H.T @ dP
    db2 = np.sum(dP, axis=1, keepdims=True) if bug else np.sum(dP, axis=0, keepdims=True)
    dZ = (dP @ p["W2"].T) * (1 - H ** 2)
    dW1 = X.T @ dZ
    db1 = np.sum(dZ, axis=1, keepdims=True) if bug else np.sum(dZ, axis=0, keepdims=True)
    return float(np.mean(E ** 2)), {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}, H, P


def step(p, X, Y, lr, bug=False):
    """The loop's update (p[k] = p[k] - lr * g[k], as the loop writes it); returns the loss."""
    loss, g, _, _ = forward_backward(p, X, Y, bug)
    for k in ("W1", "b1", "W2", "b2"):
        p[k] = p[k] - lr * g[k]
    return loss


def examine_case(bug):
    """The program as doctor.examine's arguments (full batch, as the loop trains)."""
    Xtr, Ytr, _, _, rng = _data()
    return {"step": lambda p, X, y, lr: step(p, X, y, lr, bug), "params": _init(rng), "X": Xtr, "y": Ytr,
            "lr": 0.05, "batch_size": len(Xtr), "grad": lambda p, X, y: forward_backward(p, X, y, bug)[1],
            "train_steps": 400,
            "predict": lambda p, X: np.tanh(X @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]}


def _run(doctor, bug):
    Xtr, Ytr, Xte, Yte, rng = _data()
    reports = [doctor.check_data(Xtr, Ytr, Xte, Yte, classification=False)]
    p = _init(rng)
    lr = 0.05
    rec = doctor.Recorder(["W1", "b1", "W2", "b2"])
    losses = []
    for it in range(400):
        loss, g, H, P = forward_backward(p, Xtr, Ytr, bug)
        losses.append(loss)
        for k in ("W1", "b1", "W2", "b2"):
            p[k] = p[k] - lr * g[k]
        if it % 4 == 0:
            rec.log(it, loss=losses[-1], weights=[p[k] for k in ("W1", "b1", "W2", "b2")],
                    grads=[g[k] for k in ("W1", "b1", "W2", "b2")], activations=[H], logits=P, labels=Ytr)
    reports.append(rec.report())
    Pte = np.tanh(Xte @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]
    r2 = 1 - np.sum((Pte - Yte) ** 2) / np.sum((Yte - Yte.mean(0)) ** 2)
    return reports, {"loss_start": losses[0], "loss_end": losses[-1], "r2": float(r2)}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
