"""check_function must catch the classic backward bugs, and must check one entry at a time."""

import numpy as np
import pytest

import gradwise as gw
from gradwise.gradcheck import check_function, check_model


def two_layer(rng, n=7):
    """A tiny hand-written network, in the style a beginner writes: returns f and params."""
    X = rng.standard_normal((n, 4))
    y = rng.integers(0, 3, n)
    params = {"W1": rng.standard_normal((4, 5)) * 0.5, "b1": rng.standard_normal(5) * 0.1,
              "W2": rng.standard_normal((5, 3)) * 0.5, "b2": rng.standard_normal(3) * 0.1}
    loss = gw.SoftmaxCrossEntropy()

    def f(p):
        h = np.tanh(X @ p["W1"] + p["b1"])
        return loss.forward(h @ p["W2"] + p["b2"], y)

    def backward(p, bug=None):
        z1 = X @ p["W1"] + p["b1"]
        h = np.tanh(z1)
        loss.forward(h @ p["W2"] + p["b2"], y)
        dz2 = loss.backward()                                   # (N, 3)
        dW2 = h.T @ dz2                                         # (5, 3)
        db2 = dz2.sum(axis=0)                                   # (3,)
        dz1 = (dz2 @ p["W2"].T) * (1 - h ** 2)                  # (N, 5)
        dW1 = X.T @ dz1                                         # (4, 5)
        db1 = dz1.sum(axis=0)                                   # (5,)
        if bug == "transposed_dW":
            dW2 = dz2.T @ h                                     # (3, 5): the transpose of dW2
        if bug == "bias_wrong_axis":
            db1 = dz1.sum(axis=1)                               # (N,): summed over units, not batch
        if bug == "bias_wrong_axis_square":
            db1 = dz1.sum(axis=1)[:5]                           # right shape, wrong numbers
        return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}

    return f, params, backward


def test_correct_backward_passes(rng):
    f, params, backward = two_layer(rng)
    report = check_function(f, params, backward(params))
    assert report.ok and report.max_rel_error < 1e-6, str(report)


def test_transposed_weight_gradient_is_caught_and_named(rng):
    f, params, backward = two_layer(rng)
    report = check_function(f, params, backward(params, "transposed_dW"))
    assert not report.ok
    assert [p.name for p in report.failed] == ["W2"]
    assert "shape (3, 5)" in report["W2"].problem and "transpose" in str(report)


def test_bias_gradient_summed_over_the_wrong_axis_is_caught(rng):
    f, params, backward = two_layer(rng)
    report = check_function(f, params, backward(params, "bias_wrong_axis"))
    assert [p.name for p in report.failed] == ["b1"]
    # even when the shapes happen to agree, the numbers give it away
    f, params, backward = two_layer(rng, n=9)
    report = check_function(f, params, backward(params, "bias_wrong_axis_square"))
    assert [p.name for p in report.failed] == ["b1"]
    assert report["b1"].rel_error > 1e-2
    assert len(report["b1"].worst) == 5 and "FAIL" in str(report)


def test_nudges_one_coordinate_at_a_time_and_restores_it():
    calls = []
    W = np.array([1.0, 2.0, 3.0])
    original = W.copy()

    def f(p):
        calls.append(p[0].copy())
        return float(np.sum(p[0] ** 3))

    report = check_function(f, [W], [3 * W ** 2])
    assert report.ok
    np.testing.assert_array_equal(W, original)
    for x in calls:                                   # each evaluation moved exactly one entry
        assert np.sum(x != original) == 1


def test_large_arrays_are_sampled(rng):
    W = rng.standard_normal((100, 50))
    report = check_function(lambda p: float(np.sum(p[0] ** 2)), [W], [2 * W], max_coords=30)
    assert report.ok and report.params[0].checked == 30


def test_float32_parameters_are_refused_with_the_fix():
    with pytest.raises(TypeError, match="astype"):
        check_function(lambda p: 0.0, [np.ones(2, np.float32)], [np.ones(2)])


def test_three_layer_model_passes(rng):
    model = gw.Sequential([gw.Dense(6, 8, rng=rng), gw.Tanh(), gw.Dense(8, 5, rng=rng), gw.ReLU(),
                           gw.Dense(5, 4, rng=rng)])
    X, y = rng.standard_normal((10, 6)), rng.integers(0, 4, 10)
    report = check_model(model, X, y, gw.SoftmaxCrossEntropy())
    assert report.ok and report.max_rel_error < 1e-6, str(report)
    assert [p.name for p in report.params] == ["0.W", "0.b", "2.W", "2.b", "4.W", "4.b"]
    assert model.params[0].dtype == np.float32        # the check worked on a float64 copy


@pytest.mark.parametrize("loss,target", [
    (gw.MSE(), "onehot"), (gw.BinaryCrossEntropy(), "binary")])
def test_models_with_other_losses_and_dropout(loss, target, rng):
    model = gw.Sequential([gw.Dense(5, 6, rng=rng), gw.Sigmoid(),
                           gw.Dropout(0.3, rng=np.random.default_rng(1)), gw.Dense(6, 3, rng=rng),
                           gw.LeakyReLU(0.1), gw.Dense(3, 3, rng=rng)])
    X = rng.standard_normal((8, 5))
    y = np.eye(3)[rng.integers(0, 3, 8)] if target == "onehot" else rng.integers(0, 2, (8, 3))
    report = check_model(model, X, y, loss)
    assert report.ok and report.max_rel_error < 1e-6, str(report)


def test_softmax_layer_with_mse_model(rng):
    model = gw.Sequential([gw.Dense(4, 3, rng=rng), gw.Softmax()])
    X, y = rng.standard_normal((6, 4)), np.eye(3)[rng.integers(0, 3, 6)]
    assert check_model(model, X, y, gw.MSE()).max_rel_error < 1e-6


def test_the_doctors_check_leaves_out_relu_kinks_but_not_wrong_gradients():
    """Inputs exactly at a ReLU's kink make the central difference the mean of two slopes: no
    derivative at all. check_gradients leaves such entries out (seen in the numbers: the
    curvature, or a finer nudge, changes the estimate); a wrong gradient is still caught."""
    from gradwise import doctor
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    X[:10] = 0.0                                      # ten samples at x = 0: b = 0 sits on the kink
    W, b = rng.normal(size=(3, 5)), np.zeros(5)

    def f(p):
        return float(np.sum(np.maximum(X @ p[0] + p[1], 0)) / len(X))

    mask = (X @ W + b) > 0
    dW, db = X.T @ mask / len(X), mask.sum(axis=0) / len(X)
    assert doctor.check_gradients(f, [W, b], [dW, db]).ok
    assert doctor.check_gradients(f, [W, b], [dW, 2 * db]).codes() == ["GRADIENT_MISMATCH"]


def test_a_right_gradient_too_small_for_the_loss_rounding_passes():
    """A gradient of 1.2e-7 beside a loss of 1: the central difference's rounding (an ulp of
    the loss over 2 eps, 5e-11) is a relative error of 5e-4 between two right answers, and
    must not read as a mismatch (hypothesis found it: params [1.0] and [5.96e-8])."""
    params = [np.array([1.0]), np.array([5.96046448e-08])]
    report = check_function(lambda p: float(p[0][0] ** 2 + p[1][0] ** 2), params, [2 * q for q in params])
    assert report.ok, str(report)
    wrong = check_function(lambda p: float(p[0][0] ** 2 + p[1][0] ** 2), params, [3 * q for q in params])
    assert not wrong.ok
