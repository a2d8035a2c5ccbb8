"""Online SGD with "momentum" on a 784-48-10 ReLU/softmax MNIST net: the learner keeps a
velocity per parameter and writes v += grad; w -= lr * v, forgetting the decay factor
(v = 0.9 * v + grad). The velocity is the sum of every gradient seen so far, so each step
repeats all previous steps: the updates grow without limit, the weights blow up and the loss
goes to NaN or the net collapses onto one class."""
import numpy as np

from ._data import mnist

STYLE = "online"
EXPECTED = ["MOMENTUM"]


def _run(doctor, bug):
    Xtr, ytr, Xte, yte = mnist(2000, 500, seed=48)
    Xtr, Xte = Xtr / 255.0, Xte / 255.0
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    rng = np.random.default_rng(48)
    params = {"W1": rng.normal(0, np.sqrt(2 / 784), (784, 48)), "b1": np.zeros(48),
              "W2": rng.normal(0, np.sqrt(1 / 48), (48, 10)), "b2": np.zeros(10)}
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    rec = doctor.Recorder(list(params))
    lr, beta, losses = 0.005, 0.9, []
    for i, n in enumerate(rng.permutation(2000)):
        x, y = Xtr[n], ytr[n]
        z1 = x @ params["W1"] + params["b1"]; a1 = np.maximum(z1, 0)
        z2 = a1 @ params["W2"] + params["b2"]
        p = np.exp(z2 - z2.max()); p /= p.sum()
        losses.append(-np.log(p[y] + 1e-12))
        d2 = p.copy(); d2[y] -= 1
        d1 = (params["W2"] @ d2) * (z1 > 0)
        grads = {"W1": np.outer(x, d1), "b1": d1, "W2": np.outer(a1, d2), "b2": d2}
        for k in params:
            if bug:
                velocity[k] += grads[k]
            else:
                velocity[k] = beta * velocity[k] + grads[k]
            params[k] -= lr * velocity[k]
        if i % 10 == 0:
            rec.log(i, loss=losses[-1], weights=list(params.values()), grads=list(grads.values()),
                    activations=[a1], logits=z2, labels=y)
    reports.append(rec.report())
    out = np.maximum(Xte @ params["W1"] + params["b1"], 0) @ params["W2"] + params["b2"]
    return reports, {"loss_start": float(np.mean(losses[:50])), "loss_end": float(np.mean(losses[-200:])),
                     "accuracy": float(np.mean(out.argmax(1) == yte)), "chance": 0.1}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
