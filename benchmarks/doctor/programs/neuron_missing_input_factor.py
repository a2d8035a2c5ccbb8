"""A 2-6-1 network of neuron objects (sigmoid units, quadratic error) classifying noisy XOR
points (the sign of x1 * x2), one point per step. In Neuron.learn the learner copied the bias
line for the weights and forgot the chain-rule factor of the input: w -= lr * delta instead of
w -= lr * delta * x. Every weight of a neuron then receives the same update, so each weight
vector can only slide along (1, 1, ...) from where it started; the neurons cannot turn their
boundaries and the XOR quadrants are never separated."""
import numpy as np

from ._neurons import NeuronStep, params_of

STYLE = "neuron"
EXPECTED = ["GRADIENT_MISMATCH"]


class Neuron:
    def __init__(self, n, rng):
        self.w = rng.normal(0, 1.0, n); self.b = 0.0

    def out(self, x):
        self.x = x
        self.y = 1 / (1 + np.exp(-(self.w @ x + self.b)))
        return self.y

    def learn(self, delta, lr, bug):
        gw = delta * np.ones_like(self.x) if bug else delta * self.x
        self.w -= lr * gw
        self.b -= lr * delta
        return gw, delta


def _data(rng, n):
    X = rng.uniform(-1, 1, (n, 2))
    return X, (X[:, 0] * X[:, 1] > 0).astype(int)


def _setup():
    rng = np.random.default_rng(89)
    Xtr, ytr = _data(rng, 600)
    Xte, yte = _data(rng, 200)
    return Xtr, ytr, Xte, yte, [Neuron(2, rng) for _ in range(6)], [Neuron(6, rng)], rng


def sample(hidden, outs, x, label, lr, bug):
    """The loop's forward, backward and update on one point (in place): (error, h, o, t, gs)."""
    h = np.array([n.out(x) for n in hidden])
    o = np.array([n.out(h) for n in outs])
    t = np.array([float(label)])
    err = 0.5 * np.sum((o - t) ** 2)
    d_o = (o - t) * o * (1 - o)
    d_h = np.array([sum(d * n.w[j] for d, n in zip(d_o, outs)) * h[j] * (1 - h[j]) for j in range(len(hidden))])
    gs = []
    for n, d in zip(list(outs) + hidden, np.r_[d_o, d_h]):
        gs.append(n.learn(d, lr, bug))
    return err, h, o, t, gs


def examine_case(bug):
    """The program as doctor.examine's arguments: its per-point update, init and data; grad is
    the gradient its learn() applies (at rate 0, the weights stay)."""
    Xtr, ytr, _, _, hidden, outs, _ = _setup()
    step = NeuronStep([hidden, outs], lambda ls, x, t, lr: sample(ls[0], ls[1], x, t, lr, bug)[0])

    def sample_grads(ls, x, t):
        gs = sample(ls[0], ls[1], x, t, 0.0, bug)[4]
        go, gh = gs[:1], gs[1:]
        return [([g for g, _ in gh], [d for _, d in gh]), ([g for g, _ in go], [d for _, d in go])]

    fwd = lambda ls, x: np.array([n.out(np.array([m.out(x) for m in ls[0]])) for n in ls[1]])  # noqa: E731
    return {"step": step, "params": params_of([hidden, outs]), "X": Xtr, "y": ytr, "lr": 1.0,
            "batch_size": 1, "grad": lambda p, X, y: step.grad(p, X, y, sample_grads),
            "predict": lambda p, X: step.predict(p, X, fwd), "train_steps": 6000}


def _run(doctor, bug):
    Xtr, ytr, Xte, yte, hidden, outs, rng = _setup()
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    rec = doctor.Recorder()
    lr, errs = 1.0, []
    for step in range(6000):
        i = rng.integers(len(Xtr))
        err, h, o, t, gs = sample(hidden, outs, Xtr[i], ytr[i], lr, bug)
        errs.append(err)
        if step % 50 == 0:
            ns = list(outs) + hidden
            rec.log(step, loss=float(np.mean(errs[-50:])),
                    weights=[n.w for n in ns] + [np.array([n.b for n in ns])],
                    grads=[g for g, _ in gs] + [np.array([d for _, d in gs])],
                    activations=[h], logits=o, labels=t)
    reports.append(rec.report())
    pred = [outs[0].out(np.array([m.out(x) for m in hidden])) > 0.5 for x in Xte]
    return reports, {"loss_start": float(np.mean(errs[:200])), "loss_end": float(np.mean(errs[-500:])),
                     "accuracy": float(np.mean(np.array(pred) == yte)), "chance": 0.5}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
