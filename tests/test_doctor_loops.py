"""The doctor on small loops written the way learners write them (not gradwise's API): each
rule reads the evidence the numbers give, whatever the layout, and stays quiet on the
correct twin of each program."""

import numpy as np
import pytest

from gradwise import doctor
from gradwise.doctor.findings import numbers_not_in_evidence

TRUTH = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)


def errors(report):
    """The codes of the errors and warnings, after checking that every number each finding's
    message states is one its evidence holds (a message must never disagree with its numbers)."""
    for f in report.findings:
        assert numbers_not_in_evidence(f) == [], (f.code, f.message, f.evidence)
    return [f.code for f in report.findings if f.severity in ("error", "warning")]


def perceptron(targets, *, bias: bool, lr: float, w0, epochs=40, budget=None):
    """Rosenblatt's rule over the four patterns, logged once an epoch (scores and labels of
    the whole truth table)."""
    inputs = np.hstack([TRUTH, np.ones((4, 1))]) if bias else TRUTH
    w = np.array(w0[:inputs.shape[1]], dtype=float)
    rec = doctor.Recorder(["w"], budget=budget)
    for epoch in range(epochs):
        wrong = 0
        for x, t in zip(inputs, targets):
            out = int(w @ x > 0)
            w = w + lr * (t - out) * x
            wrong += out != t
        s = inputs @ w
        rec.log(epoch, loss=wrong / 4, weights=[w], grads=[-((targets - (s > 0)) @ inputs) / 4],
                logits=s, labels=targets)
        if wrong == 0:
            break
    return rec.report()


NAND = np.array([1, 1, 1, 0])


def test_a_unit_through_the_origin_scores_the_zero_input_exactly_zero():
    report = perceptron(NAND, bias=False, lr=0.1, w0=[0.31, -0.17])
    assert errors(report)[0] == "NO_BIAS"
    assert "exactly zero" in report.get("NO_BIAS").message


def test_the_same_perceptron_with_a_threshold_is_clean():
    assert errors(perceptron(NAND, bias=True, lr=0.1, w0=[0.31, -0.17, 0.05])) == []


def test_weights_on_a_grid_make_exact_zeros_by_arithmetic_not_evidence():
    """w from 0 in steps of 0.25 on 0/1 inputs: scores of exactly 0 with a threshold learned."""
    for gate in (np.array([0, 0, 0, 1]), np.array([0, 1, 1, 1])):
        assert errors(perceptron(gate, bias=True, lr=0.25, w0=[0, 0, 0])) == []


def test_a_score_of_exactly_zero_is_read_as_a_score_not_a_probability():
    """Scores 0, 0.25, 0.5 lie in [0, 1] but a sigmoid never gives exactly 0: threshold 0."""
    rec = doctor.Recorder(budget=None)
    w = np.array([0.25, 0.25])
    for step in range(6):
        rec.log(step, loss=0.0, weights=[w + 1e-3 * step], logits=TRUTH @ w, labels=np.array([0, 1, 1, 1]))
    assert rec.trace[-1]["accuracy"] == 1.0         # read as probabilities (> 0.5): 0.5


def xor_online(bias: bool, steps=6000, seed=0):
    """A 2-2-1 sigmoid net trained on one random XOR pattern per step (column of two inputs)."""
    rng = np.random.default_rng(seed)
    t_all = np.array([0.0, 1, 1, 0])
    W1, W2 = rng.normal(size=(2, 2)), rng.normal(size=(1, 2))
    b1, b2 = np.zeros((2, 1)), np.zeros((1, 1))
    sig = lambda z: 1 / (1 + np.exp(-z))                     # noqa: E731
    rec = doctor.Recorder(["W1", "W2", "b1", "b2"] if bias else ["W1", "W2"], budget=None)
    for step in range(steps):
        i = rng.integers(4)
        x, t = TRUTH[i].reshape(2, 1), t_all[i]
        h = sig(W1 @ x + b1)
        o = sig(W2 @ h + b2)
        d2 = (o - t) * o * (1 - o)
        d1 = (W2.T @ d2) * h * (1 - h)
        gW2, gW1 = d2 @ h.T, d1 @ x.T
        W2 -= 0.5 * gW2
        W1 -= 0.5 * gW1
        if bias:
            b2 -= 0.5 * d2
            b1 -= 0.5 * d1
        if step % 50 == 0:
            ws, gs = ([W1, W2, b1, b2], [gW1, gW2, d1, d2]) if bias else ([W1, W2], [gW1, gW2])
            rec.log(step, loss=float(((o - t) ** 2).item()), weights=ws, grads=gs,
                    activations=[h], logits=o.ravel(), labels=np.array([t]))
    return rec.report()


