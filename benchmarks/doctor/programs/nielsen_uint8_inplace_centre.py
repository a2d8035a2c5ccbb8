"""A Nielsen-style 784-30-10 sigmoid/cross-entropy network (column vectors, matrix mini-batches
of 20). The learner's load_data() centres the images in place, pixels -= 128, then divides by
128, on the uint8 array the loader returned. The in-place subtraction wraps around in uint8
(0 becomes 128, 100 becomes 228), so after the division the background is 1.0, full ink 0.99 and
the mid-greys anywhere in 0..2: train and test digits are scrambled the same way, the
strokes are almost invisible, and the network stays near chance. Converting to float first
fixes it."""
import numpy as np

from ._data import mnist

STYLE = "nielsen"
EXPECTED = ["INPUT_WRAPPED", "NOT_LEARNING"]   # INPUT_WRAPPED: proposed code


def load_data(bug):
    Xtr, ytr, Xte, yte = mnist(2000, 500, seed=33)
    out = []
    for pixels in (Xtr, Xte):
        pixels = pixels.copy() if bug else pixels.astype(np.float64)
        pixels -= 128
        out.append(pixels / 128.0)
    return out[0].T, ytr, out[1].T, yte


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _init(rng):
    w = [rng.standard_normal((30, 784)) / 28.0, rng.standard_normal((10, 30)) / np.sqrt(30)]
    b = [np.zeros((30, 1)), np.zeros((10, 1))]
    return w, b


def train_step(w, b, a0, t, eta):
    """The loop's forward, backward and update on one batch of columns: (w, b, cost, nw, nb, a1,
    a2), the new weights and biases as new lists (as the learner writes them)."""
    m = a0.shape[1]
    a1 = sigmoid(w[0] @ a0 + b[0]); a2 = sigmoid(w[1] @ a1 + b[1])
    cost = float(-np.sum(t * np.log(a2) + (1 - t) * np.log(1 - a2)) / m)
    d2 = a2 - t
    d1 = (w[1].T @ d2) * a1 * (1 - a1)
    nw = [d1 @ a0.T / m, d2 @ a1.T / m]
    nb = [d1.mean(1, keepdims=True), d2.mean(1, keepdims=True)]
    w = [wi - eta * g for wi, g in zip(w, nw)]
    b = [bi - eta * g for bi, g in zip(b, nb)]
    return w, b, cost, nw, nb, a1, a2


def examine_case(bug):
    """The program as doctor.examine's arguments: the pixels as it loads them (centred in place
    in uint8 in the buggy one), rows in, columns inside; the step stores the new arrays."""
    X, y, _, _ = load_data(bug)
    w, b = _init(np.random.default_rng(33))

    def step(p, Xb, yb, lr):
        w, b, cost, *_ = train_step([p["w1"], p["w2"]], [p["b1"], p["b2"]], Xb.T, np.eye(10)[:, yb], lr)
        p["w1"], p["w2"], p["b1"], p["b2"] = *w, *b
        return cost

    def grad(p, Xb, yb):
        nw, nb = train_step([p["w1"], p["w2"]], [p["b1"], p["b2"]], Xb.T, np.eye(10)[:, yb], 0.0)[3:5]
        return {"w1": nw[0], "w2": nw[1], "b1": nb[0], "b2": nb[1]}

    return {"step": step, "params": {"w1": w[0], "w2": w[1], "b1": b[0], "b2": b[1]}, "X": X.T, "y": y,
            "lr": 0.5, "batch_size": 20, "grad": grad, "train_steps": 200}


def _run(doctor, bug):
    X, y, Xt, yt = load_data(bug)
    Y = np.eye(10)[:, y]
    reports = [doctor.check_data(X.T, y, Xt.T, yt)]
    rng = np.random.default_rng(33)
    w, b = _init(rng)
    rec = doctor.Recorder(["w1", "w2", "b1", "b2"])
    costs, step = [], 0
    for epoch in range(2):
        order = rng.permutation(X.shape[1])
        for k in range(0, len(order), 20):
            c = order[k:k + 20]
            a0, t = X[:, c], Y[:, c]
            w, b, cost, nw, nb, a1, a2 = train_step(w, b, a0, t, 0.5)
            costs.append(cost)
            if step % 3 == 0:
                rec.log(step, loss=costs[-1], weights=w + b, grads=nw + nb, activations=[a1], logits=a2, labels=t)
            step += 1
    reports.append(rec.report())
    out = sigmoid(w[1] @ sigmoid(w[0] @ Xt + b[0]) + b[1])
    return reports, {"loss_start": costs[0], "loss_end": float(np.mean(costs[-10:])),
                     "accuracy": float(np.mean(out.argmax(0) == yt)), "chance": 0.1}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
