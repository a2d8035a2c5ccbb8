import numpy as np
import pytest

from gradwise import Dense
from gradwise.init import INITIALIZERS, get_initializer


@pytest.mark.parametrize("name,std", [
    ("he_normal", np.sqrt(2 / 400)), ("he_uniform", np.sqrt(2 / 400)),
    ("glorot_normal", np.sqrt(2 / 600)), ("glorot_uniform", np.sqrt(2 / 600)),
    ("lecun_normal", np.sqrt(1 / 400)), ("normal01", 1.0),
])
def test_spread_follows_the_fan(name, std):
    w = get_initializer(name)((400, 200), np.random.default_rng(0), np.float32)
    assert w.dtype == np.float32 and w.shape == (400, 200)
    assert abs(w.mean()) < 0.02 * std * 10
    assert w.std() == pytest.approx(std, rel=0.03)


def test_naive_uniform01_is_all_positive_and_zeros_are_zero():
    w = get_initializer("uniform01")((50, 50), np.random.default_rng(0), np.float64)
    assert w.min() >= 0 and w.max() < 1 and w.mean() == pytest.approx(0.5, abs=0.02)
    assert not get_initializer("zeros")((3, 3), None, np.float32).any()


def test_every_name_builds_a_dense_layer_and_unknown_names_list_the_choices():
    for name in INITIALIZERS:
        assert Dense(4, 3, init=name, rng=np.random.default_rng(0)).params["W"].shape == (4, 3)
    with pytest.raises(ValueError, match="he_normal"):
        Dense(4, 3, init="kaiming")


def test_same_rng_seed_same_weights():
    a = Dense(5, 5, rng=np.random.default_rng(7)).params["W"]
    b = Dense(5, 5, rng=np.random.default_rng(7)).params["W"]
    np.testing.assert_array_equal(a, b)
