"""Correct program: binary logistic regression trained by stochastic gradient descent, one
point per step, on two Gaussian blobs in 2-D centred away from the origin (so the bias matters),
lr 0.1, three passes in shuffled order. It separates the blobs (~95%); nothing is wrong."""
import numpy as np

STYLE = "online"
EXPECTED = []


def _data():
    rng = np.random.default_rng(50)
    n = 300
    X = np.vstack([rng.normal([3, 3], 0.8, (n, 2)), rng.normal([5, 5.5], 0.8, (n, 2))])
    y = np.r_[np.zeros(n), np.ones(n)].astype(int)
    perm = rng.permutation(2 * n)
    X, y = X[perm], y[perm]
    Xtr, ytr, Xte, yte = X[:450], y[:450], X[450:], y[450:]
    mean, std = Xtr.mean(0), Xtr.std(0)
    return (Xtr - mean) / std, ytr, (Xte - mean) / std, yte, rng


def learn(p, x, t, lr):
    """One point, in place: (log-loss, gw, gb, probability)."""
    prob = 1 / (1 + np.exp(-(x @ p["w"] + p["b"][0])))
    loss = -(t * np.log(prob + 1e-12) + (1 - t) * np.log(1 - prob + 1e-12))
    gw, gb = (prob - t) * x, prob - t
    p["w"] -= lr * gw
    p["b"] -= lr * gb
    return loss, gw, gb, prob


def examine_case(bug=False):
    """The program as doctor.examine's arguments: one point a step, as the loop trains."""
    Xtr, ytr, _, _, _ = _data()
    return {"step": lambda p, X, y, lr: float(np.mean([learn(p, x, t, lr)[0] for x, t in zip(X, y)])),
            "params": {"w": np.zeros(2), "b": np.zeros(1)}, "X": Xtr, "y": ytr, "lr": 0.1,
            "batch_size": 1, "steps": 300,
            "train_steps": 1350}


def fixed(doctor):
    Xtr, ytr, Xte, yte, rng = _data()
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    p = {"w": np.zeros(2), "b": np.zeros(1)}
    rec = doctor.Recorder(["w", "b"])
    losses, t = [], 0
    for epoch in range(3):
        for i in rng.permutation(len(Xtr)):
            loss, gw, gb, prob = learn(p, Xtr[i], ytr[i], 0.1)
            losses.append(loss)
            if t % 5 == 0:
                rec.log(t, loss=losses[-1], weights=[p["w"], p["b"]], grads=[gw, np.array([gb])],
                        logits=np.array([prob]), labels=np.array([ytr[i]]))
            t += 1
    reports.append(rec.report())
    w, b = p["w"], p["b"][0]
    acc = np.mean(((Xte @ w + b) > 0).astype(int) == yte)
    return reports, {"loss_start": float(np.mean(losses[:30])), "loss_end": float(np.mean(losses[-100:])),
                     "accuracy": float(acc), "chance": 0.5}
