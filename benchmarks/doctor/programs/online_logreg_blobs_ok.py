"""Correct program: binary logistic regression trained by stochastic gradient descent, one
point per step, on two Gaussian blobs in 2-D centred away from the origin (so the bias matters),
lr 0.1, three passes in shuffled order. It separates the blobs (~95%); nothing is wrong."""
import numpy as np

STYLE = "online"
EXPECTED = []


def fixed(doctor):
    rng = np.random.default_rng(50)
    n = 300
    X = np.vstack([rng.normal([3, 3], 0.8, (n, 2)), rng.normal([5, 5.5], 0.8, (n, 2))])
    y = np.r_[np.zeros(n), np.ones(n)].astype(int)
    perm = rng.permutation(2 * n)
    X, y = X[perm], y[perm]
    Xtr, ytr, Xte, yte = X[:450], y[:450], X[450:], y[450:]
    mean, std = Xtr.mean(0), Xtr.std(0)
    Xtr, Xte = (Xtr - mean) / std, (Xte - mean) / std
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    w, b = np.zeros(2), 0.0
    rec = doctor.Recorder(["w", "b"])
    losses, t = [], 0
    for epoch in range(3):
        for i in rng.permutation(len(Xtr)):
            p = 1 / (1 + np.exp(-(Xtr[i] @ w + b)))
            losses.append(-(ytr[i] * np.log(p + 1e-12) + (1 - ytr[i]) * np.log(1 - p + 1e-12)))
            gw, gb = (p - ytr[i]) * Xtr[i], p - ytr[i]
            w -= 0.1 * gw
            b -= 0.1 * gb
            if t % 5 == 0:
                rec.log(t, loss=losses[-1], weights=[w, np.array([b])], grads=[gw, np.array([gb])],
                        logits=np.array([p]), labels=np.array([ytr[i]]))
            t += 1
    reports.append(rec.report())
    acc = np.mean(((Xte @ w + b) > 0).astype(int) == yte)
    return reports, {"loss_start": float(np.mean(losses[:30])), "loss_end": float(np.mean(losses[-100:])),
                     "accuracy": float(acc), "chance": 0.5}
