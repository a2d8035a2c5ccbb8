"""Correct program: a 784-128-10 ReLU/softmax MNIST classifier with Adam written by hand
(bias-corrected first and second moments), pixels / 255, He init, mini-batches of 100,
three epochs over 2000 digits. It reaches ~90% test accuracy; nothing is wrong."""
import numpy as np

from ._data import mnist

STYLE = "rowmajor"
EXPECTED = []


def _data():
    Xtr, ytr, Xte, yte = mnist(2000, 500, seed=13)
    return Xtr.astype(np.float32) / 255.0, ytr, Xte.astype(np.float32) / 255.0, yte


def _init(rng):
    return [rng.normal(0, np.sqrt(2 / 784), (784, 128)).astype(np.float32), np.zeros(128, np.float32),
            rng.normal(0, np.sqrt(1 / 128), (128, 10)).astype(np.float32), np.zeros(10, np.float32)]


def forward_backward(params, x, y):
    """One batch: its loss, gradients [dW1, dc1, dW2, dc2], hidden activations and logits."""
    W1, c1, W2, c2 = params
    z1 = x @ W1 + c1
    a1 = np.maximum(z1, 0)
    z2 = a1 @ W2 + c2
    p = np.exp(z2 - z2.max(1, keepdims=True)); p /= p.sum(1, keepdims=True)
    loss = float(-np.log(p[np.arange(len(y)), y] + 1e-9).mean())
    g2 = p; g2[np.arange(len(y)), y] -= 1; g2 /= len(y)
    g1 = (g2 @ W2.T) * (z1 > 0)
    return loss, [x.T @ g1, g1.sum(0), a1.T @ g2, g2.sum(0)], a1, z2


class Adam:
    """The loop's Adam update (moments and step count kept here: examine's copy starts fresh)."""

    def __init__(self, params, b1=0.9, b2=0.999, eps=1e-8):
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.b1, self.b2, self.eps, self.t = b1, b2, eps, 0

    def apply(self, params, grads, lr):
        self.t += 1
        b1, b2, t = self.b1, self.b2, self.t
        for i, g in enumerate(grads):
            self.m[i] = b1 * self.m[i] + (1 - b1) * g
            self.v[i] = b2 * self.v[i] + (1 - b2) * g * g
            mh = self.m[i] / (1 - b1 ** t); vh = self.v[i] / (1 - b2 ** t)
            params[i] -= (lr * mh / (np.sqrt(vh) + self.eps)).astype(np.float32)

    def __call__(self, params, x, y, lr):          # examine's step
        loss, grads, _, _ = forward_backward(params, x, y)
        self.apply(params, grads, lr)
        return loss


def examine_case(bug=False):
    """The program as doctor.examine's arguments: a list of params, Adam as the step."""
    Xtr, ytr, _, _ = _data()
    params = _init(np.random.default_rng(13))
    return {"step": Adam(params), "params": params, "X": Xtr, "y": ytr, "lr": 1e-3, "batch_size": 100,
            "grad": lambda p, x, y: forward_backward(p, x, y)[1],
            "train_steps": 60}


def fixed(doctor):
    Xtr, ytr, Xte, yte = _data()
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    rng = np.random.default_rng(13)
    params = _init(rng)
    adam, lr = Adam(params), 1e-3
    rec = doctor.Recorder(["W1", "b1", "W2", "b2"])
    hist = []
    for epoch in range(3):
        order = rng.permutation(len(Xtr))
        for s in range(0, len(order), 100):
            ib = order[s:s + 100]
            x, y = Xtr[ib], ytr[ib]
            loss, grads, a1, z2 = forward_backward(params, x, y)
            hist.append(loss)
            adam.apply(params, grads, lr)
            rec.log(adam.t, loss=hist[-1], weights=params, grads=grads, activations=[a1], logits=z2,
                    labels=y)
    reports.append(rec.report())
    W1, c1, W2, c2 = params
    acc = np.mean((np.maximum(Xte @ W1 + c1, 0) @ W2 + c2).argmax(1) == yte)
    return reports, {"loss_start": hist[0], "loss_end": float(np.mean(hist[-5:])),
                     "accuracy": float(acc), "chance": 0.1}
