"""A two-output sigmoid network that always answers the same.

The bug (seed 004): the inputs were raw measurements in the hundreds, so every sigmoid
saturated on the first step and the outputs stuck at 0 or 1 whatever the input. The doctor
names the input scale first, and the saturated, single-answer network it causes.
The fix: standardise the inputs with statistics of the training set.

    python examples/two_output_sigmoid.py
"""

import sys

import numpy as np

import gradwise as gw
from gradwise import doctor

from _common import parse, step, summary


def measurements(n=400, seed=0):
    """Two kinds of objects told apart by two measurements of a few hundred units."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    X = np.column_stack([rng.normal(300 + 60 * y, 25), rng.normal(500 - 80 * y, 40)]).astype(np.float32)
    return X[: n // 2], y[: n // 2], X[n // 2:], y[n // 2:]


def net(seed=0):
    rng = np.random.default_rng(seed)
    return gw.Sequential([gw.Dense(2, 4, init="glorot_uniform", rng=rng), gw.Sigmoid(),
                          gw.Dense(4, 2, init="glorot_uniform", rng=rng), gw.Sigmoid()])


def main(argv=None) -> dict:
    args = parse(argv, __doc__, full_help=False)
    X, y, Xt, yt = measurements()
    Y = gw.data.one_hot(y, 2)
    epochs = 100 if args.fast else 300

    step("the original: raw measurements into sigmoid units, two sigmoid outputs, MSE")
    bad = net()
    bad.fit(X, Y, epochs=epochs, batch_size=16, loss=gw.MSE(), optimizer=gw.SGD(0.5), seed=0, verbose=0)
    before = gw.metrics.accuracy(yt, bad.predict_proba(Xt))
    print(f"test accuracy {100 * before:.1f}%; predictions {np.bincount(bad.predict_proba(Xt).argmax(1), minlength=2)}")

    step("the doctor")
    report = doctor.diagnose(net(), X, Y, X_test=Xt, y_test=gw.data.one_hot(yt, 2), loss=gw.MSE(),
                             optimizer=gw.SGD(0.5), epochs=20, batch_size=16)
    print(report)

    step("the fix: standardise with the training set's mean and std (and the same for the test set)")
    scaler = gw.data.Standardizer().fit(X)
    good = net()
    good.fit(scaler.transform(X), Y, epochs=epochs, batch_size=16, loss=gw.MSE(), optimizer=gw.SGD(0.5),
             seed=0, verbose=0)
    after = gw.metrics.accuracy(yt, good.predict_proba(scaler.transform(Xt)))
    return summary(report.codes(), before, after)


if __name__ == "__main__":
    main(sys.argv[1:])
