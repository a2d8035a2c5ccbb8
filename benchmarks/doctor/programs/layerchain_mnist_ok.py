"""Correct program: the prev/next Layer chain of a well-known question done right: 784-128-64-10,
ReLU hidden layers, a max-shifted softmax, He-initialised weights, zero biases, pixels / 255
for train *and* test, shuffled mini-batches of 32, lr 0.05. Recursive forward and backprop
through the chain. It reaches ~90%; nothing is wrong."""
import numpy as np

from ._data import mnist

STYLE = "layerchain"
EXPECTED = []


class Layer:
    def __init__(self, size, prev_layer=None, rng=None):
        self.size, self.prevLayer, self.nextLayer = size, prev_layer, None
        if prev_layer is not None:
            prev_layer.nextLayer = self
            self.W = rng.normal(0, np.sqrt(2 / prev_layer.size), (prev_layer.size, size))
            self.W_bias = np.zeros(size)

    def forward(self, x=None):
        if self.prevLayer is None:
            self.data = x
        else:
            self.data_in = self.prevLayer.data @ self.W + self.W_bias
            if self.nextLayer is None:
                e = np.exp(self.data_in - self.data_in.max(axis=1, keepdims=True))
                self.data = e / e.sum(axis=1, keepdims=True)
            else:
                self.data = np.maximum(0, self.data_in)
        return self.nextLayer.forward() if self.nextLayer else self.data

    def backprop(self, delta, lr):
        self.dW = self.prevLayer.data.T @ delta
        self.db = delta.sum(axis=0)
        if self.prevLayer.prevLayer is not None:
            prev_delta = (delta @ self.W.T) * (self.prevLayer.data_in > 0)
        self.W -= lr * self.dW
        self.W_bias -= lr * self.db
        if self.prevLayer.prevLayer is not None:
            self.prevLayer.backprop(prev_delta, lr)


def _data():
    Xtr, ytr, Xte, yte = mnist(2000, 500, seed=70)
    return Xtr / 255.0, ytr, Xte / 255.0, yte


def _net(rng):
    inp = Layer(784); h1 = Layer(128, inp, rng); h2 = Layer(64, h1, rng); out = Layer(10, h2, rng)
    return inp, h1, h2, out


def train_step(net, xb, yb, lr):
    """The loop's forward and backprop (which updates in place) on one batch; returns the loss."""
    probs = net[0].forward(xb)
    expected = np.eye(10)[yb]
    loss = -np.mean(np.log(probs[np.arange(len(yb)), yb] + 1e-12))
    net[-1].backprop((probs - expected) / len(yb), lr)
    return loss


def _bind(net, p):
    """The layers' weights are the arrays of p (updated in place through them)."""
    for k, layer in enumerate(net[1:], 1):
        layer.W, layer.W_bias = p[f"W{k}"], p[f"b{k}"]
    return net


def examine_case(bug=False):
    """The program as doctor.examine's arguments: its own step, init and data."""
    Xtr, ytr, _, _ = _data()
    net = _net(np.random.default_rng(70))

    def grad(p, X, y):                                 # backprop at rate 0: the weights stay
        train_step(_bind(net, p), X, y, 0.0)
        return {f"{n}{k}": getattr(l, a) for k, l in enumerate(net[1:], 1) for n, a in (("W", "dW"), ("b", "db"))}

    def predict(p, X):
        _bind(net, p)[0].forward(X)
        return net[-1].data_in

    return {"step": lambda p, X, y, lr: train_step(_bind(net, p), X, y, lr),
            "params": {f"{n}{k}": getattr(l, a) for k, l in enumerate(net[1:], 1) for n, a in (("W", "W"), ("b", "W_bias"))},
            "grad": grad, "predict": predict, "X": Xtr, "y": ytr, "lr": 0.05, "batch_size": 32,
            "train_steps": 126}


def fixed(doctor):
    Xtr, ytr, Xte, yte = _data()
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    rng = np.random.default_rng(70)
    inp, h1, h2, out = net = _net(rng)
    rec = doctor.Recorder(["W1", "b1", "W2", "b2", "W3", "b3"])
    losses, step = [], 0
    for epoch in range(2):
        order = rng.permutation(len(Xtr))
        for k in range(0, len(order), 32):
            i = order[k:k + 32]
            losses.append(train_step(net, Xtr[i], ytr[i], 0.05))
            if step % 3 == 0:
                rec.log(step, loss=losses[-1],
                        weights=[h1.W, h1.W_bias, h2.W, h2.W_bias, out.W, out.W_bias],
                        grads=[h1.dW, h1.db, h2.dW, h2.db, out.dW, out.db],
                        activations=[h1.data, h2.data], logits=out.data_in, labels=ytr[i])
            step += 1
    reports.append(rec.report())
    acc = np.mean(inp.forward(Xte).argmax(1) == yte)
    return reports, {"loss_start": losses[0], "loss_end": float(np.mean(losses[-10:])),
                     "accuracy": float(acc), "chance": 0.1}
