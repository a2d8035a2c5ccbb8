import numpy as np
import pytest

from gradwise.functional import log_sigmoid, log_softmax, logsumexp, one_hot, softmax, stable_sigmoid


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_is_stable_and_exact_for_any_input(dtype):
    x = np.array([-1e4, -800, -50, -1, 0, 1, 50, 800, 1e4], dtype=dtype)
    y = stable_sigmoid(x)
    assert y.dtype == dtype
    assert np.all(np.isfinite(y)) and np.all((y >= 0) & (y <= 1))
    assert y[4] == 0.5 and y[0] == 0 and y[-1] == 1
    mid = np.array([-3.0, -0.5, 0.5, 3.0])
    np.testing.assert_allclose(stable_sigmoid(mid), 1 / (1 + np.exp(-mid)), rtol=1e-15)


def test_log_sigmoid_matches_naive_where_naive_works():
    x = np.linspace(-20, 20, 41)
    np.testing.assert_allclose(log_sigmoid(x), -np.logaddexp(0, -x), rtol=1e-12)
    np.testing.assert_allclose(log_sigmoid(x), np.log(1 / (1 + np.exp(-x))), rtol=1e-7)
    assert log_sigmoid(np.array([-1000.0]))[0] == -1000.0


def test_softmax_shifts_by_the_max_so_huge_logits_do_not_overflow():
    x = np.array([[1000.0, 1001.0, 1002.0], [-1000.0, 0.0, 1000.0]])
    p = softmax(x)
    np.testing.assert_allclose(p.sum(axis=1), 1)
    np.testing.assert_allclose(p[0], softmax(np.array([[0.0, 1.0, 2.0]]))[0])
    with np.errstate(under="ignore"):               # exp(-2000) is 0: expected here
        np.testing.assert_allclose(np.exp(log_softmax(x)), p, atol=1e-300)
    np.testing.assert_allclose(logsumexp(np.array([[0.0, 0.0]])), [[np.log(2)]])


def test_softmax_is_per_row_not_over_the_whole_batch():
    x = np.array([[0.0, 0.0], [10.0, 10.0]])
    np.testing.assert_allclose(softmax(x), 0.5)


def test_one_hot_and_its_errors():
    np.testing.assert_array_equal(one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(ValueError, match="1-based"):
        one_hot(np.array([1, 10]), 10)
    with pytest.raises(ValueError, match="1-D"):
        one_hot(np.zeros((2, 2), int), 3)


def test_integer_labels_accepts_whole_floats_and_names_the_bad_ones():
    from gradwise.functional import integer_labels
    assert integer_labels(np.array([0.0, 2.0]), "y").dtype == np.intp
    assert integer_labels(np.array([True, False]), "y").tolist() == [1, 0]
    with pytest.raises(ValueError, match=r"y: labels must be whole numbers; got \[0.5\]"):
        integer_labels(np.array([0.0, 0.5]), "y")
    with pytest.raises(ValueError, match="dtype <U1"):
        integer_labels(np.array(["a"]), "y")
