"""Correct program: a 3-24-24-1 ReLU regression chain of layer objects (each Layer knows its
prev and next; forward() recurses down the chain, backward() back up it) predicting a smooth
function of three standardised inputs with MSE, targets as an (N, 1) column, He init, SGD with
lr 0.05 on batches of 32 for 1500 steps. Held-out R^2 ~0.95; nothing is wrong."""
import numpy as np

STYLE = "layerchain"
EXPECTED = []


class Layer:
    def __init__(self, n_in, n_out, rng, relu=True):
        self.W = rng.normal(0, np.sqrt(2 / n_in), (n_in, n_out)); self.b = np.zeros(n_out)
        self.relu, self.prev, self.next = relu, None, None

    def forward(self, x):
        self.x = x
        self.z = x @ self.W + self.b
        self.a = np.maximum(self.z, 0) if self.relu else self.z
        return self.next.forward(self.a) if self.next else self.a

    def backward(self, da):
        dz = da * (self.z > 0) if self.relu else da
        self.dW, self.db = self.x.T @ dz, dz.sum(0)
        if self.prev:
            self.prev.backward(dz @ self.W.T)


def _setup():
    rng = np.random.default_rng(72)
    X = rng.uniform(-2, 2, (900, 3))
    y = (np.sin(X[:, 0]) * X[:, 1] + 0.5 * np.cos(2 * X[:, 2]) + 0.05 * rng.normal(size=900))[:, None]
    mu, sd = X[:700].mean(0), X[:700].std(0)
    Xtr, Xte = (X[:700] - mu) / sd, (X[700:] - mu) / sd
    ytr, yte = y[:700], y[700:]
    layers = [Layer(3, 24, rng), Layer(24, 24, rng), Layer(24, 1, rng, relu=False)]
    for a, b in zip(layers[:-1], layers[1:]):
        a.next, b.prev = b, a
    return Xtr, ytr, Xte, yte, layers, rng


def train_step(layers, xb, yb, lr):
    """The loop's forward, backward and update on one batch (in place): (loss, prediction)."""
    pred = layers[0].forward(xb)
    loss = float(np.mean((pred - yb) ** 2))
    layers[-1].backward(2 * (pred - yb) / len(xb))
    if lr is not None:
        for l in layers:
            l.W -= lr * l.dW; l.b -= lr * l.db
    return loss, pred


def _bind(layers, p):
    """The layers' weights are the arrays of p (updated in place through them)."""
    for k, layer in enumerate(layers, 1):
        layer.W, layer.b = p[f"W{k}"], p[f"b{k}"]
    return layers


def examine_case(bug=False):
    """The program as doctor.examine's arguments: its own step, init and data."""
    Xtr, ytr, _, _, layers, _ = _setup()

    def grad(p, X, y):
        train_step(_bind(layers, p), X, y, None)
        return {f"{n}{k}": getattr(l, "d" + n) for k, l in enumerate(layers, 1) for n in ("W", "b")}

    return {"step": lambda p, X, y, lr: train_step(_bind(layers, p), X, y, lr)[0],
            "params": {f"{n}{k}": getattr(l, n) for k, l in enumerate(layers, 1) for n in ("W", "b")},
            "grad": grad, "predict": lambda p, X: _bind(layers, p)[0].forward(X),
            "X": Xtr, "y": ytr, "lr": 0.05, "batch_size": 32, "train_steps": 1500}


def fixed(doctor):
    Xtr, ytr, Xte, yte, layers, rng = _setup()
    reports = [doctor.check_data(Xtr, ytr, Xte, yte, classification=False)]
    rec = doctor.Recorder(["W1", "b1", "W2", "b2", "W3", "b3"])
    losses = []
    for step in range(1500):
        i = rng.integers(0, 700, 32)
        loss, pred = train_step(layers, Xtr[i], ytr[i], 0.05)
        losses.append(loss)
        if step % 15 == 0:
            rec.log(step, loss=losses[-1], weights=[a for l in layers for a in (l.W, l.b)],
                    grads=[a for l in layers for a in (l.dW, l.db)], activations=[layers[0].a, layers[1].a],
                    logits=pred, labels=ytr[i])
    reports.append(rec.report())
    p = layers[0].forward(Xte)
    r2 = 1 - np.sum((p - yte) ** 2) / np.sum((yte - yte.mean()) ** 2)
    return reports, {"loss_start": float(np.mean(losses[:10])), "loss_end": float(np.mean(losses[-50:])),
                     "r2": float(r2)}
