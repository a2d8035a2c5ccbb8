import numpy as np
import pytest

import gradwise as gw
from gradwise.gradcheck import check_loss


def test_softmax_cross_entropy_gradient_with_labels_and_one_hot(rng):
    logits = rng.standard_normal((6, 4))
    labels = rng.integers(0, 4, 6)
    assert check_loss(gw.SoftmaxCrossEntropy(), logits, labels).max_rel_error < 1e-6
    onehot = np.eye(4)[labels]
    assert check_loss(gw.SoftmaxCrossEntropy(), logits, onehot).max_rel_error < 1e-6
    soft = rng.dirichlet(np.ones(4), 6)                 # soft targets work as well
    assert check_loss(gw.SoftmaxCrossEntropy(), logits, soft).max_rel_error < 1e-6


def test_softmax_cross_entropy_value_and_stability():
    loss = gw.SoftmaxCrossEntropy()
    assert loss(np.zeros((2, 10)), np.array([3, 7])) == pytest.approx(np.log(10))
    huge = np.array([[1e4, 0.0, -1e4]], np.float32)       # naive exp() would overflow
    assert loss(huge, np.array([0])) == pytest.approx(0.0, abs=1e-6)
    assert loss(huge, np.array([2])) == pytest.approx(2e4, rel=1e-6)
    g = loss.backward()
    assert np.all(np.isfinite(g)) and g.dtype == np.float32


def test_softmax_cross_entropy_validates_targets():
    loss = gw.SoftmaxCrossEntropy()
    x = np.zeros((3, 10))
    with pytest.raises(ValueError, match=r"\[0, 10\).*1-based"):
        loss(x, np.array([1, 5, 10]))
    with pytest.raises(ValueError, match="min -1"):
        loss(x, np.array([0, -1, 2]))
    with pytest.raises(ValueError, match="whole numbers"):
        loss(x, np.array([0.5, 1, 2]))
    with pytest.raises(ValueError, match="sum to 1"):
        loss(x, np.ones((3, 10)))
    with pytest.raises(ValueError, match=r"shape \(N,\).*\(N, 10\)"):
        loss(x, np.zeros((3, 9)))
    with pytest.raises(ValueError, match="3 predictions but 2 targets"):
        loss(x, np.array([0, 1]))
    with pytest.raises(ValueError, match="NaN"):
        loss(np.full((3, 10), np.nan), np.array([0, 1, 2]))
    assert loss(x, np.array([0.0, 1.0, 2.0])) == pytest.approx(np.log(10))   # float labels ok


def test_mse_gradient_value_and_shapes(rng):
    pred, target = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    assert check_loss(gw.MSE(), pred, target).max_rel_error < 1e-6
    assert gw.MSE()(pred, target) == pytest.approx(np.mean((pred - target) ** 2))
    assert gw.MSE()(np.ones((4, 1)), np.zeros(4)) == 1.0            # (N,) target for (N, 1)
    with pytest.raises(ValueError, match="one-hot"):
        gw.MSE()(np.ones((4, 10)), np.arange(4))


@pytest.mark.parametrize("from_logits", [True, False])
def test_binary_cross_entropy_gradient(from_logits, rng):
    z = rng.standard_normal((6, 2))
    pred = z if from_logits else 1 / (1 + np.exp(-z))
    target = rng.integers(0, 2, (6, 2)).astype(float)
    loss = gw.BinaryCrossEntropy(from_logits=from_logits)
    assert check_loss(loss, pred, target).max_rel_error < 1e-6


def test_binary_cross_entropy_agrees_between_logits_and_probabilities(rng):
    z = rng.standard_normal((8, 1))
    y = rng.integers(0, 2, 8)
    a = gw.BinaryCrossEntropy()(z, y)
    b = gw.BinaryCrossEntropy(from_logits=False)(1 / (1 + np.exp(-z)), y)
    assert a == pytest.approx(b, rel=1e-9)


def test_binary_cross_entropy_is_finite_at_the_extremes():
    logits = gw.BinaryCrossEntropy()
    assert logits(np.array([[1e4], [-1e4]]), np.array([0, 1])) == pytest.approx(1e4)
    probs = gw.BinaryCrossEntropy(from_logits=False)
    value = probs(np.array([[0.0], [1.0]]), np.array([1, 0]))
    assert np.isfinite(value) and value == pytest.approx(-np.log(1e-7), rel=1e-6)
    assert np.all(probs.backward() == 0)            # clipped region is flat
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        logits(np.zeros((2, 1)), np.array([0, 2]))


def test_losses_by_name():
    assert isinstance(gw.losses.get_loss("mse"), gw.MSE)
    assert isinstance(gw.losses.get_loss("SoftmaxCrossEntropy"), gw.SoftmaxCrossEntropy)
    with pytest.raises(ValueError, match="choose one of"):
        gw.losses.get_loss("hinge")
