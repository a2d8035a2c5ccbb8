"""A perceptron for NOR with the threshold folded into the weights the usual way: inputs
augmented with a constant 1, weights [w1, w2, b]. The learner's update loop was written for the
two features, for i in range(2): w[i] += lr * err * x[i], so the last entry, the bias, is
never updated although its error term is computed (and logged) with the rest. NOR(0, 0) = 1
needs b > 0, b stays at its initial -0.2, and the perceptron cycles through the patterns
forever. Looping over len(w) fixes it."""
import numpy as np

STYLE = "classic"
EXPECTED = ["WEIGHTS_FROZEN", "NO_BIAS"]


X_GATE = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
Y_NOR = np.array([1, 0, 0, 0])


def epoch_pass(w, Xa, y, lr, bug):
    """The perceptron rule over the patterns (w in place; with the bug the threshold weight,
    the last, is never updated): (mistakes, the summed "gradient")."""
    errors, grad = 0, np.zeros(len(w))
    for x, t in zip(Xa, y):
        out = int(w @ x > 0)
        err = t - out
        grad -= err * x / 4
        for i in range(len(w) - 1 if bug else len(w)):
            w[i] += lr * err * x[i]
        errors += abs(err)
    return errors, grad


def examine_case(bug):
    """The program as doctor.examine's arguments: a step is one pass over the batch's patterns,
    its loss the share of mistakes."""
    return {"step": lambda p, X, y, lr: epoch_pass(p["w"], np.c_[X, np.ones(len(X))], y, lr, bug)[0] / len(X),
            "params": {"w": np.array([0.3, -0.1, -0.2])}, "X": X_GATE, "y": Y_NOR, "lr": 0.2,
            "batch_size": 4,
            "train_steps": 60,
            "predict": lambda p, X: np.c_[X, np.ones(len(X))] @ p["w"]}


def _run(doctor, bug):
    X, y = X_GATE, Y_NOR
    Xa = np.c_[X, np.ones(4)]
    reports = [doctor.check_data(X, y)]
    w = np.array([0.3, -0.1, -0.2])
    lr = 0.2
    rec = doctor.Recorder(["w"])
    errors_per_epoch = []
    for epoch in range(60):
        errors, grad = epoch_pass(w, Xa, y, lr, bug)
        errors_per_epoch.append(errors)
        rec.log(epoch, loss=errors / 4, weights=[w], grads=[grad], logits=Xa @ w, labels=y)
        if errors == 0:
            break
    reports.append(rec.report())
    acc = np.mean((Xa @ w > 0).astype(int) == y)
    return reports, {"loss_start": errors_per_epoch[0] / 4, "loss_end": errors_per_epoch[-1] / 4,
                     "accuracy": float(acc), "chance": 0.5}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
