"""The same house-price regression by batch gradient descent on raw features (square feet in
the thousands, distance to the centre in metres, age in years), after the learner "fixed" the
NaNs by lowering the learning rate until they went away: lr = 1e-8. Nothing overflows now, but
along the intercept and the small-scale features the steps are ~1e-8 of what they need to be:
after 300 iterations the intercept is still ~0 and the fit is poor. Standardising the features
and using lr = 0.1 fits it."""
import numpy as np

STYLE = "classic"
EXPECTED = ["INPUT_SCALE", "LR_TOO_LOW"]


def _data(bug):
    rng = np.random.default_rng(102)
    n = 500
    sqft = rng.uniform(600, 3500, n)
    dist = rng.uniform(200, 15000, n)
    age = rng.uniform(0, 60, n)
    price = 300 + 0.1 * sqft - 0.01 * dist - 2.0 * age + rng.normal(0, 15, n)
    X = np.c_[sqft, dist, age]
    Xtr, ytr, Xte, yte = X[:400], price[:400], X[400:], price[400:]
    if not bug:
        m, s = Xtr.mean(0), Xtr.std(0)
        Xtr, Xte = (Xtr - m) / s, (Xte - m) / s
    return Xtr, ytr, Xte, yte


def forward_backward(p, X, y):
    """The batch's mean squared error, its gradients {"w", "b"} and the predictions."""
    pred = X @ p["w"] + p["b"]
    err = pred - y
    return np.mean(err ** 2), {"w": 2 * X.T @ err / len(y), "b": np.array([2 * err.mean()])}, pred


def step(p, X, y, lr):
    """The loop's update on one batch (in place); returns the loss (examine's step function)."""
    loss, g, _ = forward_backward(p, X, y)
    p["w"] -= lr * g["w"]
    p["b"] -= lr * g["b"]
    return loss


def examine_case(bug):
    """The program as doctor.examine's arguments (full batch, as the loop trains)."""
    Xtr, ytr, _, _ = _data(bug)
    return {"step": step, "params": {"w": np.zeros(3), "b": np.zeros(1)}, "X": Xtr, "y": ytr,
            "lr": 1e-8 if bug else 0.1, "batch_size": len(Xtr),
            "grad": lambda p, X, y: forward_backward(p, X, y)[1],
            "train_steps": 300,
            "predict": lambda p, X: X @ p["w"] + p["b"][0]}


def _run(doctor, bug):
    Xtr, ytr, Xte, yte = _data(bug)
    reports = [doctor.check_data(Xtr, ytr, Xte, yte, classification=False)]
    p = {"w": np.zeros(3), "b": np.zeros(1)}
    lr = 1e-8 if bug else 0.1
    rec = doctor.Recorder(["w", "b"])
    losses = []
    for it in range(300):
        loss, g, pred = forward_backward(p, Xtr, ytr)
        losses.append(loss)
        p["w"] -= lr * g["w"]
        p["b"] -= lr * g["b"]
        if it % 3 == 0:
            rec.log(it, loss=losses[-1], weights=[p["w"], p["b"]], grads=[g["w"], g["b"]],
                    logits=pred, labels=ytr)
    reports.append(rec.report())
    w, b = p["w"], float(p["b"][0])
    r2 = 1 - np.sum((Xte @ w + b - yte) ** 2) / np.sum((yte - yte.mean()) ** 2)
    return reports, {"loss_start": losses[0], "loss_end": losses[-1], "r2": float(r2), "intercept": b}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
