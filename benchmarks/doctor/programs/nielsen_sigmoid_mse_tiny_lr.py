"""Nielsen's book network (784-30-10, sigmoid everywhere, quadratic cost, randn init, column
vectors, per-sample backprop summed over mini-batches of 10), but the learner "played it safe"
with eta = 0.01 instead of 3.0. With sigmoid outputs and the quadratic cost the output error is
damped by sigma'(z), the randn init puts many hidden units near 0 or 1, and at this rate the
network barely moves in two epochs: accuracy stays near chance."""
import random

import numpy as np

from ._data import mnist

STYLE = "nielsen"
EXPECTED = ["LR_TOO_LOW", "SATURATION", "OUTPUT_LOSS_MISMATCH"]


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))


def vectorized_result(j):
    e = np.zeros((10, 1))
    e[j] = 1.0
    return e


class Network:
    def __init__(self, sizes, rng):
        self.num_layers = len(sizes)
        self.sizes = sizes
        self.biases = [rng.standard_normal((y, 1)) for y in sizes[1:]]
        self.weights = [rng.standard_normal((y, x)) for x, y in zip(sizes[:-1], sizes[1:])]

    def feedforward(self, a):
        for b, w in zip(self.biases, self.weights):
            a = sigmoid(np.dot(w, a) + b)
        return a

    def SGD(self, training_data, epochs, mini_batch_size, eta, doctor, seed=0):
        random.seed(seed)
        self.rec = doctor.Recorder(["w1", "w2", "b1", "b2"])
        self.costs = []
        step = 0
        for j in range(epochs):
            random.shuffle(training_data)
            for k in range(0, len(training_data), mini_batch_size):
                self.update_mini_batch(training_data[k:k + mini_batch_size], eta, step)
                step += 1

    def update_mini_batch(self, mini_batch, eta, step):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        cost = 0.0
        for x, y in mini_batch:
            delta_nabla_b, delta_nabla_w, out, hidden = self.backprop(x, y)
            nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
            nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
            cost += 0.5 * np.sum((out - y) ** 2) / len(mini_batch)
        self.weights = [w - (eta / len(mini_batch)) * nw for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b - (eta / len(mini_batch)) * nb for b, nb in zip(self.biases, nabla_b)]
        self.costs.append(cost)
        if step % 5 == 0:
            xs = np.hstack([x for x, _ in mini_batch])
            hid = sigmoid(self.weights[0] @ xs + self.biases[0])
            outs = sigmoid(self.weights[1] @ hid + self.biases[1])
            self.rec.log(step, loss=cost, weights=self.weights + self.biases,
                         grads=[nw / len(mini_batch) for nw in nabla_w] + [nb / len(mini_batch) for nb in nabla_b],
                         activations=[hid], logits=outs, labels=np.hstack([y for _, y in mini_batch]))

    def backprop(self, x, y):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        activation = x
        activations = [x]
        zs = []
        for b, w in zip(self.biases, self.weights):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = sigmoid(z)
            activations.append(activation)
        delta = self.cost_derivative(activations[-1], y) * sigmoid_prime(zs[-1])
        nabla_b[-1] = delta
        nabla_w[-1] = np.dot(delta, activations[-2].transpose())
        for l in range(2, self.num_layers):
            z = zs[-l]
            sp = sigmoid_prime(z)
            delta = np.dot(self.weights[-l + 1].transpose(), delta) * sp
            nabla_b[-l] = delta
            nabla_w[-l] = np.dot(delta, activations[-l - 1].transpose())
        return nabla_b, nabla_w, activations[-1], activations[1]

    def cost_derivative(self, output_activations, y):
        return output_activations - y

    def evaluate(self, test_data):
        return sum(int(np.argmax(self.feedforward(x)) == y) for x, y in test_data)


def examine_case(bug):
    """The program as doctor.examine's arguments: examine's rows become the book's column
    pairs and go through its own update_mini_batch (at a step that never logs); the step stores
    the new arrays in the params. grad is its backprop summed over the batch, divided by it."""
    Xtr, ytr, _, _ = mnist(2000, 500, seed=20)
    net = Network([784, 30, 10], np.random.default_rng(20))
    pairs = lambda X, y: [(np.reshape(x, (784, 1)), vectorized_result(j)) for x, j in zip(X, y)]  # noqa: E731

    def load(p):
        net.weights, net.biases, net.costs = [p["w1"], p["w2"]], [p["b1"], p["b2"]], []
        return net

    def step(p, Xb, yb, lr):
        load(p).update_mini_batch(pairs(Xb, yb), lr, 1)
        p["w1"], p["w2"], p["b1"], p["b2"] = *net.weights, *net.biases
        return net.costs[-1]

    def grad(p, Xb, yb):
        load(p)
        g = None
        for x, y in pairs(Xb, yb):
            nb, nw = net.backprop(x, y)[:2]
            d = nw + nb
            g = d if g is None else [a + b for a, b in zip(g, d)]
        return dict(zip(("w1", "w2", "b1", "b2"), [a / len(yb) for a in g]))

    return {"step": step, "params": {"w1": net.weights[0], "w2": net.weights[1], "b1": net.biases[0],
                                     "b2": net.biases[1]},
            "X": Xtr / 255.0, "y": ytr, "lr": 0.01 if bug else 3.0, "batch_size": 10, "grad": grad,
            "train_steps": 400,
            "predict": lambda p, X: sigmoid(p["w2"] @ sigmoid(p["w1"] @ X.T + p["b1"]) + p["b2"]).T}


def _run(doctor, eta):
    Xtr, ytr, Xte, yte = mnist(2000, 500, seed=20)
    training_inputs = [np.reshape(x, (784, 1)) / 255.0 for x in Xtr]
    training_data = [(x, vectorized_result(y)) for x, y in zip(training_inputs, ytr)]
    test_data = [(np.reshape(x, (784, 1)) / 255.0, y) for x, y in zip(Xte, yte)]
    reports = [doctor.check_data(np.hstack(training_inputs).T, ytr, Xte / 255.0, yte)]
    net = Network([784, 30, 10], np.random.default_rng(20))
    net.SGD(training_data, 2, 10, eta, doctor)
    reports.append(net.rec.report())
    return reports, {"loss_start": net.costs[0], "loss_end": float(np.mean(net.costs[-10:])),
                     "accuracy": net.evaluate(test_data) / len(test_data), "chance": 0.1}


def buggy(doctor):
    return _run(doctor, 0.01)


def fixed(doctor):
    return _run(doctor, 3.0)
