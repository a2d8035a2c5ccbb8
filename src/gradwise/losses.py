"""Losses: ``forward(pred, target) -> float`` (mean over the batch), ``backward() -> dL/dpred``.

Every loss averages over the batch, so the gradient it returns already carries the ``1/N``
and the learning rate does not depend on the batch size. (Summing instead of averaging is
a classic beginner's bug: the effective step grows with N.)
"""

from __future__ import annotations

import numpy as np

from .functional import integer_labels, log_sigmoid, log_softmax, stable_sigmoid

LOSSES: dict[str, type["Loss"]] = {}


class Loss:
    """Base class. Subclasses write ``forward`` and ``backward`` and may say how to score."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        LOSSES[cls.__name__] = cls

    def __call__(self, pred, target) -> float:
        return self.forward(pred, target)

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        raise NotImplementedError

    def backward(self) -> np.ndarray:
        raise NotImplementedError

    def correct(self, pred: np.ndarray, target: np.ndarray) -> tuple[int, int] | None:
        """(correct, counted) predictions for accuracy, or None where accuracy means nothing."""
        return None

    def get_config(self) -> dict:
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _check_finite(name: str, array: np.ndarray) -> None:
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name}: predictions contain NaN or inf (the network has diverged: "
                         f"lower the learning rate, scale the inputs to [0, 1], or check the init)")


def class_targets(target: np.ndarray, num_classes: int, who: str) -> tuple[str, np.ndarray]:
    """Validate classification targets: ("labels", (N,) ints) or ("probs", (N, C) rows).

    Integer labels must lie in [0, C); probability rows (one-hot or soft) must be
    non-negative and sum to 1.
    """
    target = np.asarray(target)
    if target.ndim == 1 or (target.ndim == 2 and target.shape[1] == 1 and num_classes > 1):
        labels = integer_labels(target.reshape(-1), who)
        if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            hint = " (are they 1-based? subtract 1)" if labels.max() == num_classes else ""
            raise ValueError(f"{who}: labels must be integers in [0, {num_classes}); got "
                             f"min {labels.min()}, max {labels.max()}{hint}")
        return "labels", labels
    if target.ndim == 2 and target.shape[1] == num_classes:
        if not np.all(np.isfinite(target)) or target.min() < 0:
            raise ValueError(f"{who}: one-hot / probability targets must be finite and >= 0")
        sums = target.sum(axis=1)
        if not np.allclose(sums, 1, atol=1e-4):
            bad = int(np.argmax(np.abs(sums - 1)))
            raise ValueError(f"{who}: each one-hot / probability row must sum to 1; row {bad} "
                             f"sums to {sums[bad]:.4g}")
        return "probs", target
    raise ValueError(f"{who}: targets must be integer labels of shape (N,) or one-hot rows of "
                     f"shape (N, {num_classes}); got shape {target.shape}")


class SoftmaxCrossEntropy(Loss):
    """Softmax and cross-entropy fused, on raw logits.

    ``L = -(1/N) sum_n sum_c y_nc log softmax(z_n)_c``, with ``log softmax`` computed as
    ``z - logsumexp(z)`` so that it never takes log(0). Fusing the two gives the simple,
    exact gradient ``dL/dz = (softmax(z) - y) / N``.

    Targets: integer labels (N,) in [0, C), or one-hot / probability rows (N, C).
    Shape: logits (N, C) -> scalar. A sequence model's logits (B, T, V) with integer targets
    (B, T) are B*T rows, and the mean runs over all of them (every position of every sequence).
    """

    def forward(self, pred, target):
        self.shape = pred.shape
        if pred.ndim == 3:                                    # (B, T, V): each position is a row
            target = np.asarray(target)
            if target.shape != pred.shape[:2]:
                raise ValueError(f"SoftmaxCrossEntropy: logits of shape (B, T, V) = {pred.shape} "
                                 f"need integer targets of shape (B, T) = {pred.shape[:2]}; got "
                                 f"{target.shape}")
            pred, target = pred.reshape(-1, pred.shape[2]), target.reshape(-1)   # (BT, V), (BT,)
        if pred.ndim != 2:
            raise ValueError(f"SoftmaxCrossEntropy expects logits of shape (N, C) or (B, T, V); "
                             f"got {pred.shape}")
        if len(target) != len(pred):
            raise ValueError(f"SoftmaxCrossEntropy: {len(pred)} predictions but {len(target)} targets")
        _check_finite("SoftmaxCrossEntropy", pred)
        n, c = pred.shape
        kind, t = class_targets(target, c, "SoftmaxCrossEntropy")
        logp = log_softmax(pred)                              # (N, C)
        if kind == "labels":
            loss = -np.mean(logp[np.arange(n), t])
            self.probs_target = None
            self.labels = t
        else:
            loss = -np.sum(t * logp) / n
            self.probs_target = t
        with np.errstate(under="ignore"):
            self.p = np.exp(logp)                             # (N, C) softmax, kept for backward
        return float(loss)

    def backward(self):
        n = self.p.shape[0]
        grad = self.p.copy()                                  # (N, C)
        if self.probs_target is None:
            grad[np.arange(n), self.labels] -= 1              # p - onehot(y)
        else:
            grad -= self.probs_target
        grad /= n                                             # mean over the batch
        return grad.astype(self.p.dtype, copy=False).reshape(self.shape)   # (N, C) or (B, T, V)

    def correct(self, pred, target):
        target = np.asarray(target)
        if pred.ndim == 3:                                    # every position counts
            return int(np.sum(pred.argmax(axis=-1) == target)), target.size
        truth = target if target.ndim == 1 else target.reshape(len(target), -1).argmax(axis=1)
        return int(np.sum(pred.argmax(axis=1) == truth)), len(pred)


class MSE(Loss):
    """Mean squared error over every element: ``L = mean((pred - target)^2)``.

    Like ``torch.nn.MSELoss()``, the mean runs over the batch *and* the outputs, so
    ``dL/dpred = 2 (pred - target) / pred.size``. Targets must have pred's shape (a (N,)
    target is accepted for a (N, 1) prediction).
    """

    def forward(self, pred, target):
        target = np.asarray(target)
        if target.shape != pred.shape:
            if target.size == pred.size and target.ndim == 1 and pred.ndim == 2:
                target = target.reshape(pred.shape)
            else:
                raise ValueError(f"MSE: targets must have the predictions' shape {pred.shape}; got "
                                 f"{target.shape} (for classes, one-hot encode the labels)")
        _check_finite("MSE", pred)
        self.diff = pred - target.astype(pred.dtype, copy=False)   # (N, D)
        return float(np.mean(self.diff * self.diff))

    def backward(self):
        return (2.0 / self.diff.size) * self.diff               # (N, D)

    def correct(self, pred, target):
        target = np.asarray(target)
        if pred.ndim == 2 and pred.shape[1] > 1 and target.shape == pred.shape:
            return int(np.sum(pred.argmax(axis=1) == target.argmax(axis=1))), len(pred)
        return None


class BinaryCrossEntropy(Loss):
    """Binary cross-entropy, averaged over every element.

    ``L = -mean(y log p + (1 - y) log(1 - p))`` with ``p = sigmoid(z)``.

    Args:
        from_logits: True (default): ``pred`` holds raw scores z, and the loss uses
            ``log sigmoid`` directly, stable for any z; ``dL/dz = (sigmoid(z) - y) / n``.
            False: ``pred`` holds probabilities (a Sigmoid layer's output), clipped to
            ``[eps, 1 - eps]`` so that log(0) never happens.
        eps: the clipping margin for probabilities.

    Targets in [0, 1], of pred's shape ((N,) accepted for (N, 1)).
    """

    def __init__(self, from_logits: bool = True, eps: float = 1e-7) -> None:
        if not 0 < eps < 0.5:
            raise ValueError(f"BinaryCrossEntropy: eps must be in (0, 0.5); got {eps!r}")
        self.from_logits = bool(from_logits)
        self.eps = float(eps)

    def forward(self, pred, target):
        target = np.asarray(target)
        if target.shape != pred.shape:
            if target.size != pred.size:
                raise ValueError(f"BinaryCrossEntropy: targets must have the predictions' shape "
                                 f"{pred.shape}; got {target.shape}")
            target = target.reshape(pred.shape)
        if target.size and (not np.all(np.isfinite(target)) or target.min() < 0 or target.max() > 1):
            raise ValueError(f"BinaryCrossEntropy: targets must lie in [0, 1]; got min "
                             f"{target.min()}, max {target.max()}")
        _check_finite("BinaryCrossEntropy", pred)
        t = target.astype(pred.dtype, copy=False)
        self.t = t
        if self.from_logits:
            self.p = stable_sigmoid(pred)                                      # (N, D)
            loss = -np.mean(t * log_sigmoid(pred) + (1 - t) * log_sigmoid(-pred))
        else:
            self.p = np.clip(pred, self.eps, 1 - self.eps)                     # (N, D)
            self.clipped = (pred < self.eps) | (pred > 1 - self.eps)
            loss = -np.mean(t * np.log(self.p) + (1 - t) * np.log(1 - self.p))
        return float(loss)

    def backward(self):
        n = self.p.size
        if self.from_logits:
            return (self.p - self.t) / n                                       # dL/dz
        grad = (self.p - self.t) / (self.p * (1 - self.p)) / n                 # dL/dp
        grad[self.clipped] = 0                       # clip() is flat outside [eps, 1 - eps]
        return grad

    def correct(self, pred, target):
        threshold = 0 if self.from_logits else 0.5
        target = np.asarray(target).reshape(pred.shape)
        return int(np.sum((pred > threshold) == (target > 0.5))), pred.size  # every output

    def get_config(self):
        return {"from_logits": self.from_logits, "eps": self.eps}


def get_loss(loss) -> Loss:
    """A Loss instance from an instance, a class name, or a short name (cross_entropy, mse, bce)."""
    if isinstance(loss, Loss):
        return loss
    aliases = {"cross_entropy": "SoftmaxCrossEntropy", "crossentropy": "SoftmaxCrossEntropy",
               "ce": "SoftmaxCrossEntropy", "mse": "MSE", "bce": "BinaryCrossEntropy"}
    name = aliases.get(str(loss).lower(), loss)
    if name not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)} "
                         f"(or {', '.join(aliases)})")
    return LOSSES[name]()

