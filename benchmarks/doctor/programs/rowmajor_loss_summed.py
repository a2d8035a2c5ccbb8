"""A 784-100-10 ReLU/softmax MNIST net with mini-batches of 128. The learner writes the loss as
the *sum* of the per-sample cross-entropies (np.sum, no division by the batch size) and
backpropagates that, then keeps lr = 0.1 from a tutorial that averaged. The effective step is
128 times larger: the first updates blow the weights up and the network ends up predicting a
single class."""
import numpy as np

from ._data import mnist

STYLE = "rowmajor"
EXPECTED = ["LOSS_SUMMED", "LR_TOO_HIGH"]


def _data():
    Xtr, ytr, Xte, yte = mnist(2000, 500, seed=8)
    return Xtr.reshape(-1, 784) / 255.0, ytr, Xte.reshape(-1, 784) / 255.0, yte


def _init(rng):
    return {"W": [rng.normal(0, np.sqrt(2 / 784), (784, 100)), rng.normal(0, 0.1, (100, 10))],
            "B": [np.zeros(100), np.zeros(10)]}


def forward_backward(p, xb, yb, bug):
    """One batch's loss, gradients ({"W": [...], "B": [...]}), hidden activations and logits."""
    W, B = p["W"], p["B"]
    a = np.maximum(xb @ W[0] + B[0], 0)
    z = a @ W[1] + B[1]
    z = z - z.max(1, keepdims=True)
    pr = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    nll = -np.log(pr[np.arange(len(yb)), yb] + 1e-12)
    loss = nll.sum() if bug else nll.mean()
    dz = pr.copy(); dz[np.arange(len(yb)), yb] -= 1
    if not bug:
        dz /= len(yb)
    gW = [None, a.T @ dz]; gB = [None, dz.sum(0)]
    da = dz @ W[1].T * (a > 0)
    gW[0] = xb.T @ da; gB[0] = da.sum(0)
    return loss, {"W": gW, "B": gB}, a, z


def step(p, xb, yb, lr, bug=False):
    """The loop's update on one batch (in place); returns the loss (examine's step function)."""
    loss, g, _, _ = forward_backward(p, xb, yb, bug)
    for k in range(2):
        p["W"][k] -= lr * g["W"][k]; p["B"][k] -= lr * g["B"][k]
    return loss


def examine_case(bug):
    """The program as doctor.examine's arguments: its step function, init and data."""
    Xtr, ytr, _, _ = _data()
    return {"step": lambda p, X, y, lr: step(p, X, y, lr, bug), "params": _init(np.random.default_rng(8)),
            "X": Xtr, "y": ytr, "lr": 0.1, "batch_size": 128,
            "grad": lambda p, X, y: forward_backward(p, X, y, bug)[1],
            "train_steps": 45,
            "predict": lambda p, X: np.maximum(X @ p["W"][0] + p["B"][0], 0) @ p["W"][1] + p["B"][1]}


def _run(doctor, bug):
    Xtr, ytr, Xte, yte = _data()
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    rng = np.random.default_rng(8)
    p = _init(rng)
    W, B = p["W"], p["B"]
    rec = doctor.Recorder(["W1", "b1", "W2", "b2"])
    first = last = None
    it = 0
    for epoch in range(3):
        perm = rng.permutation(len(Xtr))
        for i in range(0, len(perm) - 127, 128):
            xb, yb = Xtr[perm[i:i + 128]], ytr[perm[i:i + 128]]
            loss, g, a, z = forward_backward(p, xb, yb, bug)
            gW, gB = g["W"], g["B"]
            for k in range(2):
                W[k] -= 0.1 * gW[k]; B[k] -= 0.1 * gB[k]
            rec.log(it, loss=loss, weights=[W[0], B[0], W[1], B[1]],
                    grads=[gW[0], gB[0], gW[1], gB[1]], activations=[a], logits=z, labels=yb)
            first = loss / (len(yb) if bug else 1) if first is None else first
            last = loss / (len(yb) if bug else 1)
            it += 1
    reports.append(rec.report())
    acc = np.mean((np.maximum(Xte @ W[0] + B[0], 0) @ W[1] + B[1]).argmax(1) == yte)
    return reports, {"loss_start": first, "loss_end": last, "accuracy": float(acc), "chance": 0.1}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
