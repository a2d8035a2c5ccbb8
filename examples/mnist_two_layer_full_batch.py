"""A 784-10-10 network in plain NumPy, full-batch gradient descent, stuck at ~12%.

The bug (seed 002): with samples in rows, the backward pass summed the bias gradients over
the wrong axis (db2 over the classes instead of the batch, db1 over everything) and drew
weights from randn (std 1). The doctor's Recorder sees the gradient shapes disagree with the
parameters, and check_init sees the oversized weights. The fix: sum over axis 0 (the
batch), and He initialisation.

    python examples/mnist_two_layer_full_batch.py [--full]
"""

import sys

import numpy as np

from gradwise import doctor

from _common import mnist, parse, step, summary


def train(X, y, *, fixed: bool, epochs: int, lr: float = 0.3, rec=None, seed: int = 0):
    rng = np.random.default_rng(seed)
    scale1, scale2 = (np.sqrt(2 / 784), np.sqrt(2 / 10)) if fixed else (1.0, 1.0)
    W1, b1 = rng.standard_normal((784, 10)) * scale1, np.zeros(10)
    W2, b2 = rng.standard_normal((10, 10)) * scale2, np.zeros(10)
    Y = np.eye(10)[y]
    m = len(X)
    for epoch in range(epochs):
        Z1 = X @ W1 + b1                                   # (m, 10)
        A1 = np.maximum(Z1, 0)
        Z2 = A1 @ W2 + b2
        E = np.exp(Z2 - Z2.max(axis=1, keepdims=True))
        A2 = E / E.sum(axis=1, keepdims=True)
        loss = -np.mean(np.log(A2[np.arange(m), y] + 1e-12))
        dZ2 = (A2 - Y) / m                                 # (m, 10)
        dW2 = A1.T @ dZ2
        db2 = dZ2.sum(axis=0) if fixed else dZ2.sum(axis=1)     # the bug: over the classes
        dZ1 = (dZ2 @ W2.T) * (Z1 > 0)
        dW1 = X.T @ dZ1
        db1 = dZ1.sum(axis=0) if fixed else dZ1.sum()           # the bug: a scalar
        if rec is not None:
            rec.log(epoch, loss=loss, weights=[W1, b1, W2, b2], grads=[dW1, db1, dW2, db2],
                    activations=[A1], logits=Z2, labels=y)
        W1 -= lr * dW1
        b1 -= lr * (db1 if np.ndim(db1) == 0 else np.resize(db1, b1.shape))
        W2 -= lr * dW2
        b2 -= lr * np.resize(db2, b2.shape)
    return W1, b1, W2, b2


def accuracy(params, X, y):
    W1, b1, W2, b2 = params
    return float(np.mean((np.maximum(X @ W1 + b1, 0) @ W2 + b2).argmax(axis=1) == y))


def main(argv=None) -> dict:
    args = parse(argv, __doc__)
    X, y, Xt, yt = mnist(args.full, 2000 if args.fast else None)
    X, Xt = X / 255.0, Xt / 255.0
    epochs = 200 if args.fast else 1000

    step("the original: bias gradients over the wrong axes, randn weights")
    rec = doctor.Recorder(["W1", "b1", "W2", "b2"])
    with np.errstate(all="ignore"):
        before = accuracy(train(X, y, fixed=False, epochs=epochs, rec=rec), Xt, yt)
    print(f"test accuracy {100 * before:.1f}%")

    step("the doctor")
    rng = np.random.default_rng(0)
    report = rec.report() + doctor.check_init([rng.standard_normal((784, 10)), rng.standard_normal((10, 10))])
    print(report)

    step("the fix: sum the bias gradients over the batch (axis 0), He initialisation")
    after = accuracy(train(X, y, fixed=True, epochs=epochs), Xt, yt)
    return summary(report.codes(), before, after)


if __name__ == "__main__":
    main(sys.argv[1:])
