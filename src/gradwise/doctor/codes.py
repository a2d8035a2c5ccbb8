"""Every finding code the doctor can report, one entry each: the page a learner lands on.

The rules (``rules.py``, ``recorder.py``, ``checks.py``, ``gradwise.classic``) decide when a
code fires; this registry says what it means, which evidence fields it carries, which
named thresholds decide it (their values and the ``#:`` comments above them are read from
the doctor's source, so a changed threshold changes its page), the fix, and two tiny
programs: one that triggers the code and the same program fixed. The documentation site's
per-code pages and ``gradwise doctor --explain CODE`` are both ``page(code)``:

    from gradwise.doctor import codes
    print(codes.page("INPUT_SCALE"))            # markdown, read as plain text in a terminal
    report = codes.run_example("INPUT_SCALE")   # the trigger program's Report
"""

from __future__ import annotations

import functools
import importlib
import inspect
import re
import warnings
from dataclasses import dataclass, field

import numpy as np

from . import rules
from .findings import PRIORITY, Report

#: Every example program starts with these lines (the pages show them; run_example runs them).
PREAMBLE = "import numpy as np\nimport gradwise as gw\nfrom gradwise import doctor\n\n"


@dataclass(frozen=True)
class CodeDoc:
    """One code's page.

    Attributes:
        code: the code, as in ``Finding.code``.
        title: a few words for headings and lists.
        meaning: what is wrong when it fires, and why it matters (markdown).
        evidence: each evidence field the finding carries, and what it holds.
        thresholds: names of the constants that decide it: in ``gradwise.doctor.rules``, or
            ``module.NAME`` in another module of the doctor.
        fix: what to change (markdown).
        trigger: a program (after PREAMBLE) that ends with ``report``, a Report holding the code.
        fixed: the same program fixed (its report does not hold the code as an error or a
            warning); None for a code that is itself a verdict of health (LEARNING).
        rule: where it is decided, relative to ``gradwise`` ("doctor.rules.input_scale").
    """
    code: str
    title: str
    meaning: str
    evidence: dict[str, str]
    fix: str
    trigger: str
    fixed: str | None
    rule: str
    thresholds: tuple[str, ...] = field(default=())


# ----------------------------------------------------------------------------- program parts

_DIGITS = """ds = gw.data.load("mnist-mini")                  # 5,000 real digits shipped with gradwise
X, y = ds.X_train[:1000].reshape(1000, -1), ds.y_train[:1000]    # uint8 pixels 0..255, labels 0..9
"""

_SCALED = """ds = gw.data.load("mnist-mini")                  # 5,000 real digits shipped with gradwise
n = {n}
X, y = gw.data.scale_pixels(ds.X_train[:n]).reshape(n, -1), ds.y_train[:n]    # pixels in 0..1
"""


def _scaled(n: int = 1000) -> str:
    return _SCALED.format(n=n)


#: A two-layer ReLU network trained by hand in NumPy, logged to a Recorder at every step.
#: {init}: extra state; {loss}: the loss and its gradient at the logits; {update}: the step.
_LOOP = """ds = gw.data.load("mnist-mini")
X, y = gw.data.scale_pixels(ds.X_train).reshape(5000, -1), ds.y_train
rng = np.random.default_rng(0)
W1, b1 = rng.normal(0, np.sqrt(2 / 784), (784, 32)), np.zeros(32)
W2, b2 = rng.normal(0, np.sqrt(2 / 32), (32, 10)), np.zeros(10)
params = [W1, b1, W2, b2]{init}
rec = doctor.Recorder(["W1", "b1", "W2", "b2"])
for step in range(150):
    i = rng.integers(0, len(X), 64)
    xb, yb = X[i], y[i]                                    # (64, 784), (64,)
    h = np.maximum(xb @ W1 + b1, 0)                        # (64, 32)
    z = h @ W2 + b2                                        # (64, 10) logits
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)                      # softmax
{loss}
    dh = dz @ W2.T * (h > 0)                               # (64, 32)
    grads = [xb.T @ dh, dh.sum(axis=0), h.T @ dz, dz.sum(axis=0)]
{update}
    rec.log(step, loss=loss, weights=params, grads=grads, activations=[h], logits=z, labels=yb)
report = rec.report()
"""

_MEAN_LOSS = """    loss = -np.log(p[np.arange(64), yb]).mean()            # averaged over the batch
    dz = (p - np.eye(10)[yb]) / 64                         # d(mean loss)/dz"""
_SGD = """    for w, g in zip(params, grads):
        w -= {lr} * g                                      # in place: params sees the change"""


def _loop(*, init: str = "", loss: str = _MEAN_LOSS, update: str | None = None, lr: float = 0.1) -> str:
    return _LOOP.format(init=init, loss=loss, update=update if update is not None else _SGD.format(lr=lr))


#: A hand-written backward of one dense layer under a mean squared error, checked entry by entry.
_GRAD = """rng = np.random.default_rng(0)
x, t = rng.normal(size=(8, 5)), rng.normal(size=(8, 3))  # 8 samples, 5 inputs, 3 outputs
W, b = rng.normal(size=(5, 3)), np.zeros(3)

def loss(params):
    W, b = params["W"], params["b"]
    return 0.5 * np.mean(np.sum((x @ W + b - t) ** 2, axis=1))

dout = {dout}
dW = {dW}
db = dout.sum(axis=0)                                      # (3,)
report = doctor.check_gradients(loss, {{"W": W, "b": b}}, {{"W": dW, "b": db}})
"""


def _grad(dout: str = "(x @ W + b - t) / len(x)                 # (8, 3): d loss / d output",
          dW: str = "x.T @ dout                               # (5, 8) @ (8, 3) -> (5, 3)") -> str:
    return _GRAD.format(dout=dout, dW=dW)


def _diagnose(model: str, args: str = "", n: int = 1000) -> str:
    return _scaled(n) + f"model = {model}\nreport = doctor.diagnose(model, X, y{args})\n"


#: Pixels left in 0..255 and SGD 0.1: the weights blow up, every unit dies, one class wins.
_RAW_PIXELS_SGD = """ds = gw.data.load("mnist-mini")
X, y = ds.X_train[:1000].reshape(1000, -1).astype(np.float32), ds.y_train[:1000]   # pixels 0..255
report = doctor.diagnose(gw.mlp([784, 64, 10], seed=0), X, y, optimizer=gw.SGD(0.1), epochs=1)
"""


#: Your own attention, two heads over 16 positions: {scores} is the line that differs.
_ATTENTION = """rng = np.random.default_rng(0)
T, hd = 16, 8
q, k = rng.standard_normal((2, T, hd)), rng.standard_normal((2, T, hd))   # (heads, T, d_head)
scores = {scores}
scores += np.triu(np.full((T, T), -np.inf), k=1)           # causal mask: no future keys
p = np.exp(scores - scores.max(axis=-1, keepdims=True))
p /= p.sum(axis=-1, keepdims=True)                          # (heads, T, T), rows sum to 1
report = doctor.check_attention(p)
"""


def _dead_units(*, dead: bool) -> str:
    """A ReLU network whose first layer's biases shut every unit off, or start at 0."""
    bias = ('model.layers[0].params["b"][:] = -6.0                  # every unit shut off\n'
            if dead else "")
    return (_scaled() + "model = gw.mlp([784, 64, 64, 10], seed=0)             # biases start at 0\n"
            + bias + "report = doctor.diagnose(model, X, y, optimizer=gw.SGD(0.05), epochs=1)\n")


