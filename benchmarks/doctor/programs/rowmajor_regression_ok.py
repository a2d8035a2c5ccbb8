"""Correct program: fitting y = sin(3x) + x^2/2 on [-2, 2] with a 1-50-50-1 tanh MLP, rows =
samples, Xavier init, full-batch gradient descent with a hand-written momentum of 0.9, MSE loss
averaged over the batch. R^2 on held-out points is above 0.95; nothing is wrong."""
import numpy as np

STYLE = "rowmajor"
EXPECTED = []


def _data():
    rng = np.random.default_rng(14)
    x = rng.uniform(-2, 2, (400, 1))
    y = np.sin(3 * x) + x ** 2 / 2 + 0.05 * rng.normal(size=(400, 1))
    return x[:300], y[:300], x[300:], y[300:], rng


def _init(rng):
    sizes = [1, 50, 50, 1]
    return {"Ws": [rng.normal(0, np.sqrt(1 / a), (a, b)) for a, b in zip(sizes[:-1], sizes[1:])],
            "bs": [np.zeros((1, b)) for b in sizes[1:]]}


def forward_backward(p, x, y):
    """The batch's mean squared error, its gradients {"Ws": [...], "bs": [...]}, activations, output."""
    Ws, bs = p["Ws"], p["bs"]
    acts = [x]
    for W, b in zip(Ws[:-1], bs[:-1]):
        acts.append(np.tanh(acts[-1] @ W + b))
    out = acts[-1] @ Ws[-1] + bs[-1]
    loss = np.mean((out - y) ** 2)
    d = 2 * (out - y) / len(x)
    gW, gb = [None] * 3, [None] * 3
    for k in (2, 1, 0):
        gW[k] = acts[k].T @ d; gb[k] = d.sum(0, keepdims=True)
        if k:
            d = (d @ Ws[k].T) * (1 - acts[k] ** 2)
    return loss, {"Ws": gW, "bs": gb}, acts, out


class Step:
    """The loop's momentum update (its velocity kept here: examine's copy starts at zero)."""

    def __init__(self, p, mu=0.9):
        self.vel = [np.zeros_like(a) for a in p["Ws"] + p["bs"]]
        self.mu = mu

    def apply(self, p, g, lr):
        for i, (a, d) in enumerate(zip(p["Ws"] + p["bs"], g["Ws"] + g["bs"])):
            self.vel[i] = self.mu * self.vel[i] - lr * d
            a += self.vel[i]

    def __call__(self, p, x, y, lr):
        loss, g, _, _ = forward_backward(p, x, y)
        self.apply(p, g, lr)
        return loss


def examine_case(bug=False):
    """The program as doctor.examine's arguments (full batch, as the loop trains)."""
    xtr, ytr, _, _, rng = _data()
    p = _init(rng)
    return {"step": Step(p), "params": p, "X": xtr, "y": ytr, "lr": 0.02, "batch_size": len(xtr),
            "grad": lambda q, x, y: forward_backward(q, x, y)[1],
            "train_steps": 900}


def fixed(doctor):
    xtr, ytr, xte, yte, rng = _data()
    reports = [doctor.check_data(xtr, ytr, xte, yte, classification=False)]
    p = _init(rng)
    Ws, bs = p["Ws"], p["bs"]
    step = Step(p)
    rec = doctor.Recorder(["W1", "W2", "W3", "b1", "b2", "b3"])
    lr = 0.02
    losses = []
    for it in range(900):
        loss, g, acts, out = forward_backward(p, xtr, ytr)
        losses.append(loss)
        step.apply(p, g, lr)
        if it % 20 == 0:
            rec.log(it, loss=loss, weights=Ws + bs, grads=g["Ws"] + g["bs"], activations=acts[1:],
                    logits=out, labels=ytr)
    reports.append(rec.report())
    a = xte
    for W, b in zip(Ws[:-1], bs[:-1]):
        a = np.tanh(a @ W + b)
    pred = a @ Ws[-1] + bs[-1]
    r2 = 1 - np.sum((pred - yte) ** 2) / np.sum((yte - yte.mean()) ** 2)
    return reports, {"loss_start": losses[0], "loss_end": losses[-1], "r2": float(r2)}
