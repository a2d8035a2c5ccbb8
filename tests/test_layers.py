"""Every layer: float64 finite-difference check of backward, plus its own behaviour."""

import numpy as np
import pytest

import gradwise as gw
from gradwise.gradcheck import check_layer


def _x(rng, shape=(5, 4)):
    x = rng.standard_normal(shape)
    x[np.abs(x) < 1e-3] = 0.5            # stay away from ReLU's kink at 0
    return x


@pytest.mark.parametrize("make", [
    lambda: gw.Dense(4, 3, rng=np.random.default_rng(0)),
    lambda: gw.Dense(4, 3, init="glorot_uniform", rng=np.random.default_rng(1)),
    gw.ReLU, lambda: gw.LeakyReLU(0.1), gw.Sigmoid, gw.Tanh, gw.Softmax, gw.Identity,
    lambda: gw.Dropout(0.3, rng=np.random.default_rng(0)),
], ids=["Dense", "Dense-glorot", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "Identity",
        "Dropout"])
def test_gradient_check_float64(make, rng):
    report = check_layer(make(), _x(rng))
    assert report.ok, str(report)
    assert report.max_rel_error < 1e-6


def test_flatten_gradient_check_on_images(rng):
    report = check_layer(gw.Flatten(), rng.standard_normal((3, 2, 4, 4)))
    assert report.ok and report.max_rel_error < 1e-6


def test_dense_shapes_and_first_layer_input_grad_switch(rng):
    layer = gw.Dense(4, 3, rng=rng)
    y = layer.forward(rng.standard_normal((5, 4)).astype(np.float32))
    assert y.shape == (5, 3) and y.dtype == np.float32
    dx = layer.backward(np.ones((5, 3), np.float32))
    assert dx.shape == (5, 4)
    assert layer.grads["W"].shape == (4, 3) and layer.grads["b"].shape == (3,)
    np.testing.assert_allclose(layer.grads["b"], 5.0)           # bias gradient sums over the batch
    layer.needs_input_grad = False
    assert layer.backward(np.ones((5, 3), np.float32)) is None


def test_dense_gradients_are_written_into_the_same_arrays(rng):
    layer = gw.Dense(4, 3, rng=rng)
    gW = layer.grads["W"]
    layer.forward(rng.standard_normal((2, 4)).astype(np.float32))
    layer.backward(np.ones((2, 3), np.float32))
    assert layer.grads["W"] is gW            # optimisers may keep references


def test_dense_input_errors_say_what_to_do():
    layer = gw.Dense(784, 10)
    with pytest.raises(ValueError, match=r"expects input of shape \(N, 784\).*Flatten"):
        layer.forward(np.zeros((2, 28, 28), np.float32))
    with pytest.raises(ValueError, match=r"\(N, 784\)"):
        layer.forward(np.zeros((2, 10), np.float32))
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="positive integer"):
            gw.Dense(bad, 3)


def test_activations_never_modify_their_input(rng):
    for layer in (gw.ReLU(), gw.LeakyReLU(), gw.Sigmoid(), gw.Tanh(), gw.Softmax()):
        x = rng.standard_normal((4, 3))
        before = x.copy()
        layer.forward(x)
        layer.backward(np.ones_like(x))
        np.testing.assert_array_equal(x, before)


def test_softmax_layer_backward_is_the_full_jacobian_product(rng):
    x = rng.standard_normal((1, 4))
    layer = gw.Softmax()
    y = layer.forward(x)[0]
    jacobian = np.diag(y) - np.outer(y, y)            # dy_i/dx_j
    g = rng.standard_normal(4)
    np.testing.assert_allclose(layer.backward(g[None])[0], jacobian.T @ g, rtol=1e-12)


def test_sigmoid_layer_saturates_without_overflow():
    y = gw.Sigmoid().forward(np.array([[-1e5, 1e5]], np.float32))
    np.testing.assert_array_equal(y, [[0, 1]])


def test_dropout_is_inverted_and_identity_at_test_time():
    x = np.ones((2000, 50), np.float32)
    layer = gw.Dropout(0.25, rng=np.random.default_rng(0))
    y = layer.forward(x, training=True)
    assert set(np.unique(y)) == {0.0, np.float32(1 / 0.75)}
    assert (y == 0).mean() == pytest.approx(0.25, abs=0.01)
    assert y.mean() == pytest.approx(1.0, abs=0.01)              # expectation preserved
    np.testing.assert_array_equal(layer.backward(x), y)          # same mask on the way back
    assert layer.forward(x, training=False) is x
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        gw.Dropout(1.0)


def test_layer_registry_and_repr():
    assert repr(gw.Dense(3, 2)) == "Dense(3, 2)"
    assert repr(gw.LeakyReLU(0.2)) == "LeakyReLU(alpha=0.2)"
    assert gw.layers.LAYERS["Dropout"] is gw.Dropout
