"""A two-layer ReLU/softmax net on MNIST written CS231n-style (X @ W, W of shape (in, out),
mini-batches of 64, SGD at lr 0.1). The learner casts the uint8 pixels to float but never
divides by 255, so the first layer sees inputs up to 255: the logits explode in the first steps,
the loss turns to inf/NaN or most hidden units die, and accuracy stays at chance."""
import numpy as np

from ._data import mnist

STYLE = "rowmajor"
EXPECTED = ["INPUT_SCALE"]


def _data(raw):
    Xtr, ytr, Xte, yte = mnist(1500, 500, seed=1)
    if raw:
        return Xtr.astype(np.float64), ytr, Xte.astype(np.float64), yte
    return Xtr / 255.0, ytr, Xte / 255.0, yte


def _init(rng):
    D, H, C = 784, 64, 10
    return {"W1": 0.01 * rng.standard_normal((D, H)), "b1": np.zeros(H),
            "W2": 0.01 * rng.standard_normal((H, C)), "b2": np.zeros(C)}


def forward_backward(p, X, y):
    """One batch's loss, gradients (a dict like p), hidden activations and scores."""
    bs = len(X)
    h = np.maximum(0, X @ p["W1"] + p["b1"])
    scores = h @ p["W2"] + p["b2"]
    scores -= scores.max(axis=1, keepdims=True)
    probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(probs[np.arange(bs), y] + 1e-300))
    dscores = probs.copy()
    dscores[np.arange(bs), y] -= 1
    dscores /= bs
    dW2 = h.T @ dscores; db2 = dscores.sum(axis=0)
    dh = dscores @ p["W2"].T
    dh[h <= 0] = 0
    dW1 = X.T @ dh; db1 = dh.sum(axis=0)
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}, h, scores


def step(p, X, y, lr):
    """The loop's update on one batch (in place); returns the loss (examine's step function)."""
    loss, g, _, _ = forward_backward(p, X, y)
    for k in p:
        p[k] -= lr * g[k]
    return loss


def examine_case(bug):
    """The program as doctor.examine's arguments: its step function, init and data."""
    X_train, ytr, _, _ = _data(bug)
    return {"step": step, "params": _init(np.random.default_rng(0)), "X": X_train, "y": ytr,
            "lr": 0.1, "batch_size": 64, "grad": lambda p, X, y: forward_backward(p, X, y)[1],
            "train_steps": 160,
            "predict": lambda p, X: np.maximum(0, X @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]}


def _run(doctor, raw):
    X_train, ytr, X_test, yte = _data(raw)
    reports = [doctor.check_data(X_train, ytr, X_test, yte)]

    rng = np.random.default_rng(0)
    p = _init(rng)
    lr, bs = 0.1, 64
    names = ["W1", "b1", "W2", "b2"]
    rec = doctor.Recorder(names)
    losses = []
    for it in range(160):
        idx = rng.choice(len(X_train), bs, replace=False)
        X, y = X_train[idx], ytr[idx]
        loss, g, h, scores = forward_backward(p, X, y)
        losses.append(loss)
        for k in names:
            p[k] -= lr * g[k]
        rec.log(it, loss=loss, weights=[p[k] for k in names], grads=[g[k] for k in names],
                activations=[h], logits=scores, labels=y)
    reports.append(rec.report())
    pred = (np.maximum(0, X_test @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]).argmax(axis=1)
    return reports, {"loss_start": losses[0], "loss_end": float(np.mean(losses[-10:])),
                     "accuracy": float(np.mean(pred == yte)), "chance": 0.1}


def buggy(doctor):
    return _run(doctor, raw=True)


def fixed(doctor):
    return _run(doctor, raw=False)