def test_hidden_units_at_exactly_one_half_name_the_missing_bias():
    report = xor_online(bias=False)
    assert "NO_BIAS" in errors(report)
    assert report.get("NO_BIAS").severity == "error"


def linreg(*, intercept: bool, lr: float, steps: int, scale=1.0):
    """y = 3 x + 4 on volumes of 0.5-2.5 litres, w a flat vector, full batch."""
    rng = np.random.default_rng(7)
    x = rng.uniform(0.5, 2.5, 300) * scale
    y = 3 * x / scale + 4 + 0.3 * rng.normal(size=300)
    w, b = 0.0, 0.0
    rec = doctor.Recorder(["w", "b"] if intercept else ["w"], budget=None)
    for it in range(steps):
        pred = w * x + b
        err = pred - y
        gw, gb = 2 * np.mean(err * x), 2 * np.mean(err)
        w -= lr * gw
        if intercept:
            b -= lr * gb
        rec.log(it, loss=float(np.mean(err ** 2)), weights=[np.array([w])] + ([np.array([b])] if intercept else []),
                grads=[np.array([gw])] + ([np.array([gb])] if intercept else []), logits=pred, labels=y)
    return rec.report()


def test_a_line_through_the_origin_leaves_errors_a_straight_line_would_remove():
    report = linreg(intercept=False, lr=0.05, steps=300)
    assert errors(report)[0] == "NO_BIAS"
    ev = report.get("NO_BIAS").evidence
    assert ev["removable_share"] > 0.5 and ev["intercept_missing"] < 0       # it over-predicts at 0


def test_an_intercept_learnt_slowly_is_not_a_missing_bias():
    """Its gradient is twice the mean error: the model has a bias, the step is what is small."""
    report = linreg(intercept=True, lr=0.0005, steps=300)
    assert "NO_BIAS" not in errors(report)
    assert errors(linreg(intercept=True, lr=0.05, steps=2000)) == []


