"""Logistic regression on a CSV whose class column is coded 1 and 2 (benign = 1, malignant = 2),
fed straight into the sigmoid's binary cross-entropy as the target. For y = 2 the "probability"
target is outside [0, 1]: the error term p - y is negative for every sample of both classes,
so the bias only ever increases, the model outputs p -> 1 everywhere and the predictions (class
2 if p > 0.5) are a single class. Mapping the labels to 0/1 fixes it."""
import numpy as np

STYLE = "classic"
EXPECTED = ["LABEL_RANGE"]


def _data(bug):
    rng = np.random.default_rng(106)
    n = 600
    cls = rng.integers(1, 3, n)                        # 1 or 2, as in the file
    X = rng.normal(size=(n, 4)) + np.outer(cls == 2, [1.0, 1.0, -0.5, 0.8])
    X = (X - X.mean(0)) / X.std(0)
    target = cls.astype(float) if bug else (cls == 2).astype(float)
    return X[:450], target[:450], X[450:], cls[450:]


def forward_backward(p, X, t):
    """The mean log-loss against targets t, its gradients {"w", "b"} and the probabilities."""
    prob = 1 / (1 + np.exp(-(X @ p["w"] + p["b"][0])))
    loss = float(-np.mean(t * np.log(prob + 1e-12) + (1 - t) * np.log(1 - prob + 1e-12)))
    g = prob - t
    return loss, {"w": X.T @ g / len(g), "b": np.array([g.mean()])}, prob


def predict_proba(p, X):
    """P(target = 1) for each row: what the loop's sigmoid gives."""
    return 1 / (1 + np.exp(-(X @ p["w"] + p["b"][0])))


def step(p, X, t, lr):
    """One batch gradient descent step (in place); returns the loss before it."""
    loss, g, _ = forward_backward(p, X, t)
    p["w"] -= lr * g["w"]; p["b"] -= lr * g["b"]
    return loss


def examine_case(bug):
    """The program as doctor.examine's arguments (full batch, as the loop trains)."""
    Xtr, ttr, _, _ = _data(bug)
    return {"step": step, "params": {"w": np.zeros(4), "b": np.zeros(1)}, "X": Xtr, "y": ttr,
            "lr": 0.3, "batch_size": len(Xtr), "grad": lambda p, X, y: forward_backward(p, X, y)[1],
            "train_steps": 300,
            "predict": lambda p, X: predict_proba(p, X)}


def _run(doctor, bug):
    Xtr, ttr, Xte, cte = _data(bug)
    reports = [doctor.check_data(Xtr, ttr, Xte, (cte if bug else (cte == 2).astype(int)))]
    p = {"w": np.zeros(4), "b": np.zeros(1)}
    rec = doctor.Recorder(["w", "b"])
    losses = []
    for it in range(300):
        loss, g, prob = forward_backward(p, Xtr, ttr)
        losses.append(loss)
        p["w"] -= 0.3 * g["w"]; p["b"] -= 0.3 * g["b"]
        if it % 3 == 0:
            rec.log(it, loss=losses[-1], weights=[p["w"], p["b"]], grads=[g["w"], g["b"]],
                    logits=prob, labels=ttr)
    reports.append(rec.report())
    pred = np.where(1 / (1 + np.exp(-(Xte @ p["w"] + p["b"][0]))) > 0.5, 2, 1)
    return reports, {"loss_start": losses[0], "loss_end": losses[-1],
                     "accuracy": float(np.mean(pred == cte)), "chance": 0.5}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
