"""A 196-16-10 network of neuron objects (each neuron a dict with "w" and "b", sigmoid
activation, cross-entropy delta), fed 14x14 digit images as the raw 0..255 grey values. The
hidden neurons' z are in the hundreds: every hidden output is exactly 0 or 1 from the first
image on, sigma'(z) is 0, the hidden layer never learns, and the output neurons see a few
random binary features. Dividing the pixels by 255 fixes it."""
import numpy as np

from ._data import mnist

STYLE = "neuron"
EXPECTED = ["INPUT_SCALE", "SATURATION"]


def make_neuron(n_in, rng):
    return {"w": rng.normal(0, 1 / np.sqrt(n_in), n_in), "b": 0.0}


def fire(neuron, x):
    neuron["x"] = x
    neuron["y"] = 1 / (1 + np.exp(-(neuron["w"] @ x + neuron["b"])))
    return neuron["y"]


def _run(doctor, raw):
    Xtr, ytr, Xte, yte = mnist(1200, 300, seed=88, side=14)
    Xtr = Xtr.astype(float) if raw else Xtr / 255.0
    Xte = Xte.astype(float) if raw else Xte / 255.0
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    rng = np.random.default_rng(88)
    hidden = [make_neuron(196, rng) for _ in range(16)]
    output = [make_neuron(16, rng) for _ in range(10)]
    rec = doctor.Recorder()
    lr, losses = 0.1, []
    for step, i in enumerate(rng.permutation(len(Xtr))):
        h = np.array([fire(n, Xtr[i]) for n in hidden])
        o = np.array([fire(n, h) for n in output])
        t = np.eye(10)[ytr[i]]
        losses.append(float(-np.sum(t * np.log(o + 1e-12) + (1 - t) * np.log(1 - o + 1e-12))))
        d_out = o - t
        d_hid = sum(d * n["w"] for d, n in zip(d_out, output)) * h * (1 - h)
        for n, d in zip(output + hidden, np.r_[d_out, d_hid]):
            n["g"] = d * n["x"]; n["gb"] = d
            n["w"] -= lr * n["g"]; n["b"] -= lr * d
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
