"""Optimisers, learning-rate schedules and gradient clipping.

An optimiser is given the model's parameters and their gradients as two parallel lists
and updates the parameters *in place*. Its state (velocities, moment estimates) lives in
the optimiser, one dict per parameter in the same order, made on the first step. A
subclass writes only ``init_state`` and ``update``; the base class validates the
hyper-parameters, applies the schedule and clips the gradients.

Every update below uses the same conventions as ``torch.optim`` (so that the two can be
compared number for number): ``g`` is the gradient, ``lr`` the current learning rate,
``t`` the step count starting at 1.

Each ``update`` is the NumPy reference. Adam, AdamW and SGD with momentum hand over, in
their first line, to a fused twin in ``gradwise.fast.optim`` (one compiled pass over memory
per parameter, numba), which also flushes subnormal numbers out of the optimiser state
(``gradwise.runtime.settings.flush_subnormals``). Turn the twins off with
``gradwise.runtime.settings.kernels = False`` or ``GRADWISE_NO_NUMBA=1``.
"""

from __future__ import annotations

import math

import numpy as np

from . import fast, runtime


def _fused(p: np.ndarray, g: np.ndarray) -> bool:
    """True when the fused twins in gradwise.fast.optim take this parameter and gradient."""
    return runtime.use_kernels(p, g) and fast.update_fits(p, g)


def clip_grad_norm(grads: list[np.ndarray], max_norm: float) -> float:
    """Scale all gradients together, in place, so that their global L2 norm is <= max_norm.

    Returns the norm before clipping. The direction of the full gradient is kept, which
    is why this is preferred to clipping each entry.
    """
    total = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
    if total > max_norm:
        scale = max_norm / (total + 1e-12)
        for g in grads:
            g *= scale
    return total


# ----------------------------------------------------------------------------- schedules
# A schedule maps the (fractional) epoch to a factor on the optimiser's base learning rate.
# fit() reports the epoch before every step: epoch + batch_index / batches_per_epoch.

