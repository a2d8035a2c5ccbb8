"""Linear regression by gradient descent on a table of car data (engine size, weight, age,
horsepower; standardised with np.mean / np.std) where about 3% of the horsepower entries are
missing and were read as NaN. The NaNs survive the standardisation (np.mean of a column with a
NaN is NaN, so the whole column becomes NaN), every prediction and gradient is NaN from the
first step, and the weights are NaN after one update. Filling the gaps with the training
median before scaling fixes it."""
import numpy as np

STYLE = "classic"
EXPECTED = ["NONFINITE_INPUT"]


def _cars(rng, n):
    engine = rng.uniform(1.0, 5.0, n)
    weight = 900 + 300 * engine + rng.normal(0, 100, n)
    age = rng.uniform(0, 15, n)
    hp = 40 * engine + rng.normal(0, 10, n)
    mpg = 55 - 4 * engine - 0.004 * weight + 0.3 * age - 0.05 * hp + rng.normal(0, 1.5, n)
    X = np.c_[engine, weight, age, hp]
    X[rng.random(n) < 0.03, 3] = np.nan
    return X, mpg


def _run(doctor, bug):
    rng = np.random.default_rng(108)
    X, y = _cars(rng, 500)
    Xt, yt = _cars(rng, 150)
    if not bug:
        med = np.nanmedian(X, axis=0)
        X = np.where(np.isnan(X), med, X)
        Xt = np.where(np.isnan(Xt), med, Xt)
    mu, sd = X.mean(axis=0), X.std(axis=0)
    X, Xt = (X - mu) / sd, (Xt - mu) / sd
    reports = [doctor.check_data(X, y, Xt, yt, classification=False)]
    w, b = np.zeros(4), 0.0
    rec = doctor.Recorder(["w", "b"])
    losses = []
    for it in range(300):
        pred = X @ w + b
        r = pred - y
        losses.append(float(np.mean(r ** 2)))
        gw, gb = 2 * X.T @ r / len(y), 2 * r.mean()
        w, b = w - 0.05 * gw, b - 0.05 * gb
        if it % 3 == 0:
            rec.log(it, loss=losses[-1], weights=[w, np.array([b])], grads=[gw, np.array([gb])],
                    logits=pred, labels=y)
    reports.append(rec.report())
    r2 = 1 - np.sum((Xt @ w + b - yt) ** 2) / np.sum((yt - yt.mean()) ** 2)
    return reports, {"loss_start": losses[0], "loss_end": losses[-1], "r2": float(r2)}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
