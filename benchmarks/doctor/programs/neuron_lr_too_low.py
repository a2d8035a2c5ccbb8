"""A 196-20-10 network of neuron objects (sigmoid units, quadratic error, per-neuron weight
arrays, weights from uniform(-1/sqrt(n), 1/sqrt(n))) on 14x14 digits, one image per step.
After an earlier run went NaN the learner set lr = 1e-4 "to be safe". Each image now moves the
weights by ~1e-5 of their size: after 1200 images the outputs are where they started, all
near 0.5, and accuracy is at chance. lr = 0.5 learns the same data in one pass."""
import numpy as np

from ._data import mnist

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


def _run(doctor, lr):
    Xtr, ytr, Xte, yte = mnist(1200, 300, seed=87, side=14)
    Xtr, Xte = Xtr / 255.0, Xte / 255.0
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    rng = np.random.default_rng(87)
    layer1 = [Neuron(196, rng) for _ in range(20)]
    layer2 = [Neuron(20, rng) for _ in range(10)]
    rec = doctor.Recorder()
    losses = []
    for step, k in enumerate(rng.permutation(len(Xtr))):
        a1 = np.array([n.feed(Xtr[k]) for n in layer1])
        a2 = np.array([n.feed(a1) for n in layer2])
        target = np.eye(10)[ytr[k]]
        losses.append(0.5 * np.sum((a2 - target) ** 2))
        e2 = (a2 - target) * a2 * (1 - a2)
        w2 = np.array([n.weights for n in layer2])
        e1 = (w2.T @ e2) * a1 * (1 - a1)
        for n, e in zip(layer2, e2):
            n.adjust(e, lr)
        for n, e in zip(layer1, e1):
            n.adjust(e, lr)
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
