"""Simple linear regression of the boiling time of water (minutes) on the volume (litres),
y = 3 x + 4 plus noise, by gradient descent on the mean squared error. The learner's model is
y_hat = w * x, with no intercept ("a line is just a slope"), and the volumes run from 0.5 to
2.5: the best line through the origin tilts to fit the offset, the residuals are systematic,
and R^2 on held-out data is poor. Adding a learned intercept b makes it fit."""
import numpy as np

STYLE = "classic"
EXPECTED = ["NO_BIAS", "NOT_LEARNING"]   # NO_BIAS: proposed code


def _data():
    rng = np.random.default_rng(107)
    x = rng.uniform(0.5, 2.5, 300)
    y = 3 * x + 4 + 0.3 * rng.normal(size=300)
    return x[:200], y[:200], x[200:], y[200:]


def forward_backward(p, x, y):
    """The mean squared error and its gradients {"w"[, "b"]} (no intercept unless p has "b")."""
    with_b = "b" in p
    pred = p["w"][0] * x + (p["b"][0] if with_b else 0.0)
    e = pred - y
    g = {"w": np.array([2 * np.mean(e * x)])}
    if with_b:
        g["b"] = np.array([2 * np.mean(e)])
    return np.mean(e ** 2), g, pred


def step(p, x, y, lr):
    """One batch gradient descent step (in place); returns the loss before it."""
    loss, g, _ = forward_backward(p, x, y)
    for k in p:
        p[k] -= lr * g[k]
    return loss


def examine_case(bug):
    """The program as doctor.examine's arguments (full batch, as the loop trains)."""
    xtr, ytr, _, _ = _data()
    params = {"w": np.zeros(1)} if bug else {"w": np.zeros(1), "b": np.zeros(1)}
    return {"step": lambda p, X, y, lr: step(p, X[:, 0], y, lr), "params": params, "X": xtr[:, None],
            "y": ytr, "lr": 0.1, "batch_size": len(xtr),
            "grad": lambda p, X, y: forward_backward(p, X[:, 0], y)[1],
            "train_steps": 400,
            "predict": lambda p, X: p["w"][0] * X[:, 0] + (p["b"][0] if "b" in p else 0.0)}


def _run(doctor, with_b):
    xtr, ytr, xte, yte = _data()
    reports = [doctor.check_data(xtr[:, None], ytr, xte[:, None], yte, classification=False)]
    p = {"w": np.zeros(1), "b": np.zeros(1)} if with_b else {"w": np.zeros(1)}
    rec = doctor.Recorder(["w", "b"] if with_b else ["w"])
    mse = []
    for it in range(400):
        loss, g, pred = forward_backward(p, xtr, ytr)
        mse.append(loss)
        for k in p:
            p[k] -= 0.1 * g[k]
        if it % 4 == 0:
            rec.log(it, loss=mse[-1], weights=[p[k].copy() for k in p], grads=[g[k] for k in p],
                    logits=pred, labels=ytr)
    reports.append(rec.report())
    pr = p["w"][0] * xte + (p["b"][0] if with_b else 0.0)
    r2 = 1 - np.sum((pr - yte) ** 2) / np.sum((yte - yte.mean()) ** 2)
    return reports, {"loss_start": mse[0], "loss_end": mse[-1], "r2": float(r2)}


def buggy(doctor):
    return _run(doctor, False)


def fixed(doctor):
    return _run(doctor, True)