#: Gradient descent on a least-squares line; {lr}: the step size, {why}: a comment on it.
_REGRESSION = """from gradwise import classic
rng = np.random.default_rng(0)
X = rng.normal(size=(100, 3)) * 3
y = X @ np.array([1.0, -2.0, 0.5]) + 3
report = classic.LinearRegression(lr={lr}).fit(X, y).report   # {why}
"""

_PERCEPTRON = """truth = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
nand = np.array([1, 1, 1, 0])
inputs = {inputs}
w = {w0}
rec = doctor.Recorder(["w"])
for epoch in range(40):                                    # Rosenblatt's rule, one epoch a log
    for x, t in zip(inputs, nand):
        w = w + 0.1 * (t - int(w @ x > 0)) * x
    s = inputs @ w
    rec.log(epoch, loss=np.mean((s > 0) != nand), weights=[w], grads=[-((nand - (s > 0)) @ inputs) / 4],
            logits=s, labels=nand)
report = rec.report()
"""

#: The evidence of the verdict on a run (LEARNING, NOT_LEARNING): how far it went.
_VERDICT = {"measure": "what judged it: accuracy, r2 (regression) or the loss",
            "start": "that measure at the start", "end": "at the end", "chance": "its value at chance",
            "share": "the share of the way from chance towards perfect",
            "improving": "whether it was still clearly improving at the end",
            "loss_start": "the loss at the start", "loss_end": "the loss at the end"}

# ----------------------------------------------------------------------------- the registry

