"""A network that only remembers the last pattern it was taught.

The bug (seed 004): trained on several patterns one after another, each to convergence
before the next, the network forgets the earlier ones: every update pulls the output towards
the pattern at hand. The doctor sees the class-ordered training stream and the collapse to
one answer. The fix: interleave the patterns (shuffle every epoch).

    python examples/patterns_in_sequence.py
"""

import sys

import numpy as np

import gradwise as gw
from gradwise import doctor

from _common import parse, step, summary


def patterns(n=6, size=16, repeats=40, seed=0):
    """n random binary patterns, each repeated with a little pixel noise; class = pattern."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 2, (n, size)).astype(np.float32)
    X = np.repeat(base, repeats, axis=0)
    flips = rng.random(X.shape) < 0.05
    X = np.where(flips, 1 - X, X).astype(np.float32)
    return X, np.repeat(np.arange(n), repeats), base, np.arange(n)


def main(argv=None) -> dict:
    args = parse(argv, __doc__, full_help=False)
    X, y, clean, labels = patterns()
    epochs = 20 if args.fast else 50

    step("the original: pattern 0 until learned, then pattern 1, ...")
    bad = gw.mlp([16, 32, 6], seed=0)
    opt = gw.SGD(0.1)
    for k in range(6):
        rows = y == k
        bad.fit(X[rows], y[rows], epochs=epochs, batch_size=8, optimizer=opt, seed=0, verbose=0)
    before = float(np.mean(bad.predict(clean) == labels))
    print(f"patterns recognised: {100 * before:.0f}% (predictions {bad.predict(clean).tolist()})")

    step("the doctor, on the stream of samples as they were fed")
    report = doctor.diagnose(gw.mlp([16, 32, 6], seed=0), X, y, optimizer=gw.SGD(0.1), batch_size=8,
                             shuffle=False, epochs=3)
    print(report)

    step("the fix: all patterns in every epoch, shuffled")
    good = gw.mlp([16, 32, 6], seed=0)
    good.fit(X, y, epochs=epochs, batch_size=8, optimizer=gw.SGD(0.1), seed=0, verbose=0)
    after = float(np.mean(good.predict(clean) == labels))
    return summary(report.codes(), before, after, "patterns recognised")


if __name__ == "__main__":
    main(sys.argv[1:])
