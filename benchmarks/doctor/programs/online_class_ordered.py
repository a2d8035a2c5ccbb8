"""A 784-32-10 network trained one image at a time, with the images read folder by folder:
all the 0s, then all the 1s, ..., then all the 9s, and no shuffling. Each stretch of a few
hundred identical labels drags the output layer towards that digit, and when training ends
the network has only just been taught "9": it predicts 9 for almost everything. Shuffling
the (image, label) pairs once per epoch fixes it."""
import numpy as np

from ._data import mnist

STYLE = "online"
EXPECTED = ["CLASS_ORDERED"]


def relu(x):
    return np.maximum(0, x)


def softmax(x):
    e = np.exp(x - np.max(x))
    return e / np.sum(e)


def _run(doctor, bug):
    Xtr, ytr, Xte, yte = mnist(2000, 500, seed=41)
    order = np.argsort(ytr, kind="stable")          # what reading ./train/0, ./train/1, ... gives
    images, labels = Xtr[order] / 255.0, ytr[order]
    rng = np.random.default_rng(41)
    if not bug:                                      # the fix: shuffle once, and every epoch
        mix = rng.permutation(len(labels))
        images, labels = images[mix], labels[mix]
    reports = [doctor.check_data(images, labels, Xte / 255.0, yte)]
    w_hidden = rng.normal(0, 0.05, (784, 32)); b_hidden = np.zeros(32)
    w_out = rng.normal(0, 0.2, (32, 10)); b_out = np.zeros(10)
    rec = doctor.Recorder(["w_hidden", "b_hidden", "w_out", "b_out"])
    lr, losses, step = 0.02, [], 0
    for epoch in range(2):
        idx = rng.permutation(len(labels)) if not bug else range(len(labels))
        for n in idx:
            x, t = images[n], labels[n]
            h_in = x @ w_hidden + b_hidden
            h = relu(h_in)
            out = softmax(h @ w_out + b_out)
            losses.append(-np.log(out[t] + 1e-12))
            target = np.zeros(10); target[t] = 1
            err = out - target
            grad_w_out = np.outer(h, err)
            err_h = (w_out @ err) * (h_in > 0)
            grad_w_hidden = np.outer(x, err_h)
            w_out -= lr * grad_w_out; b_out -= lr * err
            w_hidden -= lr * grad_w_hidden; b_hidden -= lr * err_h
            if step % 10 == 0:
                rec.log(step, loss=losses[-1], weights=[w_hidden, b_hidden, w_out, b_out],
                        grads=[grad_w_hidden, err_h, grad_w_out, err], activations=[h],
                        logits=out, labels=target)
            step += 1
    reports.append(rec.report())
    pred = (relu(Xte / 255.0 @ w_hidden + b_hidden) @ w_out + b_out).argmax(1)
    return reports, {"loss_start": float(np.mean(losses[:100])), "loss_end": float(np.mean(losses[-200:])),
                     "accuracy": float(np.mean(pred == yte)), "chance": 0.1}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
