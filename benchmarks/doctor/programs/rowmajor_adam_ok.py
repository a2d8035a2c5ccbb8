"""Correct program: a 784-128-10 ReLU/softmax MNIST classifier with Adam written by hand
(bias-corrected first and second moments), pixels / 255, He init, mini-batches of 100,
three epochs over 2000 digits. It reaches ~90% test accuracy; nothing is wrong."""
import numpy as np

from ._data import mnist

STYLE = "rowmajor"
EXPECTED = []


def fixed(doctor):
    Xtr, ytr, Xte, yte = mnist(2000, 500, seed=13)
    Xtr = Xtr.astype(np.float32) / 255.0
    Xte = Xte.astype(np.float32) / 255.0
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    rng = np.random.default_rng(13)
    params = [rng.normal(0, np.sqrt(2 / 784), (784, 128)).astype(np.float32), np.zeros(128, np.float32),
              rng.normal(0, np.sqrt(1 / 128), (128, 10)).astype(np.float32), np.zeros(10, np.float32)]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    b1, b2, lr, eps = 0.9, 0.999, 1e-3, 1e-8
    rec = doctor.Recorder(["W1", "b1", "W2", "b2"])
    t = 0
    hist = []
    for epoch in range(3):
        order = rng.permutation(len(Xtr))
        for s in range(0, len(order), 100):
            ib = order[s:s + 100]
            x, y = Xtr[ib], ytr[ib]
            W1, c1, W2, c2 = params
            z1 = x @ W1 + c1
            a1 = np.maximum(z1, 0)
            z2 = a1 @ W2 + c2
            p = np.exp(z2 - z2.max(1, keepdims=True)); p /= p.sum(1, keepdims=True)
            hist.append(float(-np.log(p[np.arange(len(y)), y] + 1e-9).mean()))
            g2 = p; g2[np.arange(len(y)), y] -= 1; g2 /= len(y)
            g1 = (g2 @ W2.T) * (z1 > 0)
            grads = [x.T @ g1, g1.sum(0), a1.T @ g2, g2.sum(0)]
            t += 1
            for i, g in enumerate(grads):
                m[i] = b1 * m[i] + (1 - b1) * g
                v[i] = b2 * v[i] + (1 - b2) * g * g
                mh = m[i] / (1 - b1 ** t); vh = v[i] / (1 - b2 ** t)
                params[i] -= (lr * mh / (np.sqrt(vh) + eps)).astype(np.float32)
            rec.log(t, loss=hist[-1], weights=params, grads=grads, activations=[a1], logits=z2,
                    labels=y)
    reports.append(rec.report())
    W1, c1, W2, c2 = params
    acc = np.mean((np.maximum(Xte @ W1 + c1, 0) @ W2 + c2).argmax(1) == yte)
    return reports, {"loss_start": hist[0], "loss_end": float(np.mean(hist[-5:])),
                     "accuracy": float(acc), "chance": 0.1}
