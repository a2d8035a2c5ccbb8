"""Correct program: the CS231n spiral, 3 classes x 100 points in 2-D, a 2-100-3 ReLU/softmax net
trained full batch with lr 1.0 and a small L2 penalty, written the vectorised way (X @ W, W of
shape (in, out)), with the course's numerical gradient check run once before training. It
reaches well over 90% training accuracy; nothing is wrong."""
import numpy as np

STYLE = "rowmajor"
EXPECTED = []


def fixed(doctor):
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
    Xtr, ytr, Xte, yte = X[:240], y[:240], X[240:], y[240:]
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    h = 100
    W = 0.01 * rng.normal(size=(D, h)); b = np.zeros((1, h))
    W2 = 0.01 * rng.normal(size=(h, K)); b2 = np.zeros((1, K))
    step_size, reg = 1.0, 1e-3

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
    n = len(Xtr)
    for i in range(1500):
        hidden = np.maximum(0, Xtr @ W + b)
        scores = hidden @ W2 + b2
        exp_scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        probs = exp_scores / exp_scores.sum(axis=1, keepdims=True)
        data_loss = -np.log(probs[range(n), ytr]).mean()
        loss = data_loss + 0.5 * reg * (np.sum(W * W) + np.sum(W2 * W2))
        losses.append(loss)
        dscores = probs; dscores[range(n), ytr] -= 1; dscores /= n
        dW2 = hidden.T @ dscores + reg * W2; db2 = dscores.sum(axis=0, keepdims=True)
        dhidden = dscores @ W2.T; dhidden[hidden <= 0] = 0
        dW = Xtr.T @ dhidden + reg * W; db = dhidden.sum(axis=0, keepdims=True)
        W -= step_size * dW; b -= step_size * db; W2 -= step_size * dW2; b2 -= step_size * db2
        if i % 25 == 0:
            rec.log(i, loss=loss, weights=[W, b, W2, b2], grads=[dW, db, dW2, db2],
                    activations=[hidden], logits=scores, labels=ytr)
    reports.append(rec.report())
    pred = (np.maximum(0, Xte @ W + b) @ W2 + b2).argmax(axis=1)
    return reports, {"loss_start": losses[0], "loss_end": losses[-1],
                     "accuracy": float(np.mean(pred == yte)), "chance": 1 / 3}