_ENTRIES = [
    # ------------------------------------------------------------------ the data
    CodeDoc(
        "NONFINITE_INPUT", "NaN or inf in the inputs",
        "Some input values are NaN or infinite. Every output, loss and gradient computed from "
        "them is NaN too, so the first batch that holds one spoils the weights for good.",
        {"samples": "how many samples (rows) hold a NaN or inf",
         "first_sample": "the index of the first such row"},
        "Remove or impute those rows before training: `keep = np.isfinite(X).all(axis=1)`, "
        "then `X, y = X[keep], y[keep]`.",
        _scaled() + "X[7, 300] = np.nan                                   # one missing value\n"
        "report = doctor.check_data(X, y)\n",
        _scaled() + "X[7, 300] = np.nan\nkeep = np.isfinite(X).all(axis=1)                     # the fix\n"
        "report = doctor.check_data(X[keep], y[keep])\n",
        "doctor.rules.nonfinite_input"),
    CodeDoc(
        "LABEL_SHAPE", "labels of the wrong shape",
        "The targets do not have the shape the loss expects: class ids in an `(N, 1)` column "
        "(broadcast against `(N, C)` outputs they compare every sample with every class), rows "
        "that are not one-hot, one-hot rows of the wrong width, or a different number of labels "
        "and samples.",
        {"batch": "samples in the batch the broadcast was judged on",
         "negative_share": "share of the checks with a loss below zero",
         "target_max": "the largest target logged",
         "output_max": "the largest output logged",
         "shape": "the targets' shape", "samples": "samples in X (when the counts differ)",
         "labels": "labels in y (when the counts differ)", "outputs": "the network's output width",
         "target_width": "the width of the targets it was compared with",
         "loss": "(from a loop) the logged loss", "broadcast_mse": "the loss that broadcasting (N, 1) "
         "against (N, C) gives", "pair_mse": "the loss of the outputs against their own targets"},
        "Pass class ids as a flat `(N,)` vector (`y.ravel()`), or one-hot rows as wide as the "
        "output (`gw.data.one_hot(y, C)`).",
        _DIGITS + "y_column = y.reshape(-1, 1)                           # (1000, 1): a column of class ids\n"
        "report = doctor.check_data(X / 255, y_column)\n",
        _DIGITS + "report = doctor.check_data(X / 255, y.ravel())            # (1000,)\n",
        "doctor.rules.label_shape"),
    CodeDoc(
        "LABEL_RANGE", "labels outside 0..C-1",
        "Class labels must be integers in `0..C-1` for `C` outputs. Labels `1..C` (1-based, as "
        "in MATLAB or R data) leave class 0 unused and ask for an output that does not exist; "
        "indexing with them fails or, worse, silently wraps around.",
        {"min": "the smallest label", "max": "the largest label",
         "outputs": "the number of outputs the labels were checked against"},
        "Subtract 1 from 1-based labels (`y = y - 1`), or map the label values to "
        "`0..C-1` with `np.unique(y, return_inverse=True)[1]`.",
        _DIGITS + "y1 = y + 1                                            # labels 1..10\n"
        "report = doctor.check_data(X / 255, y1, num_classes=10)\n",
        _DIGITS + "report = doctor.check_data(X / 255, y, num_classes=10)  # labels 0..9\n",
        "doctor.rules.label_range"),
    CodeDoc(
        "INPUT_WRAPPED", "pixel arithmetic that wrapped around in uint8",
        "The inputs look like uint8 pixels after arithmetic that wrapped around: on a uint8 "
        "array `x - 128` is computed modulo 256, so black (0) becomes 128 and every picture is "
        "scrambled before training starts. The evidence is a mid-range most common value: a "
        "picture's background sits at 0 or 255.",
        {"divisor": "what the pixels were divided by after the wrap (1, 127.5, 128, 255, 256)",
         "mode": "the most common input value", "mode_share": "the share of inputs at that value"},
        "Convert to float before any arithmetic: `X = X.astype(np.float32)`, then "
        "`(X - 128) / 128` (or `X / 255`).",
        _DIGITS + "X_centred = (X - 128) / 128                           # uint8 - 128 wraps around\n"
        "report = doctor.check_data(X_centred, y)\n",
        _DIGITS + "X_centred = (X.astype(np.float32) - 128) / 128        # float first\n"
        "report = doctor.check_data(X_centred, y)\n",
        "doctor.rules.input_wrapped", ("WRAP_DIVISORS", "WRAP_MODE_SHARE")),
    CodeDoc(
        "INPUT_SCALE", "inputs far from order 1",
        "The inputs are large: pixels left in 0..255, or raw features in the thousands. "
        "Fan-in-scaled initialisations (He, Glorot) assume inputs of order 1; with inputs 255 "
        "times larger the first layer's outputs, the logits and the gradients are 255 times "
        "larger too, and a learning rate that suits scaled data blows the weights up.",
        {"p99_abs": "the 99th percentile of |x| (robust to a few outliers)", "max": "the largest value",
         "mean": "the mean value"},
        "Divide pixels by 255 (`gw.data.scale_pixels`), or standardise features "
        "(`gw.data.Standardizer().fit(X_train)`, then its `transform` on every split), and do "
        "the same to the test set.",
        _DIGITS + "report = doctor.check_data(X.astype(np.float32), y)      # pixels 0..255\n",
        _DIGITS + "report = doctor.check_data(gw.data.scale_pixels(X), y)   # pixels 0..1\n",
        "doctor.rules.input_scale", ("INPUT_P99_MAX",)),
    CodeDoc(
        "TRAIN_TEST_SHIFT", "test data preprocessed differently",
        "The test inputs are on another scale, or centred elsewhere, than the training inputs: "
        "the training set was scaled and the test set not, or each was normalised with its own "
        "statistics. The network is then tested on numbers it has never seen.",
        {"scale_ratio": "test_p99 / train_p99: how many times larger the test inputs are",
         "mean_shift_sigmas": "how far the test mean moved, in training standard deviations",
         "train_p99": "99th percentile of |x| in training", "test_p99": "the same in the test set",
         "train_mean": "mean training input", "test_mean": "mean test input",
         "median_feature_shift": "per feature, how far the test means or spreads moved, in training "
                                 "standard deviations (median over the features)"},
        "Fit the preprocessing on `X_train` only and apply the same transform to `X_test`; never "
        "rescale the test set on its own.",
        _DIGITS + "Xt, yt = ds.X_test[:300].reshape(300, -1), ds.y_test[:300]\n"
        "report = doctor.check_data(X / 255, y, Xt, yt)            # the test set left in 0..255\n",
        _DIGITS + "Xt, yt = ds.X_test[:300].reshape(300, -1), ds.y_test[:300]\n"
        "report = doctor.check_data(X / 255, y, Xt / 255, yt)      # both scaled alike\n",
        "doctor.rules.train_test_shift", ("SHIFT_SCALE_RATIO", "SHIFT_MEAN_SIGMAS")),
    CodeDoc(
        "CLASS_ORDERED", "data in class order",
        "The training data comes sorted by class (all 0s, then all 1s, ...) and is fed in that "
        "order: each stretch of batches teaches one class, and the network forgets the others. "
        "From the labels before training it is a warning (an error when the watched run "
        "suffers from it); from your own loop's batches, an error.",
        {"adjacent_same": "the share of neighbouring labels that are equal",
         "expected_if_shuffled": "that share in shuffled data",
         "batch_top_class_share": "(from a loop) the average share of a batch's commonest class",
         "top_class_share_overall": "(from a loop) the commonest class's share over all batches",
         "batches": "(from a loop) the batches looked at"},
        "Shuffle every epoch: `order = rng.permutation(len(X)); X, y = X[order], y[order]` "
        "(`Sequential.fit` does this unless `shuffle=False`).",
        _scaled() + "order = np.argsort(y, kind=\"stable\")                  # sorted by label\n"
        "report = doctor.check_data(X[order], y[order], shuffled=False)\n",
        _scaled() + "order = np.random.default_rng(0).permutation(len(y))  # shuffled\n"
        "report = doctor.check_data(X[order], y[order], shuffled=False)\n",
        "doctor.rules.class_ordered", ("ORDERED_SAME_MIN", "ORDERED_FACTOR")),
    CodeDoc(
        "CLASS_IMBALANCE", "one class far rarer than another",
        "The largest class has many times the samples of the smallest, so a network can score "
        "well by rarely predicting the rare class, and accuracy hides it.",
        {"counts": "samples per class, class 0 first"},
        "Look at per-class recall (`gw.metrics.classification_report`), weight or resample the "
        "rare class, or gather more of it.",
        _scaled() + "keep = np.r_[np.flatnonzero(y == 0)[:5], np.flatnonzero(y != 0)]   # 5 zeros left\n"
        "report = doctor.check_data(X[keep], y[keep], shuffled=True)\n",
        _scaled() + "report = doctor.check_data(X, y, shuffled=True)       # every digit ~100 times\n",
        "doctor.rules.class_imbalance", ("IMBALANCE_RATIO",)),
    # ------------------------------------------------------------------ the code
    CodeDoc(
        "GRADIENT_SHAPE", "a gradient of the wrong shape",
        "A gradient does not have its parameter's shape (a transposed `dW`, a bias gradient "
        "summed over the wrong axis), or there are not as many gradients as parameters. "
        "NumPy often broadcasts or reshapes such a gradient into the update without an error, "
        "and the weights then move in a scrambled direction.",
        {"checks": "checks the update-against-transpose cosine rests on",
         "param_shape": "the parameter's shape (the message gives the gradient's)",
         "params": "(a count mismatch) how many parameters", "grads": "how many gradients"},
        "Give each gradient its parameter's shape: for `out = x @ W` (x: `(N, in)`), "
        "`dW = x.T @ dout` is `(in, out)`; a bias gradient sums over the batch, "
        "`db = dout.sum(axis=0)`.",
        _grad(dW="dout.T @ x                               # (3, 8) @ (8, 5) -> (3, 5): transposed"),
        _grad(),
        "doctor.checks.check_gradients"),
    CodeDoc(
        "GRADIENT_MISMATCH", "the backward pass disagrees with finite differences",
        "A hand-written gradient is not the derivative of the loss: `check_gradients` nudges "
        "each checked entry of each parameter by a small epsilon, in float64, and compares the "
        "change of the loss with the gradient you computed. A relative error above the "
        "tolerance means a bug in the backward pass (a missing `1/N`, a wrong sign, a term "
        "left out).",
        {"against": "per parameter, the mean cosine of its updates with its gradient (< 0)",
         "along": "the same for the parameters whose updates follow their gradient (> 0)",
         "mean_against": "their mean",
         "mean_along": "their mean",
         "rel_error": "the largest relative error over the checked entries",
         "checked": "how many entries were checked",
         "worst": "the worst entries: index, your gradient (analytic) and the finite-difference value (numeric)",
         "uniform": "the parameters whose gradient holds one value for every weight of a unit, at every check",
         "checks": "at how many checks (with a gradient not zero) it did",
         "unrelated": "(doctor.examine) per parameter, the mean cosine of its step's update with minus "
                      "your grad's gradient, near 0: a direction unrelated to it"},
        "Fix the backward pass of the parameter named in the finding; the worst entry's "
        "`analytic` against `numeric` says by how much (a factor of N: the mean; the opposite "
        "sign: the update direction).",
        _grad(dout="(x @ W + b - t)                          # (8, 3): the mean's 1/N forgotten"),
        _grad(),
        "doctor.checks.check_gradients"),
    CodeDoc(
        "OUTPUT_LOSS_MISMATCH", "the last layer and the loss do not fit",
        "The model's last layer and its loss apply the same function twice or not at all: a "
        "Softmax layer before `SoftmaxCrossEntropy` (which applies softmax itself), a Sigmoid "
        "before a loss that expects logits, raw scores into a loss that expects probabilities, "
        "or sigmoid outputs trained with MSE (gradients vanish as the outputs saturate).",
        {"last_layer": "the model's last layer", "loss": "the loss (its name, or from a loop the logged value)",
         "softmax_of_outputs_ce": "(from a loop) the cross-entropy of the softmax of the outputs",
         "outputs_ce": "(from a loop) the cross-entropy of the outputs read as probabilities",
         "checks": "(from a loop) the checks that tell the two apart"},
        "End the model with a plain Dense layer for `SoftmaxCrossEntropy` (and for "
        "`BinaryCrossEntropy(from_logits=True)`); use cross-entropy, not MSE, for classification.",
        _diagnose("gw.Sequential([gw.Dense(784, 32), gw.ReLU(), gw.Dense(32, 10), gw.Softmax()])",
                  ", epochs=1", n=500),
        _diagnose("gw.Sequential([gw.Dense(784, 32), gw.ReLU(), gw.Dense(32, 10)])   # logits",
                  ", epochs=1", n=500),
        "doctor.rules.output_loss_mismatch"),
    CodeDoc(
        "LOSS_SUMMED", "the loss summed over the batch, not averaged",
        "The logged loss is the batch size times the mean cross-entropy: the loss (and so its "
        "gradient) is a sum over the batch. The step then grows with the batch size, and a "
        "learning rate that suits one batch size diverges at another.",
        {"loss": "the logged loss", "mean_cross_entropy": "the mean cross-entropy of the logged "
         "logits and labels", "batch": "the batch size"},
        "Average over the batch: `loss = ce.mean()` and `dz = (p - Y) / N`.",
        _loop(loss="""    loss = -np.log(p[np.arange(64), yb]).sum()             # summed over the batch
    dz = p - np.eye(10)[yb]                                # d(summed loss)/dz""", lr=0.002),
        _loop(lr=0.1),
        "doctor.rules.loss_summed"),
    CodeDoc(
        "GRADIENT_NOT_RESET", "gradients summed across steps",
        "Each step's gradient is added to the last one's and never reset (PyTorch's missing "
        "`optimizer.zero_grad()`, or `dW += ...` on a buffer kept between steps). The steps "
        "then point the same way ever more strongly: consecutive gradients are almost parallel "
        "while their norm grows.",
        {"weight_norm_growth": "how many times the weights' norm grew",
         "median_cosine": "the median cosine between consecutive gradients",
         "grad_norm_growth": "how much the gradient norm grew over the checks",
         "fitted_momentum": "(doctor.examine) mu of update = mu * last update + c * gradient, "
                            "fitted from your step's updates against your grad: 1 is a running "
                            "sum of every gradient, which a never-zeroed buffer and v = v + g both give"},
        "Compute each step's gradients afresh (assign, `dW = ...`, or zero the buffers at the "
        "start of every step).",
        _loop(init="\nsums = [np.zeros_like(w) for w in params]           # gradient buffers",
              update="""    for s, g in zip(sums, grads):
        s += g                                             # never zeroed between steps
    grads = sums
    for w, g in zip(params, grads):
        w -= 0.01 * g"""),
        _loop(lr=0.01),
        "doctor.rules.gradient_not_reset", ("NOT_RESET_COSINE", "ALIGNMENT_MIN_PARAMS")),
    CodeDoc(
        "MOMENTUM", "momentum without decay",
        "The updates fit `update = mu * last update + c * gradient` with `mu` near 1: the "
        "velocity is never damped (`v = v + g` instead of `v = 0.9 * v + g`), so every past "
        "gradient keeps pushing forever and the weights overshoot.",
        {"param": "the parameter that moves with no gradient",
         "step_first": "its step per call at the first such check",
         "step_last": "at the last",
         "steps": "the steps of those two checks",
         "fitted_momentum": "the momentum coefficient mu fitted from the updates",
         "fit_residual": "the share of the updates the fit leaves unexplained, per step an update spans"},
        "Damp the velocity: `v = mu * v + g` with `mu` = 0.9 (or use `gw.SGD(lr, momentum=0.9)`).",
        _loop(init="\nvelocity = [np.zeros_like(w) for w in params]",
              update="""    for w, v, g in zip(params, velocity, grads):
        v += g                                             # no decay factor
        w -= 0.01 * v"""),
        _loop(init="\nvelocity = [np.zeros_like(w) for w in params]",
              update="""    for w, v, g in zip(params, velocity, grads):
        v *= 0.9                                           # v = 0.9 v + g
        v += g
        w -= 0.01 * v"""),
        "doctor.rules.momentum", ("MOMENTUM_MU", "MOMENTUM_RESIDUAL")),
    # ------------------------------------------------------------------ the initialisation
    CodeDoc(
        "INIT_SYMMETRIC", "all weights equal",
        "Every weight of a layer starts at the same value (zeros, or a constant). All units "
        "then compute the same thing and receive the same gradient, so they stay identical: "
        "the layer has the power of one unit.",
        {"value": "the value every weight has", "shape": "the weight matrix's shape"},
        "Draw the weights at random with a fan-in scale: `init=\"he_normal\"` for ReLU, "
        "`\"glorot_uniform\"` for tanh and sigmoid.",
        "model = gw.mlp([784, 64, 10], init=\"zeros\", seed=0)\nreport = doctor.check_init(model)\n",
        "model = gw.mlp([784, 64, 10], init=\"he_normal\", seed=0)\nreport = doctor.check_init(model)\n",
        "doctor.rules.init_weights"),
    CodeDoc(
        "INIT_ALL_POSITIVE", "all weights positive",
        "Nearly every weight is positive (uniform(0, 1) initialisation). With positive inputs "
        "(pixels) every unit then adds up positive numbers: the pre-activations are large and "
        "alike, and the units cannot specialise.",
        {"positive_share": "the share of positive weights", "mean": "the mean weight"},
        "Centre the initialisation on zero: `init=\"he_normal\"` (ReLU) or `\"glorot_uniform\"`.",
        "model = gw.mlp([784, 64, 10], init=\"uniform01\", seed=0)\nreport = doctor.check_init(model)\n",
        "model = gw.mlp([784, 64, 10], init=\"he_normal\", seed=0)\nreport = doctor.check_init(model)\n",
        "doctor.rules.init_weights", ("ALL_POSITIVE_SHARE",)),
    CodeDoc(
        "INIT_TOO_LARGE", "weights too large for the layer's fan-in",
        "A layer's gain, `rms(W) * sqrt(fan_in)`, is far above the 1.41 of He (or about 1 for "
        "LeCun and Glorot): standard-normal weights on 784 inputs make every layer multiply the "
        "signal's size, logits are huge at the start and the first steps are wild.",
        {"gain": "rms(W) * sqrt(fan_in)", "rms": "the weights' root mean square",
         "fan_in": "the layer's number of inputs"},
        "Scale the weights by the fan-in: `init=\"he_normal\"` (std sqrt(2 / fan_in)).",
        "model = gw.mlp([784, 256, 10], init=\"normal01\", seed=0)\nreport = doctor.check_init(model)\n",
        "model = gw.mlp([784, 256, 10], init=\"he_normal\", seed=0)\nreport = doctor.check_init(model)\n",
        "doctor.rules.init_weights", ("GAIN_TOO_LARGE",)),
    CodeDoc(
        "INIT_TOO_SMALL", "weights too small for the layer's fan-in",
        "A layer's gain, `rms(W) * sqrt(fan_in)`, is far below 1: each layer shrinks the signal, "
        "and in a deep network the activations and gradients reaching the first layers are "
        "nearly zero.",
        {"gain": "rms(W) * sqrt(fan_in)", "fan_in": "the layer's number of inputs"},
        "Scale the weights by the fan-in: `init=\"he_normal\"` (ReLU) or `\"glorot_uniform\"`.",
        "model = gw.mlp([784, 64, 64, 10], seed=0)\n"
        "for layer in model.layers:\n    if \"W\" in layer.params:\n"
        "        layer.params[\"W\"] *= 1e-4                    # hand-made 'small random weights'\n"
        "report = doctor.check_init(model)\n",
        "model = gw.mlp([784, 64, 64, 10], seed=0)                  # he_normal\n"
        "report = doctor.check_init(model)\n",
        "doctor.rules.init_weights", ("GAIN_TOO_SMALL",)),
    CodeDoc(
        "NO_BIAS", "a unit without a bias",
        "The model has no bias (threshold) where it needs one: a unit through the origin scores "
        "the all-zero input exactly 0 whatever its weights, so a perceptron without a threshold "
        "can never learn NAND or NOR, and a regression line is forced through (0, 0).",
        {"checks": "the checks at which the all-zero input scored exactly 0",
         "samples": "all-zero inputs in the last such batch", "last_step": "the last such step",
         "share": "(a regression) the share of the squared error an intercept would remove"},
        "Add a bias: a constant-1 input column (`np.hstack([X, np.ones((len(X), 1))])`) or a "
        "bias parameter learned like any weight.",
        _PERCEPTRON.format(inputs="truth                                     # no constant input: no threshold",
                           w0="np.array([0.31, -0.17])"),
        _PERCEPTRON.format(inputs="np.hstack([truth, np.ones((4, 1))])       # a constant-1 input: the threshold",
                           w0="np.array([0.31, -0.17, 0.05])"),
        "doctor.rules.missing_bias", ("NO_BIAS_SHARE",)),
    # ------------------------------------------------------------------ the learning rate
    CodeDoc(
        "LR_TOO_HIGH", "the learning rate is too high",
        "Each step changes the weights by a large fraction of their size (CS231n: an update "
        "should be about 1e-3 of the weights), the weights' norm grows many-fold in a short "
        "run, or the loss climbs or jumps: the steps overshoot.",
        {"median_update_ratio": "|update| / |weights| per step, median over the last checks",
         "weight_norm_growth": "the weights' norm at the end / at the start",
         "weight_norm_growth_fast": "the largest growth of the weights' norm that came at 1% a step or faster",
         "weight_norm_growth_steps": "the steps that growth took",
         "lr": "the learning rate, when known",
         "loss_start": "the loss at the start (smoothed)", "loss_end": "the loss at the end (smoothed)",
         "loss_first": "the first logged loss", "loss_max": "the largest logged loss",
         "jump_steps": "the steps where the loss jumped",
         "best_lr": "(lr_sweep, verify, examine) the sweep's best learning rate",
         "lr_ratio": "(sweep) your lr / the best one (the refined one)", "loss_at_lr": "(sweep) the loss after the short run at your lr (None: diverged)",
         "best_lr_refined": "(sweep) the best rate between the grid's points: a parabola in log(lr) through the best and its neighbours",
         "loss_at_best": "(sweep) the loss after the short run at the best lr",
         "loss_init": "(sweep) the loss before any step", "sweep_steps": "(sweep) the steps of each short run",
         "sweep_samples": "(sweep) the samples it trained on", "working_range": "(sweep) [low, high]: the range test's falling stretch",
         "grid": "(sweep) [lr, loss] of each short run"},
        "Lower the learning rate 10x (Adam: 1e-3; SGD: 0.01-0.1 on scaled inputs) and check the "
        "input scale.",
        _diagnose("gw.mlp([784, 64, 10], seed=0)", ", optimizer=gw.Adam(0.5), epochs=1"),
        _diagnose("gw.mlp([784, 64, 10], seed=0)", ", optimizer=gw.Adam(1e-3), epochs=1"),
        "doctor.rules.learning_rate", ("UPDATE_RATIO_HIGH", "WEIGHT_GROWTH_HIGH", "GROWTH_RATE_HIGH")),
    CodeDoc(
        "LR_TOO_LOW", "the learning rate is too low",
        "Each step changes the weights by a tiny fraction of their size and the loss hardly "
        "moves: training would take thousands of times longer than it should.",
        {"step_per_grad_start": "update / gradient over the first third of the checks",
         "step_per_grad_end": "the same over the last third",
         "median_grad_cosine": "median cosine of consecutive gradients",
         "median_update_ratio": "|update| / |weights| per step, median over the last checks",
         "weight_norm_growth": "the weights' norm at the end / at the start",
         "weight_norm_growth_fast": "the largest growth of the weights' norm that came at 1% a step or faster",
         "weight_norm_growth_steps": "the steps that growth took",
         "lr": "the learning rate, when known",
         "loss_start": "the loss at the start (smoothed)", "loss_end": "the loss at the end (smoothed)",
         "loss_first": "the first logged loss", "loss_max": "the largest logged loss",
         "best_lr": "(sweep) the sweep's best learning rate", "lr_ratio": "(sweep) your lr / the best one (the refined one)",
         "best_lr_refined": "(sweep) the best rate between the grid's points: a parabola in log(lr) through the best and its neighbours",
         "lr_factor": "(sweep) the best (refined) lr / yours", "loss_at_lr": "(sweep) the loss after the short run at your lr",
         "loss_at_best": "(sweep) the loss after the short run at the best lr",
         "loss_init": "(sweep) the loss before any step", "sweep_steps": "(sweep) the steps of each short run",
         "sweep_samples": "(sweep) the samples it trained on", "working_range": "(sweep) [low, high]: the range test's falling stretch",
         "grid": "(sweep) [lr, loss] of each short run"},
        "Raise the learning rate 10-100x (Adam: 1e-3; SGD: 0.01-0.1).",
        _diagnose("gw.mlp([784, 64, 10], seed=0)", ", optimizer=gw.SGD(1e-5), epochs=1"),
        _diagnose("gw.mlp([784, 64, 10], seed=0)", ", optimizer=gw.SGD(0.1), epochs=1"),
        "doctor.rules.learning_rate", ("UPDATE_RATIO_LOW",)),
    # ------------------------------------------------------------------ mechanisms
    CodeDoc(
        "INITIAL_LOSS", "the loss starts far above chance",
        "A network that has learned nothing should predict every class about equally: its loss "
        "is then ln(C) for C classes (2.30 for 10). A first loss many times that means huge "
        "logits from the start (CS231n: \"look for correct loss at chance performance\"), from "
        "unscaled inputs or an initialisation that is too large.",
        {"initial_loss": "the loss of the untrained model (or the first logged loss)",
         "expected": "ln(C), the loss at chance", "excess": "initial_loss - expected, in nats",
         "logit_std": "the standard deviation of the untrained model's logits"},
        "Check the input scale and the initialisation (a fan-in-scaled init such as he_normal; "
        "an output layer initialised small), then the loss at init again. A watched run "
        "(`diagnose`, a Monitor, a Recorder) reports it too, as a warning when the run suffers "
        "from it.",
        _scaled() + "model = gw.mlp([784, 256, 10], init=\"normal01\", seed=0)   # std 1 on 784 inputs\n"
        "report = doctor.check_initial_loss(model, X, y)\n",
        _scaled() + "model = gw.mlp([784, 256, 10], init=\"he_normal\", seed=0)  # std sqrt(2 / 784)\n"
        "report = doctor.check_initial_loss(model, X, y)\n",
        "doctor.sequence.check_initial_loss", ("sequence.INITIAL_LOSS_MARGIN", "INITIAL_LOSS_FACTOR")),
    CodeDoc(
        "NONFINITE", "NaN or inf during training",
        "The loss, a gradient or a weight became NaN or infinite at some step: the run has "
        "diverged, and every step after it computes NaN. The finding names the step and where "
        "the non-finite numbers showed first.",
        {"step": "the step where it appeared", "first_in": "where it showed first (the loss, a "
                                                           "gradient, a layer's weights or output)"},
        "Look at the causes the report lists before it (input scale, learning rate, "
        "initialisation); lower the learning rate, or clip gradients (`gw.clip_grad_norm`).",
        _loop(lr=10.0),
        _loop(lr=0.1),
        "doctor.rules.nonfinite"),
    CodeDoc(
        "EXPLODING_GRADIENT", "the gradient norm blows up",
        "The global gradient norm grew by orders of magnitude during the run, or spiked far above "
        "its running median and the loss jumped after it: each step makes the next one larger, "
        "or one huge step throws the weights off. Backpropagation through time is where it "
        "happens most: an RNN or LSTM multiplies the gradient by the same recurrent weights at "
        "every one of T steps, so recurrent weights a little too large (or a learning rate too "
        "high) make it grow like a power of T; a deep transformer without clipping spikes too. "
        "The finding says whether the gradient is clipped already (the Monitor reads the "
        "optimiser's `clip_norm` and the norm before clipping; a Recorder is told with "
        "`rec.report(clip_norm=...)`).",
        {"growth": "peak / first: how many times the gradient norm grew (the growth case)",
         "first": "the gradient norm at the first check", "peak": "the largest gradient norm",
         "step": "the step of the worst harmful spike (the spike case)",
         "spike_norm": "the gradient norm at that step (before clipping)",
         "median_norm": "the median of the norms before it (SPIKE_WINDOW of them)",
         "spike_factor": "spike_norm / median_norm", "spikes": "how many harmful spikes the run had",
         "loss_after": "the highest loss within SPIKE_AFTER steps after the spike",
         "loss_median": "the median loss before the spike",
         "clip_norm": "the clipping threshold in use, or None when the gradient is not clipped"},
        "Clip the global gradient norm (1.0 or 5.0 are usual): `clip_norm=` on the optimiser "
        "(`gw.Adam(2e-3, clip_norm=1.0)`), or in your own loop, before the update, "
        "`g *= min(1, c / ||g||)` over all the gradients together "
        "(`gw.clip_grad_norm(grads, c)`). If it is clipped already, lower the learning rate (or "
        "warm it up); then check the input scale and the initialisation of the recurrent "
        "weights.",
        _RAW_PIXELS_SGD,
        _diagnose("gw.mlp([784, 64, 10], seed=0)", ", optimizer=gw.SGD(0.1), epochs=1"),
        "doctor.sequence.exploding_gradient",
        ("EXPLODING_FACTOR", "EXPLODING_MIN", "sequence.SPIKE_FACTOR", "sequence.SPIKE_HISTORY",
         "sequence.LOSS_SPIKE_FACTOR", "sequence.LOSS_SPIKE_RISE")),
    CodeDoc(
        "SATURATION", "sigmoid or tanh units stuck at their limits",
        "Most sigmoid or tanh outputs sit within a hair of their bounds, where the derivative is "
        "about zero: the gradient through them vanishes and the loss stops falling.",
        {"saturated_share": "the share of saturated outputs in the worst layer"},
        "Scale the inputs, use a fan-in-scaled init (glorot for sigmoid/tanh), or ReLU hidden "
        "units; for the output, cross-entropy on logits instead of sigmoid + MSE.",
        _scaled() + "rng = np.random.default_rng(0)\n"
        "model = gw.Sequential([gw.Dense(784, 64, init=\"normal01\", rng=rng), gw.Sigmoid(),\n"
        "                       gw.Dense(64, 10, init=\"normal01\", rng=rng), gw.Sigmoid()])\n"
        "report = doctor.diagnose(model, X, np.eye(10)[y], loss=gw.MSE(), optimizer=gw.SGD(0.1), epochs=1)\n",
        _scaled() + "model = gw.mlp([784, 64, 10], seed=0)                 # ReLU, logits\n"
        "report = doctor.diagnose(model, X, y, optimizer=gw.SGD(0.1), epochs=1)\n",
        "doctor.rules.saturation", ("SATURATION_MARGIN", "SATURATED_SHARE")),
    CodeDoc(
        "VANISHING_GRADIENT", "the gradient does not reach the first layers",
        "The first layer's gradient is a tiny fraction of the last layer's: in a deep network "
        "of sigmoids each layer multiplies the backward signal by at most 0.25, so the first "
        "layers hardly learn.",
        {"first_over_last": "gradient rms of the first layer / the last layer"},
        "Use ReLU hidden units with he_normal, fewer layers, or BatchNorm between them.",
        _diagnose("gw.mlp([784] + [32] * 8 + [10], activation=\"sigmoid\", seed=0)",
                  ", optimizer=gw.SGD(0.1), epochs=1"),
        _diagnose("gw.mlp([784] + [32] * 8 + [10], activation=\"relu\", seed=0)",
                  ", optimizer=gw.SGD(0.1), epochs=1"),
        "doctor.rules.vanishing_gradient", ("VANISHING_RATIO",)),
    CodeDoc(
        "DEAD_RELU", "ReLU units that never fire",
        "Most ReLU units of a layer are active on almost no input: their gradient is zero, so "
        "they never recover. Large negative biases, a too high learning rate or unscaled inputs "
        "kill them.",
        {"dead_share": "the share of dead units in the worst layer (named in `where`)"},
        "Lower the learning rate, scale the inputs, start biases at 0 (or use LeakyReLU).",
        _dead_units(dead=True),
        _dead_units(dead=False),
        "doctor.rules.dead_relu", ("DEAD_UNIT_ACTIVE", "DEAD_LAYER_SHARE")),
    CodeDoc(
        "WEIGHTS_FROZEN", "a parameter that never changes",
        "A parameter keeps its value although its gradient is not zero: the update is computed "
        "but never stored (`w = w - lr * g` rebinds a loop variable; a copy is updated), or the "
        "parameter is left out of the optimiser's list.",
        {"median_grad_norm": "the parameter's median gradient norm while it did not move"},
        "Update in place (`w -= lr * g`, or `W[...] = ...`), and pass every parameter to the "
        "optimiser.",
        _loop(update="""    for w, g in zip(params, grads):
        w = w - 0.1 * g                                    # rebinds w: params never change"""),
        _loop(),
        "doctor.rules.weights_frozen", ("FROZEN_GRAD_RATIO",)),
    # ------------------------------------------------------------------ classic learners
    CodeDoc(
        "NOT_LINEARLY_SEPARABLE", "no line separates the classes",
        "A perceptron never finishes an epoch without a mistake: no line (hyperplane) separates "
        "the two classes (XOR is the classic case), so Rosenblatt's rule cycles forever.",
        {"step": "the step whose weights repeat",
         "same_as_step": "the step they repeat",
         "loss": "the loss (share of mistakes) at that step",
         "epochs": "epochs run", "mistakes_last_epoch": "mistakes in the last epoch",
         "learned_bias": "whether the threshold was learned"},
        "Use a network with a hidden layer (`gw.mlp([2, 4, 1], activation=\"tanh\")` with "
        "BinaryCrossEntropy), or add a feature (x1 * x2 makes XOR separable).",
        "from gradwise import classic\n"
        "X, y = np.array([[0, 0], [0, 1], [1, 0], [1, 1]]), np.array([0, 1, 1, 0])   # XOR\n"
        "report = classic.Perceptron(max_epochs=20).fit(X, y).report      # and a ConvergenceWarning\n",
        "from gradwise import classic\n"
        "X, y = np.array([[0, 0], [0, 1], [1, 0], [1, 1]]), np.array([0, 1, 1, 0])\n"
        "X = np.hstack([X, X[:, :1] * X[:, 1:]])                   # add x1 * x2\n"
        "report = classic.Perceptron(max_epochs=20).fit(X, y).report\n",
        "classic.Perceptron"),
    CodeDoc(
        "DIVERGED", "gradient descent diverged",
        "The loss of a classic learner grew for several epochs or became NaN: the step size is "
        "above 2 / L (L the largest curvature of the loss), so each step overshoots further. "
        "Fitting stops, and the finding gives a step size that converges.",
        {"lr": "the step size that diverged", "max_stable_lr": "the largest that converges (2 / L)",
         "suggested_lr": "the one to use (1 / L)", "loss": "the loss when fitting stopped"},
        "Use the step size the finding gives, `lr=\"auto\"` (the default), or standardise the "
        "features (`standardize=True`).",
        _REGRESSION.format(lr="0.5", why="above 2 / L: each step overshoots further"),
        _REGRESSION.format(lr='"auto"', why="1 / L, L the loss's largest curvature"),
        "classic.LinearRegression"),
    # ------------------------------------------------------------------ outcomes
    CodeDoc(
        "SINGLE_CLASS", "the network predicts one class",
        "Almost every prediction is the same class while the labels are varied: the network "
        "collapsed (a blown-up step, dead units, or a bias that dominates), and its accuracy is "
        "that class's share.",
        {"class": "the class predicted", "share": "the share of predictions in it"},
        "Look at the causes the report lists before it; most often the learning rate or the "
        "input scale.",
        _RAW_PIXELS_SGD,
        _diagnose("gw.mlp([784, 64, 10], seed=0)", ", optimizer=gw.SGD(0.1), epochs=1"),
        "doctor.rules.single_class", ("SINGLE_CLASS_SHARE",)),
    CodeDoc(
        "STALLED", "the loss is not falling",
        "Over the watched run the loss fell by less than a small share of its start (or stays "
        "at chance, ln C): the network is not learning, whatever the cause.",
        {"loss_start": "the loss at the start", "loss_end": "the loss at the end",
         "ln_C": "the loss at chance, ln C (for C classes)"},
        "Look at the causes the report lists before it; if none, raise the learning rate or "
        "check that the labels belong to the inputs.",
        _dead_units(dead=True),
        _dead_units(dead=False),
        "doctor.rules.stalled", ("STALL_DROP", "PERSIST")),
    CodeDoc(
        "NOT_LEARNING", "the run does not learn",
        "The run went less than a tenth of the way from chance towards perfect (accuracy from "
        "the majority class's share towards 100%, or the loss from its start towards 0) and is "
        "not clearly improving at the end. It is reported even when no rule names a cause: a "
        "run that does not learn is never \"no problems found\".",
        _VERDICT,
        "Check that the labels belong to the inputs (shuffled together, not apart), then the "
        "learning rate.",
        _scaled() + "y_shuffled = np.random.default_rng(0).permutation(y)   # labels shuffled apart from X\n"
        "report = doctor.diagnose(gw.mlp([784, 64, 10], seed=0), X, y_shuffled, epochs=1)\n",
        _scaled() + "report = doctor.diagnose(gw.mlp([784, 64, 10], seed=0), X, y, epochs=1)\n",
        "doctor.rules.not_learning", ("LEARNING_SHARE", "ACCURACY_SAMPLES")),
    CodeDoc(
        "OVERFITTING", "the validation loss rises while training falls",
        "The validation loss rose well above its best for several epochs while the training "
        "loss kept falling: the network is memorising the training set.",
        {"best_epoch": "the epoch of the best validation loss", "best_val_loss": "that loss",
         "last_val_loss": "the last validation loss"},
        "Stop early (`gw.EarlyStopping`), use more data or augmentation, dropout or weight "
        "decay, or a smaller network.",
        _scaled(50) + "Xt, yt = gw.data.scale_pixels(ds.X_test[:300]).reshape(300, -1), ds.y_test[:300]\n"
        "report = doctor.diagnose(gw.mlp([784, 64, 10], seed=0), X, y, X_test=Xt, y_test=yt,\n"
        "                         optimizer=gw.Adam(1e-2), epochs=30, batch_size=50)\n",
        _scaled(50) + "Xt, yt = gw.data.scale_pixels(ds.X_test[:300]).reshape(300, -1), ds.y_test[:300]\n"
        "report = doctor.diagnose(gw.mlp([784, 64, 10], seed=0), X, y, X_test=Xt, y_test=yt,\n"
        "                         optimizer=gw.Adam(1e-2), epochs=5, batch_size=50)   # stop early\n",
        "doctor.rules.overfitting", ("OVERFIT_RISE", "OVERFIT_EPOCHS", "OVERFIT_GAP")),
    # ------------------------------------------------------------------ sequence models
    CodeDoc(
        "CAUSAL_LEAK", "a position sees the future",
        "A language model must predict token t + 1 from tokens 0..t only. Attention without its "
        "causal mask (or with the mask off by one) lets position t read the answer: the training "
        "loss collapses towards 0, and sampling, which has no future to read, writes garbage. "
        "`check_causal` finds it by experiment: it changes the input at one position and sees "
        "whether the output at any earlier position moves.",
        {"earliest_position": "the earliest position whose output moved",
         "changed_position": "the later position whose input was changed",
         "change": "how much that output moved", "relative_change": "that, over the largest output",
         "probes": "how many positions were changed, one at a time"},
        "Mask the attention scores above the diagonal before the softmax "
        "(`scores[..., i, j] = -inf` for `j > i`); gradwise's `CausalSelfAttention` and "
        "`TransformerBlock` do with `causal=True`.",
        "model = gw.Sequential([gw.CausalSelfAttention(8, 2, 6, causal=False, rng=np.random.default_rng(0))])   # no mask\n"
        "x = np.random.default_rng(1).normal(size=(1, 6, 8)).astype(np.float32)   # (B, T, dim)\n"
        "report = doctor.check_causal(model, x)\n",
        "model = gw.Sequential([gw.CausalSelfAttention(8, 2, 6, causal=True, rng=np.random.default_rng(0))])\n"
        "x = np.random.default_rng(1).normal(size=(1, 6, 8)).astype(np.float32)\n"
        "report = doctor.check_causal(model, x)\n",
        "doctor.sequence.check_causal", ("sequence.CAUSAL_TOL", "sequence.CAUSAL_PROBES")),
    CodeDoc(
        "ATTENTION_COLLAPSED", "attention sits on one position",
        "Most queries of most heads put all their weight on a single key (the first token, "
        "their own position, the one before, or one that changes from query to query): "
        "the rows of the attention weights are one-hot instead of a mix, their entropy near 0 "
        "against ln(t) for a uniform row over t keys. Attention then copies one position and "
        "its gradient through the softmax is ~0, so it cannot learn to look elsewhere. The "
        "usual causes: scores q.k not divided by sqrt(d_head) (their spread grows with the "
        "width), query and key weights initialised large, or a learning rate that blew them "
        "up. The Monitor reads each attention layer's weights at its checks "
        "(`layer.attention_weights()`); `doctor.check_attention(probs)` takes your own.",
        {"mean_entropy": "the rows' mean entropy, in nats (the first query, with one key, left out)",
         "uniform_entropy": "the mean of ln(keys) over the same rows: a uniform row's entropy",
         "entropy_ratio": "mean_entropy / uniform_entropy",
         "sharp_share": "the share of rows whose largest weight is above sharp_threshold",
         "sharp_threshold": "ATTENTION_SHARP",
         "position": "where the sharp rows' weight sits: first, diagonal, previous, or varies",
         "position_share": "the share of the sharp rows on the most common of those places",
         "rows": "how many rows were read",
         "scores_std": "(gradwise layers) the std of the scaled scores q.k / sqrt(d_head)"},
        "Divide the scores by sqrt(d_head) before the softmax (`scores = q @ k.T / np.sqrt(hd)`); "
        "initialise the query and key projections small (N(0, 0.02^2), as GPT-2); if it "
        "collapsed during training, divide the learning rate by 10 and clip the gradient norm. "
        "gradwise's `CausalSelfAttention` and `TransformerBlock` scale and initialise this way.",
        _ATTENTION.format(scores="50 * q @ k.transpose(0, 2, 1)             # not / sqrt(hd), and 50x"),
        _ATTENTION.format(scores="q @ k.transpose(0, 2, 1) / np.sqrt(hd)      # scaled"),
        "doctor.sequence.check_attention",
        ("sequence.ATTENTION_SHARP", "sequence.ATTENTION_COLLAPSED_SHARE",
         "sequence.ATTENTION_ENTROPY_RATIO")),
    CodeDoc(
        "LEARNING", "the run learns (a note)",
        "Not a problem: the verdict on a healthy run, with how far it went from chance towards "
        "perfect. \"No problems found\" rests on it.",
        _VERDICT,
        "Nothing to fix.",
        _diagnose("gw.mlp([784, 64, 10], seed=0)", ", epochs=1"),
        None,
        "doctor.rules.not_learning", ("LEARNED_SHARE",)),
    CodeDoc(
        "TOO_FEW_STEPS", "too few steps to judge (a note)",
        "Fewer steps were logged than the rules need to tell a trend from noise, so the run is "
        "not judged.",
        {"logged": "the number of steps logged"},
        "Call `rec.log` at every step of a longer run.",
        "rec = doctor.Recorder([\"w\"])\nw = np.ones(3)\n"
        "for step in range(2):\n    rec.log(step, loss=1.0 / (step + 1), weights=[w], grads=[w])\n"
        "report = rec.report()\n",
        "rec = doctor.Recorder([\"w\"])\nw = np.ones(3)\n"
        "for step in range(20):\n    rec.log(step, loss=1.0 / (step + 1), weights=[w], grads=[w])\n    w = 0.9 * w\n"
        "report = rec.report()\n",
        "doctor.recorder.Recorder.report", ("MIN_CHECKS",)),
]

