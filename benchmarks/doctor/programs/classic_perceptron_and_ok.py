"""Correct program: Rosenblatt's perceptron with a learned threshold (bias input fixed at 1)
learning the AND gate, and then the OR gate, with the classic error-correction rule. Both
converge within a few epochs to zero errors; nothing is wrong."""
import numpy as np

STYLE = "classic"
EXPECTED = []


X_GATE = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
GATES = {"AND": np.array([0, 0, 0, 1]), "OR": np.array([0, 1, 1, 1])}


def epoch_pass(p, X, t, lr=0.25):
    """Rosenblatt's rule with a learned threshold over the patterns (p's w and theta in place);
    returns the number of mistakes."""
    errors = 0
    for x, target in zip(X, t):
        out = int(p["w"] @ x - p["theta"][0] > 0)
        p["w"] += lr * (target - out) * x
        p["theta"] -= lr * (target - out)
        errors += int(out != target)
    return errors


def examine_case(bug=False):
    """The program's AND gate as doctor.examine's arguments: a step is one pass over the batch's
    patterns, its loss the share of mistakes."""
    return {"step": lambda p, X, y, lr: epoch_pass(p, X, y, lr) / len(X),
            "params": {"w": np.zeros(2), "theta": np.zeros(1)}, "X": X_GATE, "y": GATES["AND"],
            "lr": 0.25, "batch_size": 4,
            "train_steps": 20,
            "predict": lambda p, X: X @ p["w"] - p["theta"][0]}


def fixed(doctor):
    X = X_GATE
    reports, accs, first, last = [], [], None, None
    for name, t in GATES.items():
        reports.append(doctor.check_data(X, t))
        p = {"w": np.zeros(2), "theta": np.zeros(1)}
        rec = doctor.Recorder(["w", "theta"])
        for epoch in range(20):
            errors = epoch_pass(p, X, t)
            w, theta = p["w"], p["theta"][0]
            s = X @ w - theta
            g = -((t - (s > 0)) @ X) / 4
            rec.log(epoch, loss=errors / 4, weights=[w, np.array([theta])],
                    grads=[g, np.array([np.mean(t - (s > 0))])], logits=s, labels=t)
            first = errors / 4 if first is None else first
            last = errors / 4
            if errors == 0:
                break
        reports.append(rec.report())
        accs.append(np.mean(((X @ p["w"] - p["theta"][0]) > 0).astype(int) == t))
    return reports, {"loss_start": first, "loss_end": last, "accuracy": float(np.mean(accs)), "chance": 0.5}
