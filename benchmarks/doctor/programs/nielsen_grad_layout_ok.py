"""Correct program: a column-vector 784-32-10 network (ReLU hidden, softmax output,
cross-entropy) whose weights are stored (out, in) but whose backward pass naturally produces
the weight gradients as x @ delta.T, i.e. in the (in, out) layout; the update transposes them
(W -= eta * dW.T), which is right, and the learner logs the gradients as computed. It learns
(~88%); a doctor that insists on matching layouts would be raising a false alarm."""
import numpy as np

from ._data import mnist

STYLE = "nielsen"
EXPECTED = []


def _init(rng):
    W1 = rng.standard_normal((32, 784)) * np.sqrt(2 / 784); b1 = np.zeros((32, 1))
    W2 = rng.standard_normal((10, 32)) * np.sqrt(1 / 32); b2 = np.zeros((10, 1))
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def train_step(P, x, y, eta):
    """The loop's forward, backward and update on one batch of columns (in place): (cost, the
    gradients (dW in the (in, out) layout, applied transposed), a1, z2)."""
    W1, b1, W2, b2 = P["W1"], P["b1"], P["W2"], P["b2"]
    m = x.shape[1]
    z1 = W1 @ x + b1; a1 = np.maximum(z1, 0)
    z2 = W2 @ a1 + b2
    e = np.exp(z2 - z2.max(axis=0, keepdims=True)); p = e / e.sum(axis=0, keepdims=True)
    cost = float(-np.sum(y * np.log(p + 1e-12)) / m)
    d2 = (p - y) / m
    dW2 = a1 @ d2.T                      # (32, 10): the (in, out) layout
    db2 = d2.sum(axis=1, keepdims=True)
    d1 = (W2.T @ d2) * (z1 > 0)
    dW1 = x @ d1.T                       # (784, 32)
    db1 = d1.sum(axis=1, keepdims=True)
    W1 -= eta * dW1.T; b1 -= eta * db1; W2 -= eta * dW2.T; b2 -= eta * db2
    return cost, (dW1, db1, dW2, db2), a1, z2


def examine_case(bug=False):
    """The program as doctor.examine's arguments: rows in (examine's batches), columns inside;
    grad is its gradients as it computes them, dW in the (in, out) layout."""
    Xtr, ytr, _, _ = mnist(2000, 500, seed=32)

    def grad(P, Xb, yb):
        g = train_step(P, Xb.T, np.eye(10)[yb].T, 0.0)[1]
        return dict(zip(("W1", "b1", "W2", "b2"), g))

    return {"step": lambda P, Xb, yb, lr: train_step(P, Xb.T, np.eye(10)[yb].T, lr)[0],
            "params": _init(np.random.default_rng(32)), "X": Xtr / 255.0, "y": ytr, "lr": 0.1,
            "batch_size": 32, "grad": grad, "train_steps": 189,
            "predict": lambda P, X: (P["W2"] @ np.maximum(P["W1"] @ X.T + P["b1"], 0) + P["b2"]).T}


def fixed(doctor):
    Xtr, ytr, Xte, yte = mnist(2000, 500, seed=32)
    X, Xt = Xtr.T / 255.0, Xte.T / 255.0
    Y = np.eye(10)[ytr].T
    reports = [doctor.check_data(X.T, ytr, Xt.T, yte)]
    rng = np.random.default_rng(32)
    P = _init(rng)
    W1, b1, W2, b2 = P["W1"], P["b1"], P["W2"], P["b2"]
    rec = doctor.Recorder(["W1", "b1", "W2", "b2"])
    eta, m, costs, t = 0.1, 32, [], 0
    for epoch in range(3):
        order = rng.permutation(X.shape[1])
        for k in range(0, len(order), m):
            c = order[k:k + m]
            x, y = X[:, c], Y[:, c]
            cost, (dW1, db1, dW2, db2), a1, z2 = train_step(P, x, y, eta)
            costs.append(cost)
            if t % 3 == 0:
                rec.log(t, loss=costs[-1], weights=[W1, b1, W2, b2], grads=[dW1, db1, dW2, db2],
                        activations=[a1], logits=z2, labels=y)
            t += 1
    reports.append(rec.report())
    out = W2 @ np.maximum(W1 @ Xt + b1, 0) + b2
    return reports, {"loss_start": costs[0], "loss_end": float(np.mean(costs[-10:])),
                     "accuracy": float(np.mean(out.argmax(0) == yte)), "chance": 0.1}
