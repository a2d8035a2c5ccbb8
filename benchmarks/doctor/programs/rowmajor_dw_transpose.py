"""A 784-10-10 ReLU/softmax net on MNIST with full-batch gradient descent, written after a video
that keeps samples in columns while the learner keeps them in rows. Translating the backward
pass, the learner writes dW2 = dZ2.T @ A1 (the transpose of A1.T @ dZ2) and dA1 = dZ2 @ W2
(instead of dZ2 @ W2.T); because the hidden layer has 10 units, W2 is 10x10 and no shape error
ever appears, but both layers are updated along the wrong directions and accuracy stays low. The
learner even runs the doctor's gradient check once before training."""
import numpy as np

from ._data import mnist

STYLE = "rowmajor"
EXPECTED = ["GRADIENT_MISMATCH"]


def relu(x, deriv=False):
    return (x > 0).astype(float) if deriv else np.maximum(x, 0)


def softmax(x):
    e = np.exp(x - np.max(x, axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


NAMES = ["W1", "b1", "W2", "b2"]


def _data():
    x_train, y_train, x_test, y_test = mnist(1500, 500, seed=4)
    return x_train / 255, y_train, x_test / 255, y_test


def _init(rng):
    return {"W1": rng.standard_normal((784, 10)) * np.sqrt(2 / 784), "b1": np.zeros(10),
            "W2": rng.standard_normal((10, 10)) * np.sqrt(2 / 10), "b2": np.zeros(10)}


def predict(x, p):
    Z1 = x @ p["W1"] + p["b1"]; A1 = relu(Z1)
    Z2 = A1 @ p["W2"] + p["b2"]; A2 = softmax(Z2)
    return Z1, A1, Z2, A2


def backward(x, Yh, p, bug):
    m = len(x)
    Z1, A1, Z2, A2 = predict(x, p)
    dZ2 = A2 - Yh
    dW2 = (dZ2.T @ A1) / m if bug else (A1.T @ dZ2) / m
    db2 = dZ2.sum(axis=0) / m
    dZ1 = (dZ2 @ (p["W2"] if bug else p["W2"].T)) * relu(Z1, deriv=True)
    dW1 = (x.T @ dZ1) / m
    db1 = dZ1.sum(axis=0) / m
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}, A1, Z2, A2


def examine_case(bug):
    """The program as doctor.examine's arguments (full batch, as the loop trains)."""
    x_train, y_train, _, _ = _data()

    def step(p, x, y, lr):
        g, _, _, A2 = backward(x, np.eye(10)[y], p, bug)
        for k in NAMES:
            p[k] = p[k] - lr * g[k]
        return -np.mean(np.log(A2[np.arange(len(y)), y] + 1e-12))
    return {"step": step, "params": _init(np.random.default_rng(4)), "X": x_train, "y": y_train,
            "lr": 0.5, "batch_size": len(x_train),
            "grad": lambda p, x, y: backward(x, np.eye(10)[y], p, bug)[0],
            "train_steps": 80}


def _run(doctor, bug):
    x_train, y_train, x_test, y_test = _data()
    reports = [doctor.check_data(x_train, y_train, x_test, y_test)]
    params = _init(np.random.default_rng(4))
    Y = np.eye(10)[y_train]

    def loss_fn(plist, x=x_train[:20], Yh=Y[:20]):
        p = dict(zip(NAMES, plist))
        return -np.mean(np.sum(Yh * np.log(predict(x, p)[3] + 1e-12), axis=1))

    g, *_ = backward(x_train[:20], Y[:20], params, bug)
    names = NAMES
    reports.append(doctor.check_gradients(loss_fn, [params[k] for k in names], [g[k] for k in names]))

    rec = doctor.Recorder(names)
    hist = []
    for i in range(80):
        g, A1, Z2, A2 = backward(x_train, Y, params, bug)
        hist.append(-np.mean(np.log(A2[np.arange(len(y_train)), y_train] + 1e-12)))
        for k in names:
            params[k] = params[k] - 0.5 * g[k]
        if i % 3 == 0:
            rec.log(i, loss=hist[-1], weights=[params[k] for k in names], grads=[g[k] for k in names],
                    activations=[A1], logits=Z2, labels=y_train)
    reports.append(rec.report())
    acc = np.mean(predict(x_test, params)[3].argmax(1) == y_test)
    return reports, {"loss_start": hist[0], "loss_end": hist[-1], "accuracy": float(acc), "chance": 0.1}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