class StepDecay:
    """Divide the learning rate by ``factor`` every ``every`` epochs: lr0 / factor^floor(e / every)."""

    def __init__(self, every: int, factor: float = 10.0) -> None:
        if every < 1 or not 0 < factor < math.inf:               # NaN fails both tests
            raise ValueError(f"StepDecay: every must be >= 1 and factor a finite number > 0; "
                             f"got {every}, {factor}")
        self.every, self.factor = int(every), float(factor)

    def __call__(self, epoch: float) -> float:
        return self.factor ** -(math.floor(epoch) // self.every)


class ExponentialDecay:
    """Multiply the learning rate by ``gamma`` after every epoch: lr0 * gamma^floor(e)."""

    def __init__(self, gamma: float) -> None:
        if not 0 < gamma <= 1:
            raise ValueError(f"ExponentialDecay: gamma must be in (0, 1]; got {gamma}")
        self.gamma = float(gamma)

    def __call__(self, epoch: float) -> float:
        return self.gamma ** math.floor(epoch)


class CosineDecay:
    """Half a cosine from 1 down to ``min_factor`` over ``epochs`` epochs, smooth per step."""

    def __init__(self, epochs: float, min_factor: float = 0.0) -> None:
        if not 0 < epochs < math.inf or not 0 <= min_factor <= 1:
            raise ValueError(f"CosineDecay: epochs must be finite and > 0 and min_factor in [0, 1]; "
                             f"got {epochs}, {min_factor}")
        self.epochs, self.min_factor = float(epochs), float(min_factor)

    def __call__(self, epoch: float) -> float:
        progress = min(epoch, self.epochs) / self.epochs
        return self.min_factor + (1 - self.min_factor) * 0.5 * (1 + math.cos(math.pi * progress))


class LinearWarmup:
    """Ramp linearly from ``start_factor`` to 1 over ``epochs`` epochs, then follow ``then``
    (another schedule, started at 0 when the warm-up ends) or stay at 1."""

    def __init__(self, epochs: float, then=None, start_factor: float = 0.01) -> None:
        if not 0 < epochs < math.inf or not 0 <= start_factor <= 1:
            raise ValueError(f"LinearWarmup: epochs must be finite and > 0 and start_factor in [0, 1]; "
                             f"got {epochs}, {start_factor}")
        self.epochs, self.then, self.start_factor = float(epochs), then, float(start_factor)

    def __call__(self, epoch: float) -> float:
        if epoch < self.epochs:
            return self.start_factor + (1 - self.start_factor) * epoch / self.epochs
        return 1.0 if self.then is None else self.then(epoch - self.epochs)


# ---------------------------------------------------------------------------- optimisers

def _check(name: str, value: float, low: float, high: float = math.inf, *, open_low=False,
           who: str) -> float:
    ok = (value > low if open_low else value >= low) and value < high
    if not isinstance(value, (int, float, np.floating)) or not ok:
        bracket = "(" if open_low else "["
        raise ValueError(f"{who}: {name} must be in {bracket}{low}, {high}); got {value!r}")
    return float(value)


class Optimizer:
    """Base optimiser.

    Args:
        lr: base learning rate (> 0).
        weight_decay: L2 penalty added to the gradient, ``g + weight_decay * p``
            (AdamW instead decays the weights directly).
        clip_norm: if given, clip the global gradient norm to this value before each step
            (``grad_norm`` then holds the last step's norm before clipping).
        schedule: a callable epoch -> factor on ``lr`` (see StepDecay, CosineDecay, ...).
    """

    def __init__(self, lr: float, *, weight_decay: float = 0.0, clip_norm: float | None = None,
                 schedule=None) -> None:
        who = type(self).__name__
        self.base_lr = _check("lr", lr, 0, open_low=True, who=who)
        self.lr = self.base_lr
        self.weight_decay = _check("weight_decay", weight_decay, 0, who=who)
        self.clip_norm = None if clip_norm is None else _check("clip_norm", clip_norm, 0,
                                                               open_low=True, who=who)
        self.schedule = schedule
        self.t = 0                        # steps taken so far
        self.state: list[dict[str, np.ndarray]] = []
        self.grad_norm: float | None = None   # with clip_norm: the last step's norm before clipping

    def set_epoch(self, epoch: float) -> None:
        """Set the learning rate for this point of training from the schedule."""
        if self.schedule is not None:
            self.lr = self.base_lr * self.schedule(epoch)

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """Update every parameter in place from its gradient."""
        if len(params) != len(grads):
            raise ValueError(f"{type(self).__name__}.step: {len(params)} parameters but "
                             f"{len(grads)} gradients")
        if not self.state:
            self.state = [self.init_state(p) for p in params]
        elif len(self.state) != len(params):
            raise ValueError(f"{type(self).__name__}: this optimiser was used for {len(self.state)} "
                             f"parameters and is now given {len(params)}; make one optimiser per model")
        if self.clip_norm is not None:    # the norm it returns is free: the doctor reads it
            self.grad_norm = clip_grad_norm(grads, self.clip_norm)
        self.t += 1
        for p, g, s in zip(params, grads, self.state):
            if g.shape != p.shape:
                raise ValueError(f"{type(self).__name__}: gradient of shape {g.shape} for a "
                                 f"parameter of shape {p.shape}")
            self.update(p, g, s)

    def init_state(self, p: np.ndarray) -> dict[str, np.ndarray]:
        return {}

    def update(self, p: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    def _decayed(self, p, g):
        """The gradient with the L2 penalty added (a new array only when there is one)."""
        return g + self.weight_decay * p if self.weight_decay else g

    def state_dict(self) -> dict:
        """Everything needed to resume: step count, current lr, and the per-parameter state
        (scratch buffers, named "tmp", are left out: they carry nothing between steps)."""
        return {"t": self.t, "lr": self.lr,
                "state": [{k: v for k, v in s.items() if k != "tmp"} for s in self.state]}

    def load_state_dict(self, d: dict) -> None:
        self.t, self.lr = int(d["t"]), float(d["lr"])
        self.state = [{k: np.array(v) for k, v in s.items()} for s in d["state"]]
        for s in self.state:                      # put back what state_dict left out (scratch)
            if s:
                like = next(iter(s.values()))     # every state array has the parameter's shape
                s.update({k: v for k, v in self.init_state(like).items() if k not in s})

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.base_lr})"


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum.

    Plain:     ``p <- p - lr * g``
    Momentum:  ``v <- mu * v + g;  p <- p - lr * v``
    Nesterov:  ``v <- mu * v + g;  p <- p - lr * (g + mu * v)``

    >>> opt = SGD(0.1, momentum=0.9)
    """

    def __init__(self, lr: float = 0.01, *, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0, clip_norm=None, schedule=None) -> None:
        super().__init__(lr, weight_decay=weight_decay, clip_norm=clip_norm, schedule=schedule)
        self.momentum = _check("momentum", momentum, 0, 1, who="SGD")
        if nesterov and self.momentum == 0:
            raise ValueError("SGD: nesterov=True needs a momentum > 0")
        self.nesterov = bool(nesterov)

    def init_state(self, p):
        return {"velocity": np.zeros_like(p)} if self.momentum else {}

    def update(self, p, g, state):
        if self.momentum and _fused(p, g):
            return fast.sgd_momentum_update(self, p, g, state)
        g = self._decayed(p, g)
        if self.momentum:
            v = state["velocity"]
            v *= self.momentum
            v += g                                              # v = mu v + g
            g = g + self.momentum * v if self.nesterov else v
        p -= self.lr * g


class RMSprop(Optimizer):
    """Divide the step by a running RMS of the gradient.

    ``s <- alpha * s + (1 - alpha) * g^2;  p <- p - lr * g / (sqrt(s) + eps)``
    (with momentum mu: ``b <- mu * b + g / (sqrt(s) + eps);  p <- p - lr * b``).
    """

    def __init__(self, lr: float = 1e-3, *, alpha: float = 0.99, eps: float = 1e-8,
                 momentum: float = 0.0, weight_decay: float = 0.0, clip_norm=None,
                 schedule=None) -> None:
        super().__init__(lr, weight_decay=weight_decay, clip_norm=clip_norm, schedule=schedule)
        self.alpha = _check("alpha", alpha, 0, 1, who="RMSprop")
        self.eps = _check("eps", eps, 0, open_low=True, who="RMSprop")
        self.momentum = _check("momentum", momentum, 0, 1, who="RMSprop")

    def init_state(self, p):
        state = {"square_avg": np.zeros_like(p), "tmp": np.empty_like(p)}
        if self.momentum:
            state["buffer"] = np.zeros_like(p)
        return state

    def update(self, p, g, state):
        g = self._decayed(p, g)
        s, tmp = state["square_avg"], state["tmp"]
        np.multiply(g, g, out=tmp)
        tmp *= 1 - self.alpha
        s *= self.alpha
        s += tmp                                        # s = alpha s + (1 - alpha) g^2
        np.sqrt(s, out=tmp)
        tmp += self.eps
        np.divide(g, tmp, out=tmp)                      # g / (sqrt(s) + eps)
        if self.momentum:
            b = state["buffer"]
            b *= self.momentum
            b += tmp
            tmp[...] = b
        tmp *= self.lr
        p -= tmp


class Adam(Optimizer):
    """Adam: momentum on the gradient and on its square, with bias correction.

    ``m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2``
    ``p <- p - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)``

    ``weight_decay`` adds an L2 penalty to ``g`` (as torch.optim.Adam does); for decoupled
    weight decay use AdamW.
    """

    def __init__(self, lr: float = 1e-3, *, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, clip_norm=None,
                 schedule=None) -> None:
        super().__init__(lr, weight_decay=weight_decay, clip_norm=clip_norm, schedule=schedule)
        who = type(self).__name__
        self.beta1 = _check("betas[0]", betas[0], 0, 1, who=who)
        self.beta2 = _check("betas[1]", betas[1], 0, 1, who=who)
        self.eps = _check("eps", eps, 0, open_low=True, who=who)

    def init_state(self, p):
        # tmp is scratch space so that the update allocates nothing
        return {"m": np.zeros_like(p), "v": np.zeros_like(p), "tmp": np.empty_like(p)}

    def update(self, p, g, state):
        if _fused(p, g):
            return fast.adam_update(self, p, g, state, decoupled=isinstance(self, AdamW))
        g = self._decayed(p, g)
        m, v, tmp = state["m"], state["v"], state["tmp"]
        b1, b2 = self.beta1, self.beta2
        np.multiply(g, 1 - b1, out=tmp)
        m *= b1
        m += tmp                                        # m = b1 m + (1 - b1) g
        np.multiply(g, g, out=tmp)
        tmp *= 1 - b2
        v *= b2
        v += tmp                                        # v = b2 v + (1 - b2) g^2
        np.sqrt(v, out=tmp)
        tmp *= 1 / math.sqrt(1 - b2 ** self.t)
        tmp += self.eps                                 # sqrt(v_hat) + eps
        np.divide(m, tmp, out=tmp)
        tmp *= self.lr / (1 - b1 ** self.t)             # lr * m_hat / (sqrt(v_hat) + eps)
        p -= tmp


class AdamW(Adam):
    """Adam with decoupled weight decay: ``p <- p * (1 - lr * weight_decay)``, then Adam's
    step on the plain gradient (Loshchilov & Hutter, 2019)."""

    def __init__(self, lr: float = 1e-3, *, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.01, clip_norm=None, schedule=None) -> None:
        super().__init__(lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         clip_norm=clip_norm, schedule=schedule)

    def _decayed(self, p, g):
        if self.weight_decay:
            p *= 1 - self.lr * self.weight_decay
        return g


OPTIMIZERS = {"sgd": SGD, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW}
