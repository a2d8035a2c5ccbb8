"""The doctor's rules: one small function each, thresholds as named constants.

Each rule reads plain numbers (arrays, or the per-check records of a training trace) and
returns a list of Findings, empty when all is well. A rule about training reports a symptom
only when it persists over several checks and the loss shows that training suffers: that
is how AutoTrainer keeps false alarms low, and it is the rule here too.
"""

from __future__ import annotations

import dataclasses
import math
import statistics

import numpy as np

from ..functional import integer_labels
from .findings import Finding

# ----------------------------------------------------------------------------- thresholds

#: Inputs to a fan-in-scaled network should be O(1): He and Glorot assume unit-variance
#: inputs. The 99th percentile of |x| is robust to a few outliers; pixels in 0..255 give 255.
INPUT_P99_MAX = 10.0
#: Train and test must be scaled alike: a test set whose typical magnitude differs by this
#: factor, or whose mean moved by this many training standard deviations, was preprocessed
#: differently.
SHIFT_SCALE_RATIO = 4.0
SHIFT_MEAN_SIGMAS = 1.0
#: Adjacent labels equal this much more often than shuffled data would make them: sorted.
ORDERED_SAME_MIN = 0.5
ORDERED_FACTOR = 3.0
#: Largest / smallest class count above this is an imbalance worth a warning.
IMBALANCE_RATIO = 10.0
#: A layer's "gain" rms(W) * sqrt(fan_in): He gives sqrt(2) = 1.41, LeCun and Glorot about 1.
#: Far above, activations grow layer after layer; far below, they shrink to nothing.
GAIN_TOO_LARGE = 4.0
GAIN_TOO_SMALL = 0.1
#: Share of positive weights above which a layer is "all positive" (uniform(0, 1) init).
ALL_POSITIVE_SHARE = 0.99
#: Loss at initialisation should be near ln(C) for C classes (uniform predictions);
#: far above it means huge logits (CS231n: "look for correct loss at chance performance").
INITIAL_LOSS_FACTOR = 3.0
#: CS231n: the ratio of an update's size to the weights' size should be around 1e-3.
UPDATE_RATIO_HIGH = 0.1
UPDATE_RATIO_LOW = 1e-4
#: In a short healthy run the weights' norm grows little (measured here: 1.1-2x in two epochs
#: of Adam 1e-3..1e-2 or SGD 0.1); a learning rate 10-100x too high grows it 10-200x.
WEIGHT_GROWTH_HIGH = 4.0
#: A ReLU unit is dead when active on fewer than 1% of a batch.
DEAD_UNIT_ACTIVE = 0.01
DEAD_LAYER_SHARE = 0.5
#: A sigmoid/tanh output within this of its bounds is saturated (its gradient ~ 0).
SATURATION_MARGIN = 0.02
SATURATED_SHARE = 0.5
#: Gradient rms of the first layer / the last layer below this: the signal does not reach back.
VANISHING_RATIO = 1e-2
#: Global gradient norm grown by this factor (and above EXPLODING_MIN): exploding.
EXPLODING_FACTOR = 100.0
EXPLODING_MIN = 10.0
#: Consecutive gradients this aligned (median cosine) while their norm grows: never reset.
NOT_RESET_COSINE = 0.95
#: The momentum coefficient fitted from the updates (update = mu * last update + c * grad):
#: 0.9 is healthy; 1 means the velocity is never damped. The fit must explain the updates.
MOMENTUM_MU = 0.995
MOMENTUM_RESIDUAL = 0.05
#: Updates that span several steps each (a loop that logs every k-th step): the fit sees one
#: gradient of the k, so each unseen step may leave up to MOMENTUM_RESIDUAL of the update
#: unexplained; and the current gradient alone must leave most of the update unexplained
#: (a plain step along a gradient that changes slowly also repeats the last update).
MOMENTUM_NOT_GRADIENT = 0.5
#: Share of predictions in one class while the labels are varied: collapse.
SINGLE_CLASS_SHARE = 0.95
#: Overfitting: validation loss up this factor from its best, for this many epochs, and
#: this many times the training loss.
OVERFIT_RISE = 1.2
OVERFIT_EPOCHS = 3
OVERFIT_GAP = 2.0
#: A parameter counts as frozen only if its gradient is at least this share of its size.
FROZEN_GRAD_RATIO = 1e-3
#: The loss must fall by at least this share over the run, or it "stalled".
STALL_DROP = 0.05
#: Checks a symptom must persist over (the last ones), and the least data to judge.
PERSIST = 3
MIN_CHECKS = 4
#: How far a run went from chance towards perfect: accuracy from the majority class's share
#: towards 100%, r2 from 0 towards 1, or the loss from its start (or chance, ln C) towards
#: 0. At LEARNED_SHARE it "learns"; below LEARNING_SHARE (and not clearly improving at the
#: end) the report says NOT_LEARNING, even when no rule names a cause: a run that does not
#: learn is never "no problems found". In between, it has started to learn.
LEARNED_SHARE = 0.5
#: Samples the accuracy at the start and at the end of a run must each rest on (its standard
#: error is then under 0.07); fewer (one sample a check, few checks) and the loss judges.
ACCURACY_SAMPLES = 50
LEARNING_SHARE = 0.1
#: Weights whose rms is below this start "at or near zero" (any fan-in-scaled init of a
#: layer with fewer than 10,000 inputs is larger): their norm's growth says nothing about
#: the learning rate.
NEAR_ZERO_RMS = 1e-2
#: Consecutive gradients of a handful of parameters are aligned by nature (in d dimensions
#: two unrelated directions have |cosine| ~ 1/sqrt(d)); below this many parameters their
#: alignment is no evidence of gradients summed across steps.
ALIGNMENT_MIN_PARAMS = 50


def finding(code: str, severity: str, message: str, evidence: dict | None = None, fix: str = "",
            where: str | None = None) -> Finding:
    """A Finding, with empty evidence when none is given: how every rule (and the checks in
    ``checks.py`` and ``recorder.py``) writes one."""
    return Finding(code, severity, message, evidence or {}, fix, where)


# ============================================================================= data

def nonfinite_input(X, name="X_train") -> list[Finding]:
    """NaN or inf anywhere in the inputs: every output that touches them is NaN."""
    X = np.asarray(X)
    if X.dtype.kind != "f" or np.all(np.isfinite(X)):
        return []
    bad = ~np.isfinite(X.reshape(len(X), -1))
    rows = np.flatnonzero(bad.any(axis=1))
    return [finding("NONFINITE_INPUT", "error", f"{name} contains NaN or inf in {len(rows)} samples.",
               {"samples": int(len(rows)), "first_sample": int(rows[0])},
               "remove or impute those samples (np.isfinite(X).all(axis=1) selects the good rows)",
               name)]