CODES: dict[str, CodeDoc] = {e.code: e for e in _ENTRIES}


# ----------------------------------------------------------------------------- reading it

def get(code: str) -> CodeDoc:
    """The entry of ``code`` (any case), or a KeyError that lists the codes."""
    entry = CODES.get(code.strip().upper())
    if entry is None:
        raise KeyError(f"no finding code {code!r}; the codes are: {', '.join(CODES)}")
    return entry


def program(code: str, *, fixed: bool = False) -> str | None:
    """The trigger program of ``code`` (or its fixed twin), imports included."""
    entry = get(code)
    body = entry.fixed if fixed else entry.trigger
    return None if body is None else PREAMBLE + body


def run_example(code: str, *, fixed: bool = False) -> Report:
    """Run the trigger program of ``code`` (or its fixed twin) and return its ``report``
    (once per process for each program text: the programs are seeded, so a second run
    would say the same, and several codes share a program)."""
    source = program(code, fixed=fixed)
    if source is None:
        raise ValueError(f"{code} has no fixed program: it is a verdict of health, not a problem")
    return _run(source)


@functools.lru_cache(maxsize=None)
def _run(source: str) -> Report:
    namespace: dict = {"__name__": "gradwise_example"}
    # the bugs overflow and fail to converge on purpose: the report says so, not warnings
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(source, "<gradwise.doctor.codes example>", "exec"), namespace)
    report = namespace.get("report")
    if not isinstance(report, Report):
        raise TypeError(f"this example left no Report in `report`:\n{source}")
    return report


