"""Correct program: multinomial logistic (softmax) regression on MNIST, 784 -> 10, pixels / 255
for train and test, weights zero-initialised (fine for a convex model), max-shifted softmax,
mean cross-entropy, mini-batches of 100, lr 0.5, three epochs. ~85% test accuracy; nothing is
wrong."""
import numpy as np

from ._data import mnist

STYLE = "classic"
EXPECTED = []


def forward_backward(p, X, y):
    """The mean cross-entropy of softmax(X @ W + b), its gradients {"W", "b"} and the scores."""
    s = X @ p["W"] + p["b"]
    s -= s.max(1, keepdims=True)
    P = np.exp(s); P /= P.sum(1, keepdims=True)
    n = len(y)
    loss = float(-np.log(P[np.arange(n), y] + 1e-12).mean())
    G = P; G[np.arange(n), y] -= 1; G /= n
    return loss, {"W": X.T @ G, "b": G.sum(0)}, s


def step(p, X, y, lr):
    """One mini-batch step (in place); returns the loss before it."""
    loss, g, _ = forward_backward(p, X, y)
    p["W"] -= lr * g["W"]; p["b"] -= lr * g["b"]
    return loss


def examine_case(bug=False):
    """The program as doctor.examine's arguments."""
    Xtr, ytr, _, _ = mnist(2000, 500, seed=112)
    return {"step": step, "params": {"W": np.zeros((784, 10)), "b": np.zeros(10)}, "X": Xtr / 255.0,
            "y": ytr, "lr": 0.5, "batch_size": 100, "grad": lambda p, X, y: forward_backward(p, X, y)[1],
            "train_steps": 60,
            "predict": lambda p, X: X @ p["W"] + p["b"]}


def fixed(doctor):
    Xtr, ytr, Xte, yte = mnist(2000, 500, seed=112)
    Xtr, Xte = Xtr / 255.0, Xte / 255.0
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    rng = np.random.default_rng(112)
    p = {"W": np.zeros((784, 10)), "b": np.zeros(10)}
    rec = doctor.Recorder(["W", "b"])
    hist, it = [], 0
    for epoch in range(3):
        perm = rng.permutation(2000)
        for k in range(0, 2000, 100):
            i = perm[k:k + 100]
            loss, g, s = forward_backward(p, Xtr[i], ytr[i])
            hist.append(loss)
            p["W"] -= 0.5 * g["W"]; p["b"] -= 0.5 * g["b"]
            rec.log(it, loss=hist[-1], weights=[p["W"], p["b"]], grads=[g["W"], g["b"]], logits=s,
                    labels=ytr[i])
            it += 1
    reports.append(rec.report())
    acc = np.mean((Xte @ p["W"] + p["b"]).argmax(1) == yte)
    return reports, {"loss_start": hist[0], "loss_end": float(np.mean(hist[-5:])),
                     "accuracy": float(acc), "chance": 0.1}
