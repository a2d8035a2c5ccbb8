"""A 196-20-10 network of neuron objects (sigmoid units, quadratic error, per-neuron weight
arrays, weights from uniform(-1/sqrt(n), 1/sqrt(n))) on 14x14 digits, one image per step.
After an earlier run went NaN the learner set lr = 1e-4 "to be safe". Each image now moves the
weights by ~1e-5 of their size: after 1200 images the outputs are where they started, all
near 0.5, and accuracy is at chance. lr = 0.5 learns the same data in one pass."""
import numpy as np

from ._data import mnist
from ._neurons import NeuronStep, params_of

STYLE = "neuron"
EXPECTED = ["LR_TOO_LOW"]


def sig(z):
    return 1 / (1 + np.exp(-z))


class Neuron:
    def __init__(self, n, rng):
        r = 1 / np.sqrt(n)
        self.weights = rng.uniform(-r, r, n)
        self.bias = rng.uniform(-r, r)

    def feed(self, inputs):
        self.inputs = inputs
        self.out = sig(self.weights @ inputs + self.bias)
        return self.out

    def adjust(self, error_term, lr):
        self.grad = error_term * self.inputs
        self.weights -= lr * self.grad
        self.bias -= lr * error_term


def _data():
    Xtr, ytr, Xte, yte = mnist(1200, 300, seed=87, side=14)
    return Xtr / 255.0, ytr, Xte / 255.0, yte


def sample(layers, x, label, lr):
    """The loop's forward, backward and update on one image (in place): (loss, a1, a2, target)."""
    layer1, layer2 = layers
    a1 = np.array([n.feed(x) for n in layer1])
    a2 = np.array([n.feed(a1) for n in layer2])
    target = np.eye(10)[label]
    loss = 0.5 * np.sum((a2 - target) ** 2)
    e2 = (a2 - target) * a2 * (1 - a2)
    w2 = np.array([n.weights for n in layer2])
    e1 = (w2.T @ e2) * a1 * (1 - a1)
    for n, e in zip(layer2, e2):
        n.adjust(e, lr)
    for n, e in zip(layer1, e1):
        n.adjust(e, lr)
    return loss, a1, a2, target


def examine_case(bug):
    """The program as doctor.examine's arguments: its per-image update, init and data."""
    Xtr, ytr, _, _ = _data()
    rng = np.random.default_rng(87)
    layers = [[Neuron(196, rng) for _ in range(20)], [Neuron(20, rng) for _ in range(10)]]
    step = NeuronStep(layers, lambda ls, x, t, lr: sample(ls, x, t, lr)[0], "weights", "bias")
    fwd = lambda ls, x: np.array([n.feed(np.array([m.feed(x) for m in ls[0]])) for n in ls[1]])  # noqa: E731
    return {"step": step, "params": params_of(layers, "weights", "bias"), "X": Xtr, "y": ytr,
            "lr": 1e-4 if bug else 0.5, "batch_size": 1, "predict": lambda p, X: step.predict(p, X, fwd),
            "train_steps": 1200}


def _run(doctor, lr):
    Xtr, ytr, Xte, yte = _data()
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    rng = np.random.default_rng(87)
    layer1 = [Neuron(196, rng) for _ in range(20)]
    layer2 = [Neuron(20, rng) for _ in range(10)]
    rec = doctor.Recorder()
    losses = []
    for step, k in enumerate(rng.permutation(len(Xtr))):
        loss, a1, a2, target = sample([layer1, layer2], Xtr[k], ytr[k], lr)
        losses.append(loss)
        if step % 10 == 0:
            rec.log(step, loss=losses[-1], weights=[n.weights for n in layer1 + layer2],
                    grads=[n.grad for n in layer1 + layer2], activations=[a1], logits=a2, labels=target)
    reports.append(rec.report())
    pred = [np.argmax([n.feed(np.array([m.feed(x) for m in layer1])) for n in layer2]) for x in Xte]
    return reports, {"loss_start": float(np.mean(losses[:50])), "loss_end": float(np.mean(losses[-200:])),
                     "accuracy": float(np.mean(np.array(pred) == yte)), "chance": 0.1}


def buggy(doctor):
    return _run(doctor, 1e-4)


def fixed(doctor):
    return _run(doctor, 0.5)
