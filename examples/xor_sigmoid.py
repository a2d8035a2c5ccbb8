"""A small sigmoid network for XOR whose backward pass mixes up the samples of the batch.

The bug (seed 004): in the hand-written backward, the hidden activations of one sample (the
last of the batch) were used for every sample's weight gradient, an indexing slip that
leaves the shapes right and the numbers wrong. check_gradients, one weight at a time, names
the parameter and the entries. The fix: use each sample's own activations.

    python examples/xor_sigmoid.py
"""

import sys

import numpy as np

import gradwise as gw
from gradwise import doctor

from _common import parse, step, summary


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def loss_and_grads(p, X, y, buggy: bool):
    H = sigmoid(X @ p["W1"] + p["b1"])                    # (4, 4)
    out = sigmoid(H @ p["W2"] + p["b2"])                  # (4, 1)
    loss = float(np.mean((out - y) ** 2))
    d_out = 2 * (out - y) / len(X) * out * (1 - out)      # (4, 1)
    H_used = np.repeat(H[-1:], len(X), axis=0) if buggy else H   # the bug: H[-1] for everyone
    dW2 = H_used.T @ d_out
    dH = d_out @ p["W2"].T * H * (1 - H)
    return loss, {"W1": X.T @ dH, "b1": dH.sum(axis=0), "W2": dW2, "b2": d_out.sum(axis=0)}


def train(buggy: bool, epochs: int, seed: int) -> float:
    X, y = gw.data.toy.gate("xor")
    X, y = X.astype(np.float64), y[:, None].astype(np.float64)
    rng = np.random.default_rng(seed)
    p = {"W1": rng.standard_normal((2, 4)), "b1": np.zeros(4), "W2": rng.standard_normal((4, 1)),
         "b2": np.zeros(1)}
    for _ in range(epochs):
        _, g = loss_and_grads(p, X, y, buggy)
        for k in p:
            p[k] -= 2.0 * g[k]
    out = sigmoid(sigmoid(X @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"])
    return float(np.mean((out > 0.5) == (y > 0.5)))


def main(argv=None) -> dict:
    args = parse(argv, __doc__, full_help=False)
    epochs, seeds = (3000, 5) if args.fast else (10000, 10)

    step("the original: hidden activations of the last sample used for every sample")
    before = float(np.mean([train(True, epochs, s) for s in range(seeds)]))
    print(f"XOR accuracy, mean of {seeds} seeds: {100 * before:.0f}%")

    step("the doctor: check_gradients on the hand-written backward")
    X, y = gw.data.toy.gate("xor")
    X, y = X.astype(np.float64), y[:, None].astype(np.float64)
    rng = np.random.default_rng(0)
    p = {"W1": rng.standard_normal((2, 4)), "b1": np.zeros(4), "W2": rng.standard_normal((4, 1)),
         "b2": np.zeros(1)}
    _, grads = loss_and_grads(p, X, y, buggy=True)
    report = doctor.check_gradients(lambda q: loss_and_grads(q, X, y, False)[0], p, grads)
    print(report)

    step("the fix: each sample's own activations")
    after = float(np.mean([train(False, epochs, s) for s in range(seeds)]))
    return summary(report.codes(), before, after, f"XOR accuracy, mean of {seeds} seeds")


if __name__ == "__main__":
    main(sys.argv[1:])
