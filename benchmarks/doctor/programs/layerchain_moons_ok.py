"""Correct program: two interleaved half-moons (made with NumPy), standardised, classified by a
2-16-16-1 chain of layer objects (Linear/Tanh/Linear/Tanh/Linear, sigmoid + binary cross-entropy
on the last output), labels kept as an (N, 1) column to match the (N, 1) output, Adam-free
plain SGD with lr 0.5 on batches of 64. ~97% accuracy; nothing is wrong."""
import numpy as np

STYLE = "layerchain"
EXPECTED = []


class Linear:
    def __init__(self, i, o, rng):
        self.W = rng.normal(0, 1 / np.sqrt(i), (i, o)); self.b = np.zeros(o)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, g):
        self.gW, self.gb = self.x.T @ g, g.sum(0)
        return g @ self.W.T


class Tanh:
    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, g):
        return g * (1 - self.y ** 2)


def moons(rng, n):
    t = rng.uniform(0, np.pi, n)
    lab = rng.integers(0, 2, n)
    x = np.where(lab == 0, np.cos(t), 1 - np.cos(t))
    y = np.where(lab == 0, np.sin(t), 0.5 - np.sin(t))
    return np.c_[x, y] + 0.1 * rng.normal(size=(n, 2)), lab


def _setup():
    rng = np.random.default_rng(71)
    Xtr, ytr = moons(rng, 800)
    Xte, yte = moons(rng, 300)
    mu, sd = Xtr.mean(0), Xtr.std(0)
    Xtr, Xte = (Xtr - mu) / sd, (Xte - mu) / sd
    return Xtr, ytr, Xte, yte, rng


def train_step(net, xb, t, lr):
    """The loop's forward, backward and update on one batch (in place): (loss, logit column)."""
    z = xb
    for m in net:
        z = m.forward(z)
    p = 1 / (1 + np.exp(-z))
    loss = float(-np.mean(t * np.log(p + 1e-12) + (1 - t) * np.log(1 - p + 1e-12)))
    g = (p - t) / len(xb)
    for m in reversed(net):
        g = m.backward(g)
    if lr is not None:
        for m in net[::2]:
            m.W -= lr * m.gW; m.b -= lr * m.gb
    return loss, z


def _bind(net, p):
    """The layers' weights are the arrays of p (updated in place through them)."""
    for k, m in enumerate(net[::2], 1):
        m.W, m.b = p[f"W{k}"], p[f"b{k}"]
    return net


def examine_case(bug=False):
    """The program as doctor.examine's arguments: its own step, init and data (labels as the
    (N, 1) column it trains on)."""
    Xtr, ytr, _, _, rng = _setup()
    net = [Linear(2, 16, rng), Tanh(), Linear(16, 16, rng), Tanh(), Linear(16, 1, rng)]

    def grad(p, X, y):
        train_step(_bind(net, p), X, y, None)
        return {f"{n}{k}": getattr(m, "g" + n) for k, m in enumerate(net[::2], 1) for n in ("W", "b")}

    def predict(p, X):
        for m in _bind(net, p):
            X = m.forward(X)
        return X

    return {"step": lambda p, X, y, lr: train_step(_bind(net, p), X, y, lr)[0],
            "params": {f"{n}{k}": getattr(m, n) for k, m in enumerate(net[::2], 1) for n in ("W", "b")},
            "grad": grad, "predict": predict, "X": Xtr, "y": ytr.reshape(-1, 1).astype(float),
            "lr": 0.5, "batch_size": 64, "num_classes": 2, "train_steps": 800}


def fixed(doctor):
    Xtr, ytr, Xte, yte, rng = _setup()
    Ytr = ytr.reshape(-1, 1).astype(float)
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    net = [Linear(2, 16, rng), Tanh(), Linear(16, 16, rng), Tanh(), Linear(16, 1, rng)]
    lin = net[::2]
    rec = doctor.Recorder(["W1", "b1", "W2", "b2", "W3", "b3"])
    losses = []
    for step in range(800):
        i = rng.integers(0, 800, 64)
        t = Ytr[i]
        loss, z = train_step(net, Xtr[i], t, 0.5)
        losses.append(loss)
        if step % 8 == 0:
            rec.log(step, loss=losses[-1], weights=[a for m in lin for a in (m.W, m.b)],
                    grads=[a for m in lin for a in (m.gW, m.gb)], activations=[net[1].y, net[3].y],
                    logits=z, labels=t)
    reports.append(rec.report())
    z = Xte
    for m in net:
        z = m.forward(z)
    return reports, {"loss_start": float(np.mean(losses[:5])), "loss_end": float(np.mean(losses[-20:])),
                     "accuracy": float(np.mean((z[:, 0] > 0) == yte)), "chance": 0.5}
