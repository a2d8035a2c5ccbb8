"""Digits from folders of JPG files (one folder per digit), fed in class order.

The bug (seed 001): the images were read folder by folder, all 0s, then all 1s, ..., and
never shuffled, so every stretch of training teaches one class and the network ends up
predicting the last one it saw. The fix: shuffle every epoch (Sequential.fit does).

    python examples/mnist_from_jpg_folders.py [--full]
"""

import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

import gradwise as gw
from gradwise import doctor

from _common import mnist, parse, step, summary


def write_jpg_folders(root: Path, X, y) -> None:
    """What the user had: one folder per digit, one JPG per image, white ink on black."""
    for i, (image, label) in enumerate(zip(X, y)):
        folder = root / str(label)
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image.reshape(28, 28)).save(folder / f"{i}.jpg", quality=95)


def main(argv=None) -> dict:
    args = parse(argv, __doc__)
    X, y, Xt, yt = mnist(args.full, 1500 if args.fast else None)
    with tempfile.TemporaryDirectory() as tmp:
        write_jpg_folders(Path(tmp) / "train", X, y)
        write_jpg_folders(Path(tmp) / "test", Xt, yt)
        ds = gw.data.load_folder(tmp)                        # train/ and test/ sub-folders
    X, Xt = gw.data.scale_pixels(ds.X_train), gw.data.scale_pixels(ds.X_test)
    y, yt = ds.y_train, ds.y_test                            # folder order: all 0s, then 1s...
    epochs = 3 if args.fast else 9
    sched = gw.StepDecay(every=3, factor=10)                 # lr / 10 every 3 epochs, as theirs

    step("the original: 784-10-10-10, class-ordered batches, no shuffling")
    bad = gw.mlp([784, 10, 10, 10], seed=0)
    bad.fit(X, y, epochs=epochs, batch_size=32, optimizer=gw.SGD(0.1, schedule=sched), shuffle=False,
            seed=0, verbose=0)
    before = bad.evaluate(Xt, yt)["accuracy"]
    print(f"test accuracy {100 * before:.1f}%; predicted classes: {np.bincount(bad.predict(Xt), minlength=10)}")

    step("the doctor")
    report = doctor.diagnose(gw.mlp([784, 10, 10, 10], seed=0), X, y, X_test=Xt, y_test=yt,
                             optimizer=gw.SGD(0.1), batch_size=32, shuffle=False, epochs=1)
    print(report)

    step("the fix: shuffle every epoch")
    good = gw.mlp([784, 10, 10, 10], seed=0)
    good.fit(X, y, epochs=epochs, batch_size=32, optimizer=gw.SGD(0.1, schedule=sched), seed=0, verbose=0)
    return summary(report.codes(), before, good.evaluate(Xt, yt)["accuracy"])


if __name__ == "__main__":
    main(sys.argv[1:])
