"""Layers: each one a small, self-contained step of the forward pass and its local chain rule.

The contract every layer keeps:

* ``forward(x, training=False) -> y`` computes the output and keeps what backward needs;
* ``backward(grad_y) -> grad_x`` turns dL/dy into dL/dx and fills ``self.grads``;
* ``self.params`` maps a name to a trainable array; ``self.grads`` has the same keys and
  shapes. Gradients are written *into* the arrays of ``self.grads`` (never rebound), so an
  optimiser may hold on to them. A layer never updates its own weights: the optimiser does.

A layer never calls or reads another layer: the model owns the order and walks it.
Arrays are (N, features) with the batch first; ``N`` below is the batch size.

Every method here is the NumPy reference. ReLU's also has a compiled twin (numba) in
``gradwise.fast.layers``, to which its first line hands over on large arrays; turn it off
with ``gradwise.runtime.settings.kernels = False`` or ``GRADWISE_NO_NUMBA=1``.
"""

from __future__ import annotations

import numpy as np

from . import fast, runtime
from .functional import softmax, stable_sigmoid
from .init import get_initializer

LAYERS: dict[str, type["Layer"]] = {}  # class name -> class, for Sequential.load


class Layer:
    """Base class: no parameters, and a config that rebuilds the layer (for save/load).

    Besides forward and backward, a few hooks that the model, the doctor and the web page
    use instead of asking a layer what class it is:

    * ``can_skip_input_grad``: True when ``backward`` may leave out dL/dinput (returning
      None) while ``needs_input_grad`` is False. ``fit`` turns it off for the first layer:
      nobody needs dL/d(pixels), and Dense saves a matmul per step.
    * ``begin_fit(rng)``: called by ``fit`` with the run's generator before the first step
      (Dropout draws its masks from it, so a seed fixes them); ``random_state()`` and
      ``set_random_state(state)`` save and restore that state with a checkpoint.
    * ``activation`` and ``activity()``: an element-wise nonlinearity names its kind
      ("relu", "sigmoid", "tanh") and shows what its last forward pass did (see activity).
    * ``integer_input``: True for a layer that takes integer ids (Embedding): as the first
      layer, the model hands it its input as integers instead of casting to float.
    """

    can_skip_input_grad = False
    activation: str | None = None
    integer_input = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        LAYERS[cls.__name__] = cls

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}    # saved, not trained (BatchNorm's statistics)
        self.needs_input_grad = True

    def state(self) -> dict[str, np.ndarray]:
        """Every array that defines the layer, by name: its parameters and buffers."""
        return {**self.params, **self.buffers}

    def begin_fit(self, rng: np.random.Generator) -> None:
        """Called by ``Sequential.fit`` before training, with the run's generator."""

    def random_state(self) -> dict | None:
        """The state of the layer's own random numbers (None: it draws none)."""
        return None

    def set_random_state(self, state: dict) -> None:
        raise ValueError(f"{type(self).__name__} draws no random numbers; nothing to restore")

    def activity(self) -> np.ndarray | None:
        """What the last forward pass did, for an activation layer (None for others): for
        ReLU-like layers the bool mask of the values that were on (> 0), for saturating ones
        (sigmoid, tanh) their output, whose closeness to the ends shows saturation."""
        return None

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict:
        """Constructor arguments that rebuild this layer (weights travel separately)."""
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Dense(Layer):
    """Fully connected layer: ``y = x @ W + b``.

    As the first layer it leaves out dL/dx (``can_skip_input_grad``): nobody needs
    dL/d(pixels), and skipping it saves a (N, out) @ (out, in) matmul per step.

    Args:
        in_features: size of each input row.
        out_features: size of each output row.
        init: name of a weight initialiser (see ``gradwise.init``) or a callable.
        rng: the ``np.random.Generator`` that draws the initial weights (a fresh,
            unseeded one if omitted: pass one for reproducible weights).
        dtype: float32 for training (default), float64 for gradient checks.

    Shape:
        x (N, in_features) -> y (N, out_features); W (in_features, out_features), b (out_features,).
        A sequence x (B, T, in_features) -> y (B, T, out_features): the same map at every position.

    >>> layer = Dense(3, 2, rng=np.random.default_rng(0))
    >>> layer.forward(np.ones((4, 3), np.float32)).shape
    (4, 2)
    """

    can_skip_input_grad = True

    def __init__(self, in_features: int, out_features: int, *, init="he_normal",
                 rng: np.random.Generator | None = None, dtype=np.float32) -> None:
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"Dense: {name} must be a positive integer; got {value!r}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        rng = np.random.default_rng() if rng is None else rng
        dtype = np.dtype(dtype)
        self.params = {
            "W": get_initializer(init)((self.in_features, self.out_features), rng, dtype),
            "b": np.zeros(self.out_features, dtype=dtype),
        }
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def forward(self, x, training=False):
        W, b = self.params["W"], self.params["b"]
        if x.ndim != 2 or x.shape[1] != self.in_features:
            if x.ndim == 3 and x.shape[2] == self.in_features:     # (B, T, in): rows of (BT, in)
                return self.forward(x.reshape(-1, self.in_features)).reshape(*x.shape[:2], -1)
            hint = " (add a Flatten() layer first)" if x.ndim > 2 else ""
            raise ValueError(f"Dense({self.in_features}, {self.out_features}) expects input of "
                             f"shape (N, {self.in_features}); got {x.shape}{hint}")
        self.x = x.astype(W.dtype, copy=False)       # (N, in), kept for backward
        out = self.x @ W                             # (N, in) @ (in, out) -> (N, out)
        out += b                                     # + (out,) on every row, in place
        return out

    def backward(self, grad):
        W = self.params["W"]
        if grad.ndim == 3:                              # a sequence (B, T, out): as (BT, out) rows
            dx = self.backward(grad.reshape(-1, self.out_features))
            return None if dx is None else dx.reshape(*grad.shape[:2], -1)
        np.matmul(self.x.T, grad, out=self.grads["W"])  # (in, N) @ (N, out) -> (in, out)
        np.sum(grad, axis=0, out=self.grads["b"])       # (N, out) -> (out,): sum over the batch
        if not self.needs_input_grad:
            return None
        return grad @ W.T                               # (N, out) @ (out, in) -> (N, in)

    def get_config(self):
        return {"in_features": self.in_features, "out_features": self.out_features,
                "dtype": self.params["W"].dtype.name}

    def __repr__(self) -> str:
        dtype = self.params["W"].dtype
        extra = "" if dtype == np.float32 else f", dtype={dtype.name}"
        return f"Dense({self.in_features}, {self.out_features}{extra})"


