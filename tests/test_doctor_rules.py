"""Each rule of the doctor on synthetic numbers: it fires on the bug and stays quiet without."""

import numpy as np
import pytest

from gradwise.doctor import rules


def codes(findings):
    return [f.code for f in findings if f.severity != "info"]


def trace(n=10, loss=None, **series):
    """A synthetic trace of n checks; each keyword is a list of n values (one per check) or a
    constant."""
    loss = np.linspace(2.3, 0.3, n) if loss is None else loss
    out = []
    for i in range(n):
        r = {"step": i, "loss": float(loss[i])}
        for k, v in series.items():
            per_check = isinstance(v, (list, np.ndarray)) and len(v) == n
            r[k] = v[i] if per_check else v
        out.append(r)
    return out


# ------------------------------------------------------------------------------ data

def test_nonfinite_input(rng):
    X = rng.random((20, 3))
    assert codes(rules.nonfinite_input(X)) == []
    X[4, 1] = np.nan
    f = rules.nonfinite_input(X)
    assert codes(f) == ["NONFINITE_INPUT"] and f[0].evidence["first_sample"] == 4


def test_input_scale(rng):
    X = rng.integers(0, 256, (100, 784)).astype(np.float32)
    f = rules.input_scale(X)
    assert codes(f) == ["INPUT_SCALE"] and "255" in f[0].fix and f[0].evidence["max"] == 255
    assert rules.input_scale(X / 255) == []
    assert rules.input_scale(rng.standard_normal((100, 20))) == []          # standardised: fine
    assert "Standardizer" in rules.input_scale(rng.standard_normal((100, 5)) * 1000)[0].fix


def test_train_test_shift(rng):
    X = rng.random((200, 10))
    assert rules.train_test_shift(X, rng.random((50, 10))) == []
    assert codes(rules.train_test_shift(X, rng.random((50, 10)) * 255)) == ["TRAIN_TEST_SHIFT"]
    assert codes(rules.train_test_shift(X, rng.random((50, 10)) + 3)) == ["TRAIN_TEST_SHIFT"]
    assert rules.train_test_shift(X, None) == []


def test_class_ordered(rng):
    y = np.repeat(np.arange(10), 50)
    assert codes(rules.class_ordered(y)) == ["CLASS_ORDERED"]
    assert rules.class_ordered(y, shuffled_by_fit=True)[0].severity == "info"
    assert rules.class_ordered(rng.permutation(y)) == []
    assert rules.class_ordered(np.zeros(100, int)) == []                     # one class: no order


def test_label_range_and_shape():
    y = np.arange(1, 11).repeat(5)
    f = rules.label_range(y, 10)
    assert codes(f) == ["LABEL_RANGE"] and "subtract 1" in f[0].fix
    assert codes(rules.label_range(y)) == ["LABEL_RANGE"]                    # 1..10 without a model
    assert rules.label_range(y - 1, 10) == []
    assert codes(rules.label_range(np.array([0, 3, 12]), 10)) == ["LABEL_RANGE"]
    assert codes(rules.label_shape(np.arange(10.0).reshape(10, 1) % 4, 10)) == ["LABEL_SHAPE"]
    assert codes(rules.label_shape(np.arange(10.0).reshape(10, 1) % 2, 10)) == []   # one sigmoid's targets
    assert codes(rules.label_shape(np.eye(3)[[0, 1, 2, 0]] * 2, 4)) == ["LABEL_SHAPE"]
    assert codes(rules.label_shape(np.zeros(9), 10)) == ["LABEL_SHAPE"]
    assert rules.label_shape(np.eye(3)[[0, 1, 2, 0]], 4) == [] and rules.label_shape(np.zeros(4), 4) == []


def test_class_imbalance(rng):
    assert codes(rules.class_imbalance(np.r_[np.zeros(500), np.ones(20)].astype(int))) == ["CLASS_IMBALANCE"]
    assert rules.class_imbalance(np.r_[np.zeros(500), np.ones(100)].astype(int)) == []


# ------------------------------------------------------------------------------ init

@pytest.mark.parametrize("make,code", [
    (lambda r: r.random((784, 64)), "INIT_ALL_POSITIVE"),
    (lambda r: r.standard_normal((784, 256)), "INIT_TOO_LARGE"),
    (lambda r: r.standard_normal((784, 64)) * 1e-4, "INIT_TOO_SMALL"),
    (lambda r: np.zeros((784, 64)), "INIT_SYMMETRIC"),
    (lambda r: np.full((64, 10), 0.01), "INIT_SYMMETRIC"),
])
def test_init_rules_fire(make, code, rng):
    assert code in codes(rules.init_weights(make(rng), "W", fan_in=None))


@pytest.mark.parametrize("std_of", [lambda i, o: np.sqrt(2 / i), lambda i, o: np.sqrt(2 / (i + o)),
                                    lambda i, o: np.sqrt(1 / i)])
