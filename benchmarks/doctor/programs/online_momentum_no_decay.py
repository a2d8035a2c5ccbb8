"""Online SGD with "momentum" on a 784-48-10 ReLU/softmax MNIST net: the learner keeps a
velocity per parameter and writes v += grad; w -= lr * v, forgetting the decay factor
(v = 0.9 * v + grad). The velocity is the sum of every gradient seen so far, so each step
repeats all previous steps: the updates grow without limit, the weights blow up and the loss
goes to NaN or the net collapses onto one class."""
import numpy as np

from ._data import mnist

STYLE = "online"
EXPECTED = ["MOMENTUM"]


def _data():
    Xtr, ytr, Xte, yte = mnist(2000, 500, seed=48)
    return Xtr / 255.0, ytr, Xte / 255.0, yte


def _init(rng):
    return {"W1": rng.normal(0, np.sqrt(2 / 784), (784, 48)), "b1": np.zeros(48),
            "W2": rng.normal(0, np.sqrt(1 / 48), (48, 10)), "b2": np.zeros(10)}


def forward_backward(params, x, y):
    """One image: its loss, gradients (a dict like params), hidden activations and logits."""
    z1 = x @ params["W1"] + params["b1"]; a1 = np.maximum(z1, 0)
    z2 = a1 @ params["W2"] + params["b2"]
    p = np.exp(z2 - z2.max()); p /= p.sum()
    d2 = p.copy(); d2[y] -= 1
    d1 = (params["W2"] @ d2) * (z1 > 0)
    return -np.log(p[y] + 1e-12), {"W1": np.outer(x, d1), "b1": d1, "W2": np.outer(a1, d2), "b2": d2}, a1, z2


class Step:
    """The loop's update with its velocity (kept here: examine's copy of it starts at zero)."""

    def __init__(self, params, bug, beta=0.9):
        self.velocity = {k: np.zeros_like(v) for k, v in params.items()}
        self.bug, self.beta = bug, beta

    def sample(self, params, x, y, lr):
        loss, grads, a1, z2 = forward_backward(params, x, y)
        for k in params:
            if self.bug:
                self.velocity[k] += grads[k]
            else:
                self.velocity[k] = self.beta * self.velocity[k] + grads[k]
            params[k] -= lr * self.velocity[k]
        return loss, grads, a1, z2

    def __call__(self, params, X, y, lr):        # examine's step: a batch's samples, one at a time
        return float(np.mean([self.sample(params, x, t, lr)[0] for x, t in zip(X, y)]))


def _batch_grad(params, X, y):
    gs = [forward_backward(params, x, t)[1] for x, t in zip(X, y)]
    return {k: np.mean([g[k] for g in gs], axis=0) for k in params}


def examine_case(bug):
    """The program as doctor.examine's arguments: one sample a step, as the loop trains."""
    Xtr, ytr, _, _ = _data()
    params = _init(np.random.default_rng(48))
    return {"step": Step(params, bug), "params": params, "X": Xtr, "y": ytr, "lr": 0.005,
            "batch_size": 1, "steps": 300, "grad": _batch_grad,
            "train_steps": 2000}


def _run(doctor, bug):
    Xtr, ytr, Xte, yte = _data()
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    rng = np.random.default_rng(48)
    params = _init(rng)
    step = Step(params, bug)
    rec = doctor.Recorder(list(params))
    lr, losses = 0.005, []
    for i, n in enumerate(rng.permutation(2000)):
        loss, grads, a1, z2 = step.sample(params, Xtr[n], ytr[n], lr)
        losses.append(loss)
        if i % 10 == 0:
            rec.log(i, loss=losses[-1], weights=list(params.values()), grads=list(grads.values()),
                    activations=[a1], logits=z2, labels=ytr[n])
    reports.append(rec.report())
    out = np.maximum(Xte @ params["W1"] + params["b1"], 0) @ params["W2"] + params["b2"]
    return reports, {"loss_start": float(np.mean(losses[:50])), "loss_end": float(np.mean(losses[-200:])),
                     "accuracy": float(np.mean(out.argmax(1) == yte)), "chance": 0.1}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
