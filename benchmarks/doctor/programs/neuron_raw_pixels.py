"""A 196-16-10 network of neuron objects (each neuron a dict with "w" and "b", sigmoid
activation, cross-entropy delta), fed 14x14 digit images as the raw 0..255 grey values. The
hidden neurons' z are in the hundreds: every hidden output is exactly 0 or 1 from the first
image on, sigma'(z) is 0, the hidden layer never learns, and the output neurons see a few
random binary features. Dividing the pixels by 255 fixes it."""
import numpy as np

from ._data import mnist
from ._neurons import NeuronStep, params_of

STYLE = "neuron"
EXPECTED = ["INPUT_SCALE", "SATURATION"]


def make_neuron(n_in, rng):
    return {"w": rng.normal(0, 1 / np.sqrt(n_in), n_in), "b": 0.0}


def fire(neuron, x):
    neuron["x"] = x
    neuron["y"] = 1 / (1 + np.exp(-(neuron["w"] @ x + neuron["b"])))
    return neuron["y"]


def _data(raw):
    Xtr, ytr, Xte, yte = mnist(1200, 300, seed=88, side=14)
    Xtr = Xtr.astype(float) if raw else Xtr / 255.0
    Xte = Xte.astype(float) if raw else Xte / 255.0
    return Xtr, ytr, Xte, yte


def sample(layers, x, label, lr):
    """The loop's forward, backward and update on one image (in place): (loss, h, o, t)."""
    hidden, output = layers
    h = np.array([fire(n, x) for n in hidden])
    o = np.array([fire(n, h) for n in output])
    t = np.eye(10)[label]
    loss = float(-np.sum(t * np.log(o + 1e-12) + (1 - t) * np.log(1 - o + 1e-12)))
    d_out = o - t
    d_hid = sum(d * n["w"] for d, n in zip(d_out, output)) * h * (1 - h)
    for n, d in zip(output + hidden, np.r_[d_out, d_hid]):
        n["g"] = d * n["x"]; n["gb"] = d
        n["w"] -= lr * n["g"]; n["b"] -= lr * d
    return loss, h, o, t


def examine_case(bug):
    """The program as doctor.examine's arguments: its per-image update, init and data (pixels
    as it scales them)."""
    Xtr, ytr, _, _ = _data(bug)
    rng = np.random.default_rng(88)
    layers = [[make_neuron(196, rng) for _ in range(16)], [make_neuron(16, rng) for _ in range(10)]]
    step = NeuronStep(layers, lambda ls, x, t, lr: sample(ls, x, t, lr)[0])
    fwd = lambda ls, x: np.array([fire(n, np.array([fire(m, x) for m in ls[0]])) for n in ls[1]])  # noqa: E731
    return {"step": step, "params": params_of(layers), "X": Xtr, "y": ytr, "lr": 0.1, "batch_size": 1,
            "predict": lambda p, X: step.predict(p, X, fwd), "train_steps": 1200}


def _run(doctor, raw):
    Xtr, ytr, Xte, yte = _data(raw)
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    rng = np.random.default_rng(88)
    hidden = [make_neuron(196, rng) for _ in range(16)]
    output = [make_neuron(16, rng) for _ in range(10)]
    rec = doctor.Recorder()
    lr, losses = 0.1, []
    for step, i in enumerate(rng.permutation(len(Xtr))):
        loss, h, o, t = sample([hidden, output], Xtr[i], ytr[i], lr)
        losses.append(loss)
        if step % 10 == 0:
            ns = hidden + output
            rec.log(step, loss=losses[-1], weights=[n["w"] for n in ns] + [np.array([n["b"] for n in ns])],
                    grads=[n["g"] for n in ns] + [np.array([n["gb"] for n in ns])],
                    activations=[h], logits=o, labels=t)
    reports.append(rec.report())
    pred = [np.argmax([fire(n, np.array([fire(m, x) for m in hidden])) for n in output]) for x in Xte]
    return reports, {"loss_start": float(np.mean(losses[:50])), "loss_end": float(np.mean(losses[-200:])),
                     "accuracy": float(np.mean(np.array(pred) == yte)), "chance": 0.1}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
