"""Neurons as objects (weights in a Python list, one loop per weight) classifying 4-feature
readings into 3 classes with a 4-6-3 sigmoid network and the quadratic error. In the weight
update loop the learner indexes the input from the wrong end, inputs[-1 - i] instead of
inputs[i], so every weight is pushed by another weight's input. The learner verifies the
backward pass with a home-made gradient check that nudges *all* weights at once by eps and
compares the change in the loss with the sum of the analytic gradients: that sum is unchanged
by the permutation, the check prints OK, and the network does not learn. The doctor's per-entry
check is run on the same gradients."""
import numpy as np

from ._neurons import NeuronStep, params_of

STYLE = "neuron"
EXPECTED = ["GRADIENT_MISMATCH"]


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


class Neuron:
    def __init__(self, n, rng):
        self.weights = list(rng.uniform(-1, 1, n))
        self.bias = 0.0

    def output(self, inputs):
        self.out = sigmoid(sum(w * x for w, x in zip(self.weights, inputs)) + self.bias)
        return self.out


class Net:
    def __init__(self, rng, reversed_index):
        self.hidden = [Neuron(4, rng) for _ in range(6)]
        self.out = [Neuron(6, rng) for _ in range(3)]
        self.rev = reversed_index

    def forward(self, x):
        h = [n.output(x) for n in self.hidden]
        return h, [n.output(h) for n in self.out]

    def loss(self, x, t):
        return 0.5 * sum((o - ti) ** 2 for o, ti in zip(self.forward(x)[1], t))

    def gradients(self, x, t):
        h, o = self.forward(x)
        d_out = [(oi - ti) * oi * (1 - oi) for oi, ti in zip(o, t)]
        d_hid = [sum(d * n.weights[j] for d, n in zip(d_out, self.out)) * h[j] * (1 - h[j])
                 for j in range(len(self.hidden))]
        grads = []
        for layer, deltas, inputs in ((self.hidden, d_hid, x), (self.out, d_out, h)):
            for n, d in zip(layer, deltas):
                gw = [d * (inputs[-1 - i] if self.rev else inputs[i]) for i in range(len(n.weights))]
                grads.append((n, gw, d))
        return grads

    def neurons(self):
        return self.hidden + self.out


def my_gradient_check(net, x, t, eps=1e-5):
    """nudge every weight by +eps and -eps together; compare with the sum of the gradients"""
    analytic = sum(sum(gw) for _, gw, _ in net.gradients(x, t))

    def shift(delta):
        for n in net.neurons():
            n.weights = [w + delta for w in n.weights]

    shift(+eps); up = net.loss(x, t)
    shift(-2 * eps); down = net.loss(x, t)
    shift(+eps)
    numeric = (up - down) / (2 * eps)
    ok = abs(numeric - analytic) < 1e-4 * max(1.0, abs(numeric))
    return ok


def _data(rng, n):
    y = rng.integers(0, 3, n)
    centers = np.array([[0.8, 0.2, 0.1, 0.6], [0.2, 0.9, 0.5, 0.1], [0.5, 0.4, 0.9, 0.9]])
    return np.clip(centers[y] + 0.12 * rng.normal(size=(n, 4)), 0, 1), y


def sample(net, x, t, lr):
    """The loop's loss, gradients and update on one point (new lists of weights, as the learner
    writes them): (loss, grads)."""
    loss = net.loss(x, t)
    grads = net.gradients(x, t)
    for n, gw, d in grads:
        n.weights = [w - lr * g for w, g in zip(n.weights, gw)]
        n.bias -= lr * d
    return loss, grads


def _net_of(layers, bug):
    """A Net on given neurons (examine's step keeps the neurons; the Net is its view of them)."""
    net = Net.__new__(Net)
    net.hidden, net.out, net.rev = layers[0], layers[1], bug
    return net


def examine_case(bug):
    """The program as doctor.examine's arguments: its per-point update (the labels one-hot, as
    it trains), init and data; grad is the gradient its update applies."""
    rng = np.random.default_rng(81)
    X, y = _data(rng, 450)
    _data(rng, 150)
    net = Net(rng, bug)
    layers = [net.hidden, net.out]
    step = NeuronStep(layers, lambda ls, x, t, lr: sample(_net_of(ls, bug), x, np.eye(3)[t], lr)[0],
                      "weights", "bias", as_list=True)

    def sample_grads(ls, x, t):
        g = _net_of(ls, bug).gradients(x, np.eye(3)[t])
        gh, go = g[:len(ls[0])], g[len(ls[0]):]
        return [([w for _, w, _ in gh], [d for _, _, d in gh]), ([w for _, w, _ in go], [d for _, _, d in go])]

    fwd = lambda ls, x: np.array(_net_of(ls, bug).forward(x)[1])  # noqa: E731
    return {"step": step, "params": params_of(layers, "weights", "bias"), "X": X, "y": y, "lr": 0.5,
            "batch_size": 1, "grad": lambda p, X, y: step.grad(p, X, y, sample_grads),
            "predict": lambda p, X: step.predict(p, X, fwd), "train_steps": 2700}


def _run(doctor, bug):
    rng = np.random.default_rng(81)
    X, y = _data(rng, 450)
    Xt, yt = _data(rng, 150)
    reports = [doctor.check_data(X, y, Xt, yt)]
    net = Net(rng, bug)
    T = np.eye(3)
    check_ok = my_gradient_check(net, X[0], T[y[0]])

    def loss_from(params):
        saved = [(n.weights, n.bias) for n in net.neurons()]
        for n, p in zip(net.neurons(), params):
            n.weights, n.bias = list(p[:-1]), p[-1]
        v = net.loss(X[0], T[y[0]])
        for n, (w, b) in zip(net.neurons(), saved):
            n.weights, n.bias = w, b
        return v

    g0 = net.gradients(X[0], T[y[0]])
    reports.append(doctor.check_gradients(loss_from, [np.array(n.weights + [n.bias]) for n in net.neurons()],
                                          [np.array(gw + [d]) for _, gw, d in g0]))
    rec = doctor.Recorder()
    lr, errs = 0.5, []
    for step in range(2700):
        i = rng.integers(len(X))
        loss, grads = sample(net, X[i], T[y[i]], lr)
        errs.append(loss)
        if step % 30 == 0:
            rec.log(step, loss=errs[-1], weights=[np.array(n.weights + [n.bias]) for n in net.neurons()],
                    grads=[np.array(gw + [d]) for _, gw, d in grads],
                    activations=[np.array([n.out for n in net.hidden])],
                    logits=np.array([n.out for n in net.out]), labels=T[y[i]])
    reports.append(rec.report())
    acc = np.mean([np.argmax(net.forward(x)[1]) == t for x, t in zip(Xt, yt)])
    return reports, {"loss_start": float(np.mean(errs[:100])), "loss_end": float(np.mean(errs[-300:])),
                     "accuracy": float(acc), "chance": 1 / 3, "own_check_says_ok": bool(check_ok)}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
