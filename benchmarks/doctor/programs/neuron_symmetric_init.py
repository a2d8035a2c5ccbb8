"""A 2-3-1 sigmoid network of neuron objects for XOR, trained one pattern at a time. To make
runs reproducible the learner starts every neuron with the same weights, [0.5, 0.5, ...], and
bias 0. All hidden neurons compute the same output and receive the same error, so they stay
identical forever: the network has effectively one hidden unit, which cannot represent XOR,
and the error plateaus with two patterns wrong."""
import numpy as np

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


def _run(doctor, same):
    X = [(0, 0), (0, 1), (1, 0), (1, 1)]
    Y = [0, 1, 1, 0]
    reports = [doctor.check_data(np.array(X, dtype=float), np.array(Y))]
    rng = np.random.default_rng(84)
    init = (lambda n: [0.5] * n) if same else (lambda n: rng.uniform(-1, 1, n))
    hidden = [Neuron(2, init(2)) for _ in range(3)]
    out = Neuron(3, init(3))
    rec = doctor.Recorder(["h1", "h2", "h3", "out", "biases"])
    errs, lr = [], 0.5
    for step in range(8000):
        k = rng.integers(4)
        x, t = X[k], Y[k]
        h = [n.run(x) for n in hidden]
        o = out.run(h)
        errs.append(0.5 * (o - t) ** 2)
        d_o = (o - t) * o * (1 - o)
        d_h = [d_o * out.weights[j] * h[j] * (1 - h[j]) for j in range(3)]
        g_out = [d_o * hj for hj in h]
        g_hid = [[d * xi for xi in x] for d in d_h]
        out.weights = [w - lr * g for w, g in zip(out.weights, g_out)]
        out.bias -= lr * d_o
        for n, g, d in zip(hidden, g_hid, d_h):
            n.weights = [w - lr * gi for w, gi in zip(n.weights, g)]
            n.bias -= lr * d
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
