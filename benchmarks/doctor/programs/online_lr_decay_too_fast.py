"""A 784-32-10 tanh/softmax network trained one image at a time, with a hand-made schedule from a
forum answer: divide the learning rate by 10 every 100 images (the answer meant every few
epochs). Starting from lr = 0.005, the rate is 5e-6 after 300 images and far below 1e-20 by the
end: the network stops learning after its first few hundred examples and ends up far from what
the same loop with a constant rate reaches."""
import numpy as np

from ._data import mnist

STYLE = "online"
EXPECTED = ["LR_TOO_LOW", "STALLED"]


def _data():
    Xtr, ytr, Xte, yte = mnist(2500, 500, seed=46)
    return Xtr / 255.0, ytr, Xte / 255.0, yte


def _init(rng):
    return {"V": rng.normal(0, 1 / 28, (784, 32)), "c": np.zeros(32),
            "W": rng.normal(0, 1 / np.sqrt(32), (32, 10)), "d": np.zeros(10)}


def forward_backward(p, x, t):
    """One image: its loss, gradients (a dict like p), hidden activations and logits."""
    h = np.tanh(x @ p["V"] + p["c"])
    o = h @ p["W"] + p["d"]
    q = np.exp(o - o.max()); q /= q.sum()
    g_o = q.copy(); g_o[t] -= 1
    g_h = (p["W"] @ g_o) * (1 - h * h)
    return -np.log(q[t]), {"V": np.outer(x, g_h), "c": g_h, "W": np.outer(h, g_o), "d": g_o}, h, o


class Step:
    """The loop's update with its schedule (lr / 10 every 100 images with the bug): the image
    count lives here, so examine's copy of it starts the schedule afresh."""

    def __init__(self, bug):
        self.bug, self.n, self.div = bug, 0, 1

    def sample(self, p, x, t, lr):
        if self.bug and self.n > 0 and self.n % 100 == 0:
            self.div *= 10                              # an exact power of ten
        self.n += 1
        loss, g, h, o = forward_backward(p, x, t)
        rate = lr / self.div
        for k in ("V", "c", "W", "d"):
            p[k] -= rate * g[k]
        return loss, g, h, o

    def __call__(self, p, X, y, lr):             # examine's step: a batch's samples, one at a time
        return float(np.mean([self.sample(p, x, t, lr)[0] for x, t in zip(X, y)]))


def examine_case(bug):
    """The program as doctor.examine's arguments: one sample a step, as the loop trains."""
    Xtr, ytr, _, _ = _data()
    return {"step": Step(bug), "params": _init(np.random.default_rng(46)), "X": Xtr, "y": ytr,
            "lr": 0.005, "batch_size": 1, "steps": 300,
            "train_steps": 2500}


def _run(doctor, bug):
    Xtr, ytr, Xte, yte = _data()
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    rng = np.random.default_rng(46)
    p = _init(rng)
    lr, step = 0.005, Step(bug)
    rec = doctor.Recorder(["V", "c", "W", "d"])
    losses = []
    for n in range(2500):
        loss, g, h, o = step.sample(p, Xtr[n], ytr[n], lr)
        losses.append(loss)
        if n % 10 == 0:
            rec.log(n, loss=losses[-1], weights=[p[k] for k in ("V", "c", "W", "d")],
                    grads=[g[k] for k in ("V", "c", "W", "d")], activations=[h], logits=o, labels=ytr[n])
    reports.append(rec.report())
    acc = np.mean((np.tanh(Xte @ p["V"] + p["c"]) @ p["W"] + p["d"]).argmax(1) == yte)
    return reports, {"loss_start": float(np.mean(losses[:50])), "loss_end": float(np.mean(losses[-300:])),
                     "accuracy": float(acc), "chance": 0.1}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