@pytest.mark.parametrize("column", ["targets", "predictions"])
def test_a_broadcast_residual_is_named_even_once_the_model_predicts_the_mean(column):
    """pred - y of shapes (N,) and (N, 1): the model ends predicting the mean, where the two
    losses agree; the checks where they differ say which one was logged."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 1
    w, b = np.zeros(3), 0.0
    rec = doctor.Recorder(["w", "b"], budget=None)
    for it in range(150):
        pred = X @ w + b
        p, t = (pred, y[:, None]) if column == "targets" else (pred[:, None], y)
        resid = p - t                                        # (N, N)
        loss = float(np.mean(resid ** 2))
        r = resid.mean(axis=0 if column == "targets" else 1).ravel()   # the learner's "fix"
        gw, gb = 2 * X.T @ r / len(X), 2 * r.mean()
        w, b = w - 0.1 * gw, b - 0.1 * gb
        rec.log(it, loss=loss, weights=[w, np.array([b])], grads=[gw, np.array([gb])], logits=p, labels=t)
    f = rec.report().get("LABEL_SHAPE")
    assert f is not None and f.severity == "error"
    shown = f"predictions of shape {'(N,)' if column == 'targets' else '(N, 1)'} minus"
    assert shown in f.message
    ev = f.evidence                                          # the message's numbers tell them apart
    assert abs(np.log(ev["pair_mse"] / ev["broadcast_mse"])) > 1e-3


def test_same_shapes_are_no_broadcast():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, 3))
    y = (X @ np.array([1.0, -2.0, 0.5]) + 1)[:, None]
    W, b = np.zeros((3, 1)), np.zeros(1)
    rec = doctor.Recorder(["W", "b"], budget=None)
    for it in range(150):
        pred = X @ W + b
        err = pred - y
        gW, gb = 2 * X.T @ err / len(X), 2 * err.mean(0)
        W, b = W - 0.1 * gW, b - 0.1 * gb
        rec.log(it, loss=float(np.mean(err ** 2)), weights=[W, b], grads=[gW, gb], logits=pred, labels=y)
    assert errors(rec.report()) == []


@pytest.mark.parametrize("sort", [True, False])
def test_batches_of_one_class_are_named_from_the_labels_logged(sort):
    """A softmax regression fed its data in class order (columns of samples, Nielsen-style):
    each batch holds one class while all of them hold ten."""
    rng = np.random.default_rng(5)
    y = rng.integers(0, 10, 2000)
    X = rng.normal(size=(20, 2000)) + 0.5 * np.eye(20, 10)[:, y]       # (features, samples)
    order = np.argsort(y, kind="stable") if sort else rng.permutation(2000)
    W, b = 0.01 * rng.normal(size=(10, 20)), np.zeros((10, 1))
    rec = doctor.Recorder(["W", "b"], budget=None)
    for step, s in enumerate(range(0, 2000, 50)):
        cols = order[s:s + 50]
        x, t = X[:, cols], np.eye(10)[:, y[cols]]
        z = W @ x + b
        p = np.exp(z - z.max(0)); p /= p.sum(0)
        d = (p - t) / len(cols)
        W -= 0.5 * d @ x.T
        b -= 0.5 * d.sum(1, keepdims=True)
        rec.log(step, loss=float(-np.mean(np.log(p[y[cols], np.arange(len(cols))]))), weights=[W, b],
                grads=[d @ x.T, d.sum(1, keepdims=True)], logits=z, labels=t)
    found = [f for f in rec.report().findings if f.code == "CLASS_ORDERED"]
    assert bool(found) is sort
    if sort:
        assert found[0].severity == "error" and found[0].evidence["top_class_share_overall"] < 0.2


@pytest.mark.parametrize("apply", ["transpose", "reshape"])
def test_a_gradient_logged_transposed_is_a_layout_when_the_updates_follow_it(apply):
    """W of shape (out, in), its gradient computed as x @ delta.T, (in, out): W -= lr * dW.T is
    right (a note); W -= lr * dW.reshape(W.shape) scrambles the entries (an error)."""
    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, 600)
    X = rng.normal(size=(6, 600)) + np.eye(6, 3)[:, y]
    W, b = 0.1 * rng.normal(size=(3, 6)), np.zeros((3, 1))
    rec = doctor.Recorder(["W", "b"], budget=None)
    for step in range(60):
        cols = rng.choice(600, 50, replace=False)
        x, t = X[:, cols], np.eye(3)[:, y[cols]]
        z = W @ x + b
        p = np.exp(z - z.max(0)); p /= p.sum(0)
        d = (p - t) / 50
        dW, db = x @ d.T, d.sum(1, keepdims=True)                 # dW: (6, 3)
        W -= 0.5 * (dW.T if apply == "transpose" else dW.reshape(W.shape))
        b -= 0.5 * db
        rec.log(step, loss=float(-np.mean(np.log(p[y[cols], np.arange(50)]))), weights=[W, b],
                grads=[dW, db], logits=z, labels=t)
    f = rec.report().get("GRADIENT_SHAPE")
    assert f is not None and f.where == "W"
    assert f.severity == ("info" if apply == "transpose" else "error")


def test_the_layout_of_weight_matrices_is_read_from_how_their_shapes_chain():
    from gradwise.doctor.rules import chain_in_axes
    row_major = [(784, 128), (128, 64), (64, 10)]                 # X @ W, (in, out)
    assert chain_in_axes(row_major, 10) == [0, 0, 0]
    assert chain_in_axes(row_major[::-1], 10) == [0, 0, 0]        # listed output layer first
    assert chain_in_axes([(30, 784), (10, 30)], 10) == [1, 1]     # Nielsen: W @ x, (out, in)
    assert chain_in_axes([(30, 784), (10, 30)], None) is None     # which end is the output?
    assert chain_in_axes([(8, 8), (8, 8)], 8) is None             # square: either way
    assert chain_in_axes([(784, 10)], 10) is None                 # one matrix: no chain


def test_unscaled_weights_are_judged_with_the_fan_in_their_chain_gives():
    """W1 (100, 10) drawn from randn: gain 10 with its true fan-in of 100, while the reading
    with fewest alarms (fan-in 10) would call it 3.2, within bounds."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((64, 100)), rng.integers(0, 3, 64)
    W1, W2 = rng.standard_normal((100, 10)), rng.standard_normal((10, 3)) * 0.3
    rec = doctor.Recorder(["W1", "W2"], budget=None)
    for step in range(12):                       # no learning: the loss stays where it is
        h = np.tanh(X @ W1)
        z = h @ W2
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        rec.log(step, loss=-np.mean(np.log(p[np.arange(64), y])), weights=[W1, W2],
                activations=[h], logits=z, labels=y)
    found = rec.report().get("INIT_TOO_LARGE")
    assert found is not None and found.where == "W1" and found.evidence["fan_in"] == 100