class ReLU(Layer):
    """``y = max(x, 0)``; the gradient passes where x > 0 and is 0 elsewhere.

    With numba, large arrays go to ``gradwise.fast.relu_forward`` / ``relu_backward``: one
    compiled pass each way, in the memory layout x has (2.3x faster on a CNN's 3.2M
    activations: NumPy makes the mask and the maximum in two passes).
    """

    activation = "relu"

    def activity(self):
        return getattr(self, "mask", None)

    def forward(self, x, training=False):
        if runtime.use_kernels(x) and fast.relu_fits(x):
            return fast.relu_forward(self, x)
        self.mask = x > 0                 # (N, D) bool
        return np.maximum(x, 0)           # (N, D), a new array: x is left untouched

    def backward(self, grad):
        if runtime.use_kernels(grad) and fast.relu_fits(grad, self.mask):
            return fast.relu_backward(self, grad)
        return grad * self.mask           # (N, D)


class LeakyReLU(Layer):
    """``y = x`` for x > 0, ``alpha * x`` otherwise, so no unit ever gets a zero gradient."""

    activation = "relu"

    def activity(self):
        return getattr(self, "mask", None)

    def __init__(self, alpha: float = 0.01) -> None:
        super().__init__()
        if not 0 <= alpha < 1:
            raise ValueError(f"LeakyReLU: alpha must be in [0, 1); got {alpha!r}")
        self.alpha = float(alpha)

    def forward(self, x, training=False):
        self.mask = x > 0                                   # (N, D)
        return np.where(self.mask, x, self.alpha * x)       # (N, D)

    def backward(self, grad):
        return np.where(self.mask, grad, self.alpha * grad)  # (N, D)

    def get_config(self):
        return {"alpha": self.alpha}


