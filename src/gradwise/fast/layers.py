"""ReLU's compiled twin: both directions as one pass over memory, in the layout x has.

NumPy's ReLU makes the mask and the maximum in two passes and multiplies by a bool mask
through a conversion buffer; one loop is 2.3x faster on a CNN's 3.2M activations. Any dense
layout qualifies (an NCHW-shaped array stored channels-last walks as well as a C-contiguous
one): the loop walks the arrays in memory order, and the outputs are made in that order.
"""

from __future__ import annotations

import numpy as np

from .. import kernels

KERNEL_MIN_SIZE = 2**15          # below this many values NumPy's call is as fast


def _memory_order(a: np.ndarray) -> tuple[int, ...] | None:
    """a's axes from outermost to innermost in memory, when a has no gaps (None otherwise)."""
    axes = tuple(sorted(range(a.ndim), key=lambda i: -a.strides[i]))
    return axes if a.transpose(axes).flags.c_contiguous else None


def relu_fits(*arrays: np.ndarray) -> bool:
    """True when the arrays are large enough and lie in memory in one order, with no gaps."""
    first = arrays[0]
    if first.size < KERNEL_MIN_SIZE or any(a.shape != first.shape for a in arrays):
        return False
    order = _memory_order(first)
    return order is not None and all(_memory_order(a) == order for a in arrays[1:])


def _flat(a: np.ndarray, axes) -> np.ndarray:
    """The 1-D view of a dense array, in memory order."""
    return a.transpose(axes).reshape(-1)


def _empty(like: np.ndarray, axes, dtype) -> np.ndarray:
    """An uninitialised array of like's shape, lying in memory in the order ``axes``."""
    return np.empty([like.shape[i] for i in axes], dtype).transpose(np.argsort(axes))


def relu_forward(layer, x: np.ndarray) -> np.ndarray:
    """ReLU.forward: y = max(x, 0) and layer.mask = x > 0, in one pass (relu_fits(x))."""
    axes = _memory_order(x)
    y, mask = _empty(x, axes, x.dtype), _empty(x, axes, bool)
    kernels.relu(_flat(x, axes), _flat(y, axes), _flat(mask, axes))
    layer.mask = mask
    return y


def relu_backward(layer, grad: np.ndarray) -> np.ndarray:
    """ReLU.backward: grad * layer.mask in one pass (relu_fits(grad, layer.mask))."""
    axes = _memory_order(grad)
    out = _empty(grad, axes, grad.dtype)
    kernels.relu_back(_flat(grad, axes), _flat(layer.mask, axes), _flat(out, axes))
    return out
