"""Correct program: a 1-20-1 tanh network fitted to y = sin(x) on [-3, 3] by online gradient
descent on the squared error, one random point per step, lr 0.02, 6000 steps. R^2 on a grid is
above 0.95; nothing is wrong."""
import numpy as np

STYLE = "online"
EXPECTED = []


def _data():
    rng = np.random.default_rng(52)
    xs = rng.uniform(-3, 3, 500); ys = np.sin(xs) + 0.05 * rng.normal(size=500)
    return xs, ys, rng


def _init(rng):
    return {"a": rng.normal(0, 1, 20), "c": np.zeros(20),        # hidden: tanh(a * x + c)
            "v": rng.normal(0, 1 / np.sqrt(20), 20), "d": np.zeros(1)}   # output: v . h + d


def learn(p, x, target, lr):
    """One point, in place: (error, gradients {"a", "c", "v", "d"}, h, output)."""
    h = np.tanh(p["a"] * x + p["c"])
    out = p["v"] @ h + p["d"][0]
    e = out - target
    gh = e * p["v"] * (1 - h * h)
    g = {"a": gh * x, "c": gh, "v": e * h, "d": np.array([e])}
    p["v"] -= lr * g["v"]; p["d"] -= lr * e; p["a"] -= lr * g["a"]; p["c"] -= lr * g["c"]
    return e, g, h, out


def examine_case(bug=False):
    """The program as doctor.examine's arguments: one point a step, as the loop trains."""
    xs, ys, rng = _data()
    return {"step": lambda p, X, y, lr: float(np.mean([0.5 * learn(p, x[0], t, lr)[0] ** 2
                                                        for x, t in zip(X, y)])),
            "params": _init(rng), "X": xs[:, None], "y": ys, "lr": 0.02, "batch_size": 1, "steps": 300,
            "train_steps": 6000}


def fixed(doctor):
    xs, ys, rng = _data()
    grid = np.linspace(-3, 3, 200); truth = np.sin(grid)
    reports = [doctor.check_data(xs[:, None], ys, grid[:, None], truth, classification=False)]
    p = _init(rng)
    rec = doctor.Recorder(["a", "c", "v", "d"])
    lr, errs = 0.02, []
    for step in range(6000):
        i = rng.integers(500)
        e, g, h, out = learn(p, xs[i], ys[i], lr)
        errs.append(e * e)
        if step % 25 == 0:
            rec.log(step, loss=0.5 * e * e, weights=[p["a"], p["c"], p["v"], p["d"]],
                    grads=[g["a"], g["c"], g["v"], g["d"]], activations=[h], logits=np.array([out]),
                    labels=np.array([ys[i]]))
    reports.append(rec.report())
    pred = np.tanh(np.outer(grid, p["a"]) + p["c"]) @ p["v"] + p["d"][0]
    r2 = 1 - np.sum((pred - truth) ** 2) / np.sum((truth - truth.mean()) ** 2)
    return reports, {"loss_start": float(np.mean(errs[:100])), "loss_end": float(np.mean(errs[-500:])),
                     "r2": float(r2)}
