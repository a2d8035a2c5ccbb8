"""A 2-8-1 network of neuron objects (tanh hidden neurons, a sigmoid output neuron with the
cross-entropy error) learning two concentric rings, one point per step. Each neuron stores
both z and its output a = tanh(z); the learner's derivative helper is written for the output,
dtanh(a) = 1 - a**2, but the backward pass calls it with neuron.z. For |z| > 1 that "derivative"
is negative, so the hidden neurons are pushed the wrong way as soon as they leave the linear
region; training oscillates and the rings are never separated."""
import numpy as np

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


def _run(doctor, bug):
    rng = np.random.default_rng(86)
    Xtr, ytr = rings(rng, 600)
    Xte, yte = rings(rng, 200)
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    hidden = [HiddenNeuron(rng) for _ in range(8)]
    out = OutputNeuron(8, rng)
    rec = doctor.Recorder()
    lr, losses = 0.1, []
    for step in range(6000):
        i = rng.integers(len(Xtr))
        h = np.array([n.fire(Xtr[i]) for n in hidden])
        o = out.fire(h)
        t = ytr[i]
        losses.append(-(t * np.log(o + 1e-12) + (1 - t) * np.log(1 - o + 1e-12)))
        d_o = o - t
        g_out = d_o * h
        grads = []
        for j, n in enumerate(hidden):
            d = d_o * out.w[j] * dtanh(n.z if bug else n.a)
            grads.append((n, d * n.x, d))
        out.w -= lr * g_out; out.b -= lr * d_o
        for n, gw, gb in grads:
            n.w -= lr * gw; n.b -= lr * gb
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
