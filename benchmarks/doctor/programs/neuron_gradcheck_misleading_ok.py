"""Correct program, misleading self-test: a 2-4-1 network of neuron objects (weights in Python
lists) learning XOR with sigmoid units and the cross-entropy error. The backward pass is right,
but the learner's own gradient check nudges all the weights at once and compares that one
directional derivative with *every* individual gradient entry: it reports "FAILED" for nearly
all of them, and the learner is about to rewrite a correct backprop. The doctor's per-entry
check on the same gradients should say they are fine, and the network does learn XOR."""
import numpy as np

from ._neurons import NeuronStep, params_of

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


X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
Y = [0.0, 1.0, 1.0, 0.0]


def _forward(hidden, out, x):
    h = [n.fire(x) for n in hidden]
    return h, out.fire(h)


def _loss(hidden, out, x, t):
    o = _forward(hidden, out, x)[1]
    return -(t * np.log(o) + (1 - t) * np.log(1 - o))


def _grads(hidden, out, x, t):
    h, o = _forward(hidden, out, x)
    d_o = o - t                                  # cross-entropy + sigmoid
    g = {id(out): ([d_o * hj for hj in h], d_o)}
    for j, n in enumerate(hidden):
        d = d_o * out.w[j] * h[j] * (1 - h[j])
        g[id(n)] = ([d * xi for xi in x], d)
    return g


def sample(hidden, out, x, t, lr):
    """The loop's loss, gradients and update on one pattern (new lists of weights): (loss, g)."""
    loss = _loss(hidden, out, x, t)
    g = _grads(hidden, out, x, t)
    for n in hidden + [out]:
        gw, gb = g[id(n)]
        n.w = [w - lr * d for w, d in zip(n.w, gw)]
        n.b -= lr * gb
    return loss, g


def examine_case(bug=False):
    """The program as doctor.examine's arguments: its per-pattern update, init and the four XOR
    patterns; grad is the gradient its update applies."""
    rng = np.random.default_rng(82)
    layers = [[Neuron(2, rng) for _ in range(4)], [Neuron(4, rng)]]
    step = NeuronStep(layers, lambda ls, x, t, lr: sample(ls[0], ls[1][0], x, t, lr)[0], as_list=True)

    def sample_grads(ls, x, t):
        g = _grads(ls[0], ls[1][0], x, t)
        return [([g[id(n)][0] for n in layer], [g[id(n)][1] for n in layer]) for layer in ls]

    fwd = lambda ls, x: np.array([_forward(ls[0], ls[1][0], x)[1]])  # noqa: E731
    return {"step": step, "params": params_of(layers), "X": np.array(X), "y": np.array(Y, dtype=int),
            "lr": 0.5, "batch_size": 1, "grad": lambda p, X, y: step.grad(p, X, y, sample_grads),
            "predict": lambda p, X: step.predict(p, X, fwd), "train_steps": 6000}


def fixed(doctor):
    rng = np.random.default_rng(82)
    reports = [doctor.check_data(np.array(X), np.array(Y, dtype=int))]
    hidden = [Neuron(2, rng) for _ in range(4)]
    out = Neuron(4, rng)
    neurons = hidden + [out]

    def forward(x):
        return _forward(hidden, out, x)

    def loss(x, t):
        return _loss(hidden, out, x, t)

    def grads(x, t):
        return _grads(hidden, out, x, t)

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
        err, g = sample(hidden, out, X[i], Y[i], 0.5)
        errs.append(err)
        if step % 50 == 0:
            rec.log(step, loss=float(np.mean(errs[-50:])), weights=[np.array(n.w + [n.b]) for n in neurons],
                    grads=[np.array(g[id(n)][0] + [g[id(n)][1]]) for n in neurons],
                    activations=[np.array([n.y for n in hidden])], logits=np.array([out.y]),
                    labels=np.array([Y[i]]))
    reports.append(rec.report())
    acc = np.mean([(forward(x)[1] > 0.5) == (t > 0.5) for x, t in zip(X, Y)])
    return reports, {"loss_start": float(np.mean(errs[:100])), "loss_end": float(np.mean(errs[-100:])),
                     "accuracy": float(acc), "chance": 0.5, "own_check_failures": int(failed)}
