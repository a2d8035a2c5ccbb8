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


def _run(doctor, use_bias):
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    Y = np.array([0, 1, 1, 0], dtype=float)
    reports = [doctor.check_data(X, Y.astype(int))]
    rng = np.random.default_rng(43)
    w_ih = rng.uniform(-1, 1, (2, 2)); b_h = np.zeros(2)
    w_ho = rng.uniform(-1, 1, 2); b_o = 0.0
    rec = doctor.Recorder(["w_ih", "w_ho", "b_h", "b_o"] if use_bias else ["w_ih", "w_ho"])
    lr, errs = 0.5, []
    for step in range(12000):
        i = rng.integers(4)
        x, t = X[i], Y[i]
        h = sigmoid(x @ w_ih + (b_h if use_bias else 0))
        o = sigmoid(h @ w_ho + (b_o if use_bias else 0))
        errs.append(0.5 * (o - t) ** 2)
        d_o = (o - t) * o * (1 - o)
        d_h = d_o * w_ho * h * (1 - h)
        g_ho, g_ih = d_o * h, np.outer(x, d_h)
        w_ho -= lr * g_ho; w_ih -= lr * g_ih
        if use_bias:
            b_o -= lr * d_o; b_h -= lr * d_h
        if step % 50 == 0:
            ws = [w_ih, w_ho] + ([b_h, np.array([b_o])] if use_bias else [])
            gs = [g_ih, g_ho] + ([d_h, np.array([d_o])] if use_bias else [])
            rec.log(step, loss=float(np.mean(errs[-50:])), weights=ws, grads=gs, activations=[h],
                    logits=np.array([o]), labels=np.array([t]))
    reports.append(rec.report())
    out = sigmoid(sigmoid(X @ w_ih + (b_h if use_bias else 0)) @ w_ho + (b_o if use_bias else 0))
    return reports, {"loss_start": float(np.mean(errs[:200])), "loss_end": float(np.mean(errs[-200:])),
                     "accuracy": float(np.mean((out > 0.5) == Y)), "chance": 0.5}


def buggy(doctor):
    return _run(doctor, False)


def fixed(doctor):
    return _run(doctor, True)
