"""Weight initialisers: how to draw a Dense layer's first weights.

Each initialiser is a function ``(shape, rng, dtype) -> array`` where ``shape`` is
``(fan_in, fan_out)`` (a Dense weight matrix is (in, out)). The principled ones scale the
spread by the fan so that activations keep their variance from layer to layer:

=================  =====================================  ===============
name               distribution                           for
=================  =====================================  ===============
he_normal          N(0, 2 / fan_in)                       ReLU family
he_uniform         U(-a, a), a = sqrt(6 / fan_in)         ReLU family
glorot_normal      N(0, 2 / (fan_in + fan_out))           tanh, sigmoid
glorot_uniform     U(-a, a), a = sqrt(6 / (fan_in+fan_out))  tanh, sigmoid
lecun_normal       N(0, 1 / fan_in)                       SELU, linear
zeros              0                                      biases only
uniform01          U(0, 1)                                never (naive)
normal01           N(0, 1)                                never (naive)
=================  =====================================  ===============

``uniform01`` and ``normal01`` are the initialisers beginners write by hand
(``np.random.rand`` / ``np.random.randn``). They are here so that a mistake can be
reproduced and the doctor can recognise it: uniform01 makes every weight positive, so
every unit of a layer sees the same sign and a 784-input unit starts near 784 * 0.5 * x.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

Initializer = Callable[[tuple, np.random.Generator, type], np.ndarray]


def _fans(shape: tuple) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of `shape`: Dense (in, out); Conv (out, in, kh, kw)."""
    if len(shape) == 2:
        return int(shape[0]), int(shape[1])
    if len(shape) == 4:  # convolution kernel (out_channels, in_channels, kh, kw)
        receptive = int(np.prod(shape[2:]))
        return int(shape[1]) * receptive, int(shape[0]) * receptive
    size = int(np.prod(shape))
    return size, size


def he_normal(shape, rng, dtype=np.float32):
    fan_in, _ = _fans(shape)
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(dtype)


def he_uniform(shape, rng, dtype=np.float32):
    fan_in, _ = _fans(shape)
    limit = np.sqrt(6.0 / fan_in)
    return rng.uniform(-limit, limit, shape).astype(dtype)


def glorot_normal(shape, rng, dtype=np.float32):
    fan_in, fan_out = _fans(shape)
    return (rng.standard_normal(shape) * np.sqrt(2.0 / (fan_in + fan_out))).astype(dtype)


def glorot_uniform(shape, rng, dtype=np.float32):
    fan_in, fan_out = _fans(shape)
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, shape).astype(dtype)


def lecun_normal(shape, rng, dtype=np.float32):
    fan_in, _ = _fans(shape)
    return (rng.standard_normal(shape) * np.sqrt(1.0 / fan_in)).astype(dtype)


def zeros(shape, rng=None, dtype=np.float32):
    return np.zeros(shape, dtype=dtype)


def uniform01(shape, rng, dtype=np.float32):
    """The naive ``np.random.rand``: every weight in [0, 1), all positive. Do not train with it."""
    return rng.random(shape).astype(dtype)


def normal01(shape, rng, dtype=np.float32):
    """The naive ``np.random.randn``: unit variance whatever the fan-in. Do not train with it."""
    return rng.standard_normal(shape).astype(dtype)


INITIALIZERS: dict[str, Initializer] = {
    "he_normal": he_normal,
    "he_uniform": he_uniform,
    "glorot_normal": glorot_normal,
    "glorot_uniform": glorot_uniform,
    "lecun_normal": lecun_normal,
    "zeros": zeros,
    "uniform01": uniform01,
    "normal01": normal01,
}


def get_initializer(init: str | Initializer) -> Initializer:
    """Look up an initialiser by name, or pass a callable ``(shape, rng, dtype)`` through."""
    if callable(init):
        return init
    try:
        return INITIALIZERS[init]
    except KeyError:
        raise ValueError(
            f"unknown init {init!r}; choose one of {', '.join(INITIALIZERS)}"
        ) from None
