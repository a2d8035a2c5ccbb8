"""A 784-32-10 tanh/softmax network trained one image at a time, with a hand-made schedule from a
forum answer: divide the learning rate by 10 every 100 images (the answer meant every few
epochs). Starting from lr = 0.005, the rate is 5e-6 after 300 images and far below 1e-20 by the
end: the network stops learning after its first few hundred examples and ends up far from what
the same loop with a constant rate reaches."""
import numpy as np

from ._data import mnist

STYLE = "online"
EXPECTED = ["LR_TOO_LOW", "STALLED"]


def _run(doctor, bug):
    Xtr, ytr, Xte, yte = mnist(2500, 500, seed=46)
    Xtr, Xte = Xtr / 255.0, Xte / 255.0
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    rng = np.random.default_rng(46)
    V = rng.normal(0, 1 / 28, (784, 32)); c = np.zeros(32)
    W = rng.normal(0, 1 / np.sqrt(32), (32, 10)); d = np.zeros(10)
    lr = 0.005
    rec = doctor.Recorder(["V", "c", "W", "d"])
    losses = []
    for n in range(2500):
        if bug and n > 0 and n % 100 == 0:
            lr /= 10
        x, t = Xtr[n], ytr[n]
        h = np.tanh(x @ V + c)
        o = h @ W + d
        q = np.exp(o - o.max()); q /= q.sum()
        losses.append(-np.log(q[t]))
        g_o = q.copy(); g_o[t] -= 1
        g_h = (W @ g_o) * (1 - h * h)
        gV, gW = np.outer(x, g_h), np.outer(h, g_o)
        V -= lr * gV; c -= lr * g_h; W -= lr * gW; d -= lr * g_o
        if n % 10 == 0:
            rec.log(n, loss=losses[-1], weights=[V, c, W, d], grads=[gV, g_h, gW, g_o],
                    activations=[h], logits=o, labels=t)
    reports.append(rec.report())
    acc = np.mean((np.tanh(Xte @ V + c) @ W + d).argmax(1) == yte)
    return reports, {"loss_start": float(np.mean(losses[:50])), "loss_end": float(np.mean(losses[-300:])),
                     "accuracy": float(acc), "chance": 0.1}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
