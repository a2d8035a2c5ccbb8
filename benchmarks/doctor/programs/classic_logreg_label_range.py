"""Logistic regression on a CSV whose class column is coded 1 and 2 (benign = 1, malignant = 2),
fed straight into the sigmoid's binary cross-entropy as the target. For y = 2 the "probability"
target is outside [0, 1]: the error term p - y is negative for every sample of both classes,
so the bias only ever increases, the model outputs p -> 1 everywhere and the predictions (class
2 if p > 0.5) are a single class. Mapping the labels to 0/1 fixes it."""
import numpy as np

STYLE = "classic"
EXPECTED = ["LABEL_RANGE"]


def _run(doctor, bug):
    rng = np.random.default_rng(106)
    n = 600
    cls = rng.integers(1, 3, n)                        # 1 or 2, as in the file
    X = rng.normal(size=(n, 4)) + np.outer(cls == 2, [1.0, 1.0, -0.5, 0.8])
    X = (X - X.mean(0)) / X.std(0)
    target = cls.astype(float) if bug else (cls == 2).astype(float)
    Xtr, ttr, Xte, cte = X[:450], target[:450], X[450:], cls[450:]
    reports = [doctor.check_data(Xtr, ttr, Xte, (cte if bug else (cte == 2).astype(int)))]
    w, b = np.zeros(4), 0.0
    rec = doctor.Recorder(["w", "b"])
    losses = []
    for it in range(300):
        p = 1 / (1 + np.exp(-(Xtr @ w + b)))
        losses.append(float(-np.mean(ttr * np.log(p + 1e-12) + (1 - ttr) * np.log(1 - p + 1e-12))))
        g = p - ttr
        gw, gb = Xtr.T @ g / len(g), g.mean()
        w -= 0.3 * gw; b -= 0.3 * gb
        if it % 3 == 0:
            rec.log(it, loss=losses[-1], weights=[w, np.array([b])], grads=[gw, np.array([gb])],
                    logits=p, labels=ttr)
    reports.append(rec.report())
    pred = np.where(1 / (1 + np.exp(-(Xte @ w + b))) > 0.5, 2, 1)
    return reports, {"loss_start": losses[0], "loss_end": losses[-1],
                     "accuracy": float(np.mean(pred == cte)), "chance": 0.5}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
