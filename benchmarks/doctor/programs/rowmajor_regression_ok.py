"""Correct program: fitting y = sin(3x) + x^2/2 on [-2, 2] with a 1-50-50-1 tanh MLP, rows =
samples, Xavier init, full-batch gradient descent with a hand-written momentum of 0.9, MSE loss
averaged over the batch. R^2 on held-out points is above 0.95; nothing is wrong."""
import numpy as np

STYLE = "rowmajor"
EXPECTED = []


def fixed(doctor):
    rng = np.random.default_rng(14)
    x = rng.uniform(-2, 2, (400, 1))
    y = np.sin(3 * x) + x ** 2 / 2 + 0.05 * rng.normal(size=(400, 1))
    xtr, ytr, xte, yte = x[:300], y[:300], x[300:], y[300:]
    reports = [doctor.check_data(xtr, ytr, xte, yte, classification=False)]
    sizes = [1, 50, 50, 1]
    Ws = [rng.normal(0, np.sqrt(1 / a), (a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    bs = [np.zeros((1, b)) for b in sizes[1:]]
    vel = [np.zeros_like(p) for p in Ws + bs]
    rec = doctor.Recorder(["W1", "W2", "W3", "b1", "b2", "b3"])
    mu, lr = 0.9, 0.02
    losses = []
    for it in range(900):
        acts = [xtr]
        for W, b in zip(Ws[:-1], bs[:-1]):
            acts.append(np.tanh(acts[-1] @ W + b))
        out = acts[-1] @ Ws[-1] + bs[-1]
        loss = np.mean((out - ytr) ** 2)
        losses.append(loss)
        d = 2 * (out - ytr) / len(xtr)
        gW, gb = [None] * 3, [None] * 3
        for k in (2, 1, 0):
            gW[k] = acts[k].T @ d; gb[k] = d.sum(0, keepdims=True)
            if k:
                d = (d @ Ws[k].T) * (1 - acts[k] ** 2)
        for i, (p, g) in enumerate(zip(Ws + bs, gW + gb)):
            vel[i] = mu * vel[i] - lr * g
            p += vel[i]
        if it % 20 == 0:
            rec.log(it, loss=loss, weights=Ws + bs, grads=gW + gb, activations=acts[1:],
                    logits=out, labels=ytr)
    reports.append(rec.report())
    a = xte
    for W, b in zip(Ws[:-1], bs[:-1]):
        a = np.tanh(a @ W + b)
    pred = a @ Ws[-1] + bs[-1]
    r2 = 1 - np.sum((pred - yte) ** 2) / np.sum((yte - yte.mean()) ** 2)
    return reports, {"loss_start": losses[0], "loss_end": losses[-1], "r2": float(r2)}
