"""RNN and LSTM: float64 gradient checks through time, PyTorch twins, save/load."""

import numpy as np
import pytest

import gradwise as gw
from gradwise.gradcheck import check_layer, check_model


@pytest.mark.parametrize("cls", [gw.RNN, gw.LSTM])
def test_gradient_check_through_time(cls, rng):
    layer = cls(3, 5, rng=rng)
    report = check_layer(layer, rng.standard_normal((2, 6, 3)))
    assert report.ok and report.max_rel_error < 1e-6, str(report)
    assert {p.name for p in report.params} == {"input", "W", "U", "b"}


def test_a_stack_of_recurrent_layers_passes_the_model_check(rng):
    model = gw.Sequential([gw.LSTM(3, 4, rng=rng), gw.RNN(4, 5, rng=rng)])
    X, y = rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 5, 5))
    report = check_model(model, X, y, gw.MSE())
    assert report.ok and report.max_rel_error < 1e-6, str(report)


def test_the_state_starts_at_zero_on_every_forward(rng):
    layer = gw.LSTM(2, 3, rng=rng)
    x = rng.standard_normal((1, 4, 2)).astype(np.float32)
    first = layer.forward(x)
    layer.forward(rng.standard_normal((3, 7, 2)).astype(np.float32))
    np.testing.assert_array_equal(layer.forward(x), first)
    # and a step sees only the past: changing x_3 leaves h_0..h_2 alone
    later = x.copy()
    later[0, 3] += 1
    np.testing.assert_array_equal(layer.forward(later)[0, :3], first[0, :3])


def test_float32_by_default_and_the_first_layer_skips_dx(rng):
    layer = gw.LSTM(3, 4, rng=rng)
    assert all(p.dtype == np.float32 for p in layer.params.values())
    y = layer.forward(rng.standard_normal((2, 5, 3)))
    assert y.dtype == np.float32 and y.shape == (2, 5, 4)
    layer.needs_input_grad = False
    assert layer.backward(np.ones_like(y)) is None and np.any(layer.grads["U"])


def test_save_and_load_round_trip(tmp_path, rng):
    model = gw.Sequential([gw.LSTM(3, 4, rng=rng), gw.RNN(4, 2, rng=rng)])
    x = rng.standard_normal((2, 5, 3)).astype(np.float32)
    model.save(tmp_path / "m")
    back = gw.Sequential.load(tmp_path / "m")
    assert repr(back) == repr(model) == "Sequential([LSTM(3, 4), RNN(4, 2)])"
    np.testing.assert_array_equal(back.forward(x), model.forward(x))


def test_bad_input_says_what_to_do(rng):
    with pytest.raises(ValueError, match=r"expects input of shape \(B, T, 3\); got \(2, 5\).*Embedding"):
        gw.LSTM(3, 4, rng=rng).forward(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="hidden must be a positive integer; got 0"):
        gw.RNN(3, 0)


# ----------------------------------------------------------------------------- PyTorch twins

def _twin(torch, ours, theirs, x, g):
    """Forward and backward of both on the same x and upstream gradient g, compared to 1e-5."""
    y = ours.forward(x)
    dx = ours.backward(g)
    tx = torch.from_numpy(x).requires_grad_()
    ty, _ = theirs(tx)
    ty.backward(torch.from_numpy(g))
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-5, atol=1e-5)
    # PyTorch's weights are the transposes of ours; its two biases share one gradient, ours
    np.testing.assert_allclose(ours.grads["W"], theirs.weight_ih_l0.grad.numpy().T, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours.grads["U"], theirs.weight_hh_l0.grad.numpy().T, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours.grads["b"], theirs.bias_ih_l0.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours.grads["b"], theirs.bias_hh_l0.grad.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", ["RNN", "LSTM"])
def test_matches_torch_forward_and_backward(kind, rng):
    torch = pytest.importorskip("torch")
    F, H = 4, 6
    ours = getattr(gw, kind)(F, H, rng=rng, dtype=np.float64)
    theirs = getattr(torch.nn, kind)(F, H, batch_first=True).double()
    with torch.no_grad():
        theirs.weight_ih_l0.copy_(torch.from_numpy(ours.params["W"].T))
        theirs.weight_hh_l0.copy_(torch.from_numpy(ours.params["U"].T))
        half = ours.params["b"] / 2                          # b = bias_ih + bias_hh
        theirs.bias_ih_l0.copy_(torch.from_numpy(half))
        theirs.bias_hh_l0.copy_(torch.from_numpy(half))
    x = rng.standard_normal((3, 7, F))
    _twin(torch, ours, theirs, x, rng.standard_normal((3, 7, H)))
