"""A 5-16-3 tanh/softmax classifier of three kinds of sensor readings (synthetic: temperature,
pressure, humidity, vibration, current, on very different scales), trained one reading at a
time. Training rows are standardised per feature with the training mean and std; at test time
the learner's predict() standardises each incoming row by *its own* mean and std across the five
features (it has no other statistics at hand). The test inputs then live in a different space
from the training inputs and the test accuracy falls to chance, while training accuracy is high."""
import numpy as np

STYLE = "online"
EXPECTED = ["TRAIN_TEST_SHIFT"]


def _readings(rng, n):
    k = rng.integers(0, 3, n)
    centers = np.array([[20, 1010, 40, 0.2, 5.0], [35, 990, 60, 0.9, 7.5], [25, 1030, 30, 0.5, 9.0]])
    spread = np.array([4, 8, 8, 0.2, 0.8])
    return centers[k] + rng.normal(size=(n, 5)) * spread, k


def _run(doctor, bug):
    rng = np.random.default_rng(47)
    X, y = _readings(rng, 900)
    Xt, yt = _readings(rng, 300)
    mu, sd = X.mean(0), X.std(0)
    X = (X - mu) / sd
    if bug:
        Xt = (Xt - Xt.mean(axis=1, keepdims=True)) / Xt.std(axis=1, keepdims=True)
    else:
        Xt = (Xt - mu) / sd
    reports = [doctor.check_data(X, y, Xt, yt)]
    W1 = rng.normal(0, 0.5, (5, 16)); b1 = np.zeros(16)
    W2 = rng.normal(0, 0.25, (16, 3)); b2 = np.zeros(3)
    rec = doctor.Recorder(["W1", "b1", "W2", "b2"])
    lr, L, step = 0.02, [], 0
    for epoch in range(2):
        for i in rng.permutation(len(X)):
            h = np.tanh(X[i] @ W1 + b1)
            z = h @ W2 + b2
            p = np.exp(z - z.max()); p /= p.sum()
            L.append(-np.log(p[y[i]]))
            dz = p.copy(); dz[y[i]] -= 1
            dh = (W2 @ dz) * (1 - h ** 2)
            gW1, gW2 = np.outer(X[i], dh), np.outer(h, dz)
            W1 -= lr * gW1; b1 -= lr * dh; W2 -= lr * gW2; b2 -= lr * dz
            if step % 5 == 0:
                rec.log(step, loss=L[-1], weights=[W1, b1, W2, b2], grads=[gW1, dh, gW2, dz],
                        activations=[h], logits=z, labels=y[i])
            step += 1
    reports.append(rec.report())
    predict = lambda A: (np.tanh(A @ W1 + b1) @ W2 + b2).argmax(1)
    return reports, {"loss_start": float(np.mean(L[:50])), "loss_end": float(np.mean(L[-100:])),
                     "train_accuracy": float(np.mean(predict(X) == y)),
                     "accuracy": float(np.mean(predict(Xt) == yt)), "chance": 1 / 3}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
