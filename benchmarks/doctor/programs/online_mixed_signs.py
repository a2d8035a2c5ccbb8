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


def _run(doctor, bug):
    Xtr, ytr, Xte, yte = mnist(2000, 500, seed=49)
    Xtr, Xte = Xtr / 255.0, Xte / 255.0
    reports = [doctor.check_data(Xtr, ytr, Xte, yte)]
    rng = np.random.default_rng(49)
    w_in = rng.normal(0, 0.05, (784, 40)); b_in = np.zeros(40)
    w_out = rng.normal(0, 0.3, (40, 10)); b_out = np.zeros(10)
    rec = doctor.Recorder(["w_in", "b_in", "w_out", "b_out"])
    lr, losses, step = 0.05, [], 0
    for epoch in range(2):
        for n in rng.permutation(2000):
            x = Xtr[n]; target = np.zeros(10); target[ytr[n]] = 1
            hidden = sigmoid(x @ w_in + b_in)
            output = sigmoid(hidden @ w_out + b_out)
            losses.append(-np.sum(target * np.log(output + 1e-12) + (1 - target) * np.log(1 - output + 1e-12)))
            error = target - output
            grad_out = np.outer(hidden, error)
            hidden_error = (w_out @ error) * hidden * (1 - hidden)
            grad_in = np.outer(x, hidden_error)
            w_out += lr * grad_out; b_out += lr * error
            if bug:
                w_in -= lr * grad_in; b_in -= lr * hidden_error
            else:
                w_in += lr * grad_in; b_in += lr * hidden_error
            if step % 10 == 0:
                rec.log(step, loss=losses[-1], weights=[w_in, b_in, w_out, b_out],
                        grads=[grad_in, hidden_error, grad_out, error], activations=[hidden],
                        logits=output, labels=target)
            step += 1
    reports.append(rec.report())
    out = sigmoid(sigmoid(Xte @ w_in + b_in) @ w_out + b_out)
    return reports, {"loss_start": float(np.mean(losses[:50])), "loss_end": float(np.mean(losses[-200:])),
                     "accuracy": float(np.mean(out.argmax(1) == yte)), "chance": 0.1}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
