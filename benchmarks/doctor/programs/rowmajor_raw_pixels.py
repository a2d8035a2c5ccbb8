"""A two-layer ReLU/softmax net on MNIST written CS231n-style (X @ W, W of shape (in, out),
mini-batches of 64, SGD at lr 0.1). The learner casts the uint8 pixels to float but never
divides by 255, so the first layer sees inputs up to 255: the logits explode in the first steps,
the loss turns to inf/NaN or most hidden units die, and accuracy stays at chance."""
import numpy as np

from ._data import mnist

STYLE = "rowmajor"
EXPECTED = ["INPUT_SCALE"]


def _run(doctor, raw):
    Xtr, ytr, Xte, yte = mnist(1500, 500, seed=1)
    if raw:
        X_train, X_test = Xtr.astype(np.float64), Xte.astype(np.float64)
    else:
        X_train, X_test = Xtr / 255.0, Xte / 255.0
    reports = [doctor.check_data(X_train, ytr, X_test, yte)]

    rng = np.random.default_rng(0)
    D, H, C = 784, 64, 10
    W1 = 0.01 * rng.standard_normal((D, H)); b1 = np.zeros(H)
    W2 = 0.01 * rng.standard_normal((H, C)); b2 = np.zeros(C)
    lr, bs = 0.1, 64
    rec = doctor.Recorder(["W1", "b1", "W2", "b2"])
    losses = []
    for step in range(160):
        idx = rng.choice(len(X_train), bs, replace=False)
        X, y = X_train[idx], ytr[idx]
        h = np.maximum(0, X @ W1 + b1)
        scores = h @ W2 + b2
        scores -= scores.max(axis=1, keepdims=True)
        probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
        loss = -np.mean(np.log(probs[np.arange(bs), y] + 1e-300))
        losses.append(loss)
        dscores = probs.copy()
        dscores[np.arange(bs), y] -= 1
        dscores /= bs
        dW2 = h.T @ dscores; db2 = dscores.sum(axis=0)
        dh = dscores @ W2.T
        dh[h <= 0] = 0
        dW1 = X.T @ dh; db1 = dh.sum(axis=0)
        W1 -= lr * dW1; b1 -= lr * db1; W2 -= lr * dW2; b2 -= lr * db2
        rec.log(step, loss=loss, weights=[W1, b1, W2, b2], grads=[dW1, db1, dW2, db2],
                activations=[h], logits=scores, labels=y)
    reports.append(rec.report())
    pred = (np.maximum(0, X_test @ W1 + b1) @ W2 + b2).argmax(axis=1)
    return reports, {"loss_start": losses[0], "loss_end": float(np.mean(losses[-10:])),
                     "accuracy": float(np.mean(pred == yte)), "chance": 0.1}


def buggy(doctor):
    return _run(doctor, raw=True)


def fixed(doctor):
    return _run(doctor, raw=False)
