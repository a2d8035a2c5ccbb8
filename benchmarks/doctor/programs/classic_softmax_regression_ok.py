"""Correct program: multinomial logistic (softmax) regression on MNIST, 784 -> 10, pixels / 255
for train and test, weights zero-initialised (fine for a convex model), max-shifted softmax,
mean cross-entropy, mini-batches of 100, lr 0.5, three epochs. ~85% test accuracy; nothing is
wrong."""
import numpy as np

from ._data import mnist

STYLE = "classic"
EXPECTED = []


def fixed(doctor):
    Xtr, ytr, Xte, yte = mnist(2000, 500, seed=112)
    Xtr, Xte = Xtr / 255.0, Xte / 255.0
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    rng = np.random.default_rng(112)
    W, b = np.zeros((784, 10)), np.zeros(10)
    rec = doctor.Recorder(["W", "b"])
    hist, step = [], 0
    for epoch in range(3):
        perm = rng.permutation(2000)
        for k in range(0, 2000, 100):
            i = perm[k:k + 100]
            s = Xtr[i] @ W + b
            s -= s.max(1, keepdims=True)
            P = np.exp(s); P /= P.sum(1, keepdims=True)
            hist.append(float(-np.log(P[np.arange(100), ytr[i]] + 1e-12).mean()))
            G = P; G[np.arange(100), ytr[i]] -= 1; G /= 100
            dW, db = Xtr[i].T @ G, G.sum(0)
            W -= 0.5 * dW; b -= 0.5 * db
            rec.log(step, loss=hist[-1], weights=[W, b], grads=[dW, db], logits=s, labels=ytr[i])
            step += 1
    reports.append(rec.report())
    acc = np.mean((Xte @ W + b).argmax(1) == yte)
    return reports, {"loss_start": hist[0], "loss_end": float(np.mean(hist[-5:])),
                     "accuracy": float(acc), "chance": 0.1}
