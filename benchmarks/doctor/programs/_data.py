"""Data the programs share: a small, seeded slice of the bundled 5000-digit MNIST sample.

Only the loading lives here; every program does its own preprocessing (that is where the bugs are).
"""
import numpy as np

_CACHE = {}


def mnist(n_train=1000, n_test=500, seed=0, side=28):
    """Raw uint8 pixels, flattened rows (n, side*side), and uint8 labels, as a learner gets them.

    side=14 gives 2x2-block-averaged 14x14 digits (still uint8), for the slow per-neuron programs.
    """
    if "d" not in _CACHE:
        import gradwise as gw
        _CACHE["d"] = gw.data.load("mnist-mini")
    d = _CACHE["d"]
    rng = np.random.default_rng(seed)
    tr = rng.choice(len(d.y_train), n_train, replace=False)
    te = rng.choice(len(d.y_test), n_test, replace=False)
    Xtr, Xte = d.X_train[tr], d.X_test[te]
    if side == 14:
        Xtr = Xtr.reshape(-1, 14, 2, 14, 2).mean(axis=(2, 4)).round().astype(np.uint8)
        Xte = Xte.reshape(-1, 14, 2, 14, 2).mean(axis=(2, 4)).round().astype(np.uint8)
    return (Xtr.reshape(n_train, -1), d.y_train[tr].copy(),
            Xte.reshape(n_test, -1), d.y_test[te].copy())
