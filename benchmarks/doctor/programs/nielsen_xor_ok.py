"""Correct program: XOR with a 2-3-1 network in column-vector form (W of shape (out, in), b of
shape (out, 1), the four patterns stacked as columns), tanh hidden units, a sigmoid output with
the cross-entropy cost, full-batch gradient descent at eta = 0.5. It gets all four patterns
right; nothing is wrong."""
import numpy as np

STYLE = "nielsen"
EXPECTED = []


def fixed(doctor):
    X = np.array([[0, 0, 1, 1], [0, 1, 0, 1]], dtype=float)   # (2, 4): one column per pattern
    Y = np.array([[0, 1, 1, 0]], dtype=float)                  # (1, 4)
    reports = [doctor.check_data(X.T, Y.T.astype(int).ravel())]
    rng = np.random.default_rng(30)
    W1 = rng.standard_normal((3, 2)); b1 = np.zeros((3, 1))
    W2 = rng.standard_normal((1, 3)); b2 = np.zeros((1, 1))
    rec = doctor.Recorder(["W1", "b1", "W2", "b2"])
    costs = []
    for epoch in range(2000):
        H = np.tanh(W1 @ X + b1)
        A = 1 / (1 + np.exp(-(W2 @ H + b2)))
        cost = -np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))
        costs.append(cost)
        dZ2 = (A - Y) / 4
        dW2 = dZ2 @ H.T; db2 = dZ2.sum(axis=1, keepdims=True)
        dZ1 = (W2.T @ dZ2) * (1 - H ** 2)
        dW1 = dZ1 @ X.T; db1 = dZ1.sum(axis=1, keepdims=True)
        W1 -= 0.5 * dW1; b1 -= 0.5 * db1; W2 -= 0.5 * dW2; b2 -= 0.5 * db2
        if epoch % 20 == 0:
            rec.log(epoch, loss=cost, weights=[W1, b1, W2, b2], grads=[dW1, db1, dW2, db2],
                    activations=[H], logits=A, labels=Y)
    reports.append(rec.report())
    pred = (1 / (1 + np.exp(-(W2 @ np.tanh(W1 @ X + b1) + b2))) > 0.5).astype(float)
    return reports, {"loss_start": costs[0], "loss_end": costs[-1],
                     "accuracy": float(np.mean(pred == Y)), "chance": 0.5}
