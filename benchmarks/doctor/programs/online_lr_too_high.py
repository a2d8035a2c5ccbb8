"""Plain online SGD on MNIST: one image per step, a 784-64-10 ReLU/softmax net stored as
W1 (784, 64) and W2 (64, 10), pixels scaled to 0..1. Impatient with the slow start, the
learner sets lr = 0.5. For single-sample updates that is far too large: within a few hundred
steps a handful of huge updates kill most ReLUs and the net answers one class."""
import numpy as np

from ._data import mnist

STYLE = "online"
EXPECTED = ["LR_TOO_HIGH"]


def _data():
    Xtr, ytr, Xte, yte = mnist(2000, 500, seed=40)
    return Xtr / 255.0, ytr, Xte / 255.0, yte


def _init(rng):
    return {"W1": rng.normal(0, np.sqrt(2 / 784), (784, 64)), "b1": np.zeros(64),
            "W2": rng.normal(0, np.sqrt(1 / 64), (64, 10)), "b2": np.zeros(10)}


def sample_step(p, x, label, lr):
    """One online SGD step on one image (in place): (loss, gradients, hidden, scores)."""
    z = x @ p["W1"] + p["b1"]
    h = np.maximum(z, 0)
    s = h @ p["W2"] + p["b2"]
    pr = np.exp(s - s.max()); pr /= pr.sum()
    loss = -np.log(pr[label] + 1e-12)
    ds = pr.copy(); ds[label] -= 1
    g = {"W2": np.outer(h, ds), "b2": ds}
    dh = (p["W2"] @ ds) * (z > 0)
    g["W1"], g["b1"] = np.outer(x, dh), dh
    for k in ("W1", "b1", "W2", "b2"):
        p[k] -= lr * g[k]
    return loss, g, h, s


def step(p, X, y, lr):
    """examine's step function: the loop's online steps over a batch's samples, one at a time;
    returns their mean loss."""
    return float(np.mean([sample_step(p, x, t, lr)[0] for x, t in zip(X, y)]))


def examine_case(bug):
    """The program as doctor.examine's arguments: one sample a step, as the loop trains."""
    Xtr, ytr, _, _ = _data()
    return {"step": step, "params": _init(np.random.default_rng(40)), "X": Xtr, "y": ytr,
            "lr": 0.5 if bug else 0.01, "batch_size": 1, "steps": 300,
            "train_steps": 2000}


def _run(doctor, lr):
    Xtr, ytr, Xte, yte = _data()
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    rng = np.random.default_rng(40)
    p = _init(rng)
    names = ["W1", "b1", "W2", "b2"]
    rec = doctor.Recorder(names)
    losses = []
    for i, n in enumerate(rng.permutation(2000)):
        loss, g, h, s = sample_step(p, Xtr[n], ytr[n], lr)
        losses.append(loss)
        if i % 10 == 0:
            rec.log(i, loss=losses[-1], weights=[p[k] for k in names], grads=[g[k] for k in names],
                    activations=[h], logits=s, labels=ytr[n])
    reports.append(rec.report())
    acc = np.mean((np.maximum(Xte @ p["W1"] + p["b1"], 0) @ p["W2"] + p["b2"]).argmax(1) == yte)
    return reports, {"loss_start": float(np.mean(losses[:50])), "loss_end": float(np.mean(losses[-200:])),
                     "accuracy": float(acc), "chance": 0.1}


def buggy(doctor):
    return _run(doctor, 0.5)


def fixed(doctor):
    return _run(doctor, 0.01)
