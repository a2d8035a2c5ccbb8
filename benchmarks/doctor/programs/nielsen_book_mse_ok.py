"""Correct program: the book's first network exactly as chapter 1 has it, 784-30-10 sigmoid,
quadratic cost, randn init, per-sample backprop summed over mini-batches of 10, eta = 3.0, on
2000 digits for three epochs. Sigmoid + MSE is not the best pairing, but at this learning rate it
learns (about 75-80% here); there is nothing to fix."""
import numpy as np

from ._data import mnist

STYLE = "nielsen"
EXPECTED = []


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))


def update_mini_batch(weights, biases, batch, eta):
    """The loop's per-sample backprop summed over a mini-batch, and the update: (weights,
    biases, cost, nabla_w, nabla_b), the new weights and biases as new lists (as the book's)."""
    mbs = len(batch)
    nabla_b = [np.zeros(b.shape) for b in biases]
    nabla_w = [np.zeros(w.shape) for w in weights]
    cost = 0.0
    for x, y in batch:
        z1 = weights[0] @ x + biases[0]; a1 = sigmoid(z1)
        z2 = weights[1] @ a1 + biases[1]; a2 = sigmoid(z2)
        cost += 0.5 * float(np.sum((a2 - y) ** 2)) / mbs
        delta = (a2 - y) * sigmoid_prime(z2)
        nabla_b[1] += delta; nabla_w[1] += delta @ a1.T
        delta = (weights[1].T @ delta) * sigmoid_prime(z1)
        nabla_b[0] += delta; nabla_w[0] += delta @ x.T
    weights = [w - (eta / mbs) * nw for w, nw in zip(weights, nabla_w)]
    biases = [b - (eta / mbs) * nb for b, nb in zip(biases, nabla_b)]
    return weights, biases, cost, nabla_w, nabla_b


def _init(rng):
    sizes = [784, 30, 10]
    biases = [rng.standard_normal((y, 1)) for y in sizes[1:]]
    weights = [rng.standard_normal((y, x)) for x, y in zip(sizes[:-1], sizes[1:])]
    return weights, biases


def examine_case(bug=False):
    """The program as doctor.examine's arguments: examine's rows become the book's (784, 1)
    column pairs; the step stores the new arrays in the params."""
    Xtr, ytr, _, _ = mnist(2000, 500, seed=29)
    weights, biases = _init(np.random.default_rng(29))
    pairs = lambda X, y: [(x.reshape(784, 1), np.eye(10)[j].reshape(10, 1)) for x, j in zip(X, y)]  # noqa: E731

    def step(p, Xb, yb, lr):
        w, b, cost, _, _ = update_mini_batch([p["w0"], p["w1"]], [p["b0"], p["b1"]], pairs(Xb, yb), lr)
        p["w0"], p["w1"], p["b0"], p["b1"] = *w, *b
        return cost

    def grad(p, Xb, yb):
        nw, nb = update_mini_batch([p["w0"], p["w1"]], [p["b0"], p["b1"]], pairs(Xb, yb), 0.0)[3:]
        return {"w0": nw[0] / len(yb), "w1": nw[1] / len(yb), "b0": nb[0] / len(yb), "b1": nb[1] / len(yb)}

    return {"step": step, "params": {"w0": weights[0], "w1": weights[1], "b0": biases[0], "b1": biases[1]},
            "X": Xtr / 255.0, "y": ytr, "lr": 3.0, "batch_size": 10, "grad": grad, "train_steps": 600}


def fixed(doctor):
    Xtr, ytr, Xte, yte = mnist(2000, 500, seed=29)
    training_data = [(x.reshape(784, 1) / 255.0, np.eye(10)[j].reshape(10, 1)) for x, j in zip(Xtr, ytr)]
    test_data = [(x.reshape(784, 1) / 255.0, j) for x, j in zip(Xte, yte)]
    reports = [doctor.check_data(Xtr / 255.0, ytr, Xte / 255.0, yte)]
    rng = np.random.default_rng(29)
    weights, biases = _init(rng)
    rec = doctor.Recorder(["w0", "w1", "b0", "b1"])
    eta, mbs, costs, step = 3.0, 10, [], 0
    for epoch in range(3):
        order = rng.permutation(len(training_data))
        for k in range(0, len(order), mbs):
            batch = [training_data[i] for i in order[k:k + mbs]]
            weights, biases, cost, nabla_w, nabla_b = update_mini_batch(weights, biases, batch, eta)
            costs.append(cost)
            if step % 5 == 0:
                xs = np.hstack([x for x, _ in batch])
                h = sigmoid(weights[0] @ xs + biases[0])
                rec.log(step, loss=cost, weights=weights + biases,
                        grads=[g / mbs for g in nabla_w + nabla_b], activations=[h],
                        logits=sigmoid(weights[1] @ h + biases[1]), labels=np.hstack([y for _, y in batch]))
            step += 1
    reports.append(rec.report())

    def feedforward(a):
        for b, w in zip(biases, weights):
            a = sigmoid(w @ a + b)
        return a

    acc = sum(int(np.argmax(feedforward(x)) == y) for x, y in test_data) / len(test_data)
    return reports, {"loss_start": costs[0], "loss_end": float(np.mean(costs[-10:])), "accuracy": acc,
                     "chance": 0.1}
