"""Correct program: XOR with a 2-3-1 network in column-vector form (W of shape (out, in), b of
shape (out, 1), the four patterns stacked as columns), tanh hidden units, a sigmoid output with
the cross-entropy cost, full-batch gradient descent at eta = 0.5. It gets all four patterns
right; nothing is wrong."""
import numpy as np

STYLE = "nielsen"
EXPECTED = []


def _init(rng):
    W1 = rng.standard_normal((3, 2)); b1 = np.zeros((3, 1))
    W2 = rng.standard_normal((1, 3)); b2 = np.zeros((1, 1))
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def train_step(P, X, Y, eta):
    """The loop's forward, backward and update on the patterns as columns (in place): (cost,
    (dW1, db1, dW2, db2), H, A)."""
    W1, b1, W2, b2 = P["W1"], P["b1"], P["W2"], P["b2"]
    H = np.tanh(W1 @ X + b1)
    A = 1 / (1 + np.exp(-(W2 @ H + b2)))
    cost = -np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))
    dZ2 = (A - Y) / X.shape[1]
    dW2 = dZ2 @ H.T; db2 = dZ2.sum(axis=1, keepdims=True)
    dZ1 = (W2.T @ dZ2) * (1 - H ** 2)
    dW1 = dZ1 @ X.T; db1 = dZ1.sum(axis=1, keepdims=True)
    W1 -= eta * dW1; b1 -= eta * db1; W2 -= eta * dW2; b2 -= eta * db2
    return cost, (dW1, db1, dW2, db2), H, A


def examine_case(bug=False):
    """The program as doctor.examine's arguments: the four patterns as rows, a full batch each
    step as the loop takes, columns inside."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    y = np.array([0, 1, 1, 0])
    step = lambda P, Xb, yb, lr: train_step(P, Xb.T, yb[None].astype(float), lr)[0]  # noqa: E731
    grad = lambda P, Xb, yb: dict(zip(("W1", "b1", "W2", "b2"), train_step(P, Xb.T, yb[None].astype(float), 0.0)[1]))  # noqa: E731
    return {"step": step, "params": _init(np.random.default_rng(30)), "X": X, "y": y, "lr": 0.5,
            "batch_size": 4, "grad": grad, "train_steps": 2000,
            "predict": lambda P, Xb: (1 / (1 + np.exp(-(P["W2"] @ np.tanh(P["W1"] @ Xb.T + P["b1"]) + P["b2"])))).T}


def fixed(doctor):
    X = np.array([[0, 0, 1, 1], [0, 1, 0, 1]], dtype=float)   # (2, 4): one column per pattern
    Y = np.array([[0, 1, 1, 0]], dtype=float)                  # (1, 4)
    reports = [doctor.check_data(X.T, Y.T.astype(int).ravel())]
    rng = np.random.default_rng(30)
    P = _init(rng)
    W1, b1, W2, b2 = P["W1"], P["b1"], P["W2"], P["b2"]
    rec = doctor.Recorder(["W1", "b1", "W2", "b2"])
    costs = []
    for epoch in range(2000):
        cost, (dW1, db1, dW2, db2), H, A = train_step(P, X, Y, 0.5)
        costs.append(cost)
        if epoch % 20 == 0:
            rec.log(epoch, loss=cost, weights=[W1, b1, W2, b2], grads=[dW1, db1, dW2, db2],
                    activations=[H], logits=A, labels=Y)
    reports.append(rec.report())
    pred = (1 / (1 + np.exp(-(W2 @ np.tanh(W1 @ X + b1) + b2))) > 0.5).astype(float)
    return reports, {"loss_start": costs[0], "loss_end": costs[-1],
                     "accuracy": float(np.mean(pred == Y)), "chance": 0.5}
