"""Linear regression by batch gradient descent with the weights as a flat vector w of shape (d,),
so X @ w is (N,), while the targets were loaded as a column, y of shape (N, 1) (df[["price"]]
in the learner's notebook). X @ w - y broadcasts to an (N, N) matrix; the learner, puzzled by
the gradient's shape, averaged it over axis 0, which makes every residual pred_j - mean(y): the
model learns to predict the mean and R^2 stays at 0 while the printed cost levels off at the
variance of y."""
import numpy as np

STYLE = "classic"
EXPECTED = ["LABEL_SHAPE"]


def _run(doctor, bug):
    rng = np.random.default_rng(103)
    X = rng.normal(size=(500, 4))
    price = X @ np.array([3.0, -2.0, 1.0, 0.5]) + 10 + 0.3 * rng.normal(size=500)
    y = price.reshape(-1, 1) if bug else price
    Xtr, ytr, Xte, yte = X[:400], y[:400], X[400:], y[400:]
    reports = [doctor.check_data(Xtr, ytr, Xte, yte, classification=False)]
    w, b = np.zeros(4), 0.0
    rec = doctor.Recorder(["w", "b"])
    costs = []
    for it in range(300):
        pred = Xtr @ w + b
        err = pred - ytr                            # (400, 400) when ytr is a column
        costs.append(float(np.mean(err ** 2)))
        if err.ndim == 2:
            err = err.mean(axis=0)
        gw, gb = 2 * Xtr.T @ err / len(Xtr), 2 * err.mean()
        w -= 0.05 * gw
        b -= 0.05 * gb
        if it % 3 == 0:
            rec.log(it, loss=costs[-1], weights=[w, np.array([b])], grads=[gw, np.array([gb])],
                    logits=pred, labels=ytr)
    reports.append(rec.report())
    p, t = Xte @ w + b, np.ravel(yte)
    r2 = 1 - np.sum((p - t) ** 2) / np.sum((t - t.mean()) ** 2)
    return reports, {"loss_start": costs[0], "loss_end": costs[-1], "r2": float(r2)}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
