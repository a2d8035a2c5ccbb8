"""A perceptron (with a bias input) trained on XOR with the classic rule, for 100 epochs. XOR is
not linearly separable: no line puts (0, 1) and (1, 0) on one side and (0, 0), (1, 1) on the
other, so the rule keeps flipping the weights and at least one pattern is always wrong. The
learner's fix is to add the product feature x1 * x2, after which the classes are separable and
the same perceptron converges."""
import numpy as np

STYLE = "classic"
EXPECTED = ["NOT_LINEARLY_SEPARABLE"]


def _run(doctor, add_product):
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    y = np.array([0, 1, 1, 0])
    feats = np.c_[X, X[:, 0] * X[:, 1]] if add_product else X
    Xb = np.c_[feats, np.ones(4)]
    reports = [doctor.check_data(feats, y)]
    w = np.zeros(Xb.shape[1])
    rec = doctor.Recorder(["w"])
    errs = []
    for epoch in range(100):
        n_err, g = 0, np.zeros_like(w)
        for x, t in zip(Xb, y):
            pred = 1 if x @ w > 0 else 0
            if pred != t:
                w += (t - pred) * x
                g -= (t - pred) * x
                n_err += 1
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
