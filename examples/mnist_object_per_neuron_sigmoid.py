"""Sigmoid neurons trained with MSE: learns XOR, not MNIST.

The bugs (seed 003): all-positive uniform(0, 1) weights, sigmoid outputs scored with MSE, a
learning rate of 1e-4, and a gradient check that nudged all the weights at once (which
compares one number, the sum of the gradient, and so passes wrong gradients). The doctor
names the init, the output/loss mismatch and the learning rate; check_gradients, which
nudges one weight at a time, catches the backward bug the naive check missed.
The fix: glorot init, softmax cross-entropy on logits, Adam.

    python examples/mnist_object_per_neuron_sigmoid.py [--full]
"""

import sys

import numpy as np

import gradwise as gw
from gradwise import doctor

from _common import mnist, parse, step, summary


def sigmoid_net(init, hidden, seed=0, sigmoid_output=True):
    rng = np.random.default_rng(seed)
    layers = [gw.Dense(784, hidden, init=init, rng=rng), gw.Sigmoid(),
              gw.Dense(hidden, hidden, init=init, rng=rng), gw.Sigmoid(),
              gw.Dense(hidden, 10, init=init, rng=rng)]
    return gw.Sequential(layers + ([gw.Sigmoid()] if sigmoid_output else []))


def naive_check_passes_wrong_gradient():
    """Their check: move every weight by eps together and compare with the sum of the gradient."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((8, 5))
    W = rng.standard_normal((5, 5))
    f = lambda p: float(np.sum(np.tanh(A @ p[0]) ** 2))          # noqa: E731
    h = np.tanh(A @ W)
    wrong = (A.T @ (2 * h * (1 - h ** 2))).T                       # transposed: same sum!
    eps = 1e-6
    naive = (f([W + eps]) - f([W - eps])) / (2 * eps)
    print(f"naive check: numeric {naive:.6f} vs sum of gradient {wrong.sum():.6f} -> "
          f"{'passes' if abs(naive - wrong.sum()) < 1e-5 else 'fails'} (wrongly)")
    return doctor.check_gradients(f, [W], [wrong])


def main(argv=None) -> dict:
    args = parse(argv, __doc__)
    X, y, Xt, yt = mnist(args.full, 2000 if args.fast else None)
    X, Xt = gw.data.scale_pixels(X), gw.data.scale_pixels(Xt)
    Y, Yt = gw.data.one_hot(y, 10), gw.data.one_hot(yt, 10)
    hidden = 16 if args.fast else 30
    epochs = 2 if args.fast else 5

    step("the original: uniform(0, 1) init, sigmoid + MSE, lr 1e-4")
    bad = sigmoid_net("uniform01", hidden)
    bad.fit(X, Y, epochs=epochs, batch_size=1, loss=gw.MSE(), optimizer=gw.SGD(1e-4), seed=0, verbose=0)
    before = gw.metrics.accuracy(yt, bad.predict_proba(Xt))
    print(f"test accuracy {100 * before:.1f}%")

    step("the doctor")
    report = doctor.diagnose(sigmoid_net("uniform01", hidden), X, Y, X_test=Xt, y_test=Yt,
                             loss=gw.MSE(), optimizer=gw.SGD(1e-4), epochs=1, batch_size=16)
    print(report)
    gradient_report = naive_check_passes_wrong_gradient()
    print(gradient_report)

    step("the fix: glorot init, logits + softmax cross-entropy, Adam")
    good = sigmoid_net("glorot_uniform", hidden, sigmoid_output=False)
    good.fit(X, y, epochs=epochs, batch_size=32, optimizer=gw.Adam(3e-3), seed=0, verbose=0)
    after = good.evaluate(Xt, yt)["accuracy"]
    return summary(report.codes() + gradient_report.codes(), before, after)


if __name__ == "__main__":
    main(sys.argv[1:])
