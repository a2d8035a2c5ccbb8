"""A 784-64-32-10 network of Layer objects (forward() passes to next, backward() to prev) for
digit images read from per-digit folders as 0..255 grey values; the output layer's softmax is
np.exp(x) / np.sum(np.exp(x), axis=1, keepdims=True), with no max subtracted. Raw pixel sums in
the thousands make the first logits large, np.exp overflows, inf / inf gives NaN, and from the
first mini-batch the loss and then every weight are NaN. Scaling the pixels to 0..1 and
subtracting the row max in the softmax fixes it."""
import numpy as np

from ._data import mnist

STYLE = "layerchain"
EXPECTED = ["INPUT_SCALE", "NONFINITE"]


class Layer:
    def __init__(self, n_in, n_out, rng, kind):
        self.W = rng.normal(0, np.sqrt(2 / n_in), (n_in, n_out)); self.b = np.zeros(n_out)
        self.kind = kind
        self.prev = self.next = None

    def forward(self, x):
        self.x = x
        self.z = x @ self.W + self.b
        if self.kind == "relu":
            self.a = np.maximum(self.z, 0)
        elif self.kind == "softmax_naive":
            e = np.exp(self.z)
            self.a = e / np.sum(e, axis=1, keepdims=True)
        else:
            e = np.exp(self.z - self.z.max(axis=1, keepdims=True))
            self.a = e / np.sum(e, axis=1, keepdims=True)
        return self.next.forward(self.a) if self.next else self.a

    def backward(self, dz, lr):
        self.dW, self.db = self.x.T @ dz, dz.sum(0)
        if self.prev:
            self.prev.backward((dz @ self.W.T) * (self.prev.z > 0), lr)
        self.W -= lr * self.dW
        self.b -= lr * self.db


def _data(bug):
    Xtr, ytr, Xte, yte = mnist(1500, 500, seed=68)
    scale = 1.0 if bug else 255.0
    return Xtr / scale, ytr, Xte / scale, yte


def _net(rng, bug):
    l1 = Layer(784, 64, rng, "relu"); l2 = Layer(64, 32, rng, "relu")
    l3 = Layer(32, 10, rng, "softmax_naive" if bug else "softmax")
    l1.next, l2.prev, l2.next, l3.prev = l2, l1, l3, l2
    return l1, l2, l3


def train_step(net, xb, yb, lr):
    """The loop's forward and backward (which updates in place) on one batch: (loss, probs)."""
    p = net[0].forward(xb)
    y = np.eye(10)[yb]
    loss = float(-np.mean(np.sum(y * np.log(p + 1e-12), axis=1)))
    net[2].backward((p - y) / len(yb), lr)
    return loss, p


def _bind(net, p):
    """The layers' weights are the arrays of p (updated in place through them)."""
    for k, layer in enumerate(net, 1):
        layer.W, layer.b = p[f"W{k}"], p[f"b{k}"]
    return net


def examine_case(bug):
    """The program as doctor.examine's arguments: its own step, init and data (its pixels, as
    it scales them)."""
    Xtr, ytr, _, _ = _data(bug)
    net = _net(np.random.default_rng(68), bug)

    def grad(p, X, y):                                 # backward at rate 0: the weights stay
        train_step(_bind(net, p), X, y, 0.0)
        return {f"{n}{k}": getattr(l, "d" + n) for k, l in enumerate(net, 1) for n in ("W", "b")}

    return {"step": lambda p, X, y, lr: train_step(_bind(net, p), X, y, lr)[0],
            "params": {f"{n}{k}": getattr(l, n) for k, l in enumerate(net, 1) for n in ("W", "b")},
            "grad": grad, "predict": lambda p, X: _bind(net, p)[0].forward(X),
            "X": Xtr, "y": ytr, "lr": 0.05, "batch_size": 32, "train_steps": 150}


def _run(doctor, bug):
    Xtr, ytr, Xte, yte = _data(bug)
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    rng = np.random.default_rng(68)
    l1, l2, l3 = net = _net(rng, bug)
    rec = doctor.Recorder(["W1", "b1", "W2", "b2", "W3", "b3"])
    losses = []
    for step in range(150):
        i = rng.integers(0, len(Xtr), 32)
        loss, p = train_step(net, Xtr[i], ytr[i], 0.05)
        losses.append(loss)
        rec.log(step, loss=losses[-1], weights=[l1.W, l1.b, l2.W, l2.b, l3.W, l3.b],
                grads=[l1.dW, l1.db, l2.dW, l2.db, l3.dW, l3.db], activations=[l1.a, l2.a],
                logits=p, labels=ytr[i])
    reports.append(rec.report())
    acc = np.mean(l1.forward(Xte).argmax(1) == yte)
    return reports, {"loss_start": losses[0], "loss_end": float(np.mean(losses[-10:])),
                     "accuracy": float(acc), "chance": 0.1}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
