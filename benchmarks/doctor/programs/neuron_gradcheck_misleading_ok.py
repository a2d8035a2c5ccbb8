"""Correct program, misleading self-test: a 2-4-1 network of neuron objects (weights in Python
lists) learning XOR with sigmoid units and the cross-entropy error. The backward pass is right,
but the learner's own gradient check nudges all the weights at once and compares that one
directional derivative with *every* individual gradient entry: it reports "FAILED" for nearly
all of them, and the learner is about to rewrite a correct backprop. The doctor's per-entry
check on the same gradients should say they are fine, and the network does learn XOR."""
import numpy as np

STYLE = "neuron"
EXPECTED = []


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


class Neuron:
    def __init__(self, n, rng):
        self.w = list(rng.normal(0, 1, n)); self.b = 0.0

    def fire(self, xs):
        self.y = sigmoid(sum(w * x for w, x in zip(self.w, xs)) + self.b)
        return self.y


def fixed(doctor):
    rng = np.random.default_rng(82)
    X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    Y = [0.0, 1.0, 1.0, 0.0]
    reports = [doctor.check_data(np.array(X), np.array(Y, dtype=int))]
    hidden = [Neuron(2, rng) for _ in range(4)]
    out = Neuron(4, rng)
    neurons = hidden + [out]

    def forward(x):
        h = [n.fire(x) for n in hidden]
        return h, out.fire(h)

    def loss(x, t):
        o = forward(x)[1]
        return -(t * np.log(o) + (1 - t) * np.log(1 - o))

    def grads(x, t):
        h, o = forward(x)
        d_o = o - t                                  # cross-entropy + sigmoid
        g = {id(out): ([d_o * hj for hj in h], d_o)}
        for j, n in enumerate(hidden):
            d = d_o * out.w[j] * h[j] * (1 - h[j])
            g[id(n)] = ([d * xi for xi in x], d)
        return g

    # the learner's check: one nudge of every weight, compared with each entry
    x0, t0 = X[1], Y[1]
    g = grads(x0, t0)
    eps = 1e-5
    for n in neurons:
        n.w = [w + eps for w in n.w]
    up = loss(x0, t0)
    for n in neurons:
        n.w = [w - 2 * eps for w in n.w]
    down = loss(x0, t0)
    for n in neurons:
        n.w = [w + eps for w in n.w]
    numeric = (up - down) / (2 * eps)
    failed = sum(abs(gw - numeric) > 1e-4 for n in neurons for gw in g[id(n)][0])

    def f(params):
        saved = [(n.w, n.b) for n in neurons]
        for n, p in zip(neurons, params):
            n.w, n.b = list(p[:-1]), p[-1]
        v = loss(x0, t0)
        for n, (w, b) in zip(neurons, saved):
            n.w, n.b = w, b
        return v

    reports.append(doctor.check_gradients(f, [np.array(n.w + [n.b]) for n in neurons],
                                          [np.array(g[id(n)][0] + [g[id(n)][1]]) for n in neurons]))
    rec = doctor.Recorder([f"neuron{k}" for k in range(5)])
    errs = []
    for step in range(6000):
        i = rng.integers(4)
        errs.append(loss(X[i], Y[i]))
        g = grads(X[i], Y[i])
        for n in neurons:
            gw, gb = g[id(n)]
            n.w = [w - 0.5 * d for w, d in zip(n.w, gw)]
            n.b -= 0.5 * gb
        if step % 50 == 0:
            rec.log(step, loss=float(np.mean(errs[-50:])), weights=[np.array(n.w + [n.b]) for n in neurons],
                    grads=[np.array(g[id(n)][0] + [g[id(n)][1]]) for n in neurons],
                    activations=[np.array([n.y for n in hidden])], logits=np.array([out.y]),
                    labels=np.array([Y[i]]))
    reports.append(rec.report())
    acc = np.mean([(forward(x)[1] > 0.5) == (t > 0.5) for x, t in zip(X, Y)])
    return reports, {"loss_start": float(np.mean(errs[:100])), "loss_end": float(np.mean(errs[-100:])),
                     "accuracy": float(acc), "chance": 0.5, "own_check_failures": int(failed)}
