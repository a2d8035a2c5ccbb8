"""Logistic regression by batch gradient descent on two standardised features. The learner's
notes write the gradient as X.T @ (y - p) / N (the form used with "w += lr * gradient"), but the
update line is w -= lr * gradient. The two sign conventions cancel into gradient *ascent* on the
log-loss: the weights grow in the wrong direction every step, the loss climbs past log 2 and
the classifier ends up worse than chance. The learner did run the doctor's gradient check on
its gradient function once."""
import numpy as np

STYLE = "classic"
EXPECTED = ["GRADIENT_MISMATCH"]


def _data():
    rng = np.random.default_rng(105)
    n = 500
    X = np.vstack([rng.normal([-1, -1], 1.0, (n // 2, 2)), rng.normal([1.5, 1.0], 1.0, (n // 2, 2))])
    y = np.r_[np.zeros(n // 2), np.ones(n // 2)]
    p_ = rng.permutation(n)
    X, y = X[p_], y[p_]
    X = (X - X.mean(0)) / X.std(0)
    return X[:400], y[:400], X[400:], y[400:], rng


def predict(w, b, A):
    return 1 / (1 + np.exp(-(A @ w + b)))


def log_loss(w, b, A, t):
    p = predict(w, b, A)
    return -np.mean(t * np.log(p + 1e-12) + (1 - t) * np.log(1 - p + 1e-12))


def gradient(w, b, A, t, bug):
    p = predict(w, b, A)
    r = (t - p) if bug else (p - t)
    return A.T @ r / len(t), r.mean()


def step(p, X, y, lr, bug=False):
    """The loop's update on one batch (in place); returns the log-loss before it."""
    loss = log_loss(p["w"], p["b"][0], X, y)
    gw, gb = gradient(p["w"], p["b"][0], X, y, bug)
    p["w"] -= lr * gw
    p["b"] -= lr * gb
    return loss


def examine_case(bug):
    """The program as doctor.examine's arguments (full batch, as the loop trains)."""
    Xtr, ytr, _, _, rng = _data()
    return {"step": lambda p, X, y, lr: step(p, X, y, lr, bug),
            "params": {"w": rng.normal(0, 0.01, 2), "b": np.zeros(1)}, "X": Xtr, "y": ytr.astype(int),
            "lr": 0.5, "batch_size": len(Xtr),
            "grad": lambda p, X, y: dict(zip(("w", "b"), map(np.atleast_1d, gradient(p["w"], p["b"][0], X, y, bug)))),
            "train_steps": 200,
            "predict": lambda p, X: X @ p["w"] + p["b"][0]}


def _run(doctor, bug):
    Xtr, ytr, Xte, yte, rng = _data()
    reports = [doctor.check_data(Xtr, ytr.astype(int), Xte, yte.astype(int))]

    def loss_of(params):
        w, b = params
        return log_loss(w, b[0], Xtr, ytr)

    w, b = rng.normal(0, 0.01, 2), 0.0
    gw, gb = gradient(w, b, Xtr, ytr, bug)
    reports.append(doctor.check_gradients(loss_of, [w, np.array([b])], [gw, np.array([gb])]))
    rec = doctor.Recorder(["w", "b"])
    losses = []
    for it in range(200):
        gw, gb = gradient(w, b, Xtr, ytr, bug)
        w -= 0.5 * gw
        b -= 0.5 * gb
        losses.append(loss_of([w, np.array([b])]))
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
