"""A 2-3-1 sigmoid network of neuron objects for XOR, trained one pattern at a time. To make
runs reproducible the learner starts every neuron with the same weights, [0.5, 0.5, ...], and
bias 0. All hidden neurons compute the same output and receive the same error, so they stay
identical forever: the network has effectively one hidden unit, which cannot represent XOR,
and the error plateaus with two patterns wrong."""
import numpy as np

from ._neurons import NeuronStep, params_of

STYLE = "neuron"
EXPECTED = ["INIT_SYMMETRIC"]


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


class Neuron:
    def __init__(self, n_in, weights):
        self.weights = list(weights)
        self.bias = 0.0

    def run(self, xs):
        self.z = sum(w * x for w, x in zip(self.weights, xs)) + self.bias
        self.out = sigmoid(self.z)
        return self.out


X = [(0, 0), (0, 1), (1, 0), (1, 1)]
Y = [0, 1, 1, 0]


def _net(rng, same):
    init = (lambda n: [0.5] * n) if same else (lambda n: rng.uniform(-1, 1, n))
    hidden = [Neuron(2, init(2)) for _ in range(3)]
    return hidden, Neuron(3, init(3))


def sample(hidden, out, x, t, lr):
    """The loop's forward, backward and update on one pattern (new lists of weights, as the
    learner writes them): (error, h, o, g_hid, g_out, d_h, d_o)."""
    h = [n.run(x) for n in hidden]
    o = out.run(h)
    err = 0.5 * (o - t) ** 2
    d_o = (o - t) * o * (1 - o)
    d_h = [d_o * out.weights[j] * h[j] * (1 - h[j]) for j in range(len(hidden))]
    g_out = [d_o * hj for hj in h]
    g_hid = [[d * xi for xi in x] for d in d_h]
    out.weights = [w - lr * g for w, g in zip(out.weights, g_out)]
    out.bias -= lr * d_o
    for n, g, d in zip(hidden, g_hid, d_h):
        n.weights = [w - lr * gi for w, gi in zip(n.weights, g)]
        n.bias -= lr * d
    return err, h, o, g_hid, g_out, d_h, d_o


def examine_case(bug):
    """The program as doctor.examine's arguments: its per-pattern update, init and the four
    XOR patterns."""
    hidden, out = _net(np.random.default_rng(84), bug)
    layers = [hidden, [out]]
    step = NeuronStep(layers, lambda ls, x, t, lr: sample(ls[0], ls[1][0], x, t, lr)[0],
                      "weights", "bias", as_list=True)

    def sample_grads(ls, x, t):
        _, _, _, g_hid, g_out, d_h, d_o = sample(ls[0], ls[1][0], x, t, 0.0)
        return [(g_hid, d_h), ([g_out], [d_o])]

    fwd = lambda ls, x: np.array([ls[1][0].run([n.run(x) for n in ls[0]])])  # noqa: E731
    return {"step": step, "params": params_of(layers, "weights", "bias"), "X": np.array(X, dtype=float),
            "y": np.array(Y), "lr": 0.5, "batch_size": 1, "grad": lambda p, X, y: step.grad(p, X, y, sample_grads),
            "predict": lambda p, X: step.predict(p, X, fwd), "train_steps": 8000}


def _run(doctor, same):
    reports = [doctor.check_data(np.array(X, dtype=float), np.array(Y))]
    rng = np.random.default_rng(84)
    hidden, out = _net(rng, same)
    rec = doctor.Recorder(["h1", "h2", "h3", "out", "biases"])
    errs, lr = [], 0.5
    for step in range(8000):
        k = rng.integers(4)
        x, t = X[k], Y[k]
        err, h, o, g_hid, g_out, d_h, d_o = sample(hidden, out, x, t, lr)
        errs.append(err)
        if step % 50 == 0:
            rec.log(step, loss=float(np.mean(errs[-50:])),
                    weights=[np.array(n.weights) for n in hidden] + [np.array(out.weights),
                                                                     np.array([n.bias for n in hidden + [out]])],
                    grads=[np.array(g) for g in g_hid] + [np.array(g_out), np.array(d_h + [d_o])],
                    activations=[np.array(h)], logits=np.array([o]), labels=np.array([t]))
    reports.append(rec.report())
    pred = [out.run([n.run(x) for n in hidden]) > 0.5 for x in X]
    return reports, {"loss_start": float(np.mean(errs[:100])), "loss_end": float(np.mean(errs[-100:])),
                     "accuracy": float(np.mean(np.array(pred) == np.array(Y, dtype=bool))), "chance": 0.5}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