def softmax_rows(z):
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


@pytest.mark.parametrize("twice", [True, False])
def test_softmax_applied_twice_is_told_by_which_cross_entropy_the_loss_is(twice):
    rng = np.random.default_rng(1)
    centres = rng.standard_normal((3, 4)) * 3
    y = rng.integers(0, 3, 300)
    X = centres[y] + rng.standard_normal((300, 4))
    W, b = rng.standard_normal((4, 3)) * 0.1, np.zeros(3)
    Y = np.eye(3)[y]
    rec = doctor.Recorder(["W", "b"], budget=None)
    for step in range(60):
        idx = rng.integers(0, 300, 32)
        p = softmax_rows(X[idx] @ W + b)             # the network ends in a softmax
        if twice:                                      # a loss that applies its own softmax
            q = softmax_rows(p)
            loss = -np.mean(np.log(q[np.arange(32), y[idx]]))
            g = (q - Y[idx]) / 32
            dz = p * (g - np.sum(g * p, axis=1, keepdims=True))
        else:
            loss = -np.mean(np.log(p[np.arange(32), y[idx]]))
            dz = (p - Y[idx]) / 32
        dW, db = X[idx].T @ dz, dz.sum(0)
        W -= 0.5 * dW
        b -= 0.5 * db
        rec.log(step, loss=loss, weights=[W, b], grads=[dW, db], logits=p, labels=y[idx])
    report = rec.report()
    if twice:
        assert errors(report)[0] == "OUTPUT_LOSS_MISMATCH"
        f = report.get("OUTPUT_LOSS_MISMATCH")
        assert f"{f.evidence['loss']:.4g}" in f.message and "twice" in f.message
    else:
        assert errors(report) == []


def test_a_loss_already_infinite_at_the_first_step_is_not_the_learning_rate():
    """log(0) of a saturated output at the first forward pass: small, steady updates after it."""
    rng = np.random.default_rng(2)
    W = rng.standard_normal((20, 5)) * 0.1
    rec = doctor.Recorder(["W"], budget=None)
    for step in range(20):
        W = W - 1e-3 * rng.standard_normal(W.shape) * 0.1
        rec.log(step, loss=np.inf if step < 3 else 5.0 - 0.01 * step, weights=[W],
                grads=[rng.standard_normal(W.shape)])
    codes = errors(rec.report())
    assert "NONFINITE" in codes and "LR_TOO_HIGH" not in codes


