"""A 784-40-10 sigmoid network trained one image at a time with the cross-entropy delta. The
learner follows a tutorial that writes the error as target - output and *adds* the update
(W += lr * grad) for the output layer, but copied the hidden layer's update from another one
that subtracts (W -= lr * grad). With error = target - output, the hidden layer now climbs the
loss while the output layer descends it: the hidden units are driven to saturation and the net
ends up near chance. (The "gradients" logged are the learner's own, target - output based.)"""
import numpy as np

from ._data import mnist

STYLE = "online"
EXPECTED = ["GRADIENT_MISMATCH"]


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def _data():
    Xtr, ytr, Xte, yte = mnist(2000, 500, seed=49)
    return Xtr / 255.0, ytr, Xte / 255.0, yte


def _init(rng):
    return {"w_in": rng.normal(0, 0.05, (784, 40)), "b_in": np.zeros(40),
            "w_out": rng.normal(0, 0.3, (40, 10)), "b_out": np.zeros(10)}


def signals(p, x, label):
    """One image: (loss, the learner's own "gradients" [grad_in, hidden_error, grad_out,
    error], hidden, output), error = target - output as the tutorial writes it."""
    target = np.zeros(10); target[label] = 1
    hidden = sigmoid(x @ p["w_in"] + p["b_in"])
    output = sigmoid(hidden @ p["w_out"] + p["b_out"])
    loss = -np.sum(target * np.log(output + 1e-12) + (1 - target) * np.log(1 - output + 1e-12))
    error = target - output
    grad_out = np.outer(hidden, error)
    hidden_error = (p["w_out"] @ error) * hidden * (1 - hidden)
    grad_in = np.outer(x, hidden_error)
    return loss, [grad_in, hidden_error, grad_out, error], hidden, output


#: the sign each update applies its "gradient" with (+1: W += lr * g); the bug: the hidden
#: layer's copied from a tutorial that subtracts
SIGNS = {False: (1, 1, 1, 1), True: (-1, -1, 1, 1)}
NAMES = ("w_in", "b_in", "w_out", "b_out")


def learn(p, x, label, lr, bug):
    """One image, the tutorial's update in place; returns what signals returns."""
    out = signals(p, x, label)
    for k, sign, g in zip(NAMES, SIGNS[bug], out[1]):
        p[k] += sign * lr * g
    return out


def examine_case(bug):
    """The program as doctor.examine's arguments: one sample a step; ``grad`` is the direction
    each update descends along (W -= lr * grad: minus the sign it is applied with)."""
    Xtr, ytr, _, _ = _data()

    def step(p, X, y, lr):
        return float(np.mean([learn(p, x, t, lr, bug)[0] for x, t in zip(X, y)]))

    def grad(p, X, y):
        gs = [signals(p, x, t)[1] for x, t in zip(X, y)]
        return {k: -sign * np.mean([g[i] for g in gs], axis=0)
                for i, (k, sign) in enumerate(zip(NAMES, SIGNS[bug]))}
    return {"step": step, "params": _init(np.random.default_rng(49)), "X": Xtr, "y": ytr, "lr": 0.05,
            "batch_size": 1, "steps": 300, "grad": grad,
            "train_steps": 4000}


def _run(doctor, bug):
    Xtr, ytr, Xte, yte = _data()
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    rng = np.random.default_rng(49)
    p = _init(rng)
    rec = doctor.Recorder(["w_in", "b_in", "w_out", "b_out"])
    lr, losses, step = 0.05, [], 0
    for epoch in range(2):
        for n in rng.permutation(2000):
            loss, grads, hidden, output = learn(p, Xtr[n], ytr[n], lr, bug)
            losses.append(loss)
            if step % 10 == 0:
                target = np.zeros(10); target[ytr[n]] = 1
                rec.log(step, loss=losses[-1], weights=[p["w_in"], p["b_in"], p["w_out"], p["b_out"]],
                        grads=grads, activations=[hidden], logits=output, labels=target)
            step += 1
    reports.append(rec.report())
    out = sigmoid(sigmoid(Xte @ p["w_in"] + p["b_in"]) @ p["w_out"] + p["b_out"])
    return reports, {"loss_start": float(np.mean(losses[:50])), "loss_end": float(np.mean(losses[-200:])),
                     "accuracy": float(np.mean(out.argmax(1) == yte)), "chance": 0.1}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
