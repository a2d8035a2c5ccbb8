"""Correct program: four classes of 2-D points (Gaussian blobs at the corners of a square,
standardised), a 2-8-4 network of neuron objects with tanh hidden neurons and sigmoid output
neurons trained on the quadratic error, one point per step, lr 0.2, weights from
normal(0, 1/sqrt(n_in)), biases zero. ~97% on held-out points; nothing is wrong."""
import numpy as np

from ._neurons import NeuronStep, params_of

STYLE = "neuron"
EXPECTED = []


class Neuron:
    def __init__(self, n, rng, kind):
        self.w = rng.normal(0, 1 / np.sqrt(n), n); self.b = 0.0; self.kind = kind

    def go(self, x):
        self.x = x
        z = self.w @ x + self.b
        self.y = np.tanh(z) if self.kind == "tanh" else 1 / (1 + np.exp(-z))
        return self.y

    def slope(self):
        return 1 - self.y ** 2 if self.kind == "tanh" else self.y * (1 - self.y)


def _setup():
    rng = np.random.default_rng(90)
    centers = np.array([[0, 0], [4, 0], [0, 4], [4, 4]], dtype=float)

    def make(n):
        k = rng.integers(0, 4, n)
        return centers[k] + rng.normal(0, 0.9, (n, 2)), k

    Xtr, ytr = make(600)
    Xte, yte = make(200)
    mu, sd = Xtr.mean(0), Xtr.std(0)
    Xtr, Xte = (Xtr - mu) / sd, (Xte - mu) / sd
    hidden = [Neuron(2, rng, "tanh") for _ in range(8)]
    outs = [Neuron(8, rng, "sigmoid") for _ in range(4)]
    return Xtr, ytr, Xte, yte, hidden, outs, rng


def sample(hidden, outs, x, label, lr):
    """The loop's forward, backward and update on one point (in place): (error, h, o, t, grads)."""
    h = np.array([n.go(x) for n in hidden])
    o = np.array([n.go(h) for n in outs])
    t = np.eye(4)[label]
    err = 0.5 * np.sum((o - t) ** 2)
    d_o = (o - t) * np.array([n.slope() for n in outs])
    d_h = np.array([sum(d * n.w[j] for d, n in zip(d_o, outs)) for j in range(len(hidden))]) * \
        np.array([n.slope() for n in hidden])
    grads = []
    for n, d in zip(outs + hidden, np.r_[d_o, d_h]):
        grads.append(d * n.x)
        n.w -= lr * grads[-1]; n.b -= lr * d
    return err, h, o, t, grads + [np.r_[d_o, d_h]]


def examine_case(bug=False):
    """The program as doctor.examine's arguments: its per-point update, init and data."""
    Xtr, ytr, _, _, hidden, outs, _ = _setup()
    step = NeuronStep([hidden, outs], lambda ls, x, t, lr: sample(ls[0], ls[1], x, t, lr)[0])
    fwd = lambda ls, x: np.array([n.go(np.array([m.go(x) for m in ls[0]])) for n in ls[1]])  # noqa: E731
    return {"step": step, "params": params_of([hidden, outs]), "X": Xtr, "y": ytr, "lr": 0.2,
            "batch_size": 1, "predict": lambda p, X: step.predict(p, X, fwd), "train_steps": 3000}


def fixed(doctor):
    Xtr, ytr, Xte, yte, hidden, outs, rng = _setup()
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    rec = doctor.Recorder()
    errs = []
    for step in range(3000):
        i = rng.integers(600)
        err, h, o, t, grads = sample(hidden, outs, Xtr[i], ytr[i], 0.2)
        errs.append(err)
        if step % 50 == 0:
            ns = outs + hidden
            rec.log(step, loss=float(np.mean(errs[-50:])),
                    weights=[n.w for n in ns] + [np.array([n.b for n in ns])],
                    grads=grads, activations=[h], logits=o, labels=t)
    reports.append(rec.report())
    pred = [np.argmax([n.go(np.array([m.go(x) for m in hidden])) for n in outs]) for x in Xte]
    return reports, {"loss_start": float(np.mean(errs[:100])), "loss_end": float(np.mean(errs[-300:])),
                     "accuracy": float(np.mean(np.array(pred) == yte)), "chance": 0.25}
