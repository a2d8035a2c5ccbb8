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


def _run(doctor, bug):
    rng = np.random.default_rng(5)
    X_all, Y_all = _make(rng, 600)
    Xtr, Ytr, Xte, Yte = X_all[:300], Y_all[:300], X_all[300:], Y_all[300:]
    reports = [doctor.check_data(Xtr, Ytr, Xte, Yte, classification=False)]
    W1 = rng.normal(size=(6, 16)) * 0.4; b1 = np.zeros((1, 16))
    W2 = rng.normal(size=(16, 2)) * 0.25; b2 = np.zeros((1, 2))
    lr, N = 0.05, len(Xtr)
    rec = doctor.Recorder(["W1", "b1", "W2", "b2"])
    losses = []
    for it in range(400):
        H = np.tanh(Xtr @ W1 + b1)
        P = H @ W2 + b2
        E = P - Ytr
        losses.append(float(np.mean(E ** 2)))
        dP = 2 * E / N
        dW2 = H.T @ dP
        db2 = np.sum(dP, axis=1, keepdims=True) if bug else np.sum(dP, axis=0, keepdims=True)
        dZ = (dP @ W2.T) * (1 - H ** 2)
        dW1 = Xtr.T @ dZ
        db1 = np.sum(dZ, axis=1, keepdims=True) if bug else np.sum(dZ, axis=0, keepdims=True)
        W1 = W1 - lr * dW1; b1 = b1 - lr * db1
        W2 = W2 - lr * dW2; b2 = b2 - lr * db2
        if it % 4 == 0:
            rec.log(it, loss=losses[-1], weights=[W1, b1, W2, b2], grads=[dW1, db1, dW2, db2],
                    activations=[H], logits=P, labels=Ytr)
    reports.append(rec.report())
    Pte = np.tanh(Xte @ W1 + b1) @ W2 + b2
    r2 = 1 - np.sum((Pte - Yte) ** 2) / np.sum((Yte - Yte.mean(0)) ** 2)
    return reports, {"loss_start": losses[0], "loss_end": losses[-1], "r2": float(r2)}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
