"""Correct program: multiple linear regression by batch gradient descent, three features
standardised with the training mean and std (applied to the test set too), an intercept,
MSE / 2 cost, lr 0.1 for 200 iterations. Converges to the least-squares fit (R^2 ~0.95);
nothing is wrong."""
import numpy as np

STYLE = "classic"
EXPECTED = []


def _data():
    rng = np.random.default_rng(110)
    X = rng.uniform([0, 10, 100], [1, 50, 900], (500, 3))
    y = 4 + 2 * X[:, 0] + 0.3 * X[:, 1] - 0.01 * X[:, 2] + rng.normal(0, 0.5, 500)
    Xtr, ytr, Xte, yte = X[:400], y[:400], X[400:], y[400:]
    mu, sigma = Xtr.mean(axis=0), Xtr.std(axis=0)
    return (Xtr - mu) / sigma, ytr, (Xte - mu) / sigma, yte


def cost_grad(theta, X, y):
    """J = sum((h - y)^2) / 2m and its gradient, h = [1, X] @ theta (Ng's notation)."""
    A = np.c_[np.ones(len(X)), X]
    h = A @ theta
    return np.sum((h - y) ** 2) / (2 * len(X)), A.T @ (h - y) / len(X), h


def step(p, X, y, lr):
    """One batch gradient descent step on p["theta"] (in place); returns J before it."""
    J, grad, _ = cost_grad(p["theta"], X, y)
    p["theta"] -= lr * grad
    return J


def examine_case(bug=False):
    """The program as doctor.examine's arguments (full batch, as the loop trains)."""
    Xtr, ytr, _, _ = _data()
    return {"step": step, "params": {"theta": np.zeros(4)}, "X": Xtr, "y": ytr, "lr": 0.1,
            "batch_size": len(Xtr), "grad": lambda p, X, y: {"theta": cost_grad(p["theta"], X, y)[1]},
            "train_steps": 200,
            "predict": lambda p, X: np.c_[np.ones(len(X)), X] @ p["theta"]}


def fixed(doctor):
    Xtr, ytr, Xte, yte = _data()
    reports = [doctor.check_data(Xtr, ytr, Xte, yte, classification=False)]
    theta = np.zeros(4)
    rec = doctor.Recorder(["theta"])
    J = []
    for i in range(200):
        cost, grad, h = cost_grad(theta, Xtr, ytr)
        J.append(cost)
        theta -= 0.1 * grad
        if i % 2 == 0:
            rec.log(i, loss=J[-1], weights=[theta], grads=[grad], logits=h, labels=ytr)
    reports.append(rec.report())
    p = np.c_[np.ones(100), Xte] @ theta
    r2 = 1 - np.sum((p - yte) ** 2) / np.sum((yte - yte.mean()) ** 2)
    return reports, {"loss_start": J[0], "loss_end": J[-1], "r2": float(r2)}
