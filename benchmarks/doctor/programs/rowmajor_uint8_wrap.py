"""A 784-64-10 ReLU/softmax MNIST net. To centre the pixels in [-1, 1] the learner writes
(X - 128) / 128 on the uint8 arrays straight from the loader. X - 128 is computed in uint8 and
wraps around (0 becomes 128, 255 becomes 127), so both background and full ink end up near +1
and only the anti-aliased edge pixels differ; the digits are mostly erased before training
starts. Converting to float first ((X.astype(float) - 128) / 128) fixes it."""
import numpy as np

from ._data import mnist

STYLE = "rowmajor"
EXPECTED = ["INPUT_WRAPPED", "NOT_LEARNING"]   # INPUT_WRAPPED: proposed code (integer overflow in preprocessing)


def _run(doctor, bug):
    Xtr, ytr, Xte, yte = mnist(1500, 500, seed=10)
    if bug:
        Xtr = (Xtr - 128) / 128
        Xte = (Xte - 128) / 128
    else:
        Xtr = (Xtr.astype(np.float64) - 128) / 128
        Xte = (Xte.astype(np.float64) - 128) / 128
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    rng = np.random.default_rng(10)
    W1 = rng.normal(0, np.sqrt(2 / 784), (784, 64)); b1 = np.zeros(64)
    W2 = rng.normal(0, np.sqrt(1 / 64), (64, 10)); b2 = np.zeros(10)
    rec = doctor.Recorder(["W1", "b1", "W2", "b2"])
    L = []
    for step in range(150):
        i = rng.integers(0, len(Xtr), 50)
        x, t = Xtr[i], ytr[i]
        z = x @ W1 + b1; a = np.maximum(z, 0)
        o = a @ W2 + b2
        o = o - o.max(1, keepdims=True)
        pr = np.exp(o); pr /= pr.sum(1, keepdims=True)
        L.append(-np.mean(np.log(pr[np.arange(50), t])))
        g = pr; g[np.arange(50), t] -= 1; g /= 50
        gW2 = a.T @ g; gb2 = g.sum(0)
        ga = g @ W2.T; ga[z <= 0] = 0
        gW1 = x.T @ ga; gb1 = ga.sum(0)
        W1 -= 0.05 * gW1; b1 -= 0.05 * gb1; W2 -= 0.05 * gW2; b2 -= 0.05 * gb2
        if step % 2 == 0:
            rec.log(step, loss=L[-1], weights=[W1, b1, W2, b2], grads=[gW1, gb1, gW2, gb2],
                    activations=[a], logits=o, labels=t)
    reports.append(rec.report())
    acc = np.mean((np.maximum(Xte @ W1 + b1, 0) @ W2 + b2).argmax(1) == yte)
    return reports, {"loss_start": L[0], "loss_end": float(np.mean(L[-10:])), "accuracy": float(acc),
                     "chance": 0.1}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