def test_init_rules_quiet_on_principled_inits(std_of, rng):
    for fan_in, fan_out in ((784, 256), (256, 10), (2, 4), (64, 64)):
        W = rng.standard_normal((fan_in, fan_out)) * std_of(fan_in, fan_out)
        assert rules.init_weights(W, "W", fan_in=fan_in) == []
        assert rules.init_weights(W.T, "W") == []                         # (out, in) layout too


def test_initial_loss():
    assert codes(rules.initial_loss(40.0, 10)) == ["INITIAL_LOSS"]
    assert rules.initial_loss(40.0, 10, suffering=False)[0].severity == "info"
    assert rules.initial_loss(2.4, 10) == []


def test_output_loss_mismatch():
    assert codes(rules.output_loss_mismatch("Softmax", "SoftmaxCrossEntropy")) == ["OUTPUT_LOSS_MISMATCH"]
    assert codes(rules.output_loss_mismatch("Sigmoid", "BinaryCrossEntropy", True)) == ["OUTPUT_LOSS_MISMATCH"]
    assert codes(rules.output_loss_mismatch("Dense", "BinaryCrossEntropy", False)) == ["OUTPUT_LOSS_MISMATCH"]
    assert codes(rules.output_loss_mismatch("Sigmoid", "MSE")) == ["OUTPUT_LOSS_MISMATCH"]
    assert rules.output_loss_mismatch("Dense", "SoftmaxCrossEntropy") == []
    assert rules.output_loss_mismatch("Sigmoid", "BinaryCrossEntropy", False) == []
    assert rules.output_loss_mismatch("Dense", "MSE") == []


# ------------------------------------------------------------------------------ training trace

def test_nonfinite_names_step_and_place():
    t = trace(6, nonfinite=[None, None, None, "the gradient of W1", None, None])
    f = rules.nonfinite(t)
    assert codes(f) == ["NONFINITE"] and f[0].evidence == {"step": 3, "first_in": "the gradient of W1"}
    assert rules.nonfinite(trace(6)) == []


def test_learning_rate_rules():
    healthy = trace(10, update_ratio=2e-3, weight_norm=np.linspace(10, 11, 10))
    assert rules.learning_rate(healthy) == []
    climbing = trace(10, loss=np.linspace(2.3, 9, 10), update_ratio=0.2)
    assert codes(rules.learning_rate(climbing)) == ["LR_TOO_HIGH"]
    blown = trace(10, loss=np.linspace(2.3, 1.2, 10), update_ratio=0.01,
                  weight_norm=np.linspace(10, 90, 10))
    assert codes(rules.learning_rate(blown)) == ["LR_TOO_HIGH"]
    # 4x over 900 steps while the loss halves: weights that grow as the network learns
    slow = trace(10, loss=np.linspace(2.3, 1.2, 10), update_ratio=0.005,
                 weight_norm=np.linspace(5, 21, 10), step=list(range(0, 1000, 100)))
    assert "LR_TOO_HIGH" not in codes(rules.learning_rate(slow))
    frozen_loss = trace(10, loss=np.full(10, 2.3), update_ratio=1e-6)
    assert codes(rules.learning_rate(frozen_loss)) == ["LR_TOO_LOW"]
    dead = trace(10, loss=np.full(10, 2.3), update_ratio=1e-6, act_names=["relu"], dead_share=[[0.95]] * 10)
    assert "LR_TOO_LOW" not in codes(rules.learning_rate(dead))              # blocked, not slow


def test_weights_frozen():
    t = trace(6, param_names=["W1", "W2"], param_update=[[0.0, 0.1]] * 6, grad_norms=[[0.5, 0.5]] * 6,
              param_norms=[[10.0, 10.0]] * 6)
    f = rules.weights_frozen(t)
    assert codes(f) == ["WEIGHTS_FROZEN"] and f[0].where == "W1"
    moving = trace(6, param_names=["W1"], param_update=[[0.1]] * 6, grad_norms=[[0.5]] * 6,
                   param_norms=[[10.0]] * 6)
    assert rules.weights_frozen(moving) == []
    vanished = trace(6, param_names=["W1"], param_update=[[0.0]] * 6, grad_norms=[[1e-6]] * 6,
                     param_norms=[[10.0]] * 6)                    # too small to move float32
    assert rules.weights_frozen(vanished) == []


def test_gradient_not_reset():
    t = trace(10, grad_cosine=0.999, grad_norm=list(np.linspace(1, 20, 10)))
    assert codes(rules.gradient_not_reset(t)) == ["GRADIENT_NOT_RESET"]
    full_batch = trace(10, grad_cosine=0.999, grad_norm=list(np.linspace(1, 0.2, 10)))
    assert rules.gradient_not_reset(full_batch) == []                      # aligned but shrinking
    minibatch = trace(10, grad_cosine=0.3, grad_norm=list(np.linspace(1, 5, 10)))
    assert rules.gradient_not_reset(minibatch) == []


