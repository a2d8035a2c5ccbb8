"""Linear regression by gradient descent that turns into NaN.

The bug (seed 004): features in the thousands (a house's size in square feet) and lr=1e-3
without standardisation: every step overshoots, the loss grows, and within a few epochs the
weights are inf, then NaN. gradwise's LinearRegression stops and says DIVERGED, with the step
size that would have worked. The fix: standardise the features (or take that step size).

    python examples/linear_regression_nan.py
"""

import sys
import warnings

import numpy as np

from gradwise import classic

from _common import parse, step


def houses(n=200, seed=0):
    rng = np.random.default_rng(seed)
    size = rng.uniform(600, 4000, n)                       # square feet
    rooms = rng.integers(1, 7, n).astype(float)
    age = rng.uniform(0, 80, n)                            # years
    X = np.column_stack([size, rooms, age])
    price = 120 * size + 8000 * rooms - 500 * age + 30000 + rng.normal(0, 10000, n)
    return X, price


def r2(model, X, y) -> float:
    pred = model.predict(X)
    if not np.all(np.isfinite(pred)):
        return float("nan")
    return float(1 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2))


def main(argv=None) -> dict:
    parse(argv, __doc__, full_help=False)
    X, y = houses()

    step("the original: raw features, lr = 1e-3")
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        bad = classic.LinearRegression(lr=1e-3, max_epochs=1000).fit(X, y)
    print(f"stopped after {bad.n_iter_} epochs; R^2 = {r2(bad, X, y)}")

    step("the doctor (LinearRegression.report)")
    print(bad.report)

    step("the fix: standardize=True (coefficients come back in the original units)")
    good = classic.LinearRegression(standardize=True).fit(X, y)
    exact = np.linalg.lstsq(np.column_stack([X, np.ones(len(X))]), y, rcond=None)[0]
    print(f"coefficients {np.round(good.coef_, 2)}, intercept {good.intercept_:.0f}; "
          f"least squares: {np.round(exact[:3], 2)}, {exact[3]:.0f}")
    before, after = r2(bad, X, y), r2(good, X, y)
    print(f"\nR^2: before {before} -> after {after:.4f}")
    return {"codes": bad.report.codes(), "before": before, "after": after,
            "max_rel_diff_lstsq": float(np.max(np.abs(np.r_[good.coef_, good.intercept_] - exact)
                                                / np.abs(exact)))}


if __name__ == "__main__":
    main(sys.argv[1:])
