"""A Nielsen-style 784-30-10 sigmoid/cross-entropy network (column vectors, mini-batch matrices)
with "momentum" added after reading chapter 3. The learner writes v = v + eta * nabla and
w = w - v, leaving out the momentum coefficient mu that should shrink the velocity each step:
v becomes the running sum of every gradient so far, the steps grow without bound, the weights
run off and the sigmoids saturate. With v = mu * v - eta * nabla (mu = 0.9) it learns."""
import numpy as np

from ._data import mnist

STYLE = "nielsen"
EXPECTED = ["MOMENTUM"]


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


class Network:
    def __init__(self, sizes, rng):
        self.weights = [rng.standard_normal((y, x)) / np.sqrt(x) for x, y in zip(sizes[:-1], sizes[1:])]
        self.biases = [rng.standard_normal((y, 1)) for y in sizes[1:]]
        self.vw = [np.zeros_like(w) for w in self.weights]
        self.vb = [np.zeros_like(b) for b in self.biases]

    def forward(self, x):
        acts = [x]
        for w, b in zip(self.weights, self.biases):
            acts.append(sigmoid(w @ acts[-1] + b))
        return acts

    def step(self, x, y, eta, bug, mu=0.9):
        acts = self.forward(x)
        m = x.shape[1]
        delta = acts[-1] - y
        nabla_w, nabla_b = [None, None], [None, None]
        for l in (1, 0):
            nabla_w[l] = delta @ acts[l].T / m
            nabla_b[l] = delta.sum(axis=1, keepdims=True) / m
            if l:
                delta = (self.weights[l].T @ delta) * acts[l] * (1 - acts[l])
        for l in range(2):
            if bug:
                self.vw[l] = self.vw[l] + eta * nabla_w[l]
                self.vb[l] = self.vb[l] + eta * nabla_b[l]
                self.weights[l] = self.weights[l] - self.vw[l]
                self.biases[l] = self.biases[l] - self.vb[l]
            else:
                self.vw[l] = mu * self.vw[l] - eta * nabla_w[l]
                self.vb[l] = mu * self.vb[l] - eta * nabla_b[l]
                self.weights[l] = self.weights[l] + self.vw[l]
                self.biases[l] = self.biases[l] + self.vb[l]
        out = acts[-1]
        cost = -np.sum(y * np.log(out + 1e-12) + (1 - y) * np.log(1 - out + 1e-12)) / m
        return cost, nabla_w + nabla_b, acts


class Step:
    """examine's step function: the Network's own step on the params handed in (rows in, as
    examine's batches come); the velocities stay in here, so examine's copy of it starts fresh."""

    def __init__(self, net, bug):
        self.net, self.bug = net, bug

    def __call__(self, p, X, y, lr):
        net = self.net
        net.weights, net.biases = p["weights"], p["biases"]
        cost, _, _ = net.step(X.T, np.eye(10)[y].T, lr, self.bug)
        p["weights"], p["biases"] = net.weights, net.biases
        return cost


def _gradient(p, X, y):
    """This batch's gradients [w1, w2, b1, b2], from a Network with fresh velocities at eta 0."""
    net = Network.__new__(Network)
    net.weights, net.biases = list(p["weights"]), list(p["biases"])
    net.vw = [np.zeros_like(w) for w in net.weights]
    net.vb = [np.zeros_like(b) for b in net.biases]
    return net.step(X.T, np.eye(10)[y].T, 0.0, False)[1]


def examine_case(bug):
    """The program as doctor.examine's arguments: the weights and biases as params."""
    Xtr, ytr, _, _ = mnist(2000, 500, seed=25)
    net = Network([784, 30, 10], np.random.default_rng(25))
    return {"step": Step(net, bug), "params": {"weights": net.weights, "biases": net.biases},
            "X": Xtr / 255.0, "y": ytr, "lr": 0.1, "batch_size": 20, "grad": _gradient,
            "train_steps": 200}


def _run(doctor, bug):
    Xtr, ytr, Xte, yte = mnist(2000, 500, seed=25)
    X, Xt = Xtr.T / 255.0, Xte.T / 255.0
    Y = np.eye(10)[:, ytr]
    reports = [doctor.check_data(X.T, ytr, Xt.T, yte)]
    rng = np.random.default_rng(25)
    net = Network([784, 30, 10], rng)
    rec = doctor.Recorder(["w1", "w2", "b1", "b2"])
    costs, n = [], 0
    for epoch in range(2):
        order = rng.permutation(X.shape[1])
        for k in range(0, len(order), 20):
            c = order[k:k + 20]
            cost, grads, acts = net.step(X[:, c], Y[:, c], 0.1, bug)
            costs.append(cost)
            if n % 3 == 0:
                rec.log(n, loss=cost, weights=net.weights + net.biases, grads=grads,
                        activations=[acts[1]], logits=acts[-1], labels=Y[:, c])
            n += 1
    reports.append(rec.report())
    acc = np.mean(net.forward(Xt)[-1].argmax(axis=0) == yte)
    return reports, {"loss_start": costs[0], "loss_end": float(np.mean(costs[-10:])),
                     "accuracy": float(acc), "chance": 0.1}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
