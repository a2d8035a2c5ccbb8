"""A 784-128-64-10 MNIST classifier built as a chain of Layer objects (each holds prev and next,
forward() calls next.forward(), backprop() calls prev.backprop()), tanh hidden units and a
softmax output, trained on mini-batches of 32. Each layer draws W = np.random.randn(n_in, n_out)
with no scaling: the first layer's pre-activations have a standard deviation around 10, every
tanh sits at +-1, the gradient through them is ~0, and the network is stuck near chance."""
import numpy as np

from ._data import mnist

STYLE = "layerchain"
EXPECTED = ["INIT_TOO_LARGE", "SATURATION"]


class Layer:
    def __init__(self, size, prev_layer=None, rng=None, scaled=True, output=False):
        self.size, self.prevLayer, self.nextLayer, self.output = size, prev_layer, None, output
        self.data = None
        if prev_layer is not None:
            prev_layer.nextLayer = self
            std = np.sqrt(1.0 / prev_layer.size) if scaled else 1.0
            self.W = rng.standard_normal((prev_layer.size, size)) * std
            self.b = np.zeros(size)

    def forward(self, x=None):
        if self.prevLayer is None:
            self.data = x
        else:
            self.data_in = self.prevLayer.data @ self.W + self.b
            if self.output:
                e = np.exp(self.data_in - self.data_in.max(axis=1, keepdims=True))
                self.data = e / e.sum(axis=1, keepdims=True)
            else:
                self.data = np.tanh(self.data_in)
        return self.nextLayer.forward() if self.nextLayer is not None else self.data

    def backprop(self, delta, lr, grads):
        # delta: dLoss/d(data_in) of this layer
        dW = self.prevLayer.data.T @ delta
        db = delta.sum(axis=0)
        grads.insert(0, (dW, db))
        if self.prevLayer.prevLayer is not None:
            prev_delta = (delta @ self.W.T) * (1 - self.prevLayer.data ** 2)
        self.W -= lr * dW
        self.b -= lr * db
        if self.prevLayer.prevLayer is not None:
            self.prevLayer.backprop(prev_delta, lr, grads)


def _data():
    Xtr, ytr, Xte, yte = mnist(1500, 500, seed=60)
    return Xtr / 255.0, ytr, Xte / 255.0, yte


def _net(rng, scaled):
    inp = Layer(784)
    h1 = Layer(128, inp, rng, scaled)
    h2 = Layer(64, h1, rng, scaled)
    out = Layer(10, h2, rng, scaled, output=True)
    return inp, h1, h2, out


def train_step(net, xb, yb, lr):
    """The loop's forward and backprop (which updates in place) on one batch: (loss, grads)."""
    inp, out = net[0], net[-1]
    probs = inp.forward(xb)
    Y = np.eye(10)[yb]
    loss = -np.mean(np.sum(Y * np.log(probs + 1e-12), axis=1))
    grads = []
    out.backprop((probs - Y) / len(yb), lr, grads)
    return loss, grads


def _bind(net, p):
    """The layers' weights are the arrays of p (updated in place through them)."""
    for k, layer in enumerate(net[1:], 1):
        layer.W, layer.b = p[f"W{k}"], p[f"b{k}"]
    return net


def examine_case(bug):
    """The program as doctor.examine's arguments: its own step (the chain's forward and
    backprop), init and data."""
    Xtr, ytr, _, _ = _data()
    net = _net(np.random.default_rng(60), not bug)

    def grad(p, X, y):                                    # backprop at rate 0: the weights stay
        g = train_step(_bind(net, p), X, y, 0.0)[1]
        return {f"{n}{k}": a for k, dwb in enumerate(g, 1) for n, a in zip(("W", "b"), dwb)}

    def predict(p, X):
        _bind(net, p)[0].forward(X)
        return net[-1].data_in

    return {"step": lambda p, X, y, lr: train_step(_bind(net, p), X, y, lr)[0],
            "params": {f"{n}{k}": getattr(l, n) for k, l in enumerate(net[1:], 1) for n in ("W", "b")},
            "X": Xtr, "y": ytr, "lr": 0.1, "batch_size": 32, "grad": grad, "predict": predict,
            "train_steps": 200}


def _run(doctor, scaled):
    Xtr, ytr, Xte, yte = _data()
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    rng = np.random.default_rng(60)
    inp, h1, h2, out = net = _net(rng, scaled)
    layers = [h1, h2, out]
    rec = doctor.Recorder([f"{n}{i}" for i in (1, 2, 3) for n in ("W", "b")])
    losses = []
    for step in range(200):
        idx = rng.integers(0, len(Xtr), 32)
        loss, grads = train_step(net, Xtr[idx], ytr[idx], 0.1)
        losses.append(loss)
        if step % 2 == 0:
            rec.log(step, loss=losses[-1], weights=[a for l in layers for a in (l.W, l.b)],
                    grads=[a for g in grads for a in g], activations=[h1.data, h2.data],
                    logits=out.data_in, labels=ytr[idx])
    reports.append(rec.report())
    acc = np.mean(inp.forward(Xte).argmax(1) == yte)
    return reports, {"loss_start": losses[0], "loss_end": float(np.mean(losses[-10:])),
                     "accuracy": float(acc), "chance": 0.1}


def buggy(doctor):
    return _run(doctor, False)


def fixed(doctor):
    return _run(doctor, True)
