"""Rosenblatt's perceptron learning NAND, written from a textbook figure that draws the unit as
sum(w_i * x_i) > 0 with no threshold input. The learner loops over the four patterns, applying
w += lr * (target - output) * x, for up to 100 epochs. NAND(0, 0) = 1 requires w . (0, 0) > 0,
which no weights can satisfy: the unit through the origin can never get that pattern right,
and the loop ends with errors every epoch. Adding a constant input of 1 (a learned bias /
threshold) makes it converge in a few epochs."""
import numpy as np

STYLE = "classic"
EXPECTED = ["NO_BIAS", "NOT_LEARNING"]   # NO_BIAS: proposed code (no intercept / threshold where one is needed)


X_GATE = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
T_NAND = np.array([1, 1, 1, 0])


def _inputs(X, with_bias):
    return np.hstack([X, np.ones((len(X), 1))]) if with_bias else X


def epoch_pass(p, inputs, T, lr):
    """Rosenblatt's rule over the patterns in order (p["w"] replaced at each); returns the
    number of mistakes."""
    wrong = 0
    for x, t in zip(inputs, T):
        out = 1 if np.dot(p["w"], x) > 0 else 0
        p["w"] = p["w"] + lr * (t - out) * x
        wrong += int(out != t)
    return wrong


def examine_case(bug):
    """The program as doctor.examine's arguments: a step is one pass over the batch's patterns,
    its loss the share of mistakes."""
    rng = np.random.default_rng(100)
    w = rng.uniform(-0.5, 0.5, 2 if bug else 3)
    return {"step": lambda p, X, y, lr: epoch_pass(p, _inputs(X, not bug), y, lr) / len(X),
            "params": {"w": w}, "X": X_GATE, "y": T_NAND, "lr": 0.1, "batch_size": 4,
            "train_steps": 100,
            "predict": lambda p, X: _inputs(X, not bug) @ p["w"]}


def _run(doctor, with_bias):
    X, T = X_GATE, T_NAND
    inputs = _inputs(X, with_bias)
    reports = [doctor.check_data(X, T)]
    rng = np.random.default_rng(100)
    p = {"w": rng.uniform(-0.5, 0.5, inputs.shape[1])}
    lr = 0.1
    rec = doctor.Recorder(["w"])
    mistakes = []
    for epoch in range(100):
        wrong = epoch_pass(p, inputs, T, lr)
        mistakes.append(wrong)
        scores = inputs @ p["w"]
        rec.log(epoch, loss=wrong / 4, weights=[p["w"]],
                grads=[-((T - (scores > 0)) @ inputs) / 4], logits=scores, labels=T)
        if wrong == 0:
            break
    reports.append(rec.report())
    acc = np.mean(((inputs @ p["w"]) > 0).astype(int) == T)
    return reports, {"loss_start": mistakes[0] / 4, "loss_end": mistakes[-1] / 4, "epochs": len(mistakes),
                     "accuracy": float(acc), "chance": 0.5}


def buggy(doctor):
    return _run(doctor, False)


def fixed(doctor):
    return _run(doctor, True)
