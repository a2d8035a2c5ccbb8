"""A 784-100-10 ReLU/softmax network trained on one MNIST image per step, after a well-known
question: weights and biases from np.random.random (uniform 0..1), and a softmax written as
np.exp(x) / np.sum(np.exp(x)). With 784 positive inputs and positive weights the hidden units
are in the tens, the logits in the thousands, np.exp overflows to inf and the loss is NaN from
the first image. A zero-mean, 1/sqrt(fan_in)-scaled init keeps the logits small (and then even
the unshifted softmax is fine)."""
import numpy as np

from ._data import mnist

STYLE = "online"
EXPECTED = ["INIT_ALL_POSITIVE", "INIT_TOO_LARGE", "NONFINITE"]


def ReLU(x):
    return np.maximum(0, x)


def softmax(x):
    return np.exp(x) / np.sum(np.exp(x))


def _data():
    Xtr, ytr, Xte, yte = mnist(1500, 500, seed=42)
    return Xtr / 255.0, ytr, Xte / 255.0, yte


def _init(rng, bug):
    if bug:
        W1, B1 = rng.random((784, 100)), rng.random(100)
        W2, B2 = rng.random((100, 10)), rng.random(10)
    else:
        W1, B1 = rng.normal(0, np.sqrt(2 / 784), (784, 100)), np.zeros(100)
        W2, B2 = rng.normal(0, np.sqrt(1 / 100), (100, 10)), np.zeros(10)
    return {"W1": W1, "B1": B1, "W2": W2, "B2": B2}


def learn(p, x, label, lr):
    """One image, the loop's update (p's arrays replaced, as W = W - lr * dW writes it):
    (loss, [dW1, delta_h, dW2, delta], hidden, out)."""
    y = np.eye(10)[label]
    data_in = x @ p["W1"] + p["B1"]
    hidden = ReLU(data_in)
    out = softmax(hidden @ p["W2"] + p["B2"])
    loss = float(-np.sum(y * np.log(out)))
    delta = out - y
    dW2 = np.outer(hidden, delta)
    delta_h = (p["W2"] @ delta) * (data_in > 0)
    dW1 = np.outer(x, delta_h)
    p["W2"] = p["W2"] - lr * dW2; p["B2"] = p["B2"] - lr * delta
    p["W1"] = p["W1"] - lr * dW1; p["B1"] = p["B1"] - lr * delta_h
    return loss, [dW1, delta_h, dW2, delta], hidden, out


def examine_case(bug):
    """The program as doctor.examine's arguments: one sample a step, as the loop trains."""
    data, ytr, _, _ = _data()

    def step(p, X, y, lr):
        return float(np.mean([learn(p, x, t, lr)[0] for x, t in zip(X, y)]))
    return {"step": step, "params": _init(np.random.default_rng(42), bug), "X": data, "y": ytr,
            "lr": 0.01, "batch_size": 1, "steps": 300,
            "train_steps": 1500}


def _run(doctor, bug):
    data, ytr, test, yte = _data()
    reports = [doctor.check_data(data, ytr, test, yte)]
    rng = np.random.default_rng(42)
    p = _init(rng, bug)
    rec = doctor.Recorder(["W1", "B1", "W2", "B2"])
    lr, losses = 0.01, []
    for i in range(1500):
        loss, grads, hidden, out = learn(p, data[i], ytr[i], lr)
        losses.append(loss)
        if i % 10 == 0:
            rec.log(i, loss=losses[-1], weights=[p["W1"], p["B1"], p["W2"], p["B2"]], grads=grads,
                    activations=[hidden], logits=out, labels=np.eye(10)[ytr[i]])
    reports.append(rec.report())
    pred = np.array([np.argmax(softmax(ReLU(t @ p["W1"] + p["B1"]) @ p["W2"] + p["B2"])) for t in test])
    return reports, {"loss_start": float(np.mean(losses[:50])), "loss_end": float(np.mean(losses[-200:])),
                     "accuracy": float(np.mean(pred == yte)), "chance": 0.1}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