def blobs_mlp(*, hidden_sign=-1.0, lr=0.5, decay=1.0, accumulate=False, steps=150, batch=16, log_every=1):
    """A 20-32-4 tanh/softmax network on four Gaussian blobs, mini-batch SGD, weights (in, out).
    ``hidden_sign=+1`` adds the hidden layer's gradient (it climbs the loss); ``decay`` scales
    the learning rate at every step; ``accumulate`` never zeroes the gradient sums."""
    rng = np.random.default_rng(5)
    centres = rng.standard_normal((4, 20)) * 1.5
    y = rng.integers(0, 4, 800)
    X = centres[y] + rng.standard_normal((800, 20))
    W1, b1 = rng.standard_normal((20, 32)) / np.sqrt(20), np.zeros(32)
    W2, b2 = rng.standard_normal((32, 4)) / np.sqrt(32), np.zeros(4)
    sums = [np.zeros_like(a) for a in (W1, b1, W2, b2)]
    rec = doctor.Recorder(["W1", "b1", "W2", "b2"], budget=None)
    for step in range(steps):
        idx = rng.integers(0, 800, batch)
        h = np.tanh(X[idx] @ W1 + b1)
        z = h @ W2 + b2
        p = softmax_rows(z)
        loss = -np.mean(np.log(p[np.arange(batch), y[idx]]))
        dz = p.copy()
        dz[np.arange(batch), y[idx]] -= 1
        dz /= batch
        dh = (dz @ W2.T) * (1 - h ** 2)
        grads = [X[idx].T @ dh, dh.sum(0), h.T @ dz, dz.sum(0)]
        if accumulate:
            for s, g in zip(sums, grads):
                s += g
            grads = [s.copy() for s in sums]
        W1 += hidden_sign * lr * grads[0]
        b1 += hidden_sign * lr * grads[1]
        W2 -= lr * grads[2]
        b2 -= lr * grads[3]
        lr *= decay
        if step % log_every == 0:
            rec.log(step, loss=loss, weights=[W1, b1, W2, b2], grads=grads, activations=[h],
                    logits=z, labels=y[idx])
    return rec.report()


def test_the_correct_blobs_network_learns_and_is_clean():
    report = blobs_mlp()
    assert errors(report) == [] and report.get("LEARNING") is not None


def test_one_layer_stepping_along_its_gradient_is_a_gradient_mismatch():
    report = blobs_mlp(hidden_sign=+1.0, log_every=5, steps=400)
    f = report.get("GRADIENT_MISMATCH")
    assert f is not None and f.severity == "error"
    assert set(f.evidence["along"]) == {"W1", "b1"} and set(f.evidence["against"]) == {"W2", "b2"}


def test_a_learning_rate_that_decays_to_nothing_is_too_low():
    report = blobs_mlp(lr=0.02, decay=0.9)          # 0.02 * 0.9^t: 1e-9 by step 150
    f = report.get("LR_TOO_LOW")
    assert f is not None and f.evidence["step_per_grad_end"] < f.evidence["step_per_grad_start"] / 100


def test_steps_too_short_to_turn_the_gradient_are_a_learning_rate_too_low():
    report = blobs_mlp(lr=1e-3, batch=64)
    assert "LR_TOO_LOW" in errors(report)
    assert report.get("LR_TOO_LOW").evidence["median_grad_cosine"] >= 0.9


@pytest.mark.parametrize("mu", [1.0, 0.9])
def test_weights_that_move_with_no_gradient_name_an_undamped_velocity(mu):
    """Units that died (gradient exactly 0 from step 30 on), updated through a velocity: with
    v = v + g they keep moving at the speed they had; with v = 0.9 v + g they stop."""
    rng = np.random.default_rng(3)
    W, v = rng.standard_normal((10, 5)) * 0.3, np.zeros((10, 5))
    rec = doctor.Recorder(["W"], budget=None)
    for step in range(200):
        g = rng.standard_normal(W.shape) * 0.1 if step < 30 else np.zeros_like(W)
        v = mu * v + g
        W = W - 0.01 * v
        if step % 10 in (0, 1):                  # pairs of consecutive steps
            rec.log(step, loss=2.0, weights=[W], grads=[g])
    f = rec.report().get("MOMENTUM")
    assert (f is not None and f.severity == "error") == (mu == 1.0)