def _p99(X) -> float:
    flat = np.abs(np.asarray(X, dtype=np.float64).ravel())
    if flat.size > 200_000:
        flat = flat[:: flat.size // 200_000 + 1]
    return float(np.percentile(flat, 99)) if flat.size else 0.0


def input_scale(X, name="X_train") -> list[Finding]:
    """Inputs far beyond O(1), e.g. pixels in 0..255: logits and gradients blow up."""
    p99 = _p99(X)
    if p99 <= INPUT_P99_MAX:
        return []
    X = np.asarray(X)
    # pixels are whole numbers in 0..255; features in the thousands (or 0.5..230) are not
    pixels = X.dtype == np.uint8 or (X.min() >= 0 and X.max() <= 255 and X.max() >= 100
                                     and bool(np.all(X[:1000] == np.round(X[:1000]))))
    fix = ("divide pixels by 255 (gradwise.data.scale_pixels) before training, and do the same "
           "to the test set" if pixels else
           "standardise the features: s = gradwise.data.Standardizer().fit(X_train), then "
           "s.transform() on every split")
    return [finding("INPUT_SCALE", "error", f"{name} values are large (99% of |x| up to {p99:.4g}); a "
               f"network expects inputs of order 1.", {"p99_abs": p99, "max": float(np.max(X)),
                                                        "mean": float(np.mean(X))}, fix, name)]


#: The share of the remaining squared error that a straight-line correction of the output
#: (a + c * prediction, with a real intercept a) would remove, above which the model is
#: missing a bias: with one, and a free output scale, that part would be gone.
NO_BIAS_SHARE = 0.25
#: Pixel arithmetic that wrapped around in uint8 leaves whole multiples of 1/d (d: the divisor
#: the learner used) in 0..255/d whose most common value, the background, is mid-range:
#: a picture's background sits at 0 or 255, and (0 - 128) wraps to 128.
WRAP_DIVISORS = (1.0, 127.5, 128.0, 255.0, 256.0)
WRAP_MODE_SHARE = 0.3


def input_wrapped(X, name="X_train") -> list[Finding]:
    """uint8 arithmetic that wrapped around during preprocessing: ``(x - 128) / 128`` on a
    uint8 array computes ``x - 128`` modulo 256, so black (0) becomes 128 and the picture is
    scrambled before training starts."""
    X = np.asarray(X)
    if X.dtype.kind not in "uif" or X.size < 100:
        return []
    sample = X.reshape(-1)[:: max(1, X.size // 20000)].astype(np.float64)
    if not np.all(np.isfinite(sample)) or sample.min() < 0:
        return []
    for d in WRAP_DIVISORS:
        k = sample * d
        if k.max() > 255.5 or not np.allclose(k, np.round(k), atol=1e-6):
            continue
        values, counts = np.unique(np.round(k).astype(np.int64), return_counts=True)
        mode, share = int(values[counts.argmax()]), float(counts.max() / len(k))
        if len(values) < 16:                      # a few levels (0/1 patterns): no picture
            return []
        if 16 <= mode <= 239 and share > WRAP_MODE_SHARE and (d > 1 or X.dtype == np.uint8):
            return [finding("INPUT_WRAPPED", "error",
                            f"{name} looks like uint8 pixels after arithmetic that wrapped around: every "
                            f"value is a whole multiple of 1/{d:g} in 0..{255 / d:.3g}, and the most "
                            f"common one ({100 * share:.0f}% of them, the background) is {mode}/{d:g}, "
                            f"mid-range, where a picture's background sits at 0 or 255. On a uint8 "
                            f"array, x - 128 is computed modulo 256: black becomes 128.",
                            {"divisor": d, "mode": mode / d, "mode_share": share},
                            "convert to float before any arithmetic: X = X.astype(np.float32), then "
                            "(X - 128) / 128 (or X / 255)", name)]
    return []


def _feature_shift(Xtr: np.ndarray, Xte: np.ndarray) -> float | None:
    """How differently the test features are distributed, in training standard deviations:
    the median over features of |test mean - train mean| / train std, or of the log ratio of
    their spreads (scaled so that a factor SHIFT_SCALE_RATIO counts as SHIFT_MEAN_SIGMAS),
    whichever is larger; for (N, F) data with features that vary; None when it cannot be judged."""
    if Xtr.ndim != 2 or Xte.ndim != 2 or Xtr.shape[1] != Xte.shape[1] or Xtr.shape[1] < 2:
        return None
    if len(Xtr) < 10 or len(Xte) < 10:
        return None
    sd = Xtr.std(axis=0)
    varies = sd > 1e-12 * max(1.0, float(np.abs(Xtr).max()))
    if varies.sum() < 2:
        return None
    z = np.abs(Xte.mean(axis=0) - Xtr.mean(axis=0))[varies] / sd[varies]
    spread = np.abs(np.log((Xte.std(axis=0)[varies] + 1e-300) / sd[varies]))
    # a spread SHIFT_SCALE_RATIO times off counts as much as a mean one std away
    return float(max(np.median(z), np.median(spread) / math.log(SHIFT_SCALE_RATIO) * SHIFT_MEAN_SIGMAS))


def train_test_shift(X_train, X_test) -> list[Finding]:
    """Test data preprocessed differently from training data (scaled one, not the other)."""
    if X_test is None or len(X_test) == 0:
        return []
    Xtr, Xte = np.asarray(X_train, np.float64), np.asarray(X_test, np.float64)
    s_tr, s_te = _p99(Xtr) or 1e-12, _p99(Xte) or 1e-12
    ratio = s_te / s_tr
    mu_tr, mu_te, sd_tr = Xtr.mean(), Xte.mean(), Xtr.std() or 1e-12
    shift = abs(mu_te - mu_tr) / sd_tr
    per_feature = _feature_shift(Xtr, Xte)
    if (1 / SHIFT_SCALE_RATIO <= ratio <= SHIFT_SCALE_RATIO and shift <= SHIFT_MEAN_SIGMAS
            and (per_feature is None or per_feature <= SHIFT_MEAN_SIGMAS)):
        return []
    if per_feature is not None and per_feature > SHIFT_MEAN_SIGMAS and shift <= SHIFT_MEAN_SIGMAS:
        return [finding("TRAIN_TEST_SHIFT", "error",
                        f"the test inputs were normalised differently from the training inputs: "
                        f"feature by feature, their means or spreads are off by {per_feature:.2g} "
                        f"training standard deviations (or the equivalent factor; median over the "
                        f"features).",
                        {"median_feature_shift": per_feature, "train_mean": mu_tr, "test_mean": mu_te},
                        "normalise the test set with the training set's per-feature mean and std "
                        "(X_test = (X_test - mu_train) / sd_train), never with its own statistics "
                        "or per sample", "X_test")]
    return [finding("TRAIN_TEST_SHIFT", "error",
               f"the test inputs are on a different scale from the training inputs (typical "
               f"magnitude x{ratio:.3g}, mean moved by {shift:.2g} training std).",
               {"train_p99": s_tr, "test_p99": s_te, "scale_ratio": ratio, "mean_shift_sigmas": shift,
                "train_mean": mu_tr, "test_mean": mu_te},
               "apply exactly the same preprocessing to both: fit the scaler on X_train and call "
               "its transform on X_test too (never rescale the test set on its own)", "X_test")]


def class_ordered(y, *, shuffled_by_fit: bool = False) -> list[Finding]:
    """Labels in blocks (all 0s, then all 1s, ...): unshuffled batches teach one class at a time."""
    y = class_labels(y)
    if y is None or len(y) < 20:
        return []
    same = float(np.mean(y[1:] == y[:-1]))
    shares = np.bincount(y - y.min()) / len(y)
    expected = float(np.sum(shares ** 2))
    if same < ORDERED_SAME_MIN or same < ORDERED_FACTOR * expected:
        return []
    severity = "info" if shuffled_by_fit else "warning"
    return [finding("CLASS_ORDERED", severity,
               f"the training labels are sorted or in blocks: {100 * same:.0f}% of neighbours share "
               f"a label (shuffled data: {100 * expected:.0f}%)." +
               (" fit() shuffles every epoch, so this is harmless there." if shuffled_by_fit else ""),
               {"adjacent_same": same, "expected_if_shuffled": expected},
               "shuffle every epoch: order = rng.permutation(len(X)); X, y = X[order], y[order] "
               "(Sequential.fit does this unless shuffle=False)", "y_train")]


def layout_followed(f: Finding, trace) -> Finding:
    """A gradient logged transposed is a layout, not a bug, when the updates are its
    transpose's steps (cosine well below 0 at most checks, or above 0 for a loop that adds its
    'gradient'): then the finding becomes a note. Updates that do not follow it (a reshape
    instead of a transpose scrambles the entries) keep it an error."""
    if f.code != "GRADIENT_SHAPE" or f.severity != "error" or not f.where:
        return f
    pairs = [r["transposed_follow"][f.where] for r in trace
             if f.where in (r.get("transposed_follow") or {})]
    if len(pairs) < 2:
        return f
    cos = [t for t, _ in pairs]
    # a plain step is exactly -1 on consecutive steps; across a few steps of mini-batches, or
    # with momentum, less, but of one sign; and it fits the transpose better than the
    # gradient reshaped to fit (W -= lr * dW.reshape(W.shape), which scrambles the entries)
    med = float(np.median(cos))
    same_sign = max(np.mean([c < 0 for c in cos]), np.mean([c > 0 for c in cos]))
    better = np.mean([abs(t) > abs(r) for t, r in pairs])
    if abs(med) < 0.3 or same_sign < 0.75 or better < 0.75:
        return f
    return dataclasses.replace(
        f, severity="info",
        message=f"the gradient of {f.where} is logged as {tuple(f.evidence['grad_shape'])}, the "
                f"transpose of the parameter's {tuple(f.evidence['param_shape'])}, and the updates "
                f"follow its transpose (cosine {np.median(cos):+.3f} at {len(cos)} checks): a layout "
                f"convention of the loop, not a wrong gradient.",
        evidence={**f.evidence, "update_cosine_with_transpose": float(np.median(cos)), "checks": len(cos)},
        fix="")


def batches_of_one_class(trace) -> list[Finding]:
    """Nearly every logged batch holds one class while all of them together hold many: the
    loop feeds the data in class order, and each step teaches the class of the moment."""
    recs = [r for r in trace if r.get("top_label_share") is not None and r.get("batch", 0) >= 8]
    pooled = [r["pooled_top_share"] for r in trace if r.get("pooled_top_share") is not None]
    if len(recs) < MIN_CHECKS or not pooled:
        return []
    # a shuffled batch of 8 or more holds its commonest class at about that class's overall
    # share plus sampling noise (10 balanced classes, 8 samples: about 0.3); sorted batches
    # hold one class, except where a block ends
    within = float(np.mean([r["top_label_share"] for r in recs]))
    if within < 0.75 or pooled[-1] > 0.5:
        return []
    return [finding("CLASS_ORDERED", "error",
                    f"the logged batches are {100 * within:.0f}% one class on average, while all of "
                    f"them together hold no class above {100 * pooled[-1]:.0f}%: the data reach the "
                    f"network in class order, and each step pulls it towards the class of the moment.",
                    {"batch_top_class_share": within, "top_class_share_overall": pooled[-1],
                     "batches": len(recs)},
                    "shuffle every epoch: order = rng.permutation(len(X)); X, y = X[order], y[order]",
                    "the batches")]


def class_labels(y) -> np.ndarray | None:
    """Integer class labels (N,) from labels, a (N, 1) column or one-hot rows; None when
    they are not class labels (empty, not numbers, or regression targets)."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        y = y.argmax(axis=1)
    y = y.reshape(-1) if y.ndim == 2 else y
    if y.ndim != 1 or y.size == 0 or y.dtype.kind not in "iuf":
        return None
    try:
        return integer_labels(y, "labels").astype(np.int64)
    except ValueError:                     # not class labels (regression targets): no verdict
        return None


def label_shape(y, n_samples: int | None = None, name="y_train") -> list[Finding]:
    """Labels of the wrong shape: (N, 1) columns, rows that are not one-hot, a count mismatch."""
    y = np.asarray(y)
    out = []
    if n_samples is not None and len(y) != n_samples:
        out.append(finding("LABEL_SHAPE", "error", f"{n_samples} samples but {len(y)} labels.",
                      {"samples": n_samples, "labels": len(y)}, "give one label per sample", name))
    if y.ndim == 2 and y.shape[1] == 1 and len(np.unique(y[: 100_000])) > 2:
        # class ids in a column (a 0/1 column is what one sigmoid output is compared with)
        out.append(finding("LABEL_SHAPE", "warning",
                      "labels are a (N, 1) column; against (N, C) outputs, a hand-written loss or "
                      "gradient broadcasts it to (N, C) and silently computes the wrong thing.",
                      {"shape": list(y.shape)}, "use y.reshape(-1) (shape (N,)), or one-hot rows (N, C)",
                      name))
    elif y.ndim == 2 and y.shape[1] > 1 and y.dtype.kind == "f":
        sums = y.sum(axis=1)
        if not np.allclose(sums, 1, atol=1e-3) or y.min() < 0:
            out.append(finding("LABEL_SHAPE", "error", "target rows are not one-hot (or probabilities): "
                          "they do not sum to 1.", {"row_sum_min": float(sums.min()),
                                                   "row_sum_max": float(sums.max())},
                          "build targets with gradwise.data.one_hot(labels, C)", name))
    return out


def label_range(y, num_classes: int | None = None, name="y_train") -> list[Finding]:
    """Labels outside [0, C): 1-based digits (1..10), or more classes than outputs."""
    y = class_labels(y)
    if y is None:
        return []
    lo, hi = int(y.min()), int(y.max())
    if num_classes is not None and (lo < 0 or hi >= num_classes):
        one_based = lo >= 1 and hi == num_classes
        return [finding("LABEL_RANGE", "error",
                   f"labels run {lo}..{hi} but the model has {num_classes} outputs (classes 0.."
                   f"{num_classes - 1})." + (" They look 1-based." if one_based else ""),
                   {"min": lo, "max": hi, "outputs": num_classes},
                   "subtract 1 from every label (y - 1)" if one_based else
                   f"map the labels to 0..{num_classes - 1}, or give the last layer as many "
                   f"outputs as there are classes", name)]
    if num_classes is None and lo == 1 and hi == len(np.unique(y)) and hi > 1:
        return [finding("LABEL_RANGE", "warning", f"labels run 1..{hi}: class 0 never occurs, so "
                   f"output 0 is wasted and output {hi} may not exist.", {"min": lo, "max": hi},
                   "subtract 1 from every label (y - 1)", name)]
    return []


def class_imbalance(y, name="y_train") -> list[Finding]:
    """Some classes much rarer than others: accuracy alone will flatter the model."""
    y = class_labels(y)
    if y is None or len(y) < 50:
        return []
    counts = np.bincount(y - y.min())
    counts = counts[counts > 0]
    if len(counts) < 2 or counts.max() / counts.min() <= IMBALANCE_RATIO:
        return []
    return [finding("CLASS_IMBALANCE", "warning",
               f"the largest class has {counts.max() / counts.min():.0f}x as many samples as the "
               f"smallest.", {"counts": counts.tolist()},
               "judge the model by per-class recall (gradwise.metrics.classification_report), and "
               "consider resampling or class weights", name)]


# ============================================================================= initialisation

def _gain(W: np.ndarray, fan_in: int) -> float:
    return float(np.sqrt(np.mean(np.square(W, dtype=np.float64))) * math.sqrt(fan_in))


def init_weights(W: np.ndarray, name: str, fan_in: int | None = None, *,
                 in_axis: int | None = None) -> list[Finding]:
    """Static checks of one weight matrix before training.

    ``fan_in`` is the number of inputs per unit (W.shape[0] for gradwise's (in, out) Dense);
    ``in_axis`` says which axis holds a unit's inputs (0 for (in, out), 1 for (out, in)).
    When neither is known (a user's own arrays, (in, out) or (out, in)), the verdicts use the
    reading that gives the fewest alarms.
    """
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2 or W.size < 4:
        return []
    out = []
    if in_axis is not None:
        fan_in = W.shape[in_axis]
    # the axis along which the units (each a vector of weights) are laid out
    unit_axes = (1 - in_axis,) if in_axis is not None else (1,) if fan_in else (1, 0)
    if any(W.shape[ax] > 1 and np.all(np.ptp(W, axis=ax) == 0) for ax in unit_axes):
        out.append(finding("INIT_SYMMETRIC", "error",
                      f"every unit of {name} starts with the same weights (e.g. all zeros): they get "
                      f"the same gradient and stay identical forever.",
                      {"value": float(W.flat[0]), "shape": list(W.shape)},
                      "draw weights at random: init='he_normal' for ReLU, 'glorot_uniform' for "
                      "tanh/sigmoid (biases may start at 0)", name))
        return out
    positive = float(np.mean(W > 0))
    if positive > ALL_POSITIVE_SHARE and W.size >= 16:
        out.append(finding("INIT_ALL_POSITIVE", "error",
                      f"{100 * positive:.0f}% of {name}'s weights are positive (uniform(0, 1)?): every "
                      f"unit sums its inputs with the same sign, so all units fire alike and the "
                      f"sums grow with the layer width.", {"positive_share": positive,
                                                           "mean": float(W.mean())},
                      "use zero-mean weights scaled by the fan-in: init='he_normal' "
                      "(np.random.randn(n_in, n_out) * np.sqrt(2 / n_in))", name))
    fans = (fan_in, fan_in) if fan_in else (min(W.shape), max(W.shape))
    high, low = _gain(W, fans[0]), _gain(W, fans[1])
    if high > GAIN_TOO_LARGE:
        out.append(finding("INIT_TOO_LARGE", "error" if high > 2.5 * GAIN_TOO_LARGE else "warning",
                      f"{name}'s weights are too large for its fan-in: rms(W)*sqrt(fan_in) = "
                      f"{high:.3g} (He: 1.41, Glorot/LeCun: ~1); activations and logits grow "
                      f"layer after layer.", {"gain": high, "rms": float(np.sqrt(np.mean(W ** 2))),
                                              "fan_in": fans[0]},
                      f"scale by the fan-in: np.random.randn(...) * np.sqrt(2 / {fans[0]}) "
                      f"(init='he_normal')", name))
    elif low < GAIN_TOO_SMALL:
        out.append(finding("INIT_TOO_SMALL", "warning",
                      f"{name}'s weights are tiny for its fan-in: rms(W)*sqrt(fan_in) = {low:.3g}; the "
                      f"signal and the gradients shrink at every layer.", {"gain": low, "fan_in": fans[1]},
                      "use init='he_normal' (ReLU) or 'glorot_uniform' (tanh/sigmoid)", name))
    return out


def chain_in_axes(shapes, output_width: int | None = None) -> list[int] | None:
    """Which axis of each weight matrix holds its inputs, read from the matrices' shapes
    alone: consecutive layers share a width, so a list of (in, out) matrices chains as
    ``a.shape[1] == b.shape[0]`` and a list of (out, in) ones as ``a.shape[0] == b.shape[1]``.
    A chain read forwards in one layout reads backwards in the other, so the network's output
    width (the logits' columns) says which end is the output. None when the shapes or the
    output width leave it open (one matrix, square ones, no chain)."""
    if len(shapes) < 2 or not output_width:
        return None
    pairs = list(zip(shapes, shapes[1:]))
    p1 = all(a[1] == b[0] for a, b in pairs)      # (in, out) forwards, or (out, in) backwards
    p2 = all(a[0] == b[1] for a, b in pairs)      # (out, in) forwards, or (in, out) backwards
    readings = []                                 # (output width, in_axis) of each reading
    if p1:
        readings += [(shapes[-1][1], 0), (shapes[0][0], 1)]
    if p2:
        readings += [(shapes[-1][0], 1), (shapes[0][1], 0)]
    axes = {axis for width, axis in readings if width == output_width}
    return [axes.pop()] * len(shapes) if len(axes) == 1 else None


def init_logged(weights, names, output_width: int | None = None) -> list[Finding]:
    """The init checks on the first weights a Recorder sees, in the user's own layout: 2-D
    arrays as weight matrices ((in, out) or (out, in): read from how their shapes chain and
    the output's width, else the reading with fewest alarms), and a run of equally long 1-D
    arrays as the rows of one layer (an object per neuron)."""
    weights = [np.asarray(w) for w in weights]
    at = [i for i, w in enumerate(weights) if w.ndim == 2 and min(w.shape) > 1 and w.dtype.kind == "f"]
    in_axes = dict(zip(at, chain_in_axes([weights[i].shape for i in at], output_width) or []))
    out, group, group_names = [], [], []

    def flush():
        if len(group) >= 2:
            out.extend(init_weights(np.stack(group), f"{group_names[0]}..{group_names[-1]}"))
        group.clear()
        group_names.clear()
    for i, (name, w) in enumerate(zip(names, weights)):
        if w.dtype.kind != "f" or not np.all(np.isfinite(w)):
            flush()
            continue
        if w.ndim == 2 and min(w.shape) > 1:
            flush()
            out.extend(init_weights(w, name, in_axis=in_axes.get(i)))
        elif w.ndim == 1 and w.size >= 2 and (not group or len(group[0]) == w.size):
            group.append(w)
            group_names.append(name)
        else:
            flush()
    flush()
    return out


def label_width(num_outputs: int | None, label_width_seen: int | None) -> list[Finding]:
    """One-hot targets of another width than the network's output."""
    if not num_outputs or not label_width_seen or num_outputs == label_width_seen:
        return []
    return [finding("LABEL_SHAPE", "error",
                    f"the targets are one-hot rows of {label_width_seen} columns, the network has "
                    f"{num_outputs} outputs: the loss compares them column by column, broadcast or cut.",
                    {"outputs": num_outputs, "target_width": label_width_seen},
                    f"one output per class: np.eye({max(num_outputs, label_width_seen)})[y] with the "
                    f"network's last layer that wide (or one sigmoid output against y of shape (N, 1))",
                    "the targets")]


def missing_bias(trace) -> list[Finding]:
    """One output whose errors keep one sign: the predictions sit off the targets by a
    constant the model cannot learn (no bias, or one never updated) while the loss has
    stopped falling."""
    # errors of a batch of at least 8 (one sample's error says nothing of an offset), in a
    # run that explains less than half the targets' variance (else a bias matters little)
    records = [r for r in trace if r.get("resid_mean") is not None and r.get("resid_std") is not None
               and r.get("batch", 0) >= 8]
    how = learned(trace)
    if how is None or how["measure"] != "r2" or how["share"] >= LEARNED_SHARE:
        return []
    if len(records) < MIN_CHECKS or _still_improving([r["loss"] for r in trace if r.get("loss") is not None
                                                       and math.isfinite(r["loss"])], False):
        return []
    tail = records[-max(PERSIST, len(records) // 5):]
    fits = [_affine_error(r) for r in tail]
    if any(f is None for f in fits):
        return []
    share, a0, slope, offset, spread = (float(np.mean([f[k] for f in fits])) for k in range(5))
    mse = float(np.mean([r["resid_std"] ** 2 + r["resid_mean"] ** 2 for r in tail]))
    # The squared error splits into what a straight-line correction of the output, a + c * pred,
    # would remove and the rest. A model with a bias (and a free output scale) that has
    # stopped learning leaves nothing for that correction; a model without one leaves its
    # missing intercept a (a line through the origin tilts to fit an offset, so c moves too).
    if share < NO_BIAS_SHARE or a0 * a0 / mse < NO_BIAS_SHARE or _has_bias(tail):
        return []
    return [finding("NO_BIAS", "error",
                    f"the errors follow the predictions: error = {a0:+.4g} {slope:+.4g} x prediction "
                    f"removes {100 * share:.0f}% of the squared error (mean error {offset:+.4g}, spread "
                    f"{spread:.4g}), and the loss no longer falls: the model cannot shift its output, "
                    f"so it has no bias (intercept, threshold) or never updates it.",
                    {"mean_error": offset, "error_std": spread, "intercept_missing": a0,
                     "slope_error": slope, "removable_share": share},
                    "add a bias b (y = X @ w + b, or a column of ones in X) and update it with the "
                    "others: b -= lr * mean(pred - y)", "the output")]


def zero_input_no_bias(trace) -> list[Finding]:
    """Whole samples whose units sit exactly at f(0) (every first-layer unit at 0.5 for a
    sigmoid, 0 for tanh; a linear score of exactly 0) at several checks: their pre-activations are exactly zero, which an input of all zeros gives only to
    units without a bias. Such a sample's output can never be moved by its own weights."""
    checks = [r for r in trace if r.get("zero_rows")]
    if len(checks) < 2:                           # the first check may precede any update of
        return []                                 # a bias that starts at zero
    how = learned(trace)
    if how is None or how["share"] >= 0.95:
        return []                                 # it learns without one: nothing to fix
    severity = "error" if how["share"] < LEARNED_SHARE else "warning"
    last = checks[-1]
    return [finding("NO_BIAS", severity,
                    f"{last['zero_rows']} sample(s) give pre-activations of exactly zero in every unit "
                    f"(first-layer units at f(0), or a score of exactly 0) at {len(checks)} checks, "
                    f"steps apart: an input of all zeros into units with no bias. Whatever "
                    f"their weights, those units give such a sample f(0), so its output is fixed (one "
                    f"layer) or set by the later layers alone, and the samples around it are pulled along.",
                    {"checks": len(checks), "samples": last["zero_rows"], "last_step": last.get("step")},
                    "add a bias to every unit (z = W @ x + b, or a constant input of 1) and update it "
                    "with the weights", "the first layer")]


def _has_bias(records) -> bool:
    """A logged one-number gradient equals the mean error (or twice it, for a squared error
    without the 1/2): that is the gradient of an output bias, so the model has one and
    learns it; an offset left is slow learning, not a missing bias."""
    for r in records:
        m, sizes, norms = r.get("resid_mean"), r.get("param_sizes"), r.get("grad_norms")
        if not m or not sizes or not norms or len(sizes) != len(norms):
            continue
        for size, g in zip(sizes, norms):
            if size == 1 and math.isfinite(g) and any(abs(g - k * abs(m)) <= 0.02 * k * abs(m)
                                                      for k in (1, 2)):
                return True
    return False


def _affine_error(r) -> tuple[float, float, float, float, float] | None:
    """The straight-line fit error ~ a + c * prediction of one check: the share of the mean
    squared error it removes, a, c, and the errors' mean and spread."""
    m, sd, v = r["resid_mean"], r["resid_std"], r.get("out_var")
    cov, mean_out = r.get("resid_out_cov"), r.get("out_mean")
    mse = sd * sd + m * m
    if v is None or cov is None or not all(map(math.isfinite, (m, sd, v, cov, mean_out))) or mse <= 0:
        return None
    c = cov / v if v > 1e-12 * max(1.0, mean_out * mean_out) else 0.0
    explained = m * m + (c * cov)                 # the offset, then the part along the predictions
    return min(explained / mse, 1.0), m - c * mean_out, c, m, sd


def initial_loss(loss0: float, num_classes: int, suffering: bool = True) -> list[Finding]:
    """The first loss far above ln(C): the network starts out confidently wrong (a warning
    when training then goes badly, otherwise information)."""
    if num_classes < 2 or not np.isfinite(loss0):
        return []
    chance = math.log(num_classes)
    if loss0 <= INITIAL_LOSS_FACTOR * chance + 1.0:
        return []
    return [finding("INITIAL_LOSS", "warning" if suffering else "info",
               f"the loss starts at {loss0:.4g}, far above ln({num_classes}) = {chance:.3g} expected "
               f"from a network that has learned nothing: its logits are huge from the start.",
               {"initial_loss": loss0, "expected": chance},
               "check the input scale (inputs of order 1) and the initialisation (a fan-in-scaled "
               "init such as he_normal), then the loss at init again")]


def output_loss_mismatch(last_layer: str, loss_name: str, from_logits: bool | None = None,
                         classification: bool = True) -> list[Finding]:
    """The model's output and the loss disagree about logits vs probabilities."""
    if last_layer == "Softmax" and loss_name == "SoftmaxCrossEntropy":
        return [finding("OUTPUT_LOSS_MISMATCH", "error", "softmax is applied twice: the model ends in "
                   "Softmax and SoftmaxCrossEntropy applies its own; gradients are squashed.",
                   {"last_layer": last_layer, "loss": loss_name},
                   "remove the final Softmax layer: SoftmaxCrossEntropy expects raw logits",
                   "last layer")]
    if last_layer == "Sigmoid" and loss_name == "BinaryCrossEntropy" and from_logits:
        return [finding("OUTPUT_LOSS_MISMATCH", "error", "sigmoid is applied twice: the model ends in "
                   "Sigmoid and BinaryCrossEntropy(from_logits=True) applies another.",
                   {"last_layer": last_layer, "loss": loss_name},
                   "remove the Sigmoid layer, or use BinaryCrossEntropy(from_logits=False)",
                   "last layer")]
    if last_layer not in ("Sigmoid", "Softmax") and loss_name == "BinaryCrossEntropy" and from_logits is False:
        return [finding("OUTPUT_LOSS_MISMATCH", "error", "raw scores go into a loss that expects "
                   "probabilities: BinaryCrossEntropy(from_logits=False) clips them to [0, 1].",
                   {"last_layer": last_layer, "loss": loss_name},
                   "use BinaryCrossEntropy() (from_logits=True) on raw scores", "last layer")]
    if last_layer in ("Sigmoid", "Softmax") and loss_name == "MSE" and classification:
        return [finding("OUTPUT_LOSS_MISMATCH", "warning",
                   f"{last_layer} outputs trained with MSE: where the output saturates its "
                   f"gradient vanishes, so confident mistakes are barely corrected.",
                   {"last_layer": last_layer, "loss": loss_name},
                   "drop the output activation and use SoftmaxCrossEntropy (or "
                   "BinaryCrossEntropy for one output) on the logits", "last layer")]
    return []


# ============================================================================= training trace
# A trace is the list of check records a Recorder keeps; see recorder.py for the fields.

def _losses(trace) -> np.ndarray:
    return np.array([r["loss"] for r in trace if r.get("loss") is not None], dtype=np.float64)


def loss_progress(trace) -> dict | None:
    """Start and end of the loss (means of the first and last fifth), and their ratio."""
    loss = _losses(trace)
    loss = loss[np.isfinite(loss)]
    if len(loss) < MIN_CHECKS:
        return None
    k = max(1, len(loss) // 5)
    start, end = float(loss[:k].mean()), float(loss[-k:].mean())
    return {"start": start, "end": end, "ratio": end / start if start > 0 else 1.0,
            "first": float(loss[0]), "max": float(loss.max())}


#: Checks whose exact cross-entropy is at most this many nats can tell whether the logged
#: loss is one (above it, a loss clipped at log(p + eps) parts from the exact value).
CE_COMPARABLE = 10.0


def _matches(loss, value, tol: float = 0.02) -> bool:
    return loss is not None and value is not None and value > 0 and math.isfinite(loss) \
        and abs(loss - value) <= tol * value


def chance_loss(trace, num_classes: int | None) -> float | None:
    """ln C, when the logged loss is evidently the cross-entropy of C classes (it equals the
    softmax cross-entropy of the logged outputs, or, for outputs that are probabilities,
    their own cross-entropy, at most checks that hold both): the loss of a network that has
    learned nothing. None for another loss (a sum of C sigmoid cross-entropies, MSE, a
    running average), whose chance level the trace does not tell."""
    if not num_classes or num_classes < 2:
        return None
    # where the network is not absurdly sure of wrong answers: a loss computed as
    # log(p + 1e-12) differs from the exact one only for samples with p below that epsilon
    both = [r for r in trace if r.get("mean_ce") is not None and r.get("loss") is not None
            and r["mean_ce"] <= CE_COMPARABLE]
    if not both:
        return None
    ce = [_matches(r["loss"], r["mean_ce"], 0.05) or _matches(r["loss"], r.get("prob_ce"), 0.05)
          for r in both]
    return math.log(num_classes) if np.mean(ce) >= 0.8 else None


def softmax_twice(trace) -> list[Finding]:
    """Outputs that are already probabilities (rows in [0, 1] summing to 1) and a loss that
    equals the cross-entropy of *their softmax*: the loss applies its own softmax on top of
    the network's. Its predictions are squeezed between e^0 and e^1, near uniform, and the
    gradient that reaches the network is small and distorted."""
    records = [r for r in trace if r.get("prob_ce") is not None and r.get("loss") is not None
               and r["prob_ce"] > 0 and math.isfinite(r["loss"])]
    # the two cross-entropies tell the losses apart only where the probabilities left uniform
    telling = [r for r in records if abs(math.log(r["mean_ce"] / r["prob_ce"])) > 0.05]
    if len(telling) < 2:
        return []
    twice = [_matches(r["loss"], r["mean_ce"], 0.01) and not _matches(r["loss"], r["prob_ce"], 0.01)
             for r in telling]
    if np.mean(twice) < 0.8:
        return []
    r = telling[-1]
    return [finding("OUTPUT_LOSS_MISMATCH", "error",
                    f"softmax is applied twice: the network's outputs are already probabilities (rows "
                    f"in [0, 1] summing to 1), and your loss {r['loss']:.4g} is the cross-entropy of "
                    f"their softmax ({r['mean_ce']:.4g}), not of the probabilities themselves "
                    f"({r['prob_ce']:.4g}), at {sum(twice)} of {len(telling)} checks.",
                    {"loss": r["loss"], "softmax_of_outputs_ce": r["mean_ce"], "outputs_ce": r["prob_ce"],
                     "checks": len(telling)},
                    "remove one softmax: end the network in raw scores (logits) for a loss that "
                    "applies softmax itself, or compute the loss as -mean(log(p[range(N), y])) "
                    "from the probabilities", "the output")]


def suffering(trace, num_classes: int | None = None) -> bool:
    """Training is not going well: the loss fell by less than half (or rose), or turned
    NaN/inf. For C classes the half is measured from chance, ln C, when the loss started
    above it: a network that starts confidently wrong (loss 14 at init) and falls to 1.6 has
    come 30% of the way from knowing nothing, not 88%."""
    if any(r.get("nonfinite") for r in trace):
        return True
    p = loss_progress(trace)
    if p is None:
        return False
    chance = chance_loss(trace, num_classes)
    start = min(p["start"], chance) if chance else p["start"]
    return p["end"] > 0.5 * start if start > 0 else p["ratio"] > 0.5


def nonfinite(trace) -> list[Finding]:
    """The first step where the loss, an activation, a gradient or a weight became NaN/inf."""
    for r in trace:
        where = r.get("nonfinite")
        if where:
            return [finding("NONFINITE", "error", f"NaN or inf appeared at step {r['step']}, first in "
                       f"{where}; from there on every number is meaningless.",
                       {"step": r["step"], "first_in": where},
                       "check, in this order: the input scale (inputs of order 1), the initialisation "
                       "(fan-in scaled, e.g. he_normal), the learning rate (divide it by 10); clip "
                       "gradients (clip_norm=...) only as a stopgap",
                       where)]
    return []


def _last(trace, key):
    """``key`` of the last record that holds it (a Recorder's records between checks hold only
    the loss), or None."""
    return next((r[key] for r in reversed(trace) if r.get(key) is not None), None)


def _persistent(values, test) -> bool:
    tail = values[-PERSIST:]
    return len(values) >= MIN_CHECKS and len(tail) == PERSIST and all(test(v) for v in tail)


def _median(values) -> float:
    values = [v for v in values if v is not None and np.isfinite(v)]
    return float(np.median(values)) if values else float("nan")


def learning_rate(trace, lr: float | None = None) -> list[Finding]:
    """LR_TOO_HIGH when the loss climbs or the updates dwarf the weights; LR_TOO_LOW when the
    updates are vanishingly small and the loss does not move."""
    p = loss_progress(trace)
    if p is None:
        return []
    ratios = [r.get("update_ratio") for r in trace[1:]]
    med = _median(ratios)
    ev = {"loss_start": p["start"], "loss_end": p["end"], "median_update_ratio": med}
    if lr is not None:
        ev["lr"] = lr
    norms = [r["weight_norm"] for r in trace if r.get("weight_norm")]
    growth = norms[-1] / norms[0] if len(norms) >= 2 and norms[0] > 0 else 1.0
    ev["weight_norm_growth"] = growth
    discrete = _discrete(trace)                  # an error count: its jumps are no divergence
    smooth = _smoothed_losses(trace)             # one sample's loss is noise: judge its average
    jumped = smooth.max() > 3 * smooth[0] and not discrete
    ev["loss_first"], ev["loss_max"] = float(smooth[0]), float(smooth.max())
    p = {**p, "first": float(smooth[0]), "max": float(smooth.max())}
    # NaN/inf counts against the learning rate only once steps were taken: a loss that is
    # NaN/inf at the first call came from the initial weights' forward pass (init, inputs)
    late_nonfinite = not trace[0].get("nonfinite") and any(r.get("nonfinite") for r in trace[1:])
    diverged = (p["ratio"] > 1.5 and not discrete) or jumped or late_nonfinite
    # weights that grow while the network learns (or drifts) are no divergence: the growth
    # counts against the lr when it came fast, steps that threw the weights out
    fast, fast_steps = _fast_growth(trace)
    ev["weight_norm_growth_fast"], ev["weight_norm_growth_steps"] = fast, fast_steps
    blown_up = fast > WEIGHT_GROWTH_HIGH and p["ratio"] > 0.3 and not _starts_near_zero(trace)
    if jumped and not _diverged_at_end(trace) and p["ratio"] < 1 - STALL_DROP:
        first_bad, last_bad = _jump_steps(trace, p["first"])      # p["first"]: the smoothed start
        return [finding("LR_TOO_HIGH", "warning",
                        f"the loss jumped to {p['max']:.4g} (it started at {p['first']:.4g}) at steps "
                        f"{first_bad}-{last_bad}, then recovered: the learning rate is near the edge.",
                        {**ev, "jump_steps": [first_bad, last_bad]},
                        "lower the learning rate 2-3x, or warm it up over the first steps")]
    if diverged or blown_up or (med > UPDATE_RATIO_HIGH and p["ratio"] > 0.9 and not _starts_near_zero(trace)):
        why = (f"the loss jumped to {p['max']:.4g} (it started at {p['first']:.4g})." if jumped else
               "the loss grows instead of falling." if diverged else
               f"the weights grew {fast:.0f}x in {fast_steps} steps and the loss is not falling "
               f"well." if blown_up else
               f"each step changes the weights by {100 * med:.0f}% of their size (healthy: ~0.1%).")
        return [finding("LR_TOO_HIGH", "error", "the learning rate is too high: " + why,
                   ev, "divide the learning rate by 10 (then tune: 1e-3 for Adam, 0.01-0.1 for SGD)")]
    killed = _killed_by_first_steps(trace)
    if killed is not None:
        first_ratio, before, after, name = killed
        return [finding("LR_TOO_HIGH", "error",
                        f"the learning rate is too high: the first steps changed the weights by "
                        f"{100 * first_ratio:.0f}% of their size (healthy: ~0.1%) and left "
                        f"{100 * after:.0f}% of the ReLU units in {name} dead ({100 * before:.0f}% "
                        f"at the first check): units pushed below zero never come back.",
                        {**ev, "first_update_ratio": first_ratio, "dead_before": before, "dead_after": after},
                        "divide the learning rate by 10 (1e-3 for Adam, 0.01-0.1 for SGD), or warm it "
                        "up over the first steps")]
    blocked = bool(dead_relu(trace) or vanishing_gradient(trace))   # not the lr's fault then
    if med < UPDATE_RATIO_LOW and p["ratio"] > 1 - STALL_DROP and not blocked and not discrete:
        return [finding("LR_TOO_LOW", "warning", f"the learning rate is too low: each step changes the "
                   f"weights by {med:.1e} of their size (healthy: ~1e-3) and the loss barely moves.",
                   ev, "multiply the learning rate by 10-100 (1e-3 for Adam, 0.01-0.1 for SGD)")]
    how = learned(trace)
    if blocked or discrete or how is None or how["share"] >= LEARNED_SHARE:
        return []
    decay = _step_decay(trace)
    if decay is not None:
        before, after = decay
        return [finding("LR_TOO_LOW", "warning",
                        f"the learning rate decays to nothing: the step per unit of gradient fell from "
                        f"{before:.2g} to {after:.2g} during the run, while the network is still far from "
                        f"learned: its last steps cannot take it further.",
                        {**ev, "step_per_grad_start": before, "step_per_grad_end": after},
                        "decay the learning rate far more slowly (by 10x over the whole run, e.g. "
                        "lr = lr0 / (1 + step / 1000), or a cosine schedule), or keep it constant")]
    steady = _steady_gradients(trace)
    if steady is not None:
        return [finding("LR_TOO_LOW", "warning",
                        f"the learning rate is too low: consecutive gradients point the same way "
                        f"(median cosine {steady:.3f}, from batch to batch) while the network is far from "
                        f"learned: the steps are too short to change the gradient, let alone reach a "
                        f"minimum.", {**ev, "median_grad_cosine": steady},
                        "multiply the learning rate by 10 and compare; if you divide the gradient by "
                        "the batch size, do it once (the mean over the batch), not again in the update")]
    return []


#: Consecutive gradients this aligned, step after step, while the norm does not grow: the
#: weights move too little between steps for the gradient to turn (a step that reaches the
#: curvature of the loss turns the next gradient, and a new batch turns it too).
STEADY_COSINE = 0.9
#: The step per unit of gradient fell by this factor from the start of the run to its end.
STEP_DECAY = 100.0


#: Weights that grow this much per step (relative), for as many steps as it took them to
#: grow WEIGHT_GROWTH_HIGH-fold, were thrown, not trained: ten times the ~1e-3 a healthy step
#: changes them by (CS231n), a tenth of UPDATE_RATIO_HIGH.
GROWTH_RATE_HIGH = 1e-2


def _fast_growth(trace) -> tuple[float, int]:
    """(growth, steps): the largest growth of the weights' norm from the first check that came
    at GROWTH_RATE_HIGH a step or faster (ln growth / steps), and the steps it took; (1, 0)
    when none did."""
    norms = [(r["step"], r["weight_norm"]) for r in trace if r.get("weight_norm")]
    best = (1.0, 0)
    if len(norms) < 2 or norms[0][1] <= 0:
        return best
    step0, w0 = norms[0]
    for step, w in norms[1:]:
        growth, steps = w / w0, max(1, step - step0)
        if growth > best[0] and math.log(growth) / steps >= GROWTH_RATE_HIGH:
            best = (growth, steps)
    return best


def _steady_gradients(trace) -> float | None:
    """The median cosine of consecutive gradients when it is STEADY_COSINE or more at the
    checks (at least MIN_CHECKS) and the gradient norm did not grow 3x: else None."""
    cos = [r["grad_cosine"] for r in trace if r.get("grad_cosine") is not None]
    norms = [r["grad_norm"] for r in trace if r.get("grad_norm") and math.isfinite(r["grad_norm"])]
    weights = [r["weight_norm"] for r in trace if r.get("weight_norm")]
    if len(cos) < MIN_CHECKS or len(norms) < 2 or max(norms) > 3 * norms[0] \
            or 0 < _num_params(trace) < ALIGNMENT_MIN_PARAMS:
        return None
    if len(weights) >= 2 and weights[-1] > 2 * weights[0]:   # steps that carry the weights off
        return None                                           # are anything but too short
    med = float(np.median(cos))
    return med if med >= STEADY_COSINE else None


def _step_decay(trace) -> tuple[float, float] | None:
    """(step per unit of gradient over the first third of the checks, over the last third)
    when it fell by STEP_DECAY or more, and the steps against the weights with it (Adam's step
    per gradient falls when the gradients grow; its steps do not)."""
    recs = [r for r in trace if r.get("update_per_grad") is not None and r.get("update_ratio") is not None]
    if len(recs) < MIN_CHECKS + 2:
        return None
    k = len(recs) // 3
    per_grad = [_median([r["update_per_grad"] for r in part]) for part in (recs[:k], recs[-k:])]
    ratio = [_median([r["update_ratio"] for r in part]) for part in (recs[:k], recs[-k:])]
    if not (per_grad[0] > 0 and ratio[0] > 0) or per_grad[1] > per_grad[0] / STEP_DECAY \
            or ratio[1] > ratio[0] / STEP_DECAY:
        return None
    return per_grad[0], per_grad[1]


def weights_frozen(trace) -> list[Finding]:
    """A parameter that never changes although its gradient is not zero."""
    out = []
    names = _last(trace, "param_names") or []
    for i, name in enumerate(names):
        deltas = [r["param_update"][i] for r in trace[1:] if r.get("param_update")]
        grads = [r["grad_norms"][i] for r in trace if r.get("grad_norms")]
        sizes = [r["param_norms"][i] for r in trace if r.get("param_norms")]
        # the gradient must be big enough that any sane step would show in float precision
        # (a tiny lr times a vanished gradient also leaves float32 weights unchanged)
        meaningful = grads and sizes and _median(grads) > FROZEN_GRAD_RATIO * max(_median(sizes), 1e-12)
        if len(deltas) >= MIN_CHECKS - 1 and max(deltas) == 0 and meaningful:
            out.append(finding("WEIGHTS_FROZEN", "error", f"{name} never changes although its gradient "
                          f"is not zero: the optimiser does not update it.",
                          {"median_grad_norm": _median(grads)},
                          "update the arrays in place (W -= lr * dW, not a copy), and pass every "
                          "parameter to the optimiser", name))
    return out


def gradient_not_reset(trace) -> list[Finding]:
    """Gradients summed across steps: consecutive gradients almost parallel, norm ever growing."""
    cos = [r.get("grad_cosine") for r in trace if r.get("grad_cosine") is not None]
    normed = [(r["step"], r["grad_norm"]) for r in trace if r.get("grad_norm") and math.isfinite(r["grad_norm"])]
    if len(cos) < MIN_CHECKS or len(normed) < MIN_CHECKS or 0 < _num_params(trace) < ALIGNMENT_MIN_PARAMS:
        return []
    aligned = float(np.median(cos[len(cos) // 2:]))
    (s0, n0), (s1, n1) = normed[0], max(normed, key=lambda sn: sn[1])
    growth = n1 / n0 if n0 > 0 else 0.0
    # a sum of t fresh gradients is at most t times the largest: an accumulator grows at most
    # linearly with the steps; a norm that grows faster is a run blowing up, not a sum
    summed = 3 <= growth <= 2 * (s1 - s0 + 1)
    ran_off = _ran_off(trace)
    if aligned < NOT_RESET_COSINE or not (summed or ran_off):
        return []
    how = (f"their norm grew {growth:.1f}x" if summed else
           f"the weights ran off along them (their norm grew {ran_off:.0f}x, with steps that do "
           f"not shrink) while the network is far from learned")
    return [finding("GRADIENT_NOT_RESET", "error",
               f"the gradients are accumulated across steps instead of recomputed: consecutive "
               f"gradients are parallel (median cosine {aligned:.3f}) and {how}.",
               {"grad_norm_growth": growth, "median_cosine": aligned,
                **({"weight_norm_growth": ran_off} if ran_off and not summed else {})},
               "set each gradient (dW = ...) instead of adding to it (dW += ...), or zero the "
               "accumulators at the start of every step")]


def _ran_off(trace) -> float | None:
    """The weights' norm growth when they grew WEIGHT_GROWTH_HIGH-fold or more from a real
    init (not from zero), with steps that did not shrink, in a run that has not learned (a
    logistic regression on separable data grows its weights too, and learns); else None."""
    checked = [r for r in trace if r.get("weight_norm") and r.get("update_norm")]
    if len(checked) < MIN_CHECKS or _starts_near_zero(trace) or any(r.get("nonfinite") for r in trace):
        return None
    first, last = checked[0], checked[-1]
    norms = [r["weight_norm"] for r in trace if r.get("weight_norm")]
    growth = norms[-1] / norms[0]                 # as learning_rate measures it
    steps = last["update_norm"] / first["update_norm"]
    how = learned(trace)
    # steps that keep their size (a sum of bounded gradients grows at most linearly with the
    # steps; steps that grow faster are a run blowing up, which the lr rules judge)
    if growth < WEIGHT_GROWTH_HIGH or not 0.5 <= steps <= 2 * (last["step"] - first["step"] + 1) \
            or how is None or how["share"] >= LEARNED_SHARE:
        return None
    return growth


#: A parameter's updates lean one way against its gradient when the mean cosine over the
#: checks is far from 0 in standard errors (a plain step is exactly -1; a step made of many
#: steps since the last check leans towards the last one's gradient, noisily): a two-sided
#: test at this level, shared among the parameters tested (Bonferroni: with 27 neurons'
#: arrays, one of them leans the wrong way by chance far more often than one of 4 does).
UPDATE_SIGN_LEVEL = 0.05


def update_signs(trace) -> list[Finding]:
    """Some parameters step against their logged gradient, others along theirs, check after
    check: one group climbs the loss (an update written with the wrong sign, or a gradient
    written with the opposite convention, target - output for one layer, output - target for
    the other). A loop may use either convention, but one for all its parameters."""
    names = _last(trace, "param_names") or []
    per = {}
    for r in trace:
        for i, c in enumerate(r.get("update_grad_cos") or []):
            if c is not None and math.isfinite(c):
                per.setdefault(i, []).append(c)
    along, against = [], []
    tested = {i: cos for i, cos in per.items() if len(cos) >= MIN_CHECKS}
    if not tested:
        return []
    z = statistics.NormalDist().inv_cdf(1 - UPDATE_SIGN_LEVEL / (2 * len(tested)))
    for i, cos in tested.items():
        mean, se = float(np.mean(cos)), float(np.std(cos, ddof=1)) / math.sqrt(len(cos))
        if abs(mean) >= z * se and mean != 0:
            (along if mean > 0 else against).append((names[i] if i < len(names) else f"param {i}", mean))
    if not along or not against:
        return []
    how = learned(trace)
    severity = "info" if how is not None and how["share"] >= LEARNED_SHARE else "error"
    a, b = ", ".join(n for n, _ in against), ", ".join(n for n, _ in along)
    return [finding("GRADIENT_MISMATCH", severity,
                    f"the updates of {a} go against their logged gradients (mean cosine "
                    f"{np.mean([c for _, c in against]):+.2f}), those of {b} along theirs "
                    f"({np.mean([c for _, c in along]):+.2f}), check after check: one of the two "
                    f"groups climbs the loss." + (" The run learns all the same, so this may be "
                                                  "only how the gradients were logged." if severity == "info" else ""),
                    {"against": {n: c for n, c in against}, "along": {n: c for n, c in along},
                     "mean_against": float(np.mean([c for _, c in against])),
                     "mean_along": float(np.mean([c for _, c in along]))},
                    "use one convention for every parameter: g = dLoss/dparam (for the output "
                    "layer, output - target) and param -= lr * g everywhere; then check the "
                    "backward pass with gradwise.doctor.check_gradients", "the updates")]


def uniform_gradients(trace) -> list[Finding]:
    """A weight gradient with one value for every weight of a unit, check after check, while
    the weights differ: the chain rule's factor of the input is missing (dW = delta where it
    should be delta * x). A unit's weights then all move by the same amount and its boundary
    can only slide, never turn."""
    checks = [r for r in trace if "uniform_grads" in r]
    if len(checks) < MIN_CHECKS:
        return []
    names = _last(trace, "param_names") or []
    nonzero = {}                                  # per parameter: checks where its gradient moved
    uniform = {}
    for r in checks:
        for i, g in enumerate(r.get("grad_norms") or []):
            if g and math.isfinite(g):
                nonzero[i] = nonzero.get(i, 0) + 1
        for i in r["uniform_grads"]:
            uniform[i] = uniform.get(i, 0) + 1
    always = [i for i, k in uniform.items() if k >= MIN_CHECKS and k == nonzero.get(i, k)]
    if not always:
        return []
    how = learned(trace)                          # a wrong gradient, though the run may learn
    severity = "warning" if how is not None and how["share"] >= LEARNED_SHARE else "error"
    shown = [names[i] if i < len(names) else f"param {i}" for i in sorted(always)]
    listed = ", ".join(shown[:6]) + (f" and {len(shown) - 6} more" if len(shown) > 6 else "")
    return [finding("GRADIENT_MISMATCH", severity,
                    f"the gradient of {listed} holds one value all along one of its axes, at each "
                    f"of the {min(uniform[i] for i in always)} checks where it was not zero, while the "
                    f"weights differ along it: a weight's gradient is its unit's error times that "
                    f"weight's own input, so either the input factor is missing (dW = delta instead "
                    f"of delta * x: every weight of a unit moves by the same step) or every unit "
                    f"was given the same error.",
                    {"uniform": shown, "checks": min(uniform[i] for i in always)},
                    "multiply each unit's error by its input: dW = np.outer(delta, x) for one sample "
                    "(X.T @ delta for a batch, W of shape (in, out)), each unit its own delta; then "
                    "check the backward pass with gradwise.doctor.check_gradients", shown[0])]


def momentum(trace) -> list[Finding]:
    """Velocity without decay (v = v + g): each update is the previous one plus a gradient step.

    Fits ``update_t = mu * update_(t-1) + c * grad_t`` over the logged steps: SGD with momentum
    0.9 gives mu = 0.9 exactly, plain SGD mu = 0, the undamped velocity mu = 1.
    """
    recs = [r for r in trace if r.get("momentum_fit")]
    if len(recs) < MIN_CHECKS:
        return _coasting(trace)
    mu = float(np.median([r["momentum_fit"][0] for r in recs]))
    gaps = [r.get("momentum_gap", 1) for r in recs]
    resid = float(np.median([r["momentum_fit"][2] / k for r, k in zip(recs, gaps)]))   # per step
    spanning = [r.get("grad_alone_residual", 0.0) for r, k in zip(recs, gaps) if k > 1]
    if mu < MOMENTUM_MU or resid > MOMENTUM_RESIDUAL or (
            len(spanning) > len(recs) / 2 and float(np.median(spanning)) < MOMENTUM_NOT_GRADIENT):
        return []
    return [finding("MOMENTUM", "error",
               f"the velocity is never damped: each update equals the previous update plus a "
               f"gradient step (momentum coefficient fitted from your updates: {mu:.3f}), so "
               f"the steps keep growing.", {"fitted_momentum": mu, "fit_residual": resid},
               "decay the velocity: v = 0.9 * v + g; W -= lr * v (and keep the learning rate "
               "on the velocity)")]


#: Steps a parameter must keep its speed over, with a gradient of exactly zero at the checks
#: (each a step after the last logged one), before its velocity counts as undamped: a velocity decayed by 0.9 (or even 0.99) a step has lost most
#: (or a fifth) of its size by then.
COAST_STEPS = 20


def _coasting(trace) -> list[Finding]:
    """MOMENTUM from parameters whose gradient is exactly zero (dead units, say) and which keep
    moving by the same step, check after check, in a direction that is not a decay towards
    zero: only a velocity that is never damped moves a weight that no gradient pushes."""
    names = _last(trace, "param_names") or []
    # one step from one gradient: a zero gradient logged every k-th step says nothing of the
    # k - 1 steps between, which may have moved the weights
    moving = [r for r in trace if r.get("grad_norms") and r.get("param_update") and r.get("update_weight_cos")
              and r.get("gap") == 1]
    for i, name in enumerate(names):
        recs = []                                 # the checks at the end with a zero gradient:
        for r in reversed(moving):                # zero at every one (dead units), not at a few
            if len(r["grad_norms"]) <= i or r["grad_norms"][i] != 0:     # (an input of zeros)
                break
            recs.insert(0, r)
        recs = [r for r in recs if r["param_update"][i] > 0
                and (r["update_weight_cos"][i] is None or r["update_weight_cos"][i] > -0.9)]
        if len(recs) < MIN_CHECKS - 1 or recs[-1]["step"] - recs[0]["step"] < COAST_STEPS:
            continue
        first, last = recs[0]["param_update"][i], recs[-1]["param_update"][i]
        if last < 0.8 * first:
            continue
        return [finding("MOMENTUM", "error",
                        f"{name} keeps moving by steps that do not shrink ({first:.3g} a step at step "
                        f"{recs[0]['step']}, {last:.3g} at step {recs[-1]['step']}) while its gradient is "
                        f"exactly 0 at every check from step {recs[0]['step']} on: no gradient pushes it, so a velocity does, and one that is never "
                        f"damped (a velocity decayed by 0.9 a step would have stopped).",
                        {"param": name, "step_first": first, "step_last": last,
                         "steps": [recs[0]["step"], recs[-1]["step"]]},
                        "decay the velocity: v = 0.9 * v + g; W -= lr * v", name)]
    return []


def loss_summed(trace) -> list[Finding]:
    """A loss that is the sum over the batch, not the mean: steps scale with the batch size."""
    first = next((r for r in trace if r.get("mean_ce") is not None and r.get("loss") is not None), None)
    if first is None or first["batch"] < 4 or first["mean_ce"] <= 0:
        return []
    factor = first["loss"] / first["mean_ce"]
    n = first["batch"]
    if not math.isfinite(factor) or abs(factor - n) > 0.1 * n:
        return []
    return [finding("LOSS_SUMMED", "error",
               f"the loss is summed over the batch, not averaged: it is {factor:.1f}x the mean "
               f"cross-entropy, and the batch has {n} samples, so every step is {n}x too big.",
               {"loss": first["loss"], "mean_cross_entropy": first["mean_ce"], "batch": n},
               "divide the loss and its gradient by the batch size (dZ = (P - Y) / N)")]


def _layers_over(trace, key: str, threshold: float):
    """(layer name, last share) for each activation layer whose ``key`` share stayed above
    ``threshold`` over the last checks."""
    for i, name in enumerate(_last(trace, "act_names") or []):
        shares = [r[key][i] for r in trace if r.get(key) and r[key][i] is not None]
        if _persistent(shares, lambda s: s > threshold):
            yield name, shares[-1]


def dead_relu(trace) -> list[Finding]:
    """ReLU layers whose units are mostly dead (active on < 1% of a batch), for several checks."""
    return [finding("DEAD_RELU", "error" if share > 0.9 else "warning",
               f"{100 * share:.0f}% of the ReLU units in {name} are dead (active on fewer than "
               f"{100 * DEAD_UNIT_ACTIVE:.0f}% of samples): they pass no gradient.",
               {"dead_share": share},
               "start biases at 0 (not negative), lower the learning rate, or use LeakyReLU", name)
            for name, share in _layers_over(trace, "dead_share", DEAD_LAYER_SHARE)]


def saturation(trace, num_classes: int | None = None) -> list[Finding]:
    """Sigmoid/tanh layers stuck at their bounds while the loss does not fall."""
    if not suffering(trace, num_classes):
        return []
    return [finding("SATURATION", "error" if share > 0.9 else "warning",
               f"{100 * share:.0f}% of the outputs of {name} sit at the flat ends of the curve, "
               f"where the gradient is ~0.", {"saturated_share": share},
               "scale inputs to ~[0, 1], use a fan-in-scaled init (glorot_uniform), and prefer "
               "cross-entropy on logits to MSE on sigmoid outputs", name)
            for name, share in _layers_over(trace, "saturated_share", SATURATED_SHARE)]


def vanishing_gradient(trace, num_classes: int | None = None) -> list[Finding]:
    """The first layer's gradients are orders of magnitude smaller than the last layer's."""
    ratios = [r.get("first_last_grad") for r in trace if r.get("first_last_grad") is not None]
    if not suffering(trace, num_classes) or not _persistent(ratios, lambda v: v < VANISHING_RATIO):
        return []
    return [finding("VANISHING_GRADIENT", "error" if ratios[-1] < VANISHING_RATIO ** 2 else "warning",
               f"the gradient reaching the first layer is {ratios[-1]:.1e} of the last layer's: "
               f"the early layers barely learn.", {"first_over_last": ratios[-1]},
               "use ReLU in hidden layers with init='he_normal', fewer sigmoid layers, or batch "
               "normalisation")]


def exploding_gradient(trace) -> list[Finding]:
    """The global gradient norm grows by orders of magnitude."""
    norms = [r["grad_norm"] for r in trace if r.get("grad_norm") is not None]
    finite = [n for n in norms if np.isfinite(n)]
    if len(finite) < 2 or finite[0] <= 0:
        return []
    peak = max(finite)
    if peak < EXPLODING_MIN or peak / finite[0] < EXPLODING_FACTOR:
        return []
    return [finding("EXPLODING_GRADIENT", "error",
               f"the gradient norm grew {peak / finite[0]:.3g}x (to {peak:.3g}).",
               {"first": finite[0], "peak": peak, "growth": peak / finite[0]},
               "lower the learning rate, clip the gradient norm (clip_norm=1.0), check the input scale")]


def single_class(trace) -> list[Finding]:
    """Nearly every prediction is the same class while the labels are varied."""
    shares = [r.get("top_pred_share") for r in trace if r.get("top_pred_share") is not None]
    label_share = [r.get("top_label_share") for r in trace if r.get("top_label_share") is not None]
    if not label_share or _median(label_share) > 0.5:
        return []
    if not _persistent(shares, lambda s: s > SINGLE_CLASS_SHARE):
        return []
    cls = _last(trace, "top_pred")
    return [finding("SINGLE_CLASS", "error",
               f"the network predicts class {cls} for {100 * shares[-1]:.0f}% of the samples: it "
               f"has collapsed to one answer.", {"class": cls, "share": shares[-1]},
               "check, in this order: the input scale, the order of the data (shuffle every "
               "epoch), the initialisation, the learning rate (by decades)")]


def stalled(trace, num_classes: int | None = None) -> list[Finding]:
    """The loss has not fallen over the run."""
    p = loss_progress(trace)
    if p is None or p["ratio"] < 1 - STALL_DROP or p["ratio"] > 1.5:
        return []
    ev = {"loss_start": p["start"], "loss_end": p["end"]}
    chance = ""
    if num_classes:
        ev["ln_C"] = math.log(num_classes)
        if abs(p["end"] - math.log(num_classes)) < 0.1 * math.log(num_classes):
            chance = f" It sits at ln({num_classes}): the predictions are uniform."
    return [finding("STALLED", "error", f"the loss is not falling ({p['start']:.4g} -> {p['end']:.4g})." + chance,
               ev, "check the backward pass with gradwise.doctor.check_gradients, then the "
               "learning rate by decades (1e-4 ... 1)")]


def weights_cycle(trace) -> list[Finding]:
    """A single unit, its loss a count of mistakes, whose weights come back exactly to where
    they were, checks apart, with errors left all along: the perceptron's updates go round in a cycle. By the perceptron
    cycling theorem that happens only when no hyperplane separates the classes (with a
    separable set the rule stops after finitely many mistakes)."""
    recs = [r for r in trace if r.get("weights_key") is not None and not r.get("several_units")]
    if not _discrete(trace):                      # a perceptron's loss counts its mistakes; a
        return []                                 # smooth loss's weights stop by converging
    seen: dict = {}
    for r in recs:
        if r.get("loss") is None or not r["loss"] > 0:
            return []                              # no errors left: it converged
        key = r["weights_key"]
        # the same weights again, in a loop that does apply its updates (its weights changed at
        # some check, or its logged step, the sum of its updates, is exactly 0): the updates made
        # since cancel out. (A loop that applies none never changes its weights: WEIGHTS_FROZEN.)
        applies = len(seen) > 1 or key not in seen or r.get("grad_norm") == 0
        if key in seen and r["step"] - seen[key] >= 2 and applies:
            first = seen[key]
            return [finding("NOT_LINEARLY_SEPARABLE", "error",
                            f"the weights at step {r['step']} are exactly those of step {first}, with errors "
                            f"left at every step between: the updates made go round in a cycle, which (the "
                            f"perceptron cycling theorem) happens only when no line or hyperplane separates "
                            f"the classes with these inputs. More epochs or another learning rate cannot help.",
                            {"step": r["step"], "same_as_step": first, "loss": r["loss"]},
                            "give the unit a feature that separates the classes (for XOR, x1 * x2), or "
                            "use a hidden layer (a 2-2-1 network learns XOR)")]
        seen.setdefault(key, r["step"])
    return []


def targets_outside_outputs(trace) -> list[Finding]:
    """A loss below zero, persistently, from outputs in [0, 1] against targets above 1: a
    cross-entropy or a squared error is never negative with targets the outputs can reach, so
    the targets are class numbers where the loss expects one-hot rows (``a - y`` with y = 7
    pushes every one of the C outputs towards 7)."""
    # C outputs per sample (one output against targets 1, 2 is LABEL_RANGE's to name)
    recs = [r for r in trace if r.get("output_range") is not None and r.get("loss") is not None
            and math.isfinite(r["loss"]) and r["output_range"][2] >= 2]
    if len(recs) < MIN_CHECKS:
        return []
    negative = np.mean([r["loss"] < 0 for r in recs])
    in_unit = all(0 <= r["output_range"][0] and r["output_range"][1] <= 1 for r in recs)
    above = np.mean([r["target_max"] > 1 for r in recs])
    if negative < 0.5 or not in_unit or above < 0.5:
        return []
    r = recs[-1]
    return [finding("LABEL_SHAPE", "error",
                    f"the loss is below zero ({r['loss']:.4g}) at {100 * negative:.0f}% of the checks, "
                    f"which no cross-entropy or squared error can be with targets the outputs can reach: "
                    f"the outputs lie in [0, 1] and the targets go up to {r['target_max']:.4g}. The targets "
                    f"are class numbers where the loss compares them with every output.",
                    {"loss": r["loss"], "negative_share": float(negative), "target_max": r["target_max"],
                     "output_max": r["output_range"][1]},
                    "compare the outputs with one-hot targets: t = np.zeros((C, 1)); t[y] = 1 (or "
                    "np.eye(C)[y] for a batch), and keep the integer labels for accuracy only", "the targets")]


def _killed_by_first_steps(trace):
    """(first update ratio, dead share at the first check, at the end, layer) when the first
    updates were too big (above UPDATE_RATIO_HIGH) and a ReLU layer alive at the first check
    is dead for good afterwards; else None."""
    ratios = [r["update_ratio"] for r in trace[:max(2, len(trace) // 10)] if r.get("update_ratio")]
    if not ratios or max(ratios) <= UPDATE_RATIO_HIGH:
        return None
    names = _last(trace, "act_names") or []
    for name, after in _layers_over(trace, "dead_share", DEAD_LAYER_SHARE):
        i = names.index(name)
        shares = [r["dead_share"][i] for r in trace if r.get("dead_share") and r["dead_share"][i] is not None]
        if shares and shares[0] < DEAD_LAYER_SHARE / 2:
            return max(ratios), shares[0], after, name
    return None


def _smoothed_losses(trace) -> np.ndarray:
    """The finite losses averaged over windows of a tenth of the run (at least one step): a
    per-sample loss jumps tenfold from one sample to the next in a healthy run."""
    loss = _losses(trace)
    loss = loss[np.isfinite(loss)]
    w = max(1, len(loss) // 10)
    return np.convolve(loss, np.ones(w) / w, mode="valid") if len(loss) >= w else loss


def _discrete(trace) -> bool:
    """The logged loss takes a few whole-number (or whole-count-per-batch) values: an error
    count or a 0/1 loss, not a smooth loss whose jumps would mean divergence."""
    loss = _losses(trace)
    loss = loss[np.isfinite(loss)]
    if len(loss) < MIN_CHECKS:
        return False
    values = np.unique(loss)
    if len(values) > max(3, len(loss) // 4):
        return False
    batches = {r.get("batch") for r in trace if r.get("batch")} or {1}
    return any(np.allclose(values * b, np.round(values * b)) for b in (1, *batches))


def _starts_near_zero(trace) -> bool:
    """The weights started at (or near) zero, where any learning multiplies their norm."""
    checked = [r for r in trace if r.get("weight_norm") is not None]
    if not checked:
        return False
    first, n = checked[0], _num_params(trace)
    if first["weight_norm"] == 0 or (n > 0 and first["weight_norm"] / math.sqrt(n) < NEAR_ZERO_RMS):
        return True
    # the first weights seen are no bigger than a few updates: they were built from zero. Only
    # a single unit (a perceptron, a linear model) starts from zero: several units (a weight
    # matrix, or neuron objects in layers) that did would be symmetric, so their first weights
    # are an init, however big the first steps were against it
    if first.get("several_units"):
        return False
    later = next((r for r in checked[1:] if r.get("update_norm")), None)
    return later is not None and first["weight_norm"] < 3 * later["update_norm"] * max(
        1, later["step"] - first["step"])


def _num_params(trace) -> int:
    """How many numbers the logged weights hold (0 when no weights were logged)."""
    for r in trace:
        if r.get("param_count"):
            return r["param_count"]
    return 0


def _diverged_at_end(trace) -> bool:
    """The last checks' loss is not finite, or far above where it started."""
    p = loss_progress(trace)
    last = [r.get("loss") for r in trace[-PERSIST:] if r.get("loss") is not None]
    return (any(not math.isfinite(v) for v in last) or p is None or p["ratio"] > 1.5)


def _jump_steps(trace, first: float) -> tuple[int, int]:
    """The first and last step at which the loss stood above 3x its first value."""
    steps = [r["step"] for r in trace if r.get("loss") is not None and r["loss"] > 3 * first]
    return (steps[0], steps[-1]) if steps else (trace[0]["step"], trace[-1]["step"])


def broadcast_residual(trace) -> list[Finding]:
    """One output per sample against (N,) targets: ``pred - y`` is a (N, N) matrix, and the
    loss the user logged is its mean, not the mean squared error of the N pairs."""
    records = [r for r in trace if r.get("broadcast_mse") is not None and r.get("loss") is not None
               and np.isfinite(r["loss"])]
    if len(records) < 2:
        return []

    def off_by(loss: float, mse: float) -> float:  # how far the loss is from mse or mse / 2
        if loss <= 0 or mse <= 0:
            return math.inf
        return min(abs(math.log(loss / (k * mse))) for k in (0.5, 1.0))

    # The loss is the broadcast mean (to within the rounding of another dtype or a small
    # penalty) on most checks, and on the checks where the broadcast mean and the pairs' mean
    # differ it matches the broadcast. (Once the network predicts only the mean, the two are
    # equal: those checks say nothing either way.)
    matches = [off_by(r["loss"], r["broadcast_mse"]) < 0.01 for r in records]
    telling = [0 < r["pair_mse"] < math.inf and abs(math.log(r["pair_mse"] / r["broadcast_mse"])) > 1e-3
               for r in records]
    distinct = [t and m and off_by(r["loss"], r["pair_mse"]) > 10 * off_by(r["loss"], r["broadcast_mse"])
                for t, m, r in zip(telling, matches, records)]
    if sum(matches) < 0.8 * len(records) or sum(telling) < 2 or sum(distinct) < 0.8 * sum(telling):
        return []
    r = [r for r, d in zip(records, distinct) if d][-1]       # the evidence tells them apart
    shapes = ("predictions of shape (N,) minus targets of shape (N, 1)" if r.get("column") == "targets"
              else "predictions of shape (N, 1) minus targets of shape (N,)")
    return [finding("LABEL_SHAPE", "error",
                    f"the loss is the mean of a (N, N) matrix: {shapes} broadcast to every pair "
                    f"of samples. Your loss {r['loss']:.6g} matches that ({r['broadcast_mse']:.6g}), "
                    f"not the error of the {r.get('batch') or 'N'} pairs ({r['pair_mse']:.6g}).",
                    {"loss": r["loss"], "broadcast_mse": r["broadcast_mse"], "pair_mse": r["pair_mse"],
                     "batch": r.get("batch")},
                    "make predictions and targets the same shape: y = y.reshape(-1, 1) (or "
                    "pred = pred.ravel()) before pred - y", "the targets")]


def _still_improving(values, higher_is_better: bool) -> bool:
    """The last fifth of ``values`` is clearly better than the fifth before it (by more than
    twice the noise of their means): the run is still on its way, whatever it reached."""
    k = max(2, len(values) // 5)
    if len(values) < 2 * k:
        return False
    a, b = np.asarray(values[-2 * k:-k], float), np.asarray(values[-k:], float)
    gain = (b.mean() - a.mean()) if higher_is_better else (a.mean() - b.mean())
    noise = np.sqrt((a.var() + b.var()) / k)
    return bool(gain > 2 * noise and gain > 0.01 * max(abs(a.mean()), 1e-12))


def learned(trace, num_classes: int | None = None) -> dict | None:
    """How far the run got, from the numbers it logged: the accuracy against the majority
    class's share, else r2 against predicting the mean, else the loss against its start
    (or chance, ln C, when that is lower). None when too little of the loss was logged to tell."""
    p = loss_progress(trace)
    if p is None:                                 # the verdict is the loss's: none, no verdict
        return None
    acc = [r["accuracy"] for r in trace if r.get("accuracy") is not None]
    batch = _median([r.get("batch") for r in trace if r.get("batch")])
    batch = batch if math.isfinite(batch) else ACCURACY_SAMPLES   # not logged: take it as enough
    k = max(1, len(acc) // 5)
    if k * batch < ACCURACY_SAMPLES:              # the last fifth is too few samples to tell:
        k = min(max(1, len(acc) // 2), math.ceil(ACCURACY_SAMPLES / batch))   # widen it
    if len(acc) >= MIN_CHECKS and k * batch >= ACCURACY_SAMPLES:
        chance = _median([r.get("top_label_share") for r in trace])
        pooled = [r["pooled_top_share"] for r in trace if r.get("pooled_top_share") is not None]
        if pooled:                                # all labels seen: small or one-class batches
            chance = pooled[-1]
        end = float(np.mean(acc[-k:]))
        share = (end - chance) / (1 - chance) if chance < 1 else 1.0
        return {"measure": "accuracy", "start": float(np.mean(acc[:k])), "end": end, "chance": chance,
                "share": share, "improving": _still_improving(acc, True),
                "loss_start": p["start"], "loss_end": p["end"]}
    r2 = [r["r2"] for r in trace if r.get("r2") is not None and np.isfinite(r["r2"])]
    if len(r2) >= MIN_CHECKS:
        k = max(1, len(r2) // 5)
        end = float(np.mean(r2[-k:]))
        return {"measure": "r2", "start": float(np.mean(r2[:k])), "end": end, "chance": 0.0, "share": end,
                "improving": _still_improving(r2, True),
                "loss_start": p["start"], "loss_end": p["end"]}
    top = p["start"] if not num_classes else min(p["start"], math.log(num_classes))
    share = (top - p["end"]) / top if top > 0 else 1.0
    loss = _losses(trace)
    return {"measure": "loss", "start": p["start"], "end": p["end"], "chance": top, "share": share,
            "improving": _still_improving(loss[np.isfinite(loss)], False)}


def not_learning(trace, num_classes: int | None = None, *, errors: bool = False) -> list[Finding]:
    """The run did not get far from chance: NOT_LEARNING, with what to check next, whatever
    else fired; a run that learned gets an info line that says so, with its numbers.
    ``errors``: other findings are errors or warnings (then a slow start is theirs to
    explain, not a reason to train longer)."""
    if any(not math.isfinite(v) for v in _losses(trace)):
        return []                                 # NONFINITE says it, louder
    how = learned(trace, num_classes)
    if how is None:
        return []
    measure = {"accuracy": "batch accuracy", "r2": "r2 (share of the targets' variance explained)",
               "loss": "loss"}[how["measure"]]
    fmt = (lambda v: f"{100 * v:.1f}%") if how["measure"] == "accuracy" else (lambda v: f"{v:.4g}")
    numbers = f"{measure} {fmt(how['start'])} -> {fmt(how['end'])}"
    if how["measure"] != "loss" and "loss_start" in how:
        numbers += f", loss {how['loss_start']:.4g} -> {how['loss_end']:.4g}"
    if how["share"] >= LEARNED_SHARE:
        return [finding("LEARNING", "info", f"the run learns: {numbers}.", how, "")]
    if how["improving"] or how["share"] >= LEARNING_SHARE:
        then = ("the findings above are the likely reason" if errors
                else "train longer to judge it")
        return [finding("LEARNING", "info", f"the run has started to learn ({numbers}) but is still "
                        f"near where it began: {then}.", how, "")]
    chance = {"accuracy": f"always answering the most common class gives {fmt(how['chance'])}",
              "r2": "predicting the mean gives 0",
              "loss": f"the start (or chance, ln C) was {how['chance']:.4g}"}[how["measure"]]
    return [finding("NOT_LEARNING", "error",
                    f"the network is not learning: {numbers}, while {chance}.", how,
                    "check, in this order: the loss at init against chance (ln C for C classes); that "
                    "the model can overfit one small batch (a few samples, 100+ steps); the backward "
                    "pass with gradwise.doctor.check_gradients (one entry at a time); the learning "
                    "rate by decades (1e-4 ... 1)")]


def overfitting(epochs: list[dict]) -> list[Finding]:
    """Validation loss rising for several epochs while the training loss keeps falling."""
    val = [e.get("val_loss") for e in epochs]
    train = [e.get("loss") for e in epochs]
    if len(val) < 4 or any(v is None for v in val):
        return []
    best = int(np.argmin(val))
    if (len(val) - 1 - best < OVERFIT_EPOCHS or val[-1] < OVERFIT_RISE * val[best]
            or train[-1] >= train[best] or val[-1] < OVERFIT_GAP * train[-1]):
        return []
    return [finding("OVERFITTING", "warning",
               f"the validation loss rose from {val[best]:.4g} (epoch {best + 1}) to {val[-1]:.4g} "
               f"while the training loss kept falling.",
               {"best_epoch": best + 1, "best_val_loss": val[best], "last_val_loss": val[-1]},
               "stop earlier (EarlyStopping / --early-stopping 3), add dropout or weight decay, or "
               "get more data")]
