"""Correct program: the CS231n spiral, 3 classes x 100 points in 2-D, a 2-100-3 ReLU/softmax net
trained full batch with lr 1.0 and a small L2 penalty, written the vectorised way (X @ W, W of
shape (in, out)), with the course's numerical gradient check run once before training. It
reaches well over 90% training accuracy; nothing is wrong."""
import numpy as np

STYLE = "rowmajor"
EXPECTED = []


REG = 1e-3


def _data():
    rng = np.random.default_rng(12)
    N, D, K = 100, 2, 3
    X = np.zeros((N * K, D)); y = np.zeros(N * K, dtype=int)
    for j in range(K):
        ix = range(N * j, N * (j + 1))
        r = np.linspace(0.0, 1, N)
        t = np.linspace(j * 4, (j + 1) * 4, N) + rng.normal(size=N) * 0.2
        X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
        y[ix] = j
    perm = rng.permutation(N * K)
    X, y = X[perm], y[perm]
    return X[:240], y[:240], X[240:], y[240:], rng


def _init(rng, D=2, h=100, K=3):
    return {"W": 0.01 * rng.normal(size=(D, h)), "b": np.zeros((1, h)),
            "W2": 0.01 * rng.normal(size=(h, K)), "b2": np.zeros((1, K))}


def forward_backward(p, X, y):
    """CS231n's spiral network: the loss (with L2), its gradients (a dict like p), hidden, scores."""
    n = len(X)
    hidden = np.maximum(0, X @ p["W"] + p["b"])
    scores = hidden @ p["W2"] + p["b2"]
    exp_scores = np.exp(scores - scores.max(axis=1, keepdims=True))
    probs = exp_scores / exp_scores.sum(axis=1, keepdims=True)
    data_loss = -np.log(probs[range(n), y]).mean()
    loss = data_loss + 0.5 * REG * (np.sum(p["W"] * p["W"]) + np.sum(p["W2"] * p["W2"]))
    dscores = probs; dscores[range(n), y] -= 1; dscores /= n
    dW2 = hidden.T @ dscores + REG * p["W2"]; db2 = dscores.sum(axis=0, keepdims=True)
    dhidden = dscores @ p["W2"].T; dhidden[hidden <= 0] = 0
    dW = X.T @ dhidden + REG * p["W"]; db = dhidden.sum(axis=0, keepdims=True)
    return loss, {"W": dW, "b": db, "W2": dW2, "b2": db2}, hidden, scores


def step(p, X, y, lr):
    """One (full-batch) step in place; returns the loss before it."""
    loss, g, _, _ = forward_backward(p, X, y)
    for k in ("W", "b", "W2", "b2"):
        p[k] -= lr * g[k]
    return loss


def examine_case(bug=False):
    """The program as doctor.examine's arguments (full batch, as the loop trains)."""
    Xtr, ytr, _, _, rng = _data()
    return {"step": step, "params": _init(rng), "X": Xtr, "y": ytr, "lr": 1.0, "batch_size": len(Xtr),
            "grad": lambda p, X, y: forward_backward(p, X, y)[1],
            "train_steps": 1500}


def fixed(doctor):
    Xtr, ytr, Xte, yte, rng = _data()
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    p = _init(rng)
    step_size, reg = 1.0, REG
    W, b, W2, b2 = p["W"], p["b"], p["W2"], p["b2"]

    def full_loss(params):                     # the CS231n-style numerical check, once
        W_, b_, W2_, b2_ = params
        hid = np.maximum(0, Xtr @ W_ + b_)
        sc = hid @ W2_ + b2_
        sc = sc - sc.max(axis=1, keepdims=True)
        lp = sc - np.log(np.exp(sc).sum(axis=1, keepdims=True))
        return -lp[range(len(ytr)), ytr].mean() + 0.5 * reg * (np.sum(W_ * W_) + np.sum(W2_ * W2_))
    hid = np.maximum(0, Xtr @ W + b)
    sc = hid @ W2 + b2
    pr = np.exp(sc - sc.max(axis=1, keepdims=True)); pr /= pr.sum(axis=1, keepdims=True)
    ds = pr; ds[range(len(ytr)), ytr] -= 1; ds /= len(ytr)
    dh = ds @ W2.T; dh[hid <= 0] = 0
    reports.append(doctor.check_gradients(full_loss, [W, b, W2, b2],
                                          [Xtr.T @ dh + reg * W, dh.sum(0, keepdims=True),
                                           hid.T @ ds + reg * W2, ds.sum(0, keepdims=True)]))
    rec = doctor.Recorder(["W", "b", "W2", "b2"])
    losses = []
    for i in range(1500):
        loss, g, hidden, scores = forward_backward(p, Xtr, ytr)
        losses.append(loss)
        for k in ("W", "b", "W2", "b2"):
            p[k] -= step_size * g[k]
        if i % 25 == 0:
            rec.log(i, loss=loss, weights=[W, b, W2, b2], grads=[g[k] for k in ("W", "b", "W2", "b2")],
                    activations=[hidden], logits=scores, labels=ytr)
    reports.append(rec.report())
    pred = (np.maximum(0, Xte @ W + b) @ W2 + b2).argmax(axis=1)
    return reports, {"loss_start": losses[0], "loss_end": losses[-1],
                     "accuracy": float(np.mean(pred == yte)), "chance": 1 / 3}
