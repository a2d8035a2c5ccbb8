"""House prices by online least squares (the LMS rule, one house per step): features are the
floor area in square feet (500-4000), the number of rooms and the age in years, the target is
the price in thousands. The learner uses lr = 1e-4 on the raw features. With x around 2000,
a single step changes the prediction by lr * x^2 ~ 400 times the error: the weights oscillate
with growing amplitude and overflow to inf/NaN within a few dozen houses. Standardising the
features (with the training mean and std) and using lr = 0.01 fits it."""
import numpy as np

STYLE = "online"
EXPECTED = ["INPUT_SCALE", "LR_TOO_HIGH"]


def _houses(rng, n):
    area = rng.uniform(500, 4000, n)
    rooms = np.round(area / 600 + rng.normal(0, 0.7, n)).clip(1, 8)
    age = rng.uniform(0, 80, n)
    price = 50 + 0.12 * area + 8 * rooms - 0.9 * age + rng.normal(0, 20, n)
    return np.column_stack([area, rooms, age]), price


def _data(bug):
    rng = np.random.default_rng(45)
    X, y = _houses(rng, 600)
    Xt, yt = _houses(rng, 200)
    if not bug:
        mu, sd = X.mean(0), X.std(0)
        X, Xt = (X - mu) / sd, (Xt - mu) / sd
    return X, y, Xt, yt, rng


def sample_step(p, x, target, lr):
    """One house, in place (p["w"], p["b"] replaced, as the loop writes w = w - lr * gw):
    (error, gw, gb, prediction)."""
    pred = x @ p["w"] + p["b"][0]
    err = pred - target
    gw, gb = err * x, err
    p["w"] = p["w"] - lr * gw
    p["b"] = np.array([p["b"][0] - lr * gb])
    return err, gw, gb, pred


def examine_case(bug):
    """The program as doctor.examine's arguments: one house a step, as the loop trains."""
    X, y, _, _, _ = _data(bug)

    def step(p, Xb, yb, lr):
        return float(np.mean([0.5 * sample_step(p, x, t, lr)[0] ** 2 for x, t in zip(Xb, yb)]))

    def grad(p, Xb, yb):
        err = Xb @ p["w"] + p["b"][0] - yb
        return {"w": (err[:, None] * Xb).mean(0), "b": np.array([err.mean()])}
    return {"step": step, "params": {"w": np.zeros(3), "b": np.zeros(1)}, "X": X, "y": y,
            "lr": 1e-4 if bug else 0.01, "batch_size": 1, "steps": 300, "grad": grad,
            "train_steps": 1800}


def _run(doctor, bug):
    X, y, Xt, yt, rng = _data(bug)
    reports = [doctor.check_data(X, y, Xt, yt, classification=False)]
    p = {"w": np.zeros(3), "b": np.zeros(1)}
    lr = 1e-4 if bug else 0.01
    rec = doctor.Recorder(["w", "b"])
    sq = []
    for epoch in range(3):
        for i in rng.permutation(len(X)):
            err, gw, gb, pred = sample_step(p, X[i], y[i], lr)
            sq.append(err ** 2)
            if len(sq) % 10 == 0:
                rec.log(len(sq), loss=0.5 * err ** 2, weights=[p["w"], p["b"]],
                        grads=[gw, np.array([gb])], logits=np.array([pred]), labels=np.array([y[i]]))
    reports.append(rec.report())
    w, b = p["w"], p["b"][0]
    r2 = 1 - np.sum((Xt @ w + b - yt) ** 2) / np.sum((yt - yt.mean()) ** 2)
    return reports, {"loss_start": float(np.mean(sq[:20])), "loss_end": float(np.mean(sq[-100:])),
                     "r2": float(r2)}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
