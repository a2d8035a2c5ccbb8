"""Logistic regression by batch gradient descent on two standardised features. The learner's
notes write the gradient as X.T @ (y - p) / N (the form used with "w += lr * gradient"), but the
update line is w -= lr * gradient. The two sign conventions cancel into gradient *ascent* on the
log-loss: the weights grow in the wrong direction every step, the loss climbs past log 2 and
the classifier ends up worse than chance. The learner did run the doctor's gradient check on
its gradient function once."""
import numpy as np

STYLE = "classic"
EXPECTED = ["GRADIENT_MISMATCH"]


def _run(doctor, bug):
    rng = np.random.default_rng(105)
    n = 500
    X = np.vstack([rng.normal([-1, -1], 1.0, (n // 2, 2)), rng.normal([1.5, 1.0], 1.0, (n // 2, 2))])
    y = np.r_[np.zeros(n // 2), np.ones(n // 2)]
    p_ = rng.permutation(n)
    X, y = X[p_], y[p_]
    X = (X - X.mean(0)) / X.std(0)
    Xtr, ytr, Xte, yte = X[:400], y[:400], X[400:], y[400:]
    reports = [doctor.check_data(Xtr, ytr.astype(int), Xte, yte.astype(int))]

    def predict(w, b, A):
        return 1 / (1 + np.exp(-(A @ w + b)))

    def log_loss(params):
        w, b = params
        p = predict(w, b[0], Xtr)
        return -np.mean(ytr * np.log(p + 1e-12) + (1 - ytr) * np.log(1 - p + 1e-12))

    def gradient(w, b):
        p = predict(w, b, Xtr)
        r = (ytr - p) if bug else (p - ytr)
        return Xtr.T @ r / len(ytr), r.mean()

    w, b = rng.normal(0, 0.01, 2), 0.0
    gw, gb = gradient(w, b)
    reports.append(doctor.check_gradients(log_loss, [w, np.array([b])], [gw, np.array([gb])]))
    rec = doctor.Recorder(["w", "b"])
    losses = []
    for it in range(200):
        gw, gb = gradient(w, b)
        w -= 0.5 * gw
        b -= 0.5 * gb
        losses.append(log_loss([w, np.array([b])]))
        if it % 2 == 0:
            rec.log(it, loss=losses[-1], weights=[w, np.array([b])], grads=[gw, np.array([gb])],
                    logits=Xtr @ w + b, labels=ytr)
    reports.append(rec.report())
    acc = np.mean((predict(w, b, Xte) > 0.5) == yte)
    return reports, {"loss_start": losses[0], "loss_end": losses[-1], "accuracy": float(acc), "chance": 0.5}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
