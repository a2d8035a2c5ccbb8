"""Classic learners by gradient descent, scikit-learn style: ``fit(X, y) -> self``, ``predict``,
``coef_``, ``intercept_``, and ``report``: the doctor's findings from the last fit.

These are the programs people write first (a perceptron for logic gates, linear regression by
gradient descent) and the ones that most often loop forever or turn into NaN. Each one here
stops within its limits, and says why when it could not learn.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .doctor import rules
from .doctor.findings import Finding, Report
from .functional import log_softmax, softmax, stable_sigmoid


class ConvergenceWarning(UserWarning):
    """A learner stopped at its limit without reaching a solution."""


def _xy(X, y, who: str) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise ValueError(f"{who}: X must be (n_samples, n_features); got shape {X.shape}")
    if len(X) != len(y):
        raise ValueError(f"{who}: {len(X)} samples but {len(y)} targets")
    if len(X) == 0:
        raise ValueError(f"{who}: no samples")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{who}: X contains NaN or inf")
    return X, y


class Perceptron:
    """Rosenblatt's perceptron for two classes, with a learned bias.

    For each misclassified sample: ``w <- w + lr * (y - y_hat) * x`` and
    ``b <- b + lr * (y - y_hat)``, with y in {0, 1} and ``y_hat = [w . x + b > 0]``.
    The bias is the threshold, learned like any weight (a fixed threshold is why a hand-made
    perceptron learns AND and OR but never NAND or NOR); the weights are never rounded.

    It stops after the first epoch without a mistake, or after ``max_epochs``: a problem
    that is not linearly separable (XOR, XNOR) never has such an epoch, so then it warns
    and ``report`` holds NOT_LINEARLY_SEPARABLE.
    """

    def __init__(self, lr: float = 1.0, max_epochs: int = 100, *, fit_intercept: bool = True,
                 shuffle: bool = True, seed: int | None = 0) -> None:
        if lr <= 0 or max_epochs < 1:
            raise ValueError(f"Perceptron: lr must be > 0 and max_epochs >= 1; got {lr}, {max_epochs}")
        self.lr, self.max_epochs, self.shuffle, self.seed = float(lr), int(max_epochs), shuffle, seed
        self.fit_intercept = fit_intercept

    def fit(self, X, y) -> "Perceptron":
        X, y = _xy(X, y, "Perceptron")
        classes = np.unique(y)
        if len(classes) > 2:
            raise ValueError(f"Perceptron: two classes only; got {len(classes)} ({classes[:5]}...)")
        self.classes_ = classes
        t = (y == classes[-1]).astype(np.float64) if len(classes) == 2 else np.zeros(len(y))
        rng = np.random.default_rng(self.seed)
        self.coef_, self.intercept_ = np.zeros(X.shape[1]), 0.0
        self.converged_, self.mistakes_ = False, []
        for epoch in range(self.max_epochs):
            mistakes = 0
            for i in (rng.permutation(len(X)) if self.shuffle else range(len(X))):
                error = t[i] - float(X[i] @ self.coef_ + self.intercept_ > 0)   # -1, 0 or 1
                if error:
                    self.coef_ += self.lr * error * X[i]
                    if self.fit_intercept:
                        self.intercept_ += self.lr * error
                    mistakes += 1
            self.mistakes_.append(mistakes)
            if mistakes == 0:
                self.converged_ = True
                break
        self.n_iter_ = epoch + 1
        found = rules.input_scale(X, "X")
        if not self.converged_:
            through_origin = "" if self.fit_intercept else " through the origin (the bias is fixed at 0)"
            found.append(Finding(
                "NOT_LINEARLY_SEPARABLE", "error",
                f"no line (hyperplane){through_origin} separates the two classes: after "
                f"{self.max_epochs} epochs the perceptron still makes {self.mistakes_[-1]} mistakes "
                f"per epoch.", {"epochs": self.max_epochs, "mistakes_last_epoch": self.mistakes_[-1],
                                "learned_bias": self.fit_intercept},
                "learn the threshold as a bias weight (fit_intercept=True): a fixed threshold cannot "
                "learn NAND or NOR" if not self.fit_intercept else
                "use a network with a hidden layer, e.g. gradwise.mlp([2, 4, 1], activation='tanh') "
                "with BinaryCrossEntropy, or add a feature (x1 * x2 makes XOR separable)"))
            warnings.warn(f"Perceptron did not converge in {self.max_epochs} epochs: the classes are "
                          f"not linearly separable (see .report)", ConvergenceWarning, stacklevel=2)
        self.report = Report(found)
        return self

    def decision_function(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        return (X[:, None] if X.ndim == 1 else X) @ self.coef_ + self.intercept_

    def predict(self, X) -> np.ndarray:
        return self.classes_[(self.decision_function(X) > 0).astype(int) if len(self.classes_) == 2
                             else np.zeros(len(np.asarray(X)), int)]


class _Scaling:
    """Optional standardisation of X, fitted on the training data, folded back into coef_."""

    def _scale_fit(self, X):
        if self.standardize:
            self.x_mean_, self.x_std_ = X.mean(axis=0), X.std(axis=0)
            self.x_std_[self.x_std_ == 0] = 1.0
        else:
            self.x_mean_, self.x_std_ = np.zeros(X.shape[1]), np.ones(X.shape[1])
        return (X - self.x_mean_) / self.x_std_

    def _unscale(self, w, b):
        """Weights for standardised inputs -> weights for the raw inputs."""
        coef = w / self.x_std_[:, None] if w.ndim == 2 else w / self.x_std_
        return coef, b - self.x_mean_ @ coef


class LinearRegression(_Scaling):
    """Least squares by gradient descent on the mean squared error.

    ``L = mean((X w + b - y)^2)``, ``dL/dw = 2 X^T (X w + b - y) / N``.

    Args:
        lr: the step size, or "auto" (default): 1 / L where L, the largest curvature of the
            loss, is computed from the data, so batch descent always converges.
        method: "batch" (all samples per step), "minibatch" or "sgd" (one sample per step).
        standardize: rescale each feature to mean 0, std 1 first (the coefficients are
            given back in the original units).
        max_epochs, tol: stop after max_epochs, or when the loss changes by less than tol
            (relative).

    It watches the loss: if it grows for several epochs or becomes NaN, fitting stops and
    ``report`` holds DIVERGED with the step size that diverged and one that will not.
    """

    def __init__(self, lr: float | str = "auto", *, method: str = "batch", batch_size: int = 32,
                 standardize: bool = False, max_epochs: int = 10000, tol: float = 1e-14,
                 seed: int | None = 0) -> None:
        if method not in ("batch", "minibatch", "sgd"):
            raise ValueError(f"LinearRegression: method must be batch, minibatch or sgd; got {method!r}")
        if lr != "auto" and (not isinstance(lr, (int, float)) or lr <= 0):
            raise ValueError(f"LinearRegression: lr must be > 0 or 'auto'; got {lr!r}")
        self.lr, self.method, self.batch_size, self.standardize = lr, method, batch_size, standardize
        self.max_epochs, self.tol, self.seed = max_epochs, tol, seed

    @staticmethod
    def safe_lr(X) -> float:
        """1 / L, L = the largest eigenvalue of the Hessian 2 [X 1]^T [X 1] / N of the MSE."""
        A = np.hstack([X, np.ones((len(X), 1))])
        L = 2 * np.linalg.eigvalsh(A.T @ A / len(X)).max()
        return 1.0 / L

    def fit(self, X, y) -> "LinearRegression":
        X, y = _xy(X, y, "LinearRegression")
        y = np.asarray(y, dtype=np.float64)
        if not np.all(np.isfinite(y)):
            raise ValueError("LinearRegression: y contains NaN or inf")
        Xs = self._scale_fit(X)
        safe = self.safe_lr(Xs)
        lr = safe if self.lr == "auto" else float(self.lr)
        rng = np.random.default_rng(self.seed)
        n = len(Xs)
        bs = n if self.method == "batch" else (1 if self.method == "sgd" else min(self.batch_size, n))
        w = np.zeros(Xs.shape[1:] if y.ndim == 1 else (Xs.shape[1], y.shape[1]))
        b = np.zeros(() if y.ndim == 1 else y.shape[1])
        self.loss_history_, diverged, rising = [], False, 0
        with np.errstate(over="ignore", invalid="ignore"):
            for epoch in range(self.max_epochs):
                order = rng.permutation(n) if bs < n else np.arange(n)
                for start in range(0, n, bs):
                    idx = order[start:start + bs]
                    r = Xs[idx] @ w + b - y[idx]                         # residuals (B,)
                    w = w - lr * 2 * Xs[idx].T @ r / len(idx)
                    b = b - lr * 2 * r.sum(axis=0) / len(idx)
                loss = float(np.mean((Xs @ w + b - y) ** 2))
                self.loss_history_.append(loss)
                if not math.isfinite(loss):
                    diverged = True
                    break
                if epoch and loss > self.loss_history_[-2]:
                    rising += 1
                    if rising >= 3:
                        diverged = True
                        break
                else:
                    rising = 0
                if epoch and abs(self.loss_history_[-2] - loss) <= self.tol * max(loss, 1e-300):
                    break
        self.n_iter_ = epoch + 1
        self.coef_, self.intercept_ = self._unscale(w, b)
        found = [] if self.standardize else rules.input_scale(X, "X")
        if diverged:
            found.append(Finding(
                "DIVERGED", "error",
                f"gradient descent diverged: with lr={lr:g} the loss grew to "
                f"{self.loss_history_[-1]:.3g} after {self.n_iter_} epochs (the largest stable step "
                f"for batch descent on this data is {2 * safe:.3g}).",
                {"lr": lr, "max_stable_lr": 2 * safe, "suggested_lr": safe,
                 "loss": self.loss_history_[-1]},
                f"use lr={safe:.3g} (or lr='auto'), or standardize=True so that one step size "
                f"suits every feature"))
            warnings.warn(f"LinearRegression diverged with lr={lr:g}; try lr={safe:.3g} or "
                          f"standardize=True (see .report)", ConvergenceWarning, stacklevel=2)
            self.coef_ = np.full_like(np.asarray(self.coef_, dtype=float), np.nan)
        self.report = Report(found)
        return self

    def predict(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        return (X[:, None] if X.ndim == 1 else X) @ self.coef_ + self.intercept_


class LogisticRegression(_Scaling):
    """Logistic (two classes) or softmax (more) regression by full-batch gradient descent on
    the mean cross-entropy.

    ``dL/dW = X^T (P - Y) / N`` for probabilities P and one-hot targets Y.
    """

    def __init__(self, lr: float = 0.5, *, max_epochs: int = 1000, standardize: bool = True,
                 tol: float = 1e-8) -> None:
        if lr <= 0:
            raise ValueError(f"LogisticRegression: lr must be > 0; got {lr!r}")
        self.lr, self.max_epochs, self.standardize, self.tol = float(lr), max_epochs, standardize, tol

    def fit(self, X, y) -> "LogisticRegression":
        X, y = _xy(X, y, "LogisticRegression")
        self.classes_, t = np.unique(y, return_inverse=True)
        k = len(self.classes_)
        if k < 2:
            raise ValueError("LogisticRegression: y has a single class; there is nothing to separate")
        Xs = self._scale_fit(X)
        n, d = Xs.shape
        binary = k == 2
        W, b = np.zeros((d, 1 if binary else k)), np.zeros(1 if binary else k)
        Y = t[:, None].astype(float) if binary else np.eye(k)[t]
        self.loss_history_ = []
        with np.errstate(under="ignore"):
            for epoch in range(self.max_epochs):
                Z = Xs @ W + b                                               # (N, 1) or (N, K)
                if binary:
                    P = stable_sigmoid(Z)
                    loss = -np.mean(Y * np.log(np.clip(P, 1e-300, None)) +
                                    (1 - Y) * np.log(np.clip(1 - P, 1e-300, None)))
                else:
                    P = softmax(Z)
                    loss = -np.mean(np.sum(Y * log_softmax(Z), axis=1))
                self.loss_history_.append(float(loss))
                G = (P - Y) / n                                              # dL/dZ
                W -= self.lr * Xs.T @ G
                b -= self.lr * G.sum(axis=0)
                if epoch and abs(self.loss_history_[-2] - loss) < self.tol:
                    break
        self.n_iter_ = epoch + 1
        coef, self.intercept_ = self._unscale(W, b)
        self.coef_ = coef[:, 0] if binary else coef
        if binary:
            self.intercept_ = float(self.intercept_[0])
        self.report = Report([] if self.standardize else rules.input_scale(X, "X"))
        return self

    def predict_proba(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        X = X[:, None] if X.ndim == 1 else X
        if len(self.classes_) == 2:
            p = stable_sigmoid(X @ self.coef_ + self.intercept_)
            return np.stack([1 - p, p], axis=1)
        return softmax(X @ self.coef_ + self.intercept_)

    def predict(self, X) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]