@pytest.mark.parametrize("mu", [1.0, 0.9])
def test_a_velocity_logged_every_few_steps_is_named_when_never_damped(mu):
    """The blobs network with a velocity (v = mu v + g; W -= lr v), logged every fifth step
    only: the momentum fit compares updates that span five steps each."""
    rng = np.random.default_rng(6)
    centres = rng.standard_normal((4, 20)) * 1.5
    y = rng.integers(0, 4, 800)
    X = centres[y] + rng.standard_normal((800, 20))
    params = [rng.standard_normal((20, 32)) / np.sqrt(20), np.zeros(32),
              rng.standard_normal((32, 4)) / np.sqrt(32), np.zeros(4)]
    vel = [np.zeros_like(p) for p in params]
    rec = doctor.Recorder(["W1", "b1", "W2", "b2"], budget=None)
    for step in range(300):
        W1, b1, W2, b2 = params
        idx = rng.integers(0, 800, 16)
        h = np.tanh(X[idx] @ W1 + b1)
        z = h @ W2 + b2
        p = softmax_rows(z)
        loss = -np.mean(np.log(p[np.arange(16), y[idx]] + 1e-12))
        dz = p.copy()
        dz[np.arange(16), y[idx]] -= 1
        dz /= 16
        dh = (dz @ W2.T) * (1 - h ** 2)
        grads = [X[idx].T @ dh, dh.sum(0), h.T @ dz, dz.sum(0)]
        for w, v, g in zip(params, vel, grads):
            v *= mu
            v += g
            w -= 0.05 * v
        if step % 5 == 0:
            rec.log(step, loss=loss, weights=params, grads=grads, activations=[h], logits=z,
                    labels=y[idx])
    report = rec.report()
    assert ("MOMENTUM" in errors(report)) == (mu == 1.0)


