"""The doctor's benchmark: injected bugs with the codes they must produce, and healthy runs.

Each scenario is ``(name, accepted codes, make)`` where ``make(severity, seed)`` runs the
doctor and returns its Report. Severity 1 is the blatant form of the bug, 2 a milder one.
The first accepted code is the root cause; a report is "top-1" when its first code is one of
the accepted codes, and a "hit" when any accepted code appears.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

import gradwise as gw
from gradwise import doctor

from . import userloop

N_TRAIN, N_TEST = 3000, 600


@lru_cache(maxsize=1)
def mnist():
    ds = gw.data.load("mnist-mini")
    X = gw.data.scale_pixels(ds.X_train[:N_TRAIN])
    Xt = gw.data.scale_pixels(ds.X_test[:N_TEST])
    return X, ds.y_train[:N_TRAIN].astype(np.int64), Xt, ds.y_test[:N_TEST].astype(np.int64)


def dx(model, *, X=None, y=None, Xt=None, yt=None, seed=0, **kw):
    X0, y0, Xt0, yt0 = mnist()
    kw.setdefault("epochs", 2)
    return doctor.diagnose(model, X0 if X is None else X, y0 if y is None else y,
                           X_test=Xt0 if Xt is None else Xt, y_test=yt0 if yt is None else yt,
                           seed=seed, **kw)


def net(sizes=(784, 64, 10), seed=0, **kw):
    return gw.mlp(list(sizes), seed=seed, **kw)


# ------------------------------------------------------------------------------ data bugs

def raw_pixels(sev, seed):
    X, y, Xt, yt = mnist()
    k = 255.0 if sev == 1 else 40.0
    return dx(net(seed=seed), X=X * k, Xt=Xt * k, seed=seed, optimizer=gw.SGD(0.1))


def test_unscaled(sev, seed):
    X, y, Xt, yt = mnist()
    return dx(net(seed=seed), Xt=Xt * (255.0 if sev == 1 else 8.0), seed=seed)


def sorted_by_class(sev, seed):
    X, y, Xt, yt = mnist()
    order = np.argsort(y, kind="stable")
    if sev == 2:                                   # sorted within each half
        half = len(y) // 2
        order = np.concatenate([np.argsort(y[:half], kind="stable"),
                                half + np.argsort(y[half:], kind="stable")])
    return dx(net(seed=seed), X=X[order], y=y[order], shuffle=False, seed=seed)


def labels_one_based(sev, seed):
    X, y, Xt, yt = mnist()
    y1 = y + 1 if sev == 1 else np.where(y >= 5, y + 1, y)
    return dx(net(seed=seed), y=y1, yt=yt + 1, seed=seed)


def nan_inputs(sev, seed):
    X, y, Xt, yt = mnist()
    X = X.copy()
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(X), 300 if sev == 1 else 1, replace=False)
    X[rows, rng.integers(0, 784, len(rows))] = np.nan
    return dx(net(seed=seed), X=X, seed=seed)


def label_shape(sev, seed):
    X, y, Xt, yt = mnist()
    if sev == 1:
        return doctor.check_data(X, y[:, None], Xt, yt)
    return doctor.check_data(X, np.eye(10)[y] * 2, Xt, yt)


def class_imbalance(sev, seed):
    X, y, Xt, yt = mnist()
    rng = np.random.default_rng(seed)
    keep_rare = 5 if sev == 1 else 15
    rare = rng.choice(np.flatnonzero(y == 0), keep_rare, replace=False)
    keep = np.sort(np.concatenate([np.flatnonzero(y != 0), rare]))
    return doctor.check_data(X[keep], y[keep], Xt, yt, shuffled=True)


# ------------------------------------------------------------------------------ init bugs

def uniform01_init(sev, seed):
    return dx(net(seed=seed, init="uniform01"), seed=seed, optimizer=gw.SGD(0.1 if sev == 1 else 0.01))


def normal01_wide(sev, seed):
    model = net((784, 256, 10), seed=seed, init="normal01")
    if sev == 2:
        for layer in model.layers:
            if "W" in layer.params:
                layer.params["W"] *= 0.3
    return dx(model, seed=seed, optimizer=gw.SGD(0.01))


def zeros_init(sev, seed):
    model = net(seed=seed, init="zeros")
    if sev == 2:
        for layer in model.layers:
            if "W" in layer.params:
                layer.params["W"][...] = 0.01
    return dx(model, seed=seed, optimizer=gw.SGD(0.1))


def tiny_init(sev, seed):
    model = net((784, 64, 64, 64, 10), seed=seed)
    for layer in model.layers:
        if "W" in layer.params:
            layer.params["W"] *= 1e-4 if sev == 1 else 3e-3
    return dx(model, seed=seed, optimizer=gw.SGD(0.05))


# ------------------------------------------------------------------------------ learning rate

def lr_x100(sev, seed):
    opt = gw.Adam(0.1) if sev == 1 else gw.SGD(10.0)
    return dx(net(seed=seed), seed=seed, optimizer=opt)


def lr_div1000(sev, seed):
    opt = gw.SGD(1e-4) if sev == 1 else gw.Adam(1e-6)
    return dx(net(seed=seed), seed=seed, optimizer=opt)


# ------------------------------------------------------------------------------ mechanisms

def sigmoid_mse(sev, seed):
    X, y, Xt, yt = mnist()
    rng = np.random.default_rng(seed)
    init = "normal01" if sev == 1 else "glorot_uniform"
    model = gw.Sequential([gw.Dense(784, 64, init=init, rng=rng), gw.Sigmoid(),
                           gw.Dense(64, 10, init=init, rng=rng), gw.Sigmoid()])
    return dx(model, y=np.eye(10)[y], yt=np.eye(10)[yt], loss=gw.MSE(), optimizer=gw.SGD(0.1),
              seed=seed)


def dead_relu_bias(sev, seed):
    model = net((784, 64, 64, 10), seed=seed)
    model.layers[0].params["b"][:] = -6.0 if sev == 1 else -3.0
    return dx(model, seed=seed, optimizer=gw.SGD(0.05))


def deep_sigmoid(sev, seed):
    depth = 8 if sev == 1 else 6
    model = net((784, *[32] * depth, 10), seed=seed, activation="sigmoid")
    return dx(model, seed=seed, optimizer=gw.SGD(0.1))


def softmax_twice(sev, seed):
    model = net(seed=seed)
    model.layers.append(gw.Softmax())
    return dx(model, seed=seed, optimizer=gw.Adam(1e-3 if sev == 1 else 3e-3))


def bce_on_logits_as_probs(sev, seed):
    X, y, Xt, yt = mnist()
    yb, ytb = (y % 2), (yt % 2)
    model = net((784, 32, 1), seed=seed)
    if sev == 1:
        return dx(model, y=yb, yt=ytb, loss=gw.BinaryCrossEntropy(from_logits=False), seed=seed)
    model.layers.append(gw.Sigmoid())
    return dx(model, y=yb, yt=ytb, loss=gw.BinaryCrossEntropy(from_logits=True), seed=seed)


def overfitting(sev, seed):
    X, y, Xt, yt = mnist()
    n = 100 if sev == 1 else 200
    return dx(net((784, 512, 10), seed=seed), X=X[:n], y=y[:n], epochs=60, batch_size=16,
              optimizer=gw.Adam(3e-3), seed=seed)


# ------------------------------------------------------------------------------ the user's own loop

def user(bug, sev, seed, **kw):
    X, y, _, _ = mnist()
    rec = doctor.Recorder(["W1", "b1", "W2", "b2"])
    userloop.train(X, y, rec, bug=bug, seed=seed, **kw)
    return rec.report()


def grad_not_reset(sev, seed):
    return user("grad_not_reset", sev, seed, lr=0.01 if sev == 1 else 0.001)


def momentum_no_decay(sev, seed):
    return user("momentum_no_decay", sev, seed, lr=0.01 if sev == 1 else 0.002)


def loss_summed(sev, seed):
    return user("loss_summed", sev, seed, lr=0.05, batch=64 if sev == 1 else 16)


def transposed_dW(sev, seed):
    if sev == 1:
        return user("transposed_dW", sev, seed)
    return _gradcheck_square("transposed_dW", seed)


def bias_wrong_axis(sev, seed):
    if sev == 1:
        return user("bias_wrong_axis", sev, seed, batch=32)     # (32,) against b1's (64,)
    return _gradcheck_square("bias_wrong_axis", seed)


def _gradcheck_square(bug, seed):
    """Shapes that hide the bug: a square W2 (10x10), a batch of 10 (so db1 is (10,) too)."""
    X, y, _, _ = mnist()
    rng = np.random.default_rng(seed)
    p = userloop.init(rng, (784, 10, 10))
    idx = rng.choice(len(X), 10, replace=False)
    xb, yb = X[idx].astype(np.float64), y[idx]
    _, grads, _, _ = userloop.forward_backward(p, xb, yb, bug)
    return doctor.check_gradients(lambda q: userloop.forward_backward(q, xb, yb)[0], p, grads)


def naive_gradcheck(sev, seed):
    """The user nudged all weights at once, saw agreement, and concluded the backward was right.
    Their check compares one number, the sum of the gradient; a transposed square dW has the
    right sum. check_gradients nudges one entry at a time."""
    X, y, _, _ = mnist()
    rng = np.random.default_rng(seed)
    h = 10 if sev == 1 else 32
    p = userloop.init(rng, (784, h, h))
    idx = rng.choice(len(X), 16, replace=False)
    xb, yb = X[idx].astype(np.float64), y[idx] % h
    _, grads, _, _ = userloop.forward_backward(p, xb, yb)
    grads["W2"] = grads["W2"].T.copy()                                  # the bug
    f = lambda q: userloop.forward_backward(q, xb, yb)[0]              # noqa: E731
    eps = 1e-6
    up = {k: (v + eps if k == "W2" else v) for k, v in p.items()}
    down = {k: (v - eps if k == "W2" else v) for k, v in p.items()}
    naive = (f(up) - f(down)) / (2 * eps)
    assert abs(naive - grads["W2"].sum()) < 1e-6 * max(1, abs(naive)), "the naive check should pass"
    return doctor.check_gradients(f, p, grads)


def frozen_weights(sev, seed):
    return user("frozen", sev, seed, lr=0.1 if sev == 1 else 0.05)


SCENARIOS = [
    ("pixels 0..255", ["INPUT_SCALE"], raw_pixels),
    ("test set not scaled", ["TRAIN_TEST_SHIFT"], test_unscaled),
    ("sorted by class, no shuffle", ["CLASS_ORDERED"], sorted_by_class),
    ("labels 1..10", ["LABEL_RANGE"], labels_one_based),
    ("NaN in inputs", ["NONFINITE_INPUT"], nan_inputs),
    ("labels (N,1) / not one-hot", ["LABEL_SHAPE"], label_shape),
    ("one class 10x rarer", ["CLASS_IMBALANCE"], class_imbalance),
    ("uniform(0,1) init", ["INIT_ALL_POSITIVE"], uniform01_init),
    ("std-1 normal init, wide layer", ["INIT_TOO_LARGE"], normal01_wide),
    ("all-equal init", ["INIT_SYMMETRIC"], zeros_init),
    ("tiny init, deep net", ["INIT_TOO_SMALL"], tiny_init),
    ("learning rate x100", ["LR_TOO_HIGH"], lr_x100),
    ("learning rate /1000", ["LR_TOO_LOW"], lr_div1000),
    ("sigmoid + MSE", ["OUTPUT_LOSS_MISMATCH", "SATURATION"], sigmoid_mse),
    ("dead ReLUs, negative bias", ["DEAD_RELU"], dead_relu_bias),
    ("8-layer sigmoid net", ["VANISHING_GRADIENT"], deep_sigmoid),
    ("softmax applied twice", ["OUTPUT_LOSS_MISMATCH"], softmax_twice),
    ("logits vs probabilities (BCE)", ["OUTPUT_LOSS_MISMATCH"], bce_on_logits_as_probs),
    ("memorising 100 samples", ["OVERFITTING"], overfitting),
    ("gradients never reset (own loop)", ["GRADIENT_NOT_RESET"], grad_not_reset),
    ("momentum v = v + g (own loop)", ["MOMENTUM"], momentum_no_decay),
    ("loss summed, not averaged (own loop)", ["LOSS_SUMMED"], loss_summed),
    ("transposed dW (own backward)", ["GRADIENT_SHAPE", "GRADIENT_MISMATCH"], transposed_dW),
    ("bias grad over wrong axis (own backward)", ["GRADIENT_SHAPE", "GRADIENT_MISMATCH"], bias_wrong_axis),
    ("gradient check nudging all weights", ["GRADIENT_MISMATCH"], naive_gradcheck),
    ("updating a copy of W (own loop)", ["WEIGHTS_FROZEN"], frozen_weights),
]


# ------------------------------------------------------------------------------ healthy runs

def healthy_mlp(sizes, act, opt, epochs=2):
    def make(seed):
        return dx(net(sizes, seed=seed, activation=act), seed=seed, optimizer=opt(), epochs=epochs)
    return make


def healthy_toy(name, sizes, act, opt, epochs, batch):
    def make(seed):
        ds = gw.data.load(name, seed=seed)
        model = gw.mlp(list(sizes), activation=act, seed=seed)
        return doctor.diagnose(model, ds.X_train, ds.y_train, X_test=ds.X_test, y_test=ds.y_test,
                               loss=gw.BinaryCrossEntropy() if sizes[-1] == 1 else None,
                               optimizer=opt(), epochs=epochs, batch_size=batch, seed=seed)
    return make


def healthy_user_loop(seed):
    X, y, _, _ = mnist()
    rec = doctor.Recorder(["W1", "b1", "W2", "b2"])
    userloop.train(X, y, rec, seed=seed)
    return rec.report()


def healthy_gradcheck(seed):
    X, y, _, _ = mnist()
    rng = np.random.default_rng(seed)
    p = userloop.init(rng, (784, 16, 10))
    xb, yb = X[:12].astype(np.float64), y[:12]
    _, grads, _, _ = userloop.forward_backward(p, xb, yb)
    return doctor.check_gradients(lambda q: userloop.forward_backward(q, xb, yb)[0], p, grads)


HEALTHY = [
    ("784-64-10 relu adam 1e-3", healthy_mlp((784, 64, 10), "relu", lambda: gw.Adam(1e-3))),
    ("784-32-10 relu adam 3e-3", healthy_mlp((784, 32, 10), "relu", lambda: gw.Adam(3e-3))),
    ("784-128-64-10 relu sgd 0.1", healthy_mlp((784, 128, 64, 10), "relu", lambda: gw.SGD(0.1))),
    ("784-256-10 relu sgd-m 0.05", healthy_mlp((784, 256, 10), "relu", lambda: gw.SGD(0.05, momentum=0.9))),
    ("784-64-64-64-10 relu adam", healthy_mlp((784, 64, 64, 64, 10), "relu", lambda: gw.Adam(1e-3))),
    ("784-128-10 tanh adam 1e-3", healthy_mlp((784, 128, 10), "tanh", lambda: gw.Adam(1e-3))),
    ("784-64-10 tanh sgd 0.1", healthy_mlp((784, 64, 10), "tanh", lambda: gw.SGD(0.1))),
    ("784-100-10 sigmoid adam 3e-3", healthy_mlp((784, 100, 10), "sigmoid", lambda: gw.Adam(3e-3))),
    ("784-64-10 leaky_relu rmsprop", healthy_mlp((784, 64, 10), "leaky_relu", lambda: gw.RMSprop(1e-3))),
    ("784-128-10 relu adamw", healthy_mlp((784, 128, 10), "relu", lambda: gw.AdamW(1e-3))),
    ("784-64-10 relu nesterov 0.02", healthy_mlp((784, 64, 10), "relu",
                                               lambda: gw.SGD(0.02, momentum=0.9, nesterov=True))),
    ("784-512-10 relu adam 5 epochs", healthy_mlp((784, 512, 10), "relu", lambda: gw.Adam(1e-3), 5)),
    ("784-64-10 relu sgd 0.01", healthy_mlp((784, 64, 10), "relu", lambda: gw.SGD(0.01))),
    ("784-32-32-10 tanh sgd-m", healthy_mlp((784, 32, 32, 10), "tanh", lambda: gw.SGD(0.02, momentum=0.9))),
    ("xor 2-4-1 tanh adam", healthy_toy("xor", (2, 4, 1), "tanh", lambda: gw.Adam(0.05), 300, 4)),
    ("spirals 2-64-64-2 relu adam", healthy_toy("spirals", (2, 64, 64, 2), "relu", lambda: gw.Adam(1e-2), 30, 32)),
    ("blobs 2-16-3 relu sgd", healthy_toy("blobs", (2, 16, 3), "relu", lambda: gw.SGD(0.05), 20, 16)),
    ("and 2-2-1 tanh sgd", healthy_toy("and", (2, 2, 1), "tanh", lambda: gw.SGD(0.5), 200, 4)),
    ("own NumPy loop, correct", healthy_user_loop),
    ("own backward, correct (gradcheck)", healthy_gradcheck),
]
