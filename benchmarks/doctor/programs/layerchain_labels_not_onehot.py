"""A layer-object MNIST net (Linear/ReLU/Linear modules) with a softmax + cross-entropy
gradient written as probs - targets. The learner's targets are the labels reshaped to a column,
y.reshape(-1, 1), not one-hot rows: probs (N, 10) - y (N, 1) broadcasts without an error, every
one of the ten outputs is pushed towards the digit's value (3, 7, ...) instead of towards 0/1,
and the network learns to spread probability uniformly. Accuracy stays near chance."""
import numpy as np

from ._data import mnist

STYLE = "layerchain"
EXPECTED = ["LABEL_SHAPE"]


class Linear:
    def __init__(self, i, o, rng):
        self.W = rng.normal(0, np.sqrt(2 / i), (i, o)); self.b = np.zeros(o)

    def __call__(self, x):
        self.x = x
        return x @ self.W + self.b

    def back(self, g):
        self.dW, self.db = self.x.T @ g, g.sum(0)
        return g @ self.W.T


class ReLU:
    def __call__(self, x):
        self.out = np.maximum(x, 0)
        return self.out

    def back(self, g):
        return g * (self.out > 0)


def _data(bug):
    Xtr, ytr, Xte, yte = mnist(1500, 500, seed=67)
    targets = ytr.reshape(-1, 1).astype(float) if bug else np.eye(10)[ytr]
    return Xtr / 255.0, ytr, Xte / 255.0, yte, targets


def train_step(model, xb, t, labels, lr):
    """The loop's forward, backward and update on one batch (in place): (loss, outputs)."""
    out = xb
    for m in model:
        out = m(out)
    probs = np.exp(out - out.max(1, keepdims=True)); probs /= probs.sum(1, keepdims=True)
    loss = -np.log(probs[np.arange(len(xb)), labels] + 1e-12).mean()
    g = (probs - t) / len(xb)
    for m in reversed(model):
        g = m.back(g)
    for m in (model[0], model[2]):
        m.W -= lr * m.dW; m.b -= lr * m.db
    return loss, out


def _bind(model, p):
    """The modules' weights are the arrays of p (updated in place through them)."""
    model[0].W, model[0].b, model[2].W, model[2].b = p["W1"], p["b1"], p["W2"], p["b2"]
    return model


def examine_case(bug):
    """The program as doctor.examine's arguments: its own step, init and data (the targets it
    trains on, a column of digits in the buggy program, one-hot rows in the fixed one)."""
    Xtr, _, _, _, targets = _data(bug)
    rng = np.random.default_rng(67)
    model = [Linear(784, 64, rng), ReLU(), Linear(64, 10, rng)]
    labels = (lambda t: t[:, 0].astype(int)) if bug else (lambda t: t.argmax(1))

    def predict(p, X):
        out = X
        for m in _bind(model, p):
            out = m(out)
        return out

    return {"step": lambda p, X, y, lr: train_step(_bind(model, p), X, y, labels(y), lr)[0],
            "params": {"W1": model[0].W, "b1": model[0].b, "W2": model[2].W, "b2": model[2].b},
            "X": Xtr, "y": targets, "lr": 0.1, "batch_size": 64, "predict": predict,
            "num_classes": 10, "train_steps": 200}


def _run(doctor, bug):
    Xtr, ytr, Xte, yte, targets = _data(bug)
    reports = [doctor.check_data(Xtr, targets, Xte, yte)]
    rng = np.random.default_rng(67)
    model = [Linear(784, 64, rng), ReLU(), Linear(64, 10, rng)]
    rec = doctor.Recorder(["W1", "b1", "W2", "b2"])
    losses = []
    for step in range(200):
        idx = rng.integers(0, len(Xtr), 64)
        t = targets[idx]
        loss, out = train_step(model, Xtr[idx], t, ytr[idx], 0.1)
        losses.append(loss)
        if step % 2 == 0:
            rec.log(step, loss=losses[-1], weights=[model[0].W, model[0].b, model[2].W, model[2].b],
                    grads=[model[0].dW, model[0].db, model[2].dW, model[2].db],
                    activations=[model[1].out], logits=out, labels=t)
    reports.append(rec.report())
    o = Xte
    for m in model:
        o = m(o)
    return reports, {"loss_start": losses[0], "loss_end": float(np.mean(losses[-10:])),
                     "accuracy": float(np.mean(o.argmax(1) == yte)), "chance": 0.1}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
