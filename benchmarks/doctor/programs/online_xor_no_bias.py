"""XOR with a 2-2-1 sigmoid network trained on one random pattern per step (MSE, lr 0.5). The
learner left the biases out ("the weights are enough"). Without a bias every unit computes
sigmoid(w . x), which is exactly 0.5 at the input (0, 0) whatever the weights, so the output for
(0, 0) is a fixed function of the output weights alone and the four patterns cannot all be right:
the loss plateaus and one pattern stays wrong. Adding a bias to every unit fixes it."""
import numpy as np

STYLE = "online"
EXPECTED = ["NO_BIAS", "NOT_LEARNING"]   # NO_BIAS: proposed code (a model without intercepts)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


X_XOR = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
Y_XOR = np.array([0, 1, 1, 0], dtype=float)


def _init(rng, use_bias):
    p = {"w_ih": rng.uniform(-1, 1, (2, 2)), "w_ho": rng.uniform(-1, 1, 2)}
    if use_bias:
        p.update(b_h=np.zeros(2), b_o=np.zeros(1))
    return p


def learn(p, x, t, lr):
    """One pattern, in place: (half squared error, {"w_ih", "w_ho"[, "b_h", "b_o"]} gradients, h, o)."""
    use_bias = "b_h" in p
    h = sigmoid(x @ p["w_ih"] + (p["b_h"] if use_bias else 0))
    o = sigmoid(h @ p["w_ho"] + (p["b_o"][0] if use_bias else 0))
    d_o = (o - t) * o * (1 - o)
    d_h = d_o * p["w_ho"] * h * (1 - h)
    g = {"w_ih": np.outer(x, d_h), "w_ho": d_o * h}
    p["w_ho"] -= lr * g["w_ho"]; p["w_ih"] -= lr * g["w_ih"]
    if use_bias:
        g.update(b_h=d_h, b_o=np.array([d_o]))
        p["b_o"] -= lr * d_o; p["b_h"] -= lr * d_h
    return 0.5 * (o - t) ** 2, g, h, o


def examine_case(bug):
    """The program as doctor.examine's arguments: one pattern a step, as the loop trains."""
    def step(p, X, y, lr):
        return float(np.mean([learn(p, x, t, lr)[0] for x, t in zip(X, y)]))
    return {"step": step, "params": _init(np.random.default_rng(43), not bug), "X": X_XOR,
            "y": Y_XOR.astype(int), "lr": 0.5, "batch_size": 1, "steps": 300,
            "train_steps": 12000}


def _run(doctor, use_bias):
    X, Y = X_XOR, Y_XOR
    reports = [doctor.check_data(X, Y.astype(int))]
    rng = np.random.default_rng(43)
    p = _init(rng, use_bias)
    rec = doctor.Recorder(["w_ih", "w_ho", "b_h", "b_o"] if use_bias else ["w_ih", "w_ho"])
    lr, errs = 0.5, []
    for step in range(12000):
        i = rng.integers(4)
        err, g, h, o = learn(p, X[i], Y[i], lr)
        errs.append(err)
        if step % 50 == 0:
            ws = [p["w_ih"], p["w_ho"]] + ([p["b_h"], p["b_o"]] if use_bias else [])
            gs = [g["w_ih"], g["w_ho"]] + ([g["b_h"], g["b_o"]] if use_bias else [])
            rec.log(step, loss=float(np.mean(errs[-50:])), weights=ws, grads=gs, activations=[h],
                    logits=np.array([o]), labels=np.array([Y[i]]))
    reports.append(rec.report())
    b_h, b_o = (p["b_h"], p["b_o"][0]) if use_bias else (0, 0)
    out = sigmoid(sigmoid(X @ p["w_ih"] + b_h) @ p["w_ho"] + b_o)
    return reports, {"loss_start": float(np.mean(errs[:200])), "loss_end": float(np.mean(errs[-200:])),
                     "accuracy": float(np.mean((out > 0.5) == Y)), "chance": 0.5}


def buggy(doctor):
    return _run(doctor, False)


def fixed(doctor):
    return _run(doctor, True)
