"""A layer-object MNIST classifier (Dense -> ReLU -> Dense -> Softmax modules, each with
forward/backward) trained with a SoftmaxCrossEntropy loss object copied from another project,
which applies its own softmax to whatever it is given and returns p - y as the gradient. The
model's last module is already a Softmax, so the loss takes the softmax of probabilities:
its outputs are squeezed into [e^0, e^1]/Z, close to uniform, and the gradient reaching the
network is tiny and distorted. The loss hardly moves from log(10)."""
import numpy as np

from ._data import mnist

STYLE = "layerchain"
EXPECTED = ["OUTPUT_LOSS_MISMATCH"]


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class Dense:
    def __init__(self, n_in, n_out, rng):
        self.W = rng.normal(0, np.sqrt(2 / n_in), (n_in, n_out)); self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, g):
        self.dW, self.db = self.x.T @ g, g.sum(0)
        return g @ self.W.T


class ReLU:
    def forward(self, x):
        self.m = x > 0
        self.y = x * self.m
        return self.y

    def backward(self, g):
        return g * self.m


class Softmax:
    def forward(self, x):
        self.y = _softmax(x)
        return self.y

    def backward(self, g):
        # full Jacobian-vector product of the softmax
        return self.y * (g - np.sum(g * self.y, axis=1, keepdims=True))


class SoftmaxCrossEntropy:
    """expects raw scores"""

    def forward(self, scores, y):
        self.p = _softmax(scores)
        self.y = y
        return -np.mean(np.log(self.p[np.arange(len(y)), y] + 1e-12))

    def backward(self):
        g = self.p.copy(); g[np.arange(len(self.y)), self.y] -= 1
        return g / len(self.y)


def _data():
    Xtr, ytr, Xte, yte = mnist(1500, 500, seed=64)
    return Xtr / 255.0, ytr, Xte / 255.0, yte


def train_step(layers, crit, xb, yb, lr):
    """The loop's forward, backward and update on one batch (in place): (loss, outputs)."""
    out = xb
    for layer in layers:
        out = layer.forward(out)
    loss = crit.forward(out, yb)
    g = crit.backward()
    for layer in reversed(layers):
        g = layer.backward(g)
    if lr is not None:
        for d in (layers[0], layers[2]):
            d.W -= lr * d.dW; d.b -= lr * d.db
    return loss, out


def _bind(layers, p):
    """The layers' weights are the arrays of p (updated in place through them)."""
    layers[0].W, layers[0].b, layers[2].W, layers[2].b = p["W1"], p["b1"], p["W2"], p["b2"]
    return layers


def examine_case(bug):
    """The program as doctor.examine's arguments: its own step (a Softmax layer before the
    criterion in the buggy one), init and data; predict is the net's output, softmax included."""
    Xtr, ytr, _, _ = _data()
    rng = np.random.default_rng(64)
    layers = [Dense(784, 64, rng), ReLU(), Dense(64, 10, rng)] + ([Softmax()] if bug else [])
    crit = SoftmaxCrossEntropy()

    def grad(p, X, y):
        train_step(_bind(layers, p), crit, X, y, None)
        return {"W1": layers[0].dW, "b1": layers[0].db, "W2": layers[2].dW, "b2": layers[2].db}

    def predict(p, X):
        for layer in _bind(layers, p):
            X = layer.forward(X)
        return X

    return {"step": lambda p, X, y, lr: train_step(_bind(layers, p), crit, X, y, lr)[0],
            "params": {"W1": layers[0].W, "b1": layers[0].b, "W2": layers[2].W, "b2": layers[2].b},
            "grad": grad, "predict": predict, "X": Xtr, "y": ytr, "lr": 0.1, "batch_size": 64,
            "train_steps": 100}


def _run(doctor, bug):
    Xtr, ytr, Xte, yte = _data()
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    rng = np.random.default_rng(64)
    layers = [Dense(784, 64, rng), ReLU(), Dense(64, 10, rng)] + ([Softmax()] if bug else [])
    crit = SoftmaxCrossEntropy()
    rec = doctor.Recorder(["W1", "b1", "W2", "b2"])
    losses = []
    for step in range(100):
        idx = rng.integers(0, len(Xtr), 64)
        loss, out = train_step(layers, crit, Xtr[idx], ytr[idx], 0.1)
        losses.append(loss)
        if step % 2 == 0:
            rec.log(step, loss=losses[-1], weights=[layers[0].W, layers[0].b, layers[2].W, layers[2].b],
                    grads=[layers[0].dW, layers[0].db, layers[2].dW, layers[2].db],
                    activations=[layers[1].y], logits=out, labels=ytr[idx])
    reports.append(rec.report())
    o = Xte
    for layer in layers:
        o = layer.forward(o)
    # the honest yardstick: the true cross-entropy of the model's own output probabilities
    p_true = o if bug else _softmax(o)
    true_loss = -np.mean(np.log(p_true[np.arange(len(yte)), yte] + 1e-12))
    return reports, {"loss_start": losses[0], "loss_end": float(true_loss),
                     "accuracy": float(np.mean(o.argmax(1) == yte)), "chance": 0.1}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
