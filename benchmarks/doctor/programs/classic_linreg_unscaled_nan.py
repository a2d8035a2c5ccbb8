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


def _run(doctor, bug):
    rng = np.random.default_rng(101)
    X, y = _houses(rng, 400)
    Xt, yt = _houses(rng, 100)
    if not bug:
        mu, sd = X.mean(0), X.std(0)
        X, Xt = (X - mu) / sd, (Xt - mu) / sd
    reports = [doctor.check_data(X, y, Xt, yt, classification=False)]
    A, At = np.c_[np.ones(len(X)), X], np.c_[np.ones(len(Xt)), Xt]
    theta = np.zeros(4)
    lr = 0.01 if bug else 0.1
    rec = doctor.Recorder(["theta"])
    costs = []
    for it in range(200):
        residual = A @ theta - y
        cost = (residual @ residual) / (2 * len(y))
        grad = A.T @ residual / len(y)
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
