"""A 196-16-10 network of neuron objects (each with its own weight array, bias and velocity)
trained on 14x14 digits one at a time, sigmoid units with the cross-entropy delta. The learner
added momentum as velocity = 0.9 * velocity + gradient and weight -= velocity, forgetting to
multiply by the learning rate anywhere: the step is the raw gradient scaled up by 1 / (1 - 0.9)
= 10. Single-image gradients of that size throw the sigmoids into saturation within a few
images and the net ends up answering the same digit. velocity = 0.9 * velocity - lr * gradient
(lr 0.02) works."""
import numpy as np

from ._data import mnist
from ._neurons import NeuronStep, params_of

STYLE = "neuron"
EXPECTED = ["LR_TOO_HIGH"]


class Neuron:
    def __init__(self, n, rng):
        self.w = rng.normal(0, 1 / np.sqrt(n), n); self.b = 0.0
        self.vw = np.zeros(n); self.vb = 0.0

    def activate(self, inputs):
        self.a = 1 / (1 + np.exp(-(self.w @ inputs + self.b)))
        return self.a

    def learn(self, delta, inputs, lr, mu=0.9):
        self.gw, self.gb = delta * inputs, delta
        if lr is None:                       # the learner's version
            self.vw = mu * self.vw + self.gw; self.vb = mu * self.vb + self.gb
            self.w -= self.vw; self.b -= self.vb
        else:
            self.vw = mu * self.vw - lr * self.gw; self.vb = mu * self.vb - lr * self.gb
            self.w += self.vw; self.b += self.vb


def _data():
    Xtr, ytr, Xte, yte = mnist(1200, 300, seed=83, side=14)
    return Xtr / 255.0, ytr, Xte / 255.0, yte


def sample(layers, x, label, lr):
    """The loop's forward, backward and momentum update on one image (in place; lr None is the
    learner's velocity without a rate): (loss, h, o, t)."""
    hidden, outputs = layers
    h = np.array([n.activate(x) for n in hidden])
    o = np.array([n.activate(h) for n in outputs])
    t = np.zeros(10); t[label] = 1
    loss = float(-np.sum(t * np.log(o + 1e-12) + (1 - t) * np.log(1 - o + 1e-12)))
    d_out = o - t
    d_hid = np.array([sum(d * n.w[j] for d, n in zip(d_out, outputs)) for j in range(len(hidden))]) * h * (1 - h)
    for n, d in zip(outputs, d_out):
        n.learn(d, h, lr)
    for n, d in zip(hidden, d_hid):
        n.learn(d, x, lr)
    return loss, h, o, t


def examine_case(bug):
    """The program as doctor.examine's arguments: its per-image momentum update (the velocities
    in the neurons: the step object examine copies per trial), init and data. The buggy update
    has no rate to pass: its step ignores examine's lr, as the learner's loop does."""
    Xtr, ytr, _, _ = _data()
    rng = np.random.default_rng(83)
    layers = [[Neuron(196, rng) for _ in range(16)], [Neuron(16, rng) for _ in range(10)]]
    step = NeuronStep(layers, lambda ls, x, t, lr: sample(ls, x, t, None if bug else lr)[0])
    fwd = lambda ls, x: np.array([n.activate(np.array([m.activate(x) for m in ls[0]])) for n in ls[1]])  # noqa: E731
    return {"step": step, "params": params_of(layers), "X": Xtr, "y": ytr, "lr": 0.02, "batch_size": 1,
            "predict": lambda p, X: step.predict(p, X, fwd), "train_steps": 1200}


def _run(doctor, lr):
    Xtr, ytr, Xte, yte = _data()
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    rng = np.random.default_rng(83)
    hidden = [Neuron(196, rng) for _ in range(16)]
    outputs = [Neuron(16, rng) for _ in range(10)]
    rec = doctor.Recorder()
    losses = []
    for step, i in enumerate(rng.permutation(len(Xtr))):
        loss, h, o, t = sample([hidden, outputs], Xtr[i], ytr[i], lr)
        losses.append(loss)
        if step % 10 == 0:
            ns = hidden + outputs
            rec.log(step, loss=losses[-1], weights=[n.w for n in ns] + [np.array([n.b for n in ns])],
                    grads=[n.gw for n in ns] + [np.array([n.gb for n in ns])], activations=[h],
                    logits=o, labels=t)
    reports.append(rec.report())
    pred = [np.argmax([n.activate(np.array([m.activate(x) for m in hidden])) for n in outputs]) for x in Xte]
    return reports, {"loss_start": float(np.mean(losses[:50])), "loss_end": float(np.mean(losses[-200:])),
                     "accuracy": float(np.mean(np.array(pred) == yte)), "chance": 0.1}


def buggy(doctor):
    return _run(doctor, None)


def fixed(doctor):
    return _run(doctor, 0.02)
