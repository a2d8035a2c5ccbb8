"""A regression network built from layer objects (Linear -> Tanh -> Linear -> Tanh -> Linear,
each with forward/backward, chained through a list) predicting a smooth function of 5 inputs
with an MSE loss object. The loss object's backward returns (target - prediction) * 2 / N, the
sign convention of the "error" in the learner's notes, while the optimiser subtracts the
gradient: the whole network does gradient *ascent*, and the MSE grows every step until it is
enormous. The learner checked its layers' gradients with the doctor but on the loss it wrote."""
import numpy as np

STYLE = "layerchain"
EXPECTED = ["GRADIENT_MISMATCH"]


class Linear:
    def __init__(self, n_in, n_out, rng):
        self.W = rng.normal(0, 1 / np.sqrt(n_in), (n_in, n_out)); self.b = np.zeros(n_out)

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


class MSE:
    def __init__(self, bug):
        self.bug = bug

    def forward(self, pred, target):
        self.pred, self.target = pred, target
        return np.mean((pred - target) ** 2)

    def backward(self):
        diff = (self.target - self.pred) if self.bug else (self.pred - self.target)
        return 2 * diff / self.pred.size


def _setup():
    rng = np.random.default_rng(65)
    X = rng.uniform(-1, 1, (700, 5))
    y = (np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2] + 0.5 * X[:, 3] ** 2 - 0.3 * X[:, 4])[:, None]
    net = [Linear(5, 32, rng), Tanh(), Linear(32, 32, rng), Tanh(), Linear(32, 1, rng)]
    return X[:500], y[:500], X[500:], y[500:], net, rng


def train_step(net, loss_fn, xb, yb, lr):
    """The loop's forward, backward and update on one batch (in place): (loss, prediction)."""
    pred = xb
    for m in net:
        pred = m.forward(pred)
    loss = loss_fn.forward(pred, yb)
    g = loss_fn.backward()
    for m in reversed(net):
        g = m.backward(g)
    if lr is not None:
        for m in net[::2]:
            m.W -= lr * m.gW; m.b -= lr * m.gb
    return loss, pred


def _bind(net, p):
    """The layers' weights are the arrays of p (updated in place through them)."""
    for k, m in enumerate(net[::2], 1):
        m.W, m.b = p[f"W{k}"], p[f"b{k}"]
    return net


def examine_case(bug):
    """The program as doctor.examine's arguments: its own step (the loss object's backward and
    the layers'), init and data."""
    Xtr, ytr, _, _, net, _ = _setup()
    loss_fn = MSE(bug)

    def grad(p, X, y):
        train_step(_bind(net, p), loss_fn, X, y, None)
        return {f"{n}{k}": getattr(m, "g" + n) for k, m in enumerate(net[::2], 1) for n in ("W", "b")}

    def predict(p, X):
        for m in _bind(net, p):
            X = m.forward(X)
        return X

    return {"step": lambda p, X, y, lr: train_step(_bind(net, p), loss_fn, X, y, lr)[0],
            "params": {f"{n}{k}": getattr(m, n) for k, m in enumerate(net[::2], 1) for n in ("W", "b")},
            "grad": grad, "predict": predict, "X": Xtr, "y": ytr, "lr": 0.1, "batch_size": 50,
            "train_steps": 300}


def _run(doctor, bug):
    Xtr, ytr, Xte, yte, net, rng = _setup()
    reports = [doctor.check_data(Xtr, ytr, Xte, yte, classification=False)]
    lin = [net[0], net[2], net[4]]
    loss_fn = MSE(bug)

    def run(x):
        for m in net:
            x = m.forward(x)
        return x

    # check the backward pass once, with the doctor
    def f(params):
        saved = [(m.W, m.b) for m in lin]
        for k, m in enumerate(lin):
            m.W, m.b = params[2 * k], params[2 * k + 1]
        v = np.mean((run(Xtr[:20]) - ytr[:20]) ** 2)
        for m, (W, b) in zip(lin, saved):
            m.W, m.b = W, b
        return v

    loss_fn.forward(run(Xtr[:20]), ytr[:20])
    g = loss_fn.backward()
    for m in reversed(net):
        g = m.backward(g)
    reports.append(doctor.check_gradients(f, [a for m in lin for a in (m.W, m.b)],
                                          [a for m in lin for a in (m.gW, m.gb)]))
    rec = doctor.Recorder(["W1", "b1", "W2", "b2", "W3", "b3"])
    losses = []
    for it in range(300):
        idx = rng.choice(500, 50, replace=False)
        loss, pred = train_step(net, loss_fn, Xtr[idx], ytr[idx], 0.1)
        losses.append(loss)
        if it % 3 == 0:
            rec.log(it, loss=losses[-1], weights=[a for m in lin for a in (m.W, m.b)],
                    grads=[a for m in lin for a in (m.gW, m.gb)], activations=[net[1].y, net[3].y],
                    logits=pred, labels=ytr[idx])
    reports.append(rec.report())
    p = run(Xte)
    r2 = 1 - np.sum((p - yte) ** 2) / np.sum((yte - yte.mean()) ** 2)
    return reports, {"loss_start": float(np.mean(losses[:5])), "loss_end": float(np.mean(losses[-5:])),
                     "r2": float(r2)}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
