import warnings

import numpy as np
import pytest

from gradwise import classic
from gradwise.classic import ConvergenceWarning
from gradwise.data import toy


@pytest.mark.parametrize("gate", sorted(toy.GATES))
def test_perceptron_learns_every_separable_gate_and_names_xor(gate):
    X, y = toy.gate(gate)
    table = toy.truth_table(gate)
    if table in toy.NOT_LINEARLY_SEPARABLE:
        with pytest.warns(ConvergenceWarning, match="not linearly separable"):
            p = classic.Perceptron(max_epochs=50).fit(X, y)
        assert p.report.codes() == ["NOT_LINEARLY_SEPARABLE"] and "hidden layer" in p.report.findings[0].fix
        assert p.n_iter_ == 50 and not p.converged_
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            p = classic.Perceptron().fit(X, y)
        np.testing.assert_array_equal(p.predict(X), y)
        assert p.converged_ and p.report.ok


def test_perceptron_bias_is_learned_not_fixed():
    X, y = toy.gate("nand")                               # needs a negative threshold
    p = classic.Perceptron(shuffle=False).fit(X, y)
    assert p.intercept_ > 0 and np.all(p.coef_ < 0)
    assert p.coef_.dtype == np.float64 and not np.all(p.coef_ == np.round(p.coef_ * 10) / 10 + 0.05)


def test_linear_regression_agrees_with_lstsq(rng):
    X = rng.standard_normal((300, 4))
    y = X @ np.array([2.0, -1.0, 0.5, 3.0]) - 4.0 + 0.05 * rng.standard_normal(300)
    sol = np.linalg.lstsq(np.hstack([X, np.ones((300, 1))]), y, rcond=None)[0]
    for standardize in (False, True):
        m = classic.LinearRegression(standardize=standardize).fit(X, y)
        got = np.r_[m.coef_, m.intercept_]
        assert np.max(np.abs(got - sol) / np.abs(sol)) < 1e-6
        assert m.report.ok
    np.testing.assert_allclose(m.predict(X), np.hstack([X, np.ones((300, 1))]) @ sol, rtol=1e-6)


@pytest.mark.parametrize("method", ["minibatch", "sgd"])
def test_linear_regression_stochastic_methods_get_close(method, rng):
    X = rng.standard_normal((200, 2))
    y = X @ np.array([1.0, -2.0]) + 0.5
    m = classic.LinearRegression(lr=0.01, method=method, max_epochs=200).fit(X, y)
    np.testing.assert_allclose(m.coef_, [1.0, -2.0], atol=0.05)


def test_features_in_the_thousands_diverge_loudly_with_a_working_suggestion(rng):
    X = rng.uniform(1000, 5000, (100, 3))                  # e.g. house sizes in square feet
    y = X @ np.array([0.3, 0.1, -0.2]) + 50
    with pytest.warns(ConvergenceWarning, match="diverged"):
        bad = classic.LinearRegression(lr=1e-3).fit(X, y)
    assert bad.report.codes() == ["INPUT_SCALE", "DIVERGED"]
    diverged = bad.report.findings[1]
    assert diverged.evidence["lr"] == 1e-3 and diverged.evidence["suggested_lr"] < 1e-6
    fixed = classic.LinearRegression(lr=diverged.evidence["suggested_lr"], max_epochs=3000).fit(X, y)
    assert np.all(np.isfinite(fixed.coef_)) and fixed.report.codes() == ["INPUT_SCALE"]
    good = classic.LinearRegression(standardize=True).fit(X, y)
    np.testing.assert_allclose(good.coef_, [0.3, 0.1, -0.2], rtol=1e-6)


def test_logistic_regression_binary_and_softmax(rng):
    X = rng.standard_normal((300, 2))
    y = (X[:, 0] - X[:, 1] > 0).astype(int)
    m = classic.LogisticRegression().fit(X, y)
    assert (m.predict(X) == y).mean() > 0.97 and m.coef_.shape == (2,)
    assert np.allclose(m.predict_proba(X).sum(axis=1), 1)
    y3 = np.digitize(X[:, 0], [-0.5, 0.5])
    m3 = classic.LogisticRegression(max_epochs=3000).fit(X, y3)
    assert (m3.predict(X) == y3).mean() > 0.9 and m3.coef_.shape == (2, 3)


def test_bad_inputs():
    with pytest.raises(ValueError, match="3 samples but 2 targets"):
        classic.LinearRegression().fit(np.zeros((3, 2)), [1, 2])
    with pytest.raises(ValueError, match="NaN"):
        classic.Perceptron().fit(np.array([[np.nan, 1.0]]), [1])
    with pytest.raises(ValueError, match="two classes only"):
        classic.Perceptron().fit(np.eye(3), [0, 1, 2])
    with pytest.raises(ValueError, match="method"):
        classic.LinearRegression(method="newton")
    with pytest.raises(ValueError, match="single class"):
        classic.LogisticRegression().fit(np.eye(3), [1, 1, 1])


def test_a_csv_of_features_in_the_thousands_is_diverged_not_nan(tmp_path, rng):
    """The seed's situation end to end: house prices from a CSV file, lr=1e-3, raw features."""
    X = np.column_stack([rng.uniform(600, 4000, 80), rng.uniform(1000, 9000, 80)]).round()
    price = X @ np.array([120.0, 3.0]) + 30000
    rows = ["price,size,lot"] + [f"{p:.1f},{a:.0f},{b:.0f}" for p, (a, b) in zip(price, X)]
    (tmp_path / "houses.csv").write_text("\n".join(rows) + "\n")
    data = np.loadtxt(tmp_path / "houses.csv", delimiter=",", skiprows=1)
    X, y = data[:, 1:], data[:, 0]
    with pytest.warns(ConvergenceWarning):
        bad = classic.LinearRegression(lr=1e-3).fit(X, y)
    assert bad.report.codes() == ["INPUT_SCALE", "DIVERGED"]
    assert "standardize=True" in bad.report.findings[-1].fix
    good = classic.LinearRegression(standardize=True).fit(X, y)
    np.testing.assert_allclose(good.predict(X), y, rtol=1e-6)
    np.testing.assert_allclose(good.coef_, [120.0, 3.0], rtol=1e-6)
