"""Linear regression by batch gradient descent with the weights as a flat vector w of shape (d,),
so X @ w is (N,), while the targets were loaded as a column, y of shape (N, 1) (df[["price"]]
in the learner's notebook). X @ w - y broadcasts to an (N, N) matrix; the learner, puzzled by
the gradient's shape, averaged it over axis 0, which makes every residual pred_j - mean(y): the
model learns to predict the mean and R^2 stays at 0 while the printed cost levels off at the
variance of y."""
import numpy as np

STYLE = "classic"
EXPECTED = ["LABEL_SHAPE"]


def _data(bug):
    rng = np.random.default_rng(103)
    X = rng.normal(size=(500, 4))
    price = X @ np.array([3.0, -2.0, 1.0, 0.5]) + 10 + 0.3 * rng.normal(size=500)
    y = price.reshape(-1, 1) if bug else price
    return X[:400], y[:400], X[400:], y[400:]


def forward_backward(p, X, y):
    """The mean squared error (over the (N, N) broadcast when y is a column), the gradients
    {"w", "b"} the loop computes, and the predictions."""
    pred = X @ p["w"] + p["b"][0]
    err = pred - y                            # (400, 400) when y is a column
    cost = float(np.mean(err ** 2))
    if err.ndim == 2:
        err = err.mean(axis=0)
    return cost, {"w": 2 * X.T @ err / len(X), "b": np.array([2 * err.mean()])}, pred


def step(p, X, y, lr):
    """One batch gradient descent step (in place); returns the cost before it."""
    cost, g, _ = forward_backward(p, X, y)
    p["w"] -= lr * g["w"]; p["b"] -= lr * g["b"]
    return cost


def examine_case(bug):
    """The program as doctor.examine's arguments (full batch, as the loop trains)."""
    Xtr, ytr, _, _ = _data(bug)
    return {"step": step, "params": {"w": np.zeros(4), "b": np.zeros(1)}, "X": Xtr, "y": ytr,
            "lr": 0.05, "batch_size": len(Xtr), "grad": lambda p, X, y: forward_backward(p, X, y)[1],
            "train_steps": 300,
            "predict": lambda p, X: X @ p["w"] + p["b"][0]}


def _run(doctor, bug):
    Xtr, ytr, Xte, yte = _data(bug)
    reports = [doctor.check_data(Xtr, ytr, Xte, yte, classification=False)]
    p = {"w": np.zeros(4), "b": np.zeros(1)}
    rec = doctor.Recorder(["w", "b"])
    costs = []
    for it in range(300):
        cost, g, pred = forward_backward(p, Xtr, ytr)
        costs.append(cost)
        p["w"] -= 0.05 * g["w"]
        p["b"] -= 0.05 * g["b"]
        if it % 3 == 0:
            rec.log(it, loss=costs[-1], weights=[p["w"], p["b"]], grads=[g["w"], g["b"]],
                    logits=pred, labels=ytr)
    reports.append(rec.report())
    pr, t = Xte @ p["w"] + p["b"][0], np.ravel(yte)
    r2 = 1 - np.sum((pr - t) ** 2) / np.sum((t - t.mean()) ** 2)
    return reports, {"loss_start": costs[0], "loss_end": costs[-1], "r2": float(r2)}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
