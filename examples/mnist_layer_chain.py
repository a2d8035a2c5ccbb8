"""An MLP built as a chain of layers, trained online on MNIST, that overflows.

The bug (seed 000): weights drawn from uniform(0, 1) make every pre-activation of a wide
layer a large positive sum, so softmax overflows or the network saturates at once; and the
"fixed" version still fed the test set unscaled pixels while training on scaled ones.
The fix: fan-in-scaled weights (he_normal), and the same scaling for the test set.

    python examples/mnist_layer_chain.py [--full]
"""

import sys
import warnings

import numpy as np

import gradwise as gw
from gradwise import doctor

from _common import mnist, parse, step, summary


def main(argv=None) -> dict:
    args = parse(argv, __doc__)
    X, y, Xt, yt = mnist(args.full, 1000 if args.fast else None)
    X = X.astype(np.float32) / 255
    Xt_raw = Xt.astype(np.float32)                      # the bug: test pixels left in 0..255
    hidden = 64 if args.fast else 548 if args.full else 128
    sizes = [784, hidden, hidden, 10]

    step("the original: uniform(0, 1) weights, online SGD, unscaled test pixels")
    bad = gw.mlp(sizes, init="uniform01", seed=0)
    try:
        with np.errstate(all="ignore"):
            bad.fit(X, y, epochs=1, batch_size=1, optimizer=gw.SGD(0.01), seed=0, verbose=0)
        before = bad.evaluate(Xt_raw, yt)["accuracy"]
    except (gw.TrainingDiverged, ValueError) as e:
        print(f"training failed: {e}")
        before = 0.1
    print(f"test accuracy: {100 * before:.1f}%")

    step("the doctor")
    report = doctor.check_data(X, y, Xt_raw, yt, num_classes=10) + doctor.check_init(
        gw.mlp(sizes, init="uniform01", seed=0))
    print(report)

    step("the fix: he_normal weights, test pixels / 255 like the training pixels")
    good = gw.mlp(sizes, init="he_normal", seed=0)
    good.fit(X, y, epochs=1, batch_size=1, optimizer=gw.SGD(0.01), seed=0, verbose=0)
    after = good.evaluate(Xt_raw / 255, yt)["accuracy"]
    return summary(report.codes(), before, after)


if __name__ == "__main__":
    with warnings.catch_warnings():
        main(sys.argv[1:])
