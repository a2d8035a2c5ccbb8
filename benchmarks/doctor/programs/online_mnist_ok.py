"""Correct program: a 784-32-10 ReLU/softmax MNIST net trained by pure online SGD (one image per
step, shuffled), He init, lr 0.005, pixels / 255 for both train and test, float32 throughout,
the backward pass checked once with the doctor's gradient check. About 85% after 3000 steps;
nothing is wrong."""
import numpy as np

from ._data import mnist

STYLE = "online"
EXPECTED = []


def _data():
    Xtr, ytr, Xte, yte = mnist(3000, 500, seed=51)
    return Xtr.astype(np.float32) / 255, ytr, Xte.astype(np.float32) / 255, yte


def _init(rng):
    W1 = rng.normal(0, np.sqrt(2 / 784), (784, 32)).astype(np.float32); b1 = np.zeros(32, np.float32)
    W2 = rng.normal(0, np.sqrt(2 / 32), (32, 10)).astype(np.float32); b2 = np.zeros(10, np.float32)
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def forward_backward(P, x, t):
    """One image: (loss, (gW1, gb1, gW2, gb2), the hidden activations, the logits)."""
    W1, b1, W2, b2 = P["W1"], P["b1"], P["W2"], P["b2"]
    pre = x @ W1 + b1
    act = np.maximum(pre, 0)
    z = act @ W2 + b2
    pz = np.exp(z - z.max()); pz /= pz.sum()
    loss = float(-np.log(pz[t] + 1e-9))
    gz = pz.copy(); gz[t] -= 1
    ga = (W2 @ gz) * (pre > 0)
    gW2, gW1 = np.outer(act, gz), np.outer(x, ga)
    return loss, (gW1, ga, gW2, gz), act, z


def update(P, g, lr):
    gW1, ga, gW2, gz = g
    P["W2"] -= lr * gW2; P["b2"] -= lr * gz; P["W1"] -= lr * gW1; P["b1"] -= lr * ga


def examine_case(bug=False):
    """The program as doctor.examine's arguments: one image a step, as the loop trains."""
    Xtr, ytr, _, _ = _data()

    def step(P, X, y, lr):
        losses = []
        for x, t in zip(X, y):
            loss, g, _, _ = forward_backward(P, x, int(t))
            update(P, g, lr)
            losses.append(loss)
        return float(np.mean(losses))

    def grad(P, X, y):
        gs = [forward_backward(P, x, int(t))[1] for x, t in zip(X, y)]
        return dict(zip(("W1", "b1", "W2", "b2"), [np.mean(a, axis=0) for a in zip(*gs)]))

    return {"step": step, "params": _init(np.random.default_rng(51)), "X": Xtr, "y": ytr, "lr": 0.005,
            "batch_size": 1, "steps": 300, "grad": grad, "train_steps": 3000,
            "predict": lambda P, X: np.maximum(X @ P["W1"] + P["b1"], 0) @ P["W2"] + P["b2"]}


def fixed(doctor):
    Xtr, ytr, Xte, yte = _data()
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    rng = np.random.default_rng(51)
    P = _init(rng)
    W1, b1, W2, b2 = P["W1"], P["b1"], P["W2"], P["b2"]
    rec = doctor.Recorder(["W1", "b1", "W2", "b2"])
    lr, hist = 0.005, []
    for step, i in enumerate(rng.permutation(len(Xtr))):
        x, t = Xtr[i], int(ytr[i])
        loss, g, act, z = forward_backward(P, x, t)
        hist.append(loss)
        gW1, ga, gW2, gz = g
        if step == 0:                          # check the hand-written backward once
            def loss_at(ps, x=x, t=t):
                hh = np.maximum(x @ ps[0] + ps[1], 0)
                zz = hh @ ps[2] + ps[3]
                zz = zz - zz.max()
                return float(np.log(np.exp(zz).sum()) - zz[t])
            reports.append(doctor.check_gradients(loss_at, [W1, b1, W2, b2],
                                                  [gW1, ga, gW2, gz]))
        update(P, g, lr)
        if step % 10 == 0:
            rec.log(step, loss=hist[-1], weights=[W1, b1, W2, b2], grads=[gW1, ga, gW2, gz],
                    activations=[act], logits=z, labels=t)
    reports.append(rec.report())
    acc = np.mean((np.maximum(Xte @ W1 + b1, 0) @ W2 + b2).argmax(1) == yte)
    return reports, {"loss_start": float(np.mean(hist[:50])), "loss_end": float(np.mean(hist[-300:])),
                     "accuracy": float(acc), "chance": 0.1}