class Sigmoid(Layer):
    """``y = 1 / (1 + exp(-x))``, stable for any x; ``dy/dx = y (1 - y)``."""

    activation = "sigmoid"

    def activity(self):
        return getattr(self, "y", None)

    def forward(self, x, training=False):
        self.y = stable_sigmoid(x)        # (N, D) in [0, 1]
        return self.y

    def backward(self, grad):
        return grad * self.y * (1 - self.y)   # (N, D)


class Tanh(Layer):
    """``y = tanh(x)``; ``dy/dx = 1 - y^2``."""

    activation = "tanh"

    def activity(self):
        return getattr(self, "y", None)

    def forward(self, x, training=False):
        self.y = np.tanh(x)               # (N, D) in [-1, 1]
        return self.y

    def backward(self, grad):
        return grad * (1 - self.y * self.y)   # (N, D)


class Softmax(Layer):
    """Softmax over the last axis as a layer of its own.

    Prefer ``SoftmaxCrossEntropy`` on raw logits for classification: it is fused and stable.
    This layer exists for people who pair softmax with another loss (MSE), so its backward
    is the true Jacobian-vector product, not the ``p - y`` shortcut that only holds for
    cross-entropy: ``dx_i = y_i (g_i - sum_j g_j y_j)``.
    """

    def forward(self, x, training=False):
        self.y = softmax(x, axis=-1)      # (N, C), rows sum to 1
        return self.y

    def backward(self, grad):
        dot = np.sum(grad * self.y, axis=-1, keepdims=True)   # (N, 1): sum_j g_j y_j
        return self.y * (grad - dot)                           # (N, C)


class Identity(Layer):
    """``y = x``: a linear output, or a placeholder."""

    def forward(self, x, training=False):
        return x

    def backward(self, grad):
        return grad


class Dropout(Layer):
    """Inverted dropout: in training, zero each input with probability ``rate`` and scale
    the survivors by ``1 / (1 - rate)``, so that at test time the layer is the identity.

    Args:
        rate: probability of dropping a unit, in [0, 1).
        rng: the Generator that draws the masks. If omitted, ``Sequential.fit`` gives the
            layer one derived from its ``seed``, so runs stay reproducible.
    """

    def __init__(self, rate: float = 0.5, *, rng: np.random.Generator | None = None) -> None:
        super().__init__()
        if not 0 <= rate < 1:
            raise ValueError(f"Dropout: rate must be in [0, 1); got {rate!r}")
        self.rate = float(rate)
        self.rng = rng
        self.rng_from_fit = rng is None   # fit() may (re)seed a layer it gave the rng to

    def begin_fit(self, rng):
        if self.rng_from_fit:             # masks follow the run's seed
            self.rng = np.random.default_rng(rng.integers(2**63))

    def random_state(self):
        return None if self.rng is None else self.rng.bit_generator.state

    def set_random_state(self, state):
        if self.rng is None:
            self.rng = np.random.default_rng()
        self.rng.bit_generator.state = state

    def forward(self, x, training=False):
        if not training or self.rate == 0:
            self.mask = None
            return x
        if self.rng is None:
            self.rng = np.random.default_rng()
        keep = self.rng.random(x.shape, dtype=np.float32) >= self.rate   # (N, D) bool
        self.mask = keep.astype(x.dtype) / x.dtype.type(1 - self.rate)   # (N, D) 0 or 1/(1-p)
        return x * self.mask

    def backward(self, grad):
        return grad if self.mask is None else grad * self.mask

    def get_config(self):
        return {"rate": self.rate}


class Flatten(Layer):
    """(N, d1, d2, ...) -> (N, d1 * d2 * ...): images to rows for a Dense layer."""

    def forward(self, x, training=False):
        self.shape = x.shape
        return x.reshape(x.shape[0], -1)  # (N, D)

    def backward(self, grad):
        return grad.reshape(self.shape)   # back to (N, d1, d2, ...)
