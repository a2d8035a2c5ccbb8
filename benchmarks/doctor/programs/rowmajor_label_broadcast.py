"""An 8-32-1 tanh regression MLP (rows = samples) on synthetic data. The network outputs
predictions of shape (N, 1) but the targets are a flat (N,) vector, so pred - y broadcasts to an
(N, N) matrix. The learner hit a shape error in the backward pass and "fixed" it by averaging the
residual over axis 1, which turns every sample's error into pred_i - mean(y): the net learns to
predict the mean and R^2 stays near 0 while the printed MSE (over the N x N matrix) levels off."""
import numpy as np

STYLE = "rowmajor"
EXPECTED = ["LABEL_SHAPE"]


def _run(doctor, bug):
    rng = np.random.default_rng(9)
    X = rng.normal(size=(800, 8))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1] * X[:, 2] - 0.3 * X[:, 3] + 0.05 * rng.normal(size=800)
    Xtr, ytr, Xte, yte = X[:600], y[:600], X[600:], y[600:]
    if not bug:
        ytr, yte = ytr.reshape(-1, 1), yte.reshape(-1, 1)
    reports = [doctor.check_data(Xtr, ytr, Xte, yte, classification=False)]
    W1 = rng.normal(size=(8, 32)) / np.sqrt(8); b1 = np.zeros(32)
    W2 = rng.normal(size=(32, 1)) / np.sqrt(32); b2 = np.zeros(1)
    rec = doctor.Recorder(["W1", "b1", "W2", "b2"])
    mse = []
    for it in range(800):
        idx = rng.choice(600, 100, replace=False)
        xb, yb = Xtr[idx], ytr[idx]
        h = np.tanh(xb @ W1 + b1)
        pred = h @ W2 + b2
        resid = pred - yb                       # (100, 100) when yb is (100,)
        mse.append(float(np.mean(resid ** 2)))
        if resid.ndim == 2 and resid.shape[1] != 1:
            resid = resid.mean(axis=1, keepdims=True)
        dpred = 2 * resid / len(xb)
        dW2 = h.T @ dpred; db2 = dpred.sum(0)
        dz = dpred @ W2.T * (1 - h ** 2)
        dW1 = xb.T @ dz; db1 = dz.sum(0)
        W1 -= 0.3 * dW1; b1 -= 0.3 * db1; W2 -= 0.3 * dW2; b2 -= 0.3 * db2
        if it % 4 == 0:
            rec.log(it, loss=mse[-1], weights=[W1, b1, W2, b2], grads=[dW1, db1, dW2, db2],
                    activations=[h], logits=pred, labels=yb)
    reports.append(rec.report())
    p = (np.tanh(Xte @ W1 + b1) @ W2 + b2).ravel()
    t = np.ravel(yte)
    r2 = 1 - np.sum((p - t) ** 2) / np.sum((t - t.mean()) ** 2)
    return reports, {"loss_start": mse[0], "loss_end": mse[-1], "r2": float(r2)}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
