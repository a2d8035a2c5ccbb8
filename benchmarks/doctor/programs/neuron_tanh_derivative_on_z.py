"""A 2-8-1 network of neuron objects (tanh hidden neurons, a sigmoid output neuron with the
cross-entropy error) learning two concentric rings, one point per step. Each neuron stores
both z and its output a = tanh(z); the learner's derivative helper is written for the output,
dtanh(a) = 1 - a**2, but the backward pass calls it with neuron.z. For |z| > 1 that "derivative"
is negative, so the hidden neurons are pushed the wrong way as soon as they leave the linear
region; training oscillates and the rings are never separated."""
import numpy as np

from ._neurons import NeuronStep, params_of

STYLE = "neuron"
EXPECTED = ["GRADIENT_MISMATCH"]


def dtanh(a):
    return 1 - a ** 2


class HiddenNeuron:
    def __init__(self, rng):
        self.w = rng.normal(0, 1.5, 2); self.b = rng.normal(0, 0.5)

    def fire(self, x):
        self.x = x
        self.z = self.w @ x + self.b
        self.a = np.tanh(self.z)
        return self.a


class OutputNeuron:
    def __init__(self, n, rng):
        self.w = rng.normal(0, 0.5, n); self.b = 0.0

    def fire(self, h):
        self.h = h
        self.a = 1 / (1 + np.exp(-(self.w @ h + self.b)))
        return self.a


def rings(rng, n):
    y = rng.integers(0, 2, n)
    r = np.where(y == 0, 0.6, 1.6) + 0.15 * rng.normal(size=n)
    t = rng.uniform(0, 2 * np.pi, n)
    return np.c_[r * np.cos(t), r * np.sin(t)], y


def _setup():
    rng = np.random.default_rng(86)
    Xtr, ytr = rings(rng, 600)
    Xte, yte = rings(rng, 200)
    return Xtr, ytr, Xte, yte, [HiddenNeuron(rng) for _ in range(8)], OutputNeuron(8, rng), rng


def sample(hidden, out, x, t, lr, bug):
    """The loop's forward, backward and update on one point (in place): (loss, h, o, g_out, d_o,
    grads)."""
    h = np.array([n.fire(x) for n in hidden])
    o = out.fire(h)
    loss = -(t * np.log(o + 1e-12) + (1 - t) * np.log(1 - o + 1e-12))
    d_o = o - t
    g_out = d_o * h
    grads = []
    for j, n in enumerate(hidden):
        d = d_o * out.w[j] * dtanh(n.z if bug else n.a)
        grads.append((n, d * n.x, d))
    out.w -= lr * g_out; out.b -= lr * d_o
    for n, gw, gb in grads:
        n.w -= lr * gw; n.b -= lr * gb
    return loss, h, o, g_out, d_o, grads


def examine_case(bug):
    """The program as doctor.examine's arguments: its per-point update, init and data; grad is
    the gradient its update applies (at rate 0, the weights stay)."""
    Xtr, ytr, _, _, hidden, out, _ = _setup()
    layers = [hidden, [out]]
    step = NeuronStep(layers, lambda ls, x, t, lr: sample(ls[0], ls[1][0], x, t, lr, bug)[0])

    def sample_grads(ls, x, t):
        _, _, _, g_out, d_o, grads = sample(ls[0], ls[1][0], x, t, 0.0, bug)
        return [([g for _, g, _ in grads], [d for _, _, d in grads]), ([g_out], [d_o])]

    fwd = lambda ls, x: np.array([ls[1][0].fire(np.array([n.fire(x) for n in ls[0]]))])  # noqa: E731
    return {"step": step, "params": params_of(layers), "X": Xtr, "y": ytr, "lr": 0.1, "batch_size": 1,
            "grad": lambda p, X, y: step.grad(p, X, y, sample_grads),
            "predict": lambda p, X: step.predict(p, X, fwd), "train_steps": 6000}


def _run(doctor, bug):
    Xtr, ytr, Xte, yte, hidden, out, rng = _setup()
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    rec = doctor.Recorder()
    lr, losses = 0.1, []
    for step in range(6000):
        i = rng.integers(len(Xtr))
        t = ytr[i]
        loss, h, o, g_out, d_o, grads = sample(hidden, out, Xtr[i], t, lr, bug)
        losses.append(loss)
        if step % 30 == 0:
            rec.log(step, loss=float(np.mean(losses[-30:])),
                    weights=[n.w for n in hidden] + [out.w, np.array([n.b for n in hidden] + [out.b])],
                    grads=[g for _, g, _ in grads] + [g_out, np.array([gb for _, _, gb in grads] + [d_o])],
                    activations=[h], logits=np.array([o]), labels=np.array([t]))
    reports.append(rec.report())
    pred = np.array([out.fire(np.array([n.fire(x) for n in hidden])) for x in Xte]) > 0.5
    return reports, {"loss_start": float(np.mean(losses[:200])), "loss_end": float(np.mean(losses[-500:])),
                     "accuracy": float(np.mean(pred == yte)), "chance": 0.5}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