def threshold(name: str) -> tuple[object, str]:
    """A threshold: ``NAME`` of ``gradwise.doctor.rules``, or ``module.NAME`` of another
    module of the doctor; its value and the ``#:`` comment above it (the comment of a group
    of constants serves each of them)."""
    module_name, _, name = name.rpartition(".")
    module = importlib.import_module(f"gradwise.doctor.{module_name}") if module_name else rules
    if not hasattr(module, name):
        raise KeyError(f"{module.__name__} has no threshold {name!r}")
    lines = inspect.getsource(module).splitlines()
    at = next(i for i, line in enumerate(lines) if re.match(rf"{name}\s*=", line))
    comment: list[str] = []
    i = at - 1
    while i >= 0 and re.match(r"[A-Z_][A-Z0-9_]*\s*=", lines[i]):     # a group: skip its siblings
        i -= 1
    while i >= 0 and lines[i].startswith("#:"):
        comment.insert(0, lines[i][2:].strip())
        i -= 1
    return getattr(module, name), " ".join(comment)


def rule_summary(entry: CodeDoc) -> str:
    """The first paragraph of the docstring of the function that decides ``entry``."""
    obj = importlib.import_module("gradwise")
    for part in entry.rule.split("."):
        obj = getattr(obj, part) if hasattr(obj, part) else importlib.import_module(
            f"{obj.__name__}.{part}")
    doc = inspect.getdoc(obj) or ""
    return " ".join(doc.split("\n\n")[0].split())