@pytest.mark.parametrize("bug", [True, False])
def test_a_weight_gradient_without_its_input_factor_is_named(bug):
    """A 2-8-1 tanh/sigmoid network on the XOR quadrants, one point per step, W of shape
    (in, out). With the bug the hidden weights' gradient is delta alone, the same for both
    inputs (np.outer(ones, delta)): every hidden unit's two weights move by the same step. The
    run reaches 80% all the same (bands between parallel lines), so the finding is a warning."""
    rng = np.random.default_rng(7)
    X = rng.uniform(-1, 1, (400, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(float)
    W1, b1 = rng.standard_normal((2, 8)), np.zeros(8)
    W2, b2 = rng.standard_normal((8, 1)) / np.sqrt(8), np.zeros(1)
    rec = doctor.Recorder(["W1", "b1", "W2", "b2"], budget=None)
    losses = []
    for step in range(4000):
        i = rng.integers(400)
        x, t = X[i], y[i]
        h = np.tanh(x @ W1 + b1)
        o = 1 / (1 + np.exp(-(h @ W2 + b2)))
        losses.append(float(-(t * np.log(o[0]) + (1 - t) * np.log(1 - o[0]))))
        d_o = o - t
        d_h = (W2 @ d_o) * (1 - h ** 2)
        grads = [np.outer(np.ones(2) if bug else x, d_h), d_h, np.outer(h, d_o), d_o]
        for w, g in zip((W1, b1, W2, b2), grads):
            w -= 0.1 * g
        if step % 40 == 0:
            rec.log(step, loss=float(np.mean(losses[-40:])), weights=[W1, b1, W2, b2], grads=grads,
                    activations=[h], logits=o, labels=np.array([t]))
    report = rec.report()
    found = errors(report)
    if bug:
        assert found == ["GRADIENT_MISMATCH"] and report.get("GRADIENT_MISMATCH").evidence["uniform"] == ["W1"]
    else:
        assert found == [] and report.get("LEARNING") is not None


def test_a_perceptron_whose_weights_come_back_names_a_problem_no_line_separates():
    xor = np.array([0, 1, 1, 0])
    report = perceptron(xor, bias=True, lr=0.1, w0=[0.0, 0.0, 0.0], epochs=30)
    assert errors(report)[0] == "NOT_LINEARLY_SEPARABLE"
    f = report.get("NOT_LINEARLY_SEPARABLE")
    assert f"step {f.evidence['same_as_step']}" in f.message


@pytest.mark.parametrize("one_hot", [False, True])
def test_class_numbers_compared_with_sigmoid_outputs_make_a_loss_below_zero(one_hot):
    """Ten sigmoid outputs (a column, Nielsen's layout) and the cross-entropy against the
    digit itself (a - j broadcasts) rather than its one-hot column."""
    rng = np.random.default_rng(4)
    W, b = rng.standard_normal((10, 8)) * 0.3, np.zeros((10, 1))
    rec = doctor.Recorder(["W", "b"], budget=None)
    for step in range(40):
        x, j = rng.standard_normal((8, 1)), int(rng.integers(2, 10))
        t = np.eye(10)[:, [j]] if one_hot else j
        a = 1 / (1 + np.exp(-(W @ x + b)))
        loss = float(-np.sum(t * np.log(a) + (1 - t) * np.log(1 - a)))
        delta = a - t
        W -= 0.05 * delta @ x.T
        b -= 0.05 * delta
        rec.log(step, loss=loss, weights=[W, b], grads=[delta @ x.T, delta], logits=a, labels=t)
    codes = errors(rec.report())
    assert ("LABEL_SHAPE" in codes) == (not one_hot)


def test_a_number_the_evidence_does_not_hold_is_caught():
    from gradwise.doctor.findings import Finding
    f = Finding("STALLED", "error", "the loss is not falling (2.5 -> 1.2), 40% of it", {"start": 2.5, "end": 1.3,
                                                                                  "share": 0.4})
    assert numbers_not_in_evidence(f) == ["1.2"]
    g = Finding("LEARNING", "info", "accuracy 97.3% -> 98.1%, loss -3.4e+02", {"a": 0.973, "b": 0.981, "l": -340.0})
    assert numbers_not_in_evidence(g) == []


@pytest.mark.parametrize("recovers", [True, False])
def test_one_class_early_is_no_single_class_once_the_predictions_spread_again(recovers):
    """Collapsed onto class 3 for the first 30 steps; then right on 3 samples in 4 (recovered)
    or still class 3 (not): SINGLE_CLASS only when it holds at the end, never beside an
    accuracy that contradicts it."""
    rng = np.random.default_rng(6)
    rec = doctor.Recorder(budget=None)
    for step in range(60):
        y = rng.integers(0, 5, 64)
        z = rng.standard_normal((64, 5))
        if step < 30 or not recovers:
            z[:, 3] += 10.0
        else:
            right = rng.random(64) < 0.75
            z[right, y[right]] += 10.0
        rec.log(step, loss=1.6 - (0.01 * step if recovers else 0.0), logits=z, labels=y)
    report = rec.report()
    assert ("SINGLE_CLASS" in errors(report)) == (not recovers)
    if recovers:
        assert report.get("LEARNING").evidence["end"] > 0.75     # 3 in 4, and chance on the rest


def test_no_fix_sends_the_reader_to_findings_that_may_not_be_there():
    """A finding may be the only one: its fix says what to check, never 'see the findings above'."""
    import inspect
    from gradwise.doctor import rules
    source = inspect.getsource(rules)
    assert "findings above" not in source.replace('"the findings above are the likely reason" if errors', "")


def test_a_gradient_uniform_because_its_inputs_are_saturated_is_no_missing_input_factor():
    """Sigmoid units pinned at exactly 1 feed the next layer the same input everywhere, so
    its right gradient h.T @ delta has equal rows: saturation, not a missing factor."""
    rng = np.random.default_rng(8)
    W1, W2 = rng.uniform(0, 1, (20, 8)) * 50, rng.standard_normal((8, 3))
    rec = doctor.Recorder(["W1", "W2"], budget=None)
    for step in range(12):
        X = rng.uniform(0, 1, (16, 20))
        y = rng.integers(0, 3, 16)
        h = 1 / (1 + np.exp(-(X @ W1)))                     # 1.0 to the last bit
        z = h @ W2
        p = softmax_rows(z)
        d = p.copy()
        d[np.arange(16), y] -= 1
        d /= 16
        g1, g2 = X.T @ ((d @ W2.T) * h * (1 - h)), h.T @ d
        W1 -= 0.1 * g1
        W2 -= 0.1 * g2
        rec.log(step, loss=float(-np.mean(np.log(p[np.arange(16), y]))), weights=[W1, W2],
                grads=[g1, g2], activations=[h], logits=z, labels=y)
    assert "GRADIENT_MISMATCH" not in rec.report().codes()
