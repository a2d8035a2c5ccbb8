"""A deep chain of Layer objects (784-64-64-64-64-64-10, sigmoid hidden units, softmax output,
each layer's backprop() calling prev.backprop()) with weights from 0.01 * randn, the
initialisation of a shallow-network tutorial. Each sigmoid layer multiplies the backward signal
by at most 0.25 and the tiny weights shrink it a hundredfold more: the first layers receive
gradients ~1e-10 of the last one's, the hidden activations are all 0.5, and the loss sits at
log(10). Xavier-scaled weights with tanh units train."""
import numpy as np

from ._data import mnist

STYLE = "layerchain"
EXPECTED = ["INIT_TOO_SMALL", "VANISHING_GRADIENT"]


class Layer:
    def __init__(self, n_in, n_out, act, rng, prev=None, small=True):
        self.W = (0.01 * rng.standard_normal((n_in, n_out)) if small
                  else rng.standard_normal((n_in, n_out)) / np.sqrt(n_in))
        self.b = np.zeros(n_out)
        self.act, self.prev = act, prev

    def forward(self, x):
        self.x = x
        z = x @ self.W + self.b
        if self.act == "sigmoid":
            self.a = 1 / (1 + np.exp(-z))
        elif self.act == "tanh":
            self.a = np.tanh(z)
        else:
            self.a = z
        return self.a

    def backprop(self, grad_a, grads):
        if self.act == "sigmoid":
            grad_z = grad_a * self.a * (1 - self.a)
        elif self.act == "tanh":
            grad_z = grad_a * (1 - self.a ** 2)
        else:
            grad_z = grad_a
        self.dW, self.db = self.x.T @ grad_z, grad_z.sum(0)
        grads[:0] = [self.dW, self.db]
        if self.prev is not None:
            self.prev.backprop(grad_z @ self.W.T, grads)


def _data():
    Xtr, ytr, Xte, yte = mnist(1500, 500, seed=66)
    return Xtr / 255.0, ytr, Xte / 255.0, yte


def _net(rng, bug):
    sizes = [784, 64, 64, 64, 64, 64, 10]
    act = "sigmoid" if bug else "tanh"
    layers, prev = [], None
    for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        prev = Layer(a, b, act if k < len(sizes) - 2 else "linear", rng, prev, small=bug)
        layers.append(prev)
    return layers


def train_step(layers, xb, yb, lr):
    """The loop's forward, backprop and update on one batch (in place): (loss, grads, logits)."""
    h = xb
    for layer in layers:
        h = layer.forward(h)
    p = np.exp(h - h.max(1, keepdims=True)); p /= p.sum(1, keepdims=True)
    loss = -np.log(p[np.arange(len(yb)), yb]).mean()
    g = p; g[np.arange(len(yb)), yb] -= 1
    grads = []
    layers[-1].backprop(g / len(yb), grads)
    if lr is not None:
        for layer in layers:
            layer.W -= lr * layer.dW; layer.b -= lr * layer.db
    return loss, grads, h


def _bind(layers, p):
    """The layers' weights are the arrays of p (updated in place through them)."""
    for k, layer in enumerate(layers, 1):
        layer.W, layer.b = p[f"W{k}"], p[f"b{k}"]
    return layers


def examine_case(bug):
    """The program as doctor.examine's arguments: its own step, init and data."""
    Xtr, ytr, _, _ = _data()
    layers = _net(np.random.default_rng(66), bug)
    names = [f"{n}{k}" for k in range(1, 7) for n in ("W", "b")]

    def predict(p, X):
        h = X
        for layer in _bind(layers, p):
            h = layer.forward(h)
        return h

    return {"step": lambda p, X, y, lr: train_step(_bind(layers, p), X, y, lr)[0],
            "params": dict(zip(names, [a for l in layers for a in (l.W, l.b)])),
            "grad": lambda p, X, y: dict(zip(names, train_step(_bind(layers, p), X, y, None)[1])),
            "X": Xtr, "y": ytr, "lr": 0.1, "batch_size": 64, "predict": predict, "train_steps": 200}


def _run(doctor, bug):
    Xtr, ytr, Xte, yte = _data()
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    rng = np.random.default_rng(66)
    layers = _net(rng, bug)
    rec = doctor.Recorder([f"{n}{k}" for k in range(1, 7) for n in ("W", "b")])
    losses = []
    for step in range(200):
        idx = rng.integers(0, len(Xtr), 64)
        loss, grads, h = train_step(layers, Xtr[idx], ytr[idx], 0.1)
        losses.append(loss)
        if step % 2 == 0:
            rec.log(step, loss=losses[-1], weights=[a for l in layers for a in (l.W, l.b)], grads=grads,
                    activations=[l.a for l in layers[:-1]], logits=h, labels=ytr[idx])
    reports.append(rec.report())
    h = Xte
    for layer in layers:
        h = layer.forward(h)
    return reports, {"loss_start": losses[0], "loss_end": float(np.mean(losses[-10:])),
                     "accuracy": float(np.mean(h.argmax(1) == yte)), "chance": 0.1}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
