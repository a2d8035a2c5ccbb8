"""A 784-100-50-10 chain of Layer objects (prev/next links, recursive forward and backward), ReLU
hidden units, softmax output, pixels in 0..1 (all inputs non-negative). Having read that "a
negative bias makes ReLU units sparse", the learner initialises every hidden bias to -2. With
He-scaled weights the pre-activations have a standard deviation below 1, so nearly every hidden
unit is negative for every image: the ReLUs are dead from the start, no gradient flows back,
and the loss stays at log(10)."""
import numpy as np

from ._data import mnist

STYLE = "layerchain"
EXPECTED = ["DEAD_RELU"]


class Layer:
    def __init__(self, n, prev=None, rng=None, bias=0.0, last=False):
        self.n, self.prev, self.next, self.last = n, prev, None, last
        if prev is not None:
            prev.next = self
            self.W = rng.normal(0, np.sqrt(2 / prev.n), (prev.n, n))
            self.b = np.full(n, bias)

    def forward(self, x=None):
        if self.prev is None:
            self.a = x
        else:
            self.z = self.prev.a @ self.W + self.b
            if self.last:
                e = np.exp(self.z - self.z.max(axis=1, keepdims=True))
                self.a = e / e.sum(axis=1, keepdims=True)
            else:
                self.a = np.maximum(self.z, 0)
        return self.next.forward() if self.next else self.a

    def backward(self, dz):
        self.dW = self.prev.a.T @ dz
        self.db = dz.sum(axis=0)
        if self.prev.prev is not None:
            self.prev.backward((dz @ self.W.T) * (self.prev.z > 0))

    def update(self, lr):
        self.W -= lr * self.dW
        self.b -= lr * self.db
        if self.next:
            self.next.update(lr)


def _data():
    Xtr, ytr, Xte, yte = mnist(1500, 500, seed=63)
    return Xtr / 255.0, ytr, Xte / 255.0, yte


def _net(rng, bias):
    x = Layer(784)
    h1 = Layer(100, x, rng, bias)
    h2 = Layer(50, h1, rng, bias)
    out = Layer(10, h2, rng, 0.0, last=True)
    return x, h1, h2, out


def train_step(net, xb, yb, lr):
    """The loop's forward, backward and update on one batch (in place); returns the loss."""
    x, h1, h2, out = net
    p = x.forward(xb)
    t = np.eye(10)[yb]
    loss = -np.mean(np.log(np.sum(p * t, axis=1) + 1e-12))
    out.backward((p - t) / len(yb))
    if lr is not None:
        h1.update(lr)
    return loss


def _bind(net, p):
    """The layers' weights are the arrays of p (updated in place through them)."""
    for k, layer in enumerate(net[1:], 1):
        layer.W, layer.b = p[f"W{k}"], p[f"b{k}"]
    return net


def _params(net):
    return {f"{a}{k}": getattr(layer, n) for k, layer in enumerate(net[1:], 1) for a, n in (("W", "W"), ("b", "b"))}


def examine_case(bug):
    """The program as doctor.examine's arguments: its own step (the chain's forward, backward
    and update), init and data."""
    Xtr, ytr, _, _ = _data()
    net = _net(np.random.default_rng(63), -2.0 if bug else 0.0)

    def grad(p, X, y):
        train_step(_bind(net, p), X, y, None)
        return {f"{a}{k}": getattr(layer, n) for k, layer in enumerate(net[1:], 1)
                for a, n in (("W", "dW"), ("b", "db"))}

    def predict(p, X):
        _bind(net, p)[0].forward(X)
        return net[-1].z

    return {"step": lambda p, X, y, lr: train_step(_bind(net, p), X, y, lr), "params": _params(net),
            "X": Xtr, "y": ytr, "lr": 0.1, "batch_size": 64, "grad": grad, "predict": predict,
            "train_steps": 200}


def _run(doctor, bias):
    Xtr, ytr, Xte, yte = _data()
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    rng = np.random.default_rng(63)
    net = x, h1, h2, out = _net(rng, bias)
    rec = doctor.Recorder(["W1", "b1", "W2", "b2", "W3", "b3"])
    losses = []
    for step in range(200):
        i = rng.integers(0, len(Xtr), 64)
        losses.append(train_step(net, Xtr[i], ytr[i], 0.1))
        if step % 2 == 0:
            rec.log(step, loss=losses[-1], weights=[h1.W, h1.b, h2.W, h2.b, out.W, out.b],
                    grads=[h1.dW, h1.db, h2.dW, h2.db, out.dW, out.db], activations=[h1.a, h2.a],
                    logits=out.z, labels=ytr[i])
    reports.append(rec.report())
    acc = np.mean(x.forward(Xte).argmax(1) == yte)
    return reports, {"loss_start": losses[0], "loss_end": float(np.mean(losses[-10:])),
                     "accuracy": float(acc), "chance": 0.1}


def buggy(doctor):
    return _run(doctor, -2.0)


def fixed(doctor):
    return _run(doctor, 0.0)
