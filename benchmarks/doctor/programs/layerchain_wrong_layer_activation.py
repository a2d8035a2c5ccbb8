"""A small framework of Dense and ReLU layer objects linked to their neighbours (forward() calls
next.forward(), backward() calls prev.backward()). In Dense.backward the learner writes
self.dW = self.out.T @ grad, the layer's own output, instead of self.inp.T @ grad, its input.
The task (8 sensor channels, 8 fault classes, an 8-8-8-8 network) makes every W 8x8, so no
shape error ever shows; every layer is updated with a gradient built from the wrong layer's
activations and the loss wanders. The learner runs the doctor's gradient check once, on a few
samples, before training."""
import numpy as np

STYLE = "layerchain"
EXPECTED = ["GRADIENT_MISMATCH"]


class Dense:
    def __init__(self, n_in, n_out, rng, bug):
        self.W = rng.normal(0, np.sqrt(2 / n_in), (n_in, n_out))
        self.b = np.zeros(n_out)
        self.bug = bug
        self.prev = self.next = None

    def forward(self, x):
        self.inp = x
        self.out = x @ self.W + self.b
        return self.next.forward(self.out) if self.next else self.out

    def backward(self, grad):
        self.dW = (self.out if self.bug else self.inp).T @ grad
        self.db = grad.sum(axis=0)
        g = grad @ self.W.T
        return self.prev.backward(g) if self.prev else g


class ReLU:
    prev = next = None

    def forward(self, x):
        self.mask = x > 0
        self.out = x * self.mask
        return self.next.forward(self.out)

    def backward(self, grad):
        return self.prev.backward(grad * self.mask)


def chain(layers):
    for a, b in zip(layers[:-1], layers[1:]):
        a.next, b.prev = b, a
    return layers


def xent(logits, y):
    s = logits - logits.max(axis=1, keepdims=True)
    logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    g = np.exp(logp); g[np.arange(len(y)), y] -= 1
    return -logp[np.arange(len(y)), y].mean(), g / len(y)


def _data(rng, centers, n):
    y = rng.integers(0, 8, n)
    X = centers[y] + rng.normal(size=(n, 8)) * 0.9
    return np.tanh(X), y


def _setup(bug):
    rng = np.random.default_rng(61)
    centers = rng.normal(size=(8, 8)) * 1.2
    Xtr, ytr = _data(rng, centers, 1200)
    Xte, yte = _data(rng, centers, 400)
    d1, d2, d3 = Dense(8, 8, rng, bug), Dense(8, 8, rng, bug), Dense(8, 8, rng, bug)
    return Xtr, ytr, Xte, yte, chain([d1, ReLU(), d2, ReLU(), d3]), rng


def train_step(net, xb, yb, lr):
    """The loop's forward, backward and update on one batch (in place): (loss, logits)."""
    logits = net[0].forward(xb)
    loss, g = xent(logits, yb)
    net[-1].backward(g)
    if lr is not None:
        for d in net[::2]:
            d.W -= lr * d.dW; d.b -= lr * d.db
    return loss, logits


def _bind(net, p):
    """The layers' weights are the arrays of p (updated in place through them)."""
    for k, d in enumerate(net[::2], 1):
        d.W, d.b = p[f"W{k}"], p[f"b{k}"]
    return net


def examine_case(bug):
    """The program as doctor.examine's arguments: its own step, init and data."""
    Xtr, ytr, _, _, net, _ = _setup(bug)

    def grad(p, X, y):
        train_step(_bind(net, p), X, y, None)
        return {f"{n}{k}": getattr(d, "d" + n) for k, d in enumerate(net[::2], 1) for n in ("W", "b")}

    return {"step": lambda p, X, y, lr: train_step(_bind(net, p), X, y, lr)[0],
            "params": {f"{n}{k}": getattr(d, n) for k, d in enumerate(net[::2], 1) for n in ("W", "b")},
            "grad": grad, "predict": lambda p, X: _bind(net, p)[0].forward(X),
            "X": Xtr, "y": ytr, "lr": 0.2, "batch_size": 32, "train_steps": 600}


def _run(doctor, bug):
    Xtr, ytr, Xte, yte, net, rng = _setup(bug)
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    d1, d2, d3 = net[::2]
    dense = [d1, d2, d3]

    def loss_of(ps, x=Xtr[:16], y=ytr[:16]):
        saved = [(d.W, d.b) for d in dense]
        for i, d in enumerate(dense):
            d.W, d.b = ps[2 * i], ps[2 * i + 1]
        loss = xent(net[0].forward(x), y)[0]
        for d, (W, b) in zip(dense, saved):
            d.W, d.b = W, b
        return loss

    loss, g = xent(net[0].forward(Xtr[:16]), ytr[:16])
    net[-1].backward(g)
    reports.append(doctor.check_gradients(loss_of, [a for d in dense for a in (d.W, d.b)],
                                          [a for d in dense for a in (d.dW, d.db)]))
    rec = doctor.Recorder(["W1", "b1", "W2", "b2", "W3", "b3"])
    losses = []
    for step in range(600):
        i = rng.integers(0, len(Xtr), 32)
        loss, logits = train_step(net, Xtr[i], ytr[i], 0.2)
        losses.append(loss)
        if step % 4 == 0:
            rec.log(step, loss=loss, weights=[a for d in dense for a in (d.W, d.b)],
                    grads=[a for d in dense for a in (d.dW, d.db)],
                    activations=[net[1].out, net[3].out], logits=logits, labels=ytr[i])
    reports.append(rec.report())
    acc = np.mean(net[0].forward(Xte).argmax(1) == yte)
    return reports, {"loss_start": float(np.mean(losses[:10])), "loss_end": float(np.mean(losses[-30:])),
                     "accuracy": float(acc), "chance": 1 / 8}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