def test_momentum_fit_separates_the_cases(rng):
    from gradwise.doctor.recorder import fit_momentum
    prev, g = rng.standard_normal(500), rng.standard_normal(500)
    for mu in (0.0, 0.9, 1.0):
        fitted, c, resid = fit_momentum(mu * prev - 0.01 * g, prev, g)
        assert fitted == pytest.approx(mu, abs=1e-9) and c == pytest.approx(-0.01) and resid < 1e-9
    assert codes(rules.momentum(trace(8, momentum_fit=(1.0, -0.01, 0.0)))) == ["MOMENTUM"]
    assert rules.momentum(trace(8, momentum_fit=(0.9, -0.01, 0.0))) == []
    assert rules.momentum(trace(8, momentum_fit=(1.0, -0.01, 0.5))) == []   # the fit explains nothing


def test_momentum_from_updates_that_span_several_steps():
    """A loop that logs every third step: each unseen step's gradient may leave a share of the
    update unexplained, and the gradient alone must not explain it (a plain step along a
    gradient that turns slowly repeats the last update too)."""
    undamped = trace(8, momentum_fit=(1.0, -0.3, 0.12), momentum_gap=3, grad_alone_residual=0.95)
    assert codes(rules.momentum(undamped)) == ["MOMENTUM"]
    plain = trace(8, momentum_fit=(1.0, -0.3, 0.12), momentum_gap=3, grad_alone_residual=0.1)
    assert rules.momentum(plain) == []
    damped = trace(8, momentum_fit=(0.73, -0.3, 0.3), momentum_gap=3, grad_alone_residual=0.95)
    assert rules.momentum(damped) == []


def test_uniform_gradients_name_a_missing_input_factor():
    t = trace(8, loss=np.full(8, 0.7), param_names=["w1", "w2"], grad_norms=[[0.5, 0.2]] * 8,
              uniform_grads=[[0]] * 8)
    f = rules.uniform_gradients(t)
    assert codes(f) == ["GRADIENT_MISMATCH"] and f[0].evidence["uniform"] == ["w1"]
    once = trace(8, loss=np.full(8, 0.7), param_names=["w1"], grad_norms=[[0.5]] * 8,
                 uniform_grads=[[0]] * 4 + [[]] * 4)           # an input that was all one value, at times
    assert rules.uniform_gradients(once) == []


def test_loss_summed():
    t = trace(6, mean_ce=2.3, batch=64, loss=np.full(6, 2.3 * 64))
    assert codes(rules.loss_summed(t)) == ["LOSS_SUMMED"]
    assert rules.loss_summed(trace(6, mean_ce=2.3, batch=64, loss=np.full(6, 2.3))) == []


def test_dead_relu_needs_persistence():
    dead = trace(6, act_names=["layer 1"], dead_share=[[0.8]] * 6)
    assert codes(rules.dead_relu(dead)) == ["DEAD_RELU"]
    blip = trace(6, act_names=["layer 1"], dead_share=[[0.1]] * 5 + [[0.8]])
    assert rules.dead_relu(blip) == []


def test_saturation_only_when_training_suffers():
    sat = dict(act_names=["layer 1"], saturated_share=[[0.9]] * 8)
    assert codes(rules.saturation(trace(8, loss=np.full(8, 0.09), **sat))) == ["SATURATION"]
    assert rules.saturation(trace(8, **sat)) == []                          # loss falls: fine


def test_vanishing_and_exploding():
    assert codes(rules.vanishing_gradient(trace(8, loss=np.full(8, 2.3), first_last_grad=1e-4))) == ["VANISHING_GRADIENT"]
    assert rules.vanishing_gradient(trace(8, loss=np.full(8, 2.3), first_last_grad=0.3)) == []
    assert codes(rules.exploding_gradient(trace(5, grad_norm=[1, 10, 1e3, 1e5, 1e6]))) == ["EXPLODING_GRADIENT"]
    assert rules.exploding_gradient(trace(5, grad_norm=[1, 2, 1.5, 0.5, 0.4])) == []


def test_single_class_and_stalled():
    collapsed = trace(6, loss=np.full(6, 2.3), top_pred=3, top_pred_share=0.99, top_label_share=0.12)
    assert codes(rules.single_class(collapsed)) == ["SINGLE_CLASS"]
    assert "ln(10)" in rules.stalled(collapsed, 10)[0].message
    varied = trace(6, top_pred=3, top_pred_share=0.3, top_label_share=0.12)
    assert rules.single_class(varied) == [] and rules.stalled(varied, 10) == []
    one_class_data = trace(6, top_pred=0, top_pred_share=1.0, top_label_share=1.0)
    assert rules.single_class(one_class_data) == []


def test_overfitting():
    epochs = [{"loss": l, "val_loss": v} for l, v in
              zip([1.0, 0.5, 0.3, 0.2, 0.1, 0.05, 0.02], [1.0, 0.6, 0.5, 0.55, 0.65, 0.7, 0.8])]
    assert codes(rules.overfitting(epochs)) == ["OVERFITTING"]
    healthy = [{"loss": l, "val_loss": l * 1.1} for l in [1.0, 0.5, 0.3, 0.2, 0.1]]
    assert rules.overfitting(healthy) == []
