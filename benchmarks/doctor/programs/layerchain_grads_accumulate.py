"""A PyTorch-flavoured mini framework: Linear and ReLU modules with forward/backward that
*accumulate* gradients (self.grad_W += ...), and an SGD class whose step() applies them. Like in
PyTorch, somebody has to zero the gradients before each backward, and the learner's loop never
calls zero_grad(). From the second step on, every update is the sum of all past gradients: the
effective step grows linearly, the weights swing further each time and the loss climbs
(784-64-10 ReLU/softmax on MNIST)."""
import numpy as np

from ._data import mnist

STYLE = "layerchain"
EXPECTED = ["GRADIENT_NOT_RESET"]


class Linear:
    def __init__(self, n_in, n_out, rng):
        self.W = rng.normal(0, 1 / np.sqrt(n_in), (n_in, n_out)); self.b = np.zeros(n_out)
        self.grad_W = np.zeros_like(self.W); self.grad_b = np.zeros_like(self.b)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, g):
        self.grad_W += self.x.T @ g
        self.grad_b += g.sum(0)
        return g @ self.W.T

    def params(self):
        return [(self.W, self.grad_W), (self.b, self.grad_b)]


class ReLU:
    def forward(self, x):
        self.y = np.maximum(x, 0)
        return self.y

    def backward(self, g):
        return g * (self.y > 0)

    def params(self):
        return []


class SGD:
    def __init__(self, modules, lr):
        self.modules, self.lr = modules, lr

    def step(self):
        for m in self.modules:
            for p, g in m.params():
                p -= self.lr * g

    def zero_grad(self):
        for m in self.modules:
            for _, g in m.params():
                g[...] = 0


def _data():
    Xtr, ytr, Xte, yte = mnist(1500, 500, seed=62)
    return Xtr / 255.0, ytr, Xte / 255.0, yte


def train_step(model, opt, xb, yb, bug):
    """The loop's forward, backward and SGD step on one batch (in place): (loss, logits)."""
    out = xb
    for m in model:
        out = m.forward(out)
    p = np.exp(out - out.max(1, keepdims=True)); p /= p.sum(1, keepdims=True)
    loss = -np.log(p[np.arange(len(yb)), yb]).mean()
    g = p; g[np.arange(len(yb)), yb] -= 1; g /= len(yb)
    if not bug:
        opt.zero_grad()
    for m in reversed(model):
        g = m.backward(g)
    opt.step()
    return loss, out


class Step:
    """examine's step: the model's modules (and their gradient buffers, which the buggy loop
    never zeroes: state, so a callable object examine copies per trial) on the params' arrays."""

    def __init__(self, model, bug):
        self.model, self.bug = model, bug

    def __call__(self, p, X, y, lr):
        m = self.model
        m[0].W, m[0].b, m[2].W, m[2].b = p["W1"], p["b1"], p["W2"], p["b2"]
        return train_step(m, SGD(m, lr), X, y, self.bug)[0]


def examine_case(bug):
    """The program as doctor.examine's arguments: its own step, init and data."""
    Xtr, ytr, _, _ = _data()
    rng = np.random.default_rng(62)
    model = [Linear(784, 64, rng), ReLU(), Linear(64, 10, rng)]

    scratch = Step([Linear(784, 64, rng), ReLU(), Linear(64, 10, rng)], False)

    def grad(p, X, y):                 # one batch's gradient: the modules' backward, buffers zeroed
        scratch(p, X, y, 0.0)
        m = scratch.model
        return {"W1": m[0].grad_W.copy(), "b1": m[0].grad_b.copy(), "W2": m[2].grad_W.copy(),
                "b2": m[2].grad_b.copy()}

    def predict(p, X):
        return np.maximum(X @ p["W1"] + p["b1"], 0) @ p["W2"] + p["b2"]

    return {"step": Step(model, bug), "grad": grad,
            "params": {"W1": model[0].W, "b1": model[0].b, "W2": model[2].W, "b2": model[2].b},
            "X": Xtr, "y": ytr, "lr": 0.2, "batch_size": 50, "predict": predict, "train_steps": 200}


def _run(doctor, bug):
    Xtr, ytr, Xte, yte = _data()
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    rng = np.random.default_rng(62)
    model = [Linear(784, 64, rng), ReLU(), Linear(64, 10, rng)]
    opt = SGD(model, lr=0.2)
    rec = doctor.Recorder(["W1", "b1", "W2", "b2"])
    losses = []
    for step in range(200):
        idx = rng.integers(0, len(Xtr), 50)
        loss, out = train_step(model, opt, Xtr[idx], ytr[idx], bug)
        losses.append(loss)
        if step % 2 == 0:
            rec.log(step, loss=losses[-1], weights=[model[0].W, model[0].b, model[2].W, model[2].b],
                    grads=[model[0].grad_W, model[0].grad_b, model[2].grad_W, model[2].grad_b],
                    activations=[model[1].y], logits=out, labels=ytr[idx])
    reports.append(rec.report())
    o = Xte
    for m in model:
        o = m.forward(o)
    return reports, {"loss_start": losses[0], "loss_end": float(np.mean(losses[-10:])),
                     "accuracy": float(np.mean(o.argmax(1) == yte)), "chance": 0.1}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
