"""An 8-32-1 tanh regression MLP (rows = samples) on synthetic data. The network outputs
predictions of shape (N, 1) but the targets are a flat (N,) vector, so pred - y broadcasts to an
(N, N) matrix. The learner hit a shape error in the backward pass and "fixed" it by averaging the
residual over axis 1, which turns every sample's error into pred_i - mean(y): the net learns to
predict the mean and R^2 stays near 0 while the printed MSE (over the N x N matrix) levels off."""
import numpy as np

STYLE = "rowmajor"
EXPECTED = ["LABEL_SHAPE"]


def _data(bug):
    rng = np.random.default_rng(9)
    X = rng.normal(size=(800, 8))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1] * X[:, 2] - 0.3 * X[:, 3] + 0.05 * rng.normal(size=800)
    Xtr, ytr, Xte, yte = X[:600], y[:600], X[600:], y[600:]
    if not bug:
        ytr, yte = ytr.reshape(-1, 1), yte.reshape(-1, 1)
    return Xtr, ytr, Xte, yte, rng


def _init(rng):
    return {"W1": rng.normal(size=(8, 32)) / np.sqrt(8), "b1": np.zeros(32),
            "W2": rng.normal(size=(32, 1)) / np.sqrt(32), "b2": np.zeros(1)}


def forward_backward(p, xb, yb):
    """The batch's mean squared error (over the broadcast when yb is 1-D), the loop's
    gradients (a dict like p), hidden activations and predictions."""
    h = np.tanh(xb @ p["W1"] + p["b1"])
    pred = h @ p["W2"] + p["b2"]
    resid = pred - yb                       # (100, 100) when yb is (100,)
    mse = float(np.mean(resid ** 2))
    if resid.ndim == 2 and resid.shape[1] != 1:
        resid = resid.mean(axis=1, keepdims=True)
    dpred = 2 * resid / len(xb)
    dz = dpred @ p["W2"].T * (1 - h ** 2)
    return mse, {"W1": xb.T @ dz, "b1": dz.sum(0), "W2": h.T @ dpred, "b2": dpred.sum(0)}, h, pred


def step(p, xb, yb, lr):
    """The loop's update on one batch (in place); returns the loss before it."""
    loss, g, _, _ = forward_backward(p, xb, yb)
    for k in ("W1", "b1", "W2", "b2"):
        p[k] -= lr * g[k]
    return loss


def examine_case(bug):
    """The program as doctor.examine's arguments: its step function, init and data."""
    Xtr, ytr, _, _, rng = _data(bug)
    return {"step": step, "params": _init(rng), "X": Xtr, "y": ytr, "lr": 0.3, "batch_size": 100,
            "grad": lambda p, X, y: forward_backward(p, X, y)[1],
            "train_steps": 800,
            "predict": lambda p, X: np.tanh(X @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]}


def _run(doctor, bug):
    Xtr, ytr, Xte, yte, rng = _data(bug)
    reports = [doctor.check_data(Xtr, ytr, Xte, yte, classification=False)]
    p = _init(rng)
    names = ["W1", "b1", "W2", "b2"]
    rec = doctor.Recorder(names)
    mse = []
    for it in range(800):
        idx = rng.choice(600, 100, replace=False)
        xb, yb = Xtr[idx], ytr[idx]
        loss, g, h, pred = forward_backward(p, xb, yb)
        mse.append(loss)
        for k in names:
            p[k] -= 0.3 * g[k]
        if it % 4 == 0:
            rec.log(it, loss=mse[-1], weights=[p[k] for k in names], grads=[g[k] for k in names],
                    activations=[h], logits=pred, labels=yb)
    reports.append(rec.report())
    pr = (np.tanh(Xte @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]).ravel()
    t = np.ravel(yte)
    r2 = 1 - np.sum((pr - t) ** 2) / np.sum((t - t.mean()) ** 2)
    return reports, {"loss_start": mse[0], "loss_end": mse[-1], "r2": float(r2)}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
