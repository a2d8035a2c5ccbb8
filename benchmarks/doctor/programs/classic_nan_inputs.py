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


def _data(bug):
    rng = np.random.default_rng(108)
    X, y = _cars(rng, 500)
    Xt, yt = _cars(rng, 150)
    if not bug:
        med = np.nanmedian(X, axis=0)
        X = np.where(np.isnan(X), med, X)
        Xt = np.where(np.isnan(Xt), med, Xt)
    mu, sd = X.mean(axis=0), X.std(axis=0)
    return (X - mu) / sd, y, (Xt - mu) / sd, yt


def forward_backward(p, X, y):
    """The mean squared error, its gradients {"w", "b"} and the predictions."""
    pred = X @ p["w"] + p["b"][0]
    r = pred - y
    return float(np.mean(r ** 2)), {"w": 2 * X.T @ r / len(y), "b": np.array([2 * r.mean()])}, pred


def step(p, X, y, lr):
    """One batch gradient descent step (p's arrays replaced, as w = w - lr * gw); returns the loss."""
    loss, g, _ = forward_backward(p, X, y)
    p["w"], p["b"] = p["w"] - lr * g["w"], p["b"] - lr * g["b"]
    return loss


def examine_case(bug):
    """The program as doctor.examine's arguments (full batch, as the loop trains)."""
    X, y, _, _ = _data(bug)
    return {"step": step, "params": {"w": np.zeros(4), "b": np.zeros(1)}, "X": X, "y": y, "lr": 0.05,
            "batch_size": len(X), "grad": lambda p, X, y: forward_backward(p, X, y)[1],
            "train_steps": 300,
            "predict": lambda p, X: X @ p["w"] + p["b"][0]}


def _run(doctor, bug):
    X, y, Xt, yt = _data(bug)
    reports = [doctor.check_data(X, y, Xt, yt, classification=False)]
    p = {"w": np.zeros(4), "b": np.zeros(1)}
    rec = doctor.Recorder(["w", "b"])
    losses = []
    for it in range(300):
        loss, g, pred = forward_backward(p, X, y)
        losses.append(loss)
        p["w"], p["b"] = p["w"] - 0.05 * g["w"], p["b"] - 0.05 * g["b"]
        if it % 3 == 0:
            rec.log(it, loss=losses[-1], weights=[p["w"], p["b"]], grads=[g["w"], g["b"]],
                    logits=pred, labels=y)
    reports.append(rec.report())
    r2 = 1 - np.sum((Xt @ p["w"] + p["b"][0] - yt) ** 2) / np.sum((yt - yt.mean()) ** 2)
    return reports, {"loss_start": losses[0], "loss_end": losses[-1], "r2": float(r2)}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
