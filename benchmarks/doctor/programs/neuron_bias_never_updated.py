"""Three softmax "neuron" objects (one per class, each with its own weight vector and bias)
sorting parts into small / medium / large from two measurements; the three clouds sit along
the diagonal, far from the origin ((1, 1), (3, 3), (5, 5), unscaled). The learner's
Neuron.update changes the weights in place but writes the bias update as
b = self.bias - lr * delta, a local variable that is thrown away: every bias stays at 0 although
its gradient is not. Without biases each logit is w_k . x, and along the diagonal the same
neuron wins for every positive x: the model can only ever answer one class (33%)."""
import numpy as np

from ._neurons import NeuronStep, params_of

STYLE = "neuron"
EXPECTED = ["WEIGHTS_FROZEN"]


class Neuron:
    def __init__(self, n, rng):
        self.weights = rng.normal(0, 0.1, n)
        self.bias = 0.0

    def z(self, x):
        return self.weights @ x + self.bias

    def update(self, delta, x, lr, bug):
        self.gw, self.gb = delta * x, delta
        self.weights -= lr * self.gw
        if bug:
            b = self.bias - lr * delta          # noqa: F841 - never stored
        else:
            self.bias = self.bias - lr * delta


def _parts(rng, n):
    k = rng.integers(0, 3, n)
    centers = np.array([[1.0, 1.2], [3.0, 2.8], [5.0, 5.1]])
    return centers[k] + rng.normal(0, 0.4, (n, 2)), k


def _setup():
    rng = np.random.default_rng(85)
    Xtr, ytr = _parts(rng, 450)
    Xte, yte = _parts(rng, 150)
    return Xtr, ytr, Xte, yte, [Neuron(2, rng) for _ in range(3)], rng


def sample(neurons, x, label, lr, bug):
    """The loop's forward, backward and update on one point (in place): (loss, scores)."""
    z = np.array([nr.z(x) for nr in neurons])
    p = np.exp(z - z.max()); p /= p.sum()
    loss = -np.log(p[label] + 1e-12)
    delta = p.copy(); delta[label] -= 1
    for nr, d in zip(neurons, delta):
        nr.update(d, x, lr, bug)
    return loss, z


def examine_case(bug):
    """The program as doctor.examine's arguments: its per-point update, init and data."""
    Xtr, ytr, _, _, neurons, _ = _setup()
    step = NeuronStep([neurons], lambda ls, x, t, lr: sample(ls[0], x, t, lr, bug)[0], "weights", "bias")
    return {"step": step, "params": params_of([neurons], "weights", "bias"), "X": Xtr, "y": ytr,
            "lr": 0.05, "batch_size": 1, "predict": lambda p, X: X @ p["W1"].T + p["b1"],
            "train_steps": 3000}


def _run(doctor, bug):
    Xtr, ytr, Xte, yte, neurons, rng = _setup()
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    rec = doctor.Recorder(["w_small", "w_medium", "w_large", "biases"])
    losses = []
    for step in range(3000):
        i = rng.integers(len(Xtr))
        loss, z = sample(neurons, Xtr[i], ytr[i], 0.05, bug)
        losses.append(loss)
        if step % 20 == 0:
            rec.log(step, loss=float(np.mean(losses[-20:])),
                    weights=[nr.weights for nr in neurons] + [np.array([nr.bias for nr in neurons])],
                    grads=[nr.gw for nr in neurons] + [np.array([nr.gb for nr in neurons])],
                    logits=z, labels=ytr[i])
    reports.append(rec.report())
    pred = np.array([np.argmax([nr.z(x) for nr in neurons]) for x in Xte])
    return reports, {"loss_start": float(np.mean(losses[:100])), "loss_end": float(np.mean(losses[-300:])),
                     "accuracy": float(np.mean(pred == yte)), "chance": 1 / 3}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