def page(code: str, *, run: bool = True) -> str:
    """The page of ``code`` as markdown: the documentation site's page and what
    ``gradwise doctor --explain CODE`` prints. ``run``: include what the doctor says on the
    trigger program (it runs it, well under a second)."""
    e = get(code)
    out = [f"# {e.code}: {e.title}", "", e.meaning, "",
           f"Decided by `gradwise.{e.rule}`: {rule_summary(e)}", "", "## Evidence", ""]
    out += [f"- `{k}`: {v}" for k, v in e.evidence.items()]
    if e.thresholds:
        out += ["", "## Thresholds", ""]
        for name in e.thresholds:
            value, why = threshold(name)
            out.append(f"- `{name} = {value!r}`: {why}" if why else f"- `{name} = {value!r}`")
    out += ["", "## Fix", "", e.fix, "", "## A program that triggers it", "",
            "```python", program(code).rstrip(), "```"]
    if run:
        found = run_example(code).get(code)
        if found is not None:
            out += ["", "What the doctor says:", "", "```text", str(found), "```"]
    if e.fixed is not None:
        out += ["", "## The same program, fixed", "", "```python", program(code, fixed=True).rstrip(), "```"]
    return "\n".join(out) + "\n"


def registry_codes() -> list[str]:
    """Every code the doctor can report: ``findings.PRIORITY`` (the report's order), then
    those of checks that report on their own (CAUSAL_LEAK)."""
    return [*PRIORITY, *(c for c in CODES if c not in PRIORITY)]


__all__ = ["CodeDoc", "CODES", "PREAMBLE", "get", "program", "run_example", "threshold", "page",
           "registry_codes"]
