"""A 784-64-10 ReLU/softmax MNIST net. To centre the pixels in [-1, 1] the learner writes
(X - 128) / 128 on the uint8 arrays straight from the loader. X - 128 is computed in uint8 and
wraps around (0 becomes 128, 255 becomes 127), so both background and full ink end up near +1
and only the anti-aliased edge pixels differ; the digits are mostly erased before training
starts. Converting to float first ((X.astype(float) - 128) / 128) fixes it."""
import numpy as np

from ._data import mnist

STYLE = "rowmajor"
EXPECTED = ["INPUT_WRAPPED", "NOT_LEARNING"]   # INPUT_WRAPPED: proposed code (integer overflow in preprocessing)


def _data(bug):
    Xtr, ytr, Xte, yte = mnist(1500, 500, seed=10)
    if bug:
        return (Xtr - 128) / 128, ytr, (Xte - 128) / 128, yte
    return (Xtr.astype(np.float64) - 128) / 128, ytr, (Xte.astype(np.float64) - 128) / 128, yte


def _init(rng):
    return {"W1": rng.normal(0, np.sqrt(2 / 784), (784, 64)), "b1": np.zeros(64),
            "W2": rng.normal(0, np.sqrt(1 / 64), (64, 10)), "b2": np.zeros(10)}


def forward_backward(p, x, t):
    """One batch's loss, gradients (a dict like p), hidden activations and logits."""
    n = len(x)
    z = x @ p["W1"] + p["b1"]; a = np.maximum(z, 0)
    o = a @ p["W2"] + p["b2"]
    o = o - o.max(1, keepdims=True)
    pr = np.exp(o); pr /= pr.sum(1, keepdims=True)
    loss = -np.mean(np.log(pr[np.arange(n), t]))
    g = pr; g[np.arange(n), t] -= 1; g /= n
    ga = g @ p["W2"].T; ga[z <= 0] = 0
    return loss, {"W1": x.T @ ga, "b1": ga.sum(0), "W2": a.T @ g, "b2": g.sum(0)}, a, o


def step(p, x, t, lr):
    """The loop's update on one batch (in place); returns the loss (examine's step function)."""
    loss, g, _, _ = forward_backward(p, x, t)
    for k in p:
        p[k] -= lr * g[k]
    return loss


def examine_case(bug):
    """The program as doctor.examine's arguments: its step function, init and data."""
    Xtr, ytr, _, _ = _data(bug)
    return {"step": step, "params": _init(np.random.default_rng(10)), "X": Xtr, "y": ytr, "lr": 0.05,
            "batch_size": 50, "grad": lambda p, X, y: forward_backward(p, X, y)[1],
            "train_steps": 150,
            "predict": lambda p, X: np.maximum(X @ p["W1"] + p["b1"], 0) @ p["W2"] + p["b2"]}


def _run(doctor, bug):
    Xtr, ytr, Xte, yte = _data(bug)
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    rng = np.random.default_rng(10)
    p = _init(rng)
    names = ["W1", "b1", "W2", "b2"]
    rec = doctor.Recorder(names)
    L = []
    for it in range(150):
        i = rng.integers(0, len(Xtr), 50)
        x, t = Xtr[i], ytr[i]
        loss, g, a, o = forward_backward(p, x, t)
        L.append(loss)
        for k in names:
            p[k] -= 0.05 * g[k]
        if it % 2 == 0:
            rec.log(it, loss=L[-1], weights=[p[k] for k in names], grads=[g[k] for k in names],
                    activations=[a], logits=o, labels=t)
    reports.append(rec.report())
    acc = np.mean((np.maximum(Xte @ p["W1"] + p["b1"], 0) @ p["W2"] + p["b2"]).argmax(1) == yte)
    return reports, {"loss_start": L[0], "loss_end": float(np.mean(L[-10:])), "accuracy": float(acc),
                     "chance": 0.1}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
