"""A layer-object regression net (Dense -> Tanh -> Dense, forward/backward chained through the
layers' prev links) predicting energy use from 6 standardised weather features. The loss
object returns np.sum((pred - y)**2) and its gradient 2 * (pred - y), summed over the batch of
256 rather than averaged, with lr = 0.05 taken from an example that averaged. The effective
step is 256 times larger: the first updates overshoot, the weights explode and the loss is
NaN within a few dozen steps."""
import numpy as np

STYLE = "layerchain"
EXPECTED = ["LOSS_SUMMED", "LR_TOO_HIGH"]


class Dense:
    def __init__(self, n_in, n_out, rng, prev=None):
        self.W = rng.normal(0, 1 / np.sqrt(n_in), (n_in, n_out)); self.b = np.zeros(n_out)
        self.prev = prev

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, g):
        self.dW, self.db = self.x.T @ g, g.sum(0)
        g = g @ self.W.T
        return self.prev.backward(g) if self.prev else g


class Tanh:
    def __init__(self, prev):
        self.prev = prev

    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, g):
        return self.prev.backward(g * (1 - self.y ** 2))


class SquaredError:
    def __init__(self, summed):
        self.summed = summed

    def __call__(self, pred, y):
        self.d = pred - y
        return np.sum(self.d ** 2) if self.summed else np.mean(self.d ** 2)

    def grad(self):
        return 2 * self.d if self.summed else 2 * self.d / self.d.size


def _setup():
    rng = np.random.default_rng(69)
    X = rng.normal(size=(1500, 6))
    y = (3 + 1.5 * X[:, 0] - np.abs(X[:, 1]) + 0.8 * X[:, 2] * X[:, 3] + 0.3 * rng.normal(size=1500))[:, None]
    d1 = Dense(6, 32, rng); act = Tanh(d1); d2 = Dense(32, 1, rng, prev=act)
    return X[:1200], y[:1200], X[1200:], y[1200:], (d1, act, d2), rng


def train_step(net, loss_fn, xb, yb, lr):
    """The loop's forward, backward and update on one batch (in place): (loss, prediction)."""
    d1, act, d2 = net
    pred = d2.forward(act.forward(d1.forward(xb)))
    loss = loss_fn(pred, yb)
    d2.backward(loss_fn.grad())
    if lr is not None:
        for d in (d1, d2):
            d.W -= lr * d.dW; d.b -= lr * d.db
    return loss, pred


def _bind(net, p):
    """The layers' weights are the arrays of p (updated in place through them)."""
    net[0].W, net[0].b, net[2].W, net[2].b = p["W1"], p["b1"], p["W2"], p["b2"]
    return net


def examine_case(bug):
    """The program as doctor.examine's arguments: its own step (the loss object's sum or mean),
    init and data."""
    Xtr, ytr, _, _, net, _ = _setup()
    loss_fn = SquaredError(summed=bug)
    d1, act, d2 = net

    def grad(p, X, y):
        train_step(_bind(net, p), loss_fn, X, y, None)
        return {"W1": d1.dW, "b1": d1.db, "W2": d2.dW, "b2": d2.db}

    def predict(p, X):
        _bind(net, p)
        return d2.forward(act.forward(d1.forward(X)))

    return {"step": lambda p, X, y, lr: train_step(_bind(net, p), loss_fn, X, y, lr)[0],
            "params": {"W1": d1.W, "b1": d1.b, "W2": d2.W, "b2": d2.b}, "grad": grad, "predict": predict,
            "X": Xtr, "y": ytr, "lr": 0.05, "batch_size": 256, "train_steps": 400}


def _run(doctor, bug):
    Xtr, ytr, Xte, yte, net, rng = _setup()
    reports = [doctor.check_data(Xtr, ytr, Xte, yte, classification=False)]
    d1, act, d2 = net
    loss_fn = SquaredError(summed=bug)
    rec = doctor.Recorder(["W1", "b1", "W2", "b2"])
    mses = []
    for step in range(400):
        i = rng.choice(1200, 256, replace=False)
        loss, pred = train_step(net, loss_fn, Xtr[i], ytr[i], 0.05)
        mses.append(float(np.mean((pred - ytr[i]) ** 2)))
        if step % 2 == 0:
            rec.log(step, loss=loss, weights=[d1.W, d1.b, d2.W, d2.b], grads=[d1.dW, d1.db, d2.dW, d2.db],
                    activations=[act.y], logits=pred, labels=ytr[i])
    reports.append(rec.report())
    p = d2.forward(act.forward(d1.forward(Xte)))
    r2 = 1 - np.sum((p - yte) ** 2) / np.sum((yte - yte.mean()) ** 2)
    return reports, {"loss_start": mses[0], "loss_end": float(np.mean(mses[-5:])), "r2": float(r2)}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
