"""An object-per-neuron network (Neuron has its own weight vector and bias; Layer is a list of
neurons; no matrices), 196-16-10 sigmoid neurons with the quadratic error, trained one 14x14
digit at a time with lr 0.5. Following a blog post, every neuron starts with weights from
uniform(0, 0.5) and bias 0.5. With ~40 positive pixel inputs times positive weights, every
hidden neuron's z is around 10: all of them output ~1 for every image, they are identical
and saturated, and the output neurons only learn the average target."""
import numpy as np

from ._data import mnist
from ._neurons import NeuronStep, params_of

STYLE = "neuron"
EXPECTED = ["INIT_ALL_POSITIVE", "SATURATION"]


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


class Neuron:
    def __init__(self, n_inputs, rng, positive):
        if positive:
            self.w = rng.uniform(0, 0.5, n_inputs)
            self.b = 0.5
        else:
            r = 1 / np.sqrt(n_inputs)
            self.w = rng.uniform(-r, r, n_inputs)
            self.b = 0.0

    def feed_forward(self, a_prev):
        self.z = float(np.dot(self.w, a_prev) + self.b)
        self.a = sigmoid(self.z)
        return self.a

    def update(self, error, a_prev, lr):
        self.grad_w = error * a_prev
        self.grad_b = error
        self.w -= lr * self.grad_w
        self.b -= lr * self.grad_b


def _data():
    Xtr, ytr, Xte, yte = mnist(1500, 300, seed=80, side=14)
    return Xtr / 255.0, ytr, Xte / 255.0, yte


def sample(layers, x, label, lr):
    """The loop's forward, backward and update on one image (in place): (error, h, out, target)."""
    hidden, output = layers
    target = [1.0 if k == label else 0.0 for k in range(10)]
    h = np.array([n.feed_forward(x) for n in hidden])
    out = [n.feed_forward(h) for n in output]
    error = 0.5 * sum((o - t) ** 2 for o, t in zip(out, target))
    out_err = [(o - t) * o * (1 - o) for o, t in zip(out, target)]
    hid_err = [sum(e * n.w[j] for e, n in zip(out_err, output)) * hidden[j].a * (1 - hidden[j].a)
               for j in range(len(hidden))]
    for n, e in zip(output, out_err):
        n.update(e, h, lr)
    for n, e in zip(hidden, hid_err):
        n.update(e, x, lr)
    return error, h, out, target


def examine_case(bug):
    """The program as doctor.examine's arguments: its per-image update, init and data."""
    Xtr, ytr, _, _ = _data()
    rng = np.random.default_rng(80)
    layers = [[Neuron(196, rng, bug) for _ in range(16)], [Neuron(16, rng, bug) for _ in range(10)]]
    step = NeuronStep(layers, lambda ls, x, t, lr: sample(ls, x, t, lr)[0])
    fwd = lambda ls, x: np.array([n.feed_forward(np.array([m.feed_forward(x) for m in ls[0]])) for n in ls[1]])  # noqa: E731
    return {"step": step, "params": params_of(layers), "X": Xtr, "y": ytr, "lr": 0.5, "batch_size": 1,
            "predict": lambda p, X: step.predict(p, X, fwd), "train_steps": 1500}


def _run(doctor, positive):
    Xtr, ytr, Xte, yte = _data()
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    rng = np.random.default_rng(80)
    hidden = [Neuron(196, rng, positive) for _ in range(16)]
    output = [Neuron(16, rng, positive) for _ in range(10)]
    rec = doctor.Recorder()
    errors = []
    for step, i in enumerate(rng.permutation(len(Xtr))):
        error, h, out, target = sample([hidden, output], Xtr[i], ytr[i], 0.5)
        errors.append(error)
        if step % 10 == 0:
            neurons = hidden + output
            rec.log(step, loss=errors[-1], weights=[n.w for n in neurons] + [np.array([n.b for n in neurons])],
                    grads=[n.grad_w for n in neurons] + [np.array([n.grad_b for n in neurons])],
                    activations=[h], logits=np.array(out), labels=np.array(target))
    reports.append(rec.report())
    correct = 0
    for x, label in zip(Xte, yte):
        h = np.array([n.feed_forward(x) for n in hidden])
        correct += int(np.argmax([n.feed_forward(h) for n in output]) == label)
    return reports, {"loss_start": float(np.mean(errors[:50])), "loss_end": float(np.mean(errors[-200:])),
                     "accuracy": correct / len(yte), "chance": 0.1}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
