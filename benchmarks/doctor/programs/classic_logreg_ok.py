"""Correct program: binary logistic regression by full-batch gradient descent on 0/1 labels,
three standardised features, weights (3,) and a scalar bias, the mean log-loss, lr 0.5, 300
iterations. ~90% test accuracy on overlapping classes; nothing is wrong."""
import numpy as np

STYLE = "classic"
EXPECTED = []


def fixed(doctor):
    rng = np.random.default_rng(111)
    n = 800
    y = (rng.random(n) < 0.5).astype(int)
    X = rng.normal(size=(n, 3)) + np.outer(y, [1.5, -1.0, 1.2])
    X = (X - X[:600].mean(0)) / X[:600].std(0)
    Xtr, ytr, Xte, yte = X[:600], y[:600], X[600:], y[600:]
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    w, b = np.zeros(3), 0.0
    rec = doctor.Recorder(["w", "b"])
    losses = []
    for it in range(300):
        z = Xtr @ w + b
        p = 1 / (1 + np.exp(-z))
        losses.append(float(-np.mean(ytr * np.log(p + 1e-12) + (1 - ytr) * np.log(1 - p + 1e-12))))
        dz = p - ytr
        dw, db = Xtr.T @ dz / len(ytr), dz.mean()
        w -= 0.5 * dw; b -= 0.5 * db
        if it % 3 == 0:
            rec.log(it, loss=losses[-1], weights=[w, np.array([b])], grads=[dw, np.array([db])],
                    logits=z, labels=ytr)
    reports.append(rec.report())
    acc = np.mean(((Xte @ w + b) > 0).astype(int) == yte)
    return reports, {"loss_start": losses[0], "loss_end": losses[-1], "accuracy": float(acc), "chance": 0.5}
