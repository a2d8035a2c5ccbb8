"""Batch gradient descent for linear regression on house data: floor area in square feet
(500-4000), lot size in square feet (2000-20000) and year built (1900-2020), price in thousands.
The learner uses the raw features with lr = 0.01 and an intercept column. The gradient of the
mean squared error is of order x^2 ~ 1e8 per unit of weight: the first step overshoots by a
factor of millions, the loss overflows to inf and the weights to NaN within ten iterations.
Standardising the features (training statistics) lets lr = 0.1 converge."""
import numpy as np

STYLE = "classic"
EXPECTED = ["INPUT_SCALE", "LR_TOO_HIGH"]


def _houses(rng, n):
    area = rng.uniform(500, 4000, n)
    lot = rng.uniform(2000, 20000, n)
    year = rng.integers(1900, 2021, n).astype(float)
    price = 20 + 0.15 * area + 0.004 * lot + 0.6 * (year - 1900) + rng.normal(0, 25, n)
    return np.c_[area, lot, year], price


def _data(bug):
    rng = np.random.default_rng(101)
    X, y = _houses(rng, 400)
    Xt, yt = _houses(rng, 100)
    if not bug:
        mu, sd = X.mean(0), X.std(0)
        X, Xt = (X - mu) / sd, (Xt - mu) / sd
    return X, y, Xt, yt


def cost_grad(theta, X, y):
    """J = |A theta - y|^2 / 2m and its gradient, A = [1, X]."""
    A = np.c_[np.ones(len(X)), X]
    residual = A @ theta - y
    return (residual @ residual) / (2 * len(y)), A.T @ residual / len(y)


def step(p, X, y, lr):
    """One batch gradient descent step (theta replaced, as the loop writes it); returns J."""
    cost, grad = cost_grad(p["theta"], X, y)
    p["theta"] = p["theta"] - lr * grad
    return cost


def examine_case(bug):
    """The program as doctor.examine's arguments (full batch, as the loop trains)."""
    X, y, _, _ = _data(bug)
    return {"step": step, "params": {"theta": np.zeros(4)}, "X": X, "y": y, "lr": 0.01 if bug else 0.1,
            "batch_size": len(X), "grad": lambda p, X, y: {"theta": cost_grad(p["theta"], X, y)[1]},
            "train_steps": 200,
            "predict": lambda p, X: np.c_[np.ones(len(X)), X] @ p["theta"]}


def _run(doctor, bug):
    X, y, Xt, yt = _data(bug)
    reports = [doctor.check_data(X, y, Xt, yt, classification=False)]
    A, At = np.c_[np.ones(len(X)), X], np.c_[np.ones(len(Xt)), Xt]
    theta = np.zeros(4)
    lr = 0.01 if bug else 0.1
    rec = doctor.Recorder(["theta"])
    costs = []
    for it in range(200):
        cost, grad = cost_grad(theta, X, y)
        theta = theta - lr * grad
        costs.append(cost)
        rec.log(it, loss=cost, weights=[theta], grads=[grad], logits=A @ theta, labels=y)
    reports.append(rec.report())
    r2 = 1 - np.sum((At @ theta - yt) ** 2) / np.sum((yt - yt.mean()) ** 2)
    return reports, {"loss_start": costs[0], "loss_end": costs[-1], "r2": float(r2)}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
