"""Correct program: a 1-20-1 tanh network fitted to y = sin(x) on [-3, 3] by online gradient
descent on the squared error, one random point per step, lr 0.02, 6000 steps. R^2 on a grid is
above 0.95; nothing is wrong."""
import numpy as np

STYLE = "online"
EXPECTED = []


def fixed(doctor):
    rng = np.random.default_rng(52)
    xs = rng.uniform(-3, 3, 500); ys = np.sin(xs) + 0.05 * rng.normal(size=500)
    grid = np.linspace(-3, 3, 200); truth = np.sin(grid)
    reports = [doctor.check_data(xs[:, None], ys, grid[:, None], truth, classification=False)]
    a = rng.normal(0, 1, 20); c = np.zeros(20)        # hidden: tanh(a * x + c)
    v = rng.normal(0, 1 / np.sqrt(20), 20); d = 0.0   # output: v . h + d
    rec = doctor.Recorder(["a", "c", "v", "d"])
    lr, errs = 0.02, []
    for step in range(6000):
        i = rng.integers(500)
        h = np.tanh(a * xs[i] + c)
        out = v @ h + d
        e = out - ys[i]
        errs.append(e * e)
        gv, gd = e * h, e
        gh = e * v * (1 - h * h)
        ga, gc = gh * xs[i], gh
        v -= lr * gv; d -= lr * gd; a -= lr * ga; c -= lr * gc
        if step % 25 == 0:
            rec.log(step, loss=0.5 * e * e, weights=[a, c, v, np.array([d])],
                    grads=[ga, gc, gv, np.array([gd])], activations=[h], logits=np.array([out]),
                    labels=np.array([ys[i]]))
    reports.append(rec.report())
    pred = np.tanh(np.outer(grid, a) + c) @ v + d
    r2 = 1 - np.sum((pred - truth) ** 2) / np.sum((truth - truth.mean()) ** 2)
    return reports, {"loss_start": float(np.mean(errs[:100])), "loss_end": float(np.mean(errs[-500:])),
                     "r2": float(r2)}
