"""A perceptron (with a bias input) trained on XOR with the classic rule, for 100 epochs. XOR is
not linearly separable: no line puts (0, 1) and (1, 0) on one side and (0, 0), (1, 1) on the
other, so the rule keeps flipping the weights and at least one pattern is always wrong. The
learner's fix is to add the product feature x1 * x2, after which the classes are separable and
the same perceptron converges."""
import numpy as np

STYLE = "classic"
EXPECTED = ["NOT_LINEARLY_SEPARABLE"]


X_GATE = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
Y_XOR = np.array([0, 1, 1, 0])


def _features(X, add_product):
    feats = np.c_[X, X[:, 0] * X[:, 1]] if add_product else X
    return feats, np.c_[feats, np.ones(len(X))]


def epoch_pass(w, Xb, y, lr=1.0):
    """The perceptron rule over the patterns (w in place, a step of lr on each mistake);
    returns (mistakes, the summed "gradient" g)."""
    n_err, g = 0, np.zeros_like(w)
    for x, t in zip(Xb, y):
        pred = 1 if x @ w > 0 else 0
        if pred != t:
            w += lr * (t - pred) * x
            g -= (t - pred) * x
            n_err += 1
    return n_err, g


def examine_case(bug):
    """The program as doctor.examine's arguments: a step is one pass over the batch's patterns
    (X holds the features the program feeds in), its loss the share of mistakes."""
    feats, _ = _features(X_GATE, not bug)
    return {"step": lambda p, X, y, lr: epoch_pass(p["w"], np.c_[X, np.ones(len(X))], y, lr)[0] / len(X),
            "params": {"w": np.zeros(feats.shape[1] + 1)}, "X": feats, "y": Y_XOR, "lr": 1.0, "batch_size": 4,
            "train_steps": 100,
            "predict": lambda p, X: np.c_[X, np.ones(len(X))] @ p["w"]}


def _run(doctor, add_product):
    X, y = X_GATE, Y_XOR
    feats, Xb = _features(X, add_product)
    reports = [doctor.check_data(feats, y)]
    w = np.zeros(Xb.shape[1])
    rec = doctor.Recorder(["w"])
    errs = []
    for epoch in range(100):
        n_err, g = epoch_pass(w, Xb, y)
        errs.append(n_err)
        rec.log(epoch, loss=n_err / 4, weights=[w], grads=[g / 4], logits=Xb @ w, labels=y)
        if n_err == 0:
            break
    reports.append(rec.report())
    acc = np.mean(((Xb @ w) > 0).astype(int) == y)
    return reports, {"loss_start": errs[0] / 4, "loss_end": errs[-1] / 4, "accuracy": float(acc), "chance": 0.5}


def buggy(doctor):
    return _run(doctor, False)


def fixed(doctor):
    return _run(doctor, True)
