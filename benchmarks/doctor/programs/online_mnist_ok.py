"""Correct program: a 784-32-10 ReLU/softmax MNIST net trained by pure online SGD (one image per
step, shuffled), He init, lr 0.005, pixels / 255 for both train and test, float32 throughout,
the backward pass checked once with the doctor's gradient check. About 85% after 3000 steps;
nothing is wrong."""
import numpy as np

from ._data import mnist

STYLE = "online"
EXPECTED = []


def fixed(doctor):
    Xtr, ytr, Xte, yte = mnist(3000, 500, seed=51)
    Xtr, Xte = Xtr.astype(np.float32) / 255, Xte.astype(np.float32) / 255
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    rng = np.random.default_rng(51)
    W1 = rng.normal(0, np.sqrt(2 / 784), (784, 32)).astype(np.float32); b1 = np.zeros(32, np.float32)
    W2 = rng.normal(0, np.sqrt(2 / 32), (32, 10)).astype(np.float32); b2 = np.zeros(10, np.float32)
    rec = doctor.Recorder(["W1", "b1", "W2", "b2"])
    lr, hist = 0.005, []
    for step, i in enumerate(rng.permutation(len(Xtr))):
        x, t = Xtr[i], int(ytr[i])
        pre = x @ W1 + b1
        act = np.maximum(pre, 0)
        z = act @ W2 + b2
        pz = np.exp(z - z.max()); pz /= pz.sum()
        hist.append(float(-np.log(pz[t] + 1e-9)))
        gz = pz.copy(); gz[t] -= 1
        ga = (W2 @ gz) * (pre > 0)
        gW2, gW1 = np.outer(act, gz), np.outer(x, ga)
        if step == 0:                          # check the hand-written backward once
            def loss_at(ps, x=x, t=t):
                hh = np.maximum(x @ ps[0] + ps[1], 0)
                zz = hh @ ps[2] + ps[3]
                zz = zz - zz.max()
                return float(np.log(np.exp(zz).sum()) - zz[t])
            reports.append(doctor.check_gradients(loss_at, [W1, b1, W2, b2],
                                                  [gW1, ga, gW2, gz]))
        W2 -= lr * gW2; b2 -= lr * gz; W1 -= lr * gW1; b1 -= lr * ga
        if step % 10 == 0:
            rec.log(step, loss=hist[-1], weights=[W1, b1, W2, b2], grads=[gW1, ga, gW2, gz],
                    activations=[act], logits=z, labels=t)
    reports.append(rec.report())
    acc = np.mean((np.maximum(Xte @ W1 + b1, 0) @ W2 + b2).argmax(1) == yte)
    return reports, {"loss_start": float(np.mean(hist[:50])), "loss_end": float(np.mean(hist[-300:])),
                     "accuracy": float(acc), "chance": 0.1}
