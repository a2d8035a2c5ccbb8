"""Convolution, pooling and batch normalisation, on images of shape (N, C, H, W).

``N`` samples, ``C`` channels, ``H`` x ``W`` pixels. Convolution is written as matrix
products: the input patches are unfolded into a matrix ("im2col", one row of
kh * kw * C values per output pixel), multiplied by the kernels, and on the way back the
patch gradients are folded onto the image again ("col2im").

Memory layout. Every array here has the NCHW *shape*, but Conv2D and MaxPool2D return
arrays that lie channels-last in memory: ``y.transpose(0, 2, 3, 1)`` is C-contiguous. (This
is PyTorch's "channels_last memory format".) The product ``cols @ W`` gives the output
channels-last, each patch row is copied from C neighbouring values, and element-wise layers
in between (ReLU, BatchNorm) keep the layout they are given, so a CNN moves no data between
layouts (before, each convolution made four NCHW <-> NHWC copies per step). Code that needs
C-contiguous NCHW data calls ``np.ascontiguousarray(y)``.

The bias rides in the product: each patch row ends with a 1 and the kernel matrix with the
bias, so ``cols @ W`` adds it and ``g.T @ cols`` sums its gradient, with no pass of their own
(a NumPy pass adding the bias to the first layer's 3.2M outputs took 1.8 ms, four times its
matrix product).

Every method here is the NumPy reference, the code to read. Conv2D, MaxPool2D and
BatchNorm have compiled twins (numba) in ``gradwise.fast.conv``: the first line of each
method hands over to its twin when ``gradwise.runtime.use_kernels`` says so, and the tests
hold the twins to the code here. Turn them off with ``gradwise.runtime.settings.kernels =
False``, or ``GRADWISE_NO_NUMBA=1`` in the environment.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import fast, runtime
from .init import get_initializer
from .layers import Layer

CHUNK_BYTES = 2 * 2**20         # Conv2D unfolds and folds the batch in parts of about this size
PER_IMAGE_DW_MAX_COLUMNS = 32   # with few patch columns, dW is one small product per image: for
#                                 the first layer (10 columns) 0.6 ms instead of 2.0 for one
#                                 (32 x 100,352) @ (100,352 x 10) product, which BLAS splits badly


def _pair(v, name: str, who: str) -> tuple[int, int]:
    pair = (v, v) if isinstance(v, (int, np.integer)) else tuple(v)
    if len(pair) != 2 or any(not isinstance(p, (int, np.integer)) or p < 0 for p in pair):
        raise ValueError(f"{who}: {name} must be a non-negative int or a pair of them; got {v!r}")
    return int(pair[0]), int(pair[1])


def _changed(layer, **defaults) -> list[str]:
    """"name=value" for each setting of a layer's config that is not its default (a pair of
    equal numbers shown as one), for short reprs: Conv2D(1, 32, padding=1)."""
    out = []
    for key, value in layer.get_config().items():
        if key in ("in_channels", "out_channels", "num_features"):
            continue
        if isinstance(value, (list, tuple)) and len(value) == 2 and value[0] == value[1]:
            value = value[0]
        default = defaults.get(key, {"stride": 1, "padding": 0, "dilation": 1, "dtype": "float32"}.get(key))
        if isinstance(default, (list, tuple)) and len(default) == 2 and default[0] == default[1]:
            default = default[0]
        if value != default:
            out.append(f"{key}={value!r}")
    return out


def _channels_last(x: np.ndarray) -> np.ndarray:
    """x (N, C, H, W) as a C-contiguous (N, H, W, C) array: a free view when x already lies
    channels-last in memory (the outputs of Conv2D and MaxPool2D do), else one copy."""
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1))


def _rows(a: np.ndarray) -> np.ndarray:
    """A C-contiguous (b, Ho, Wo, K) array as the (b*Ho*Wo, K) matrix it is (a view)."""
    return a.reshape(-1, a.shape[-1])


def _pad_hw(x, top, bottom, left, right, fill=0.0):
    """x (N, C, H, W) with rows and columns of ``fill`` added around; x itself when no padding."""
    if not (top or bottom or left or right):
        return x
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=fill)


def _padding(padding, size: int, k: int, stride: int, dilation: int) -> tuple[int, int]:
    """(before, after) padding of one spatial axis; 'same' follows TensorFlow (out = ceil(in/stride))."""
    if padding == "valid":
        return 0, 0
    if padding == "same":
        out = math.ceil(size / stride)
        total = max((out - 1) * stride + dilation * (k - 1) + 1 - size, 0)
        return total // 2, total - total // 2
    return padding, padding


def _check_4d(x: np.ndarray, channels: int | None, who: str) -> None:
    if x.ndim != 4:
        raise ValueError(f"{who} expects images of shape (N, C, H, W); got {x.shape}"
                         + (" (reshape flat rows with X.reshape(-1, 1, 28, 28))" if x.ndim == 2 else ""))
    if channels is not None and x.shape[1] != channels:
        raise ValueError(f"{who} expects {channels} input channels; got {x.shape[1]} (shape {x.shape})")


def _windows(xp: np.ndarray, kh: int, kw: int, stride: tuple, dilation: tuple) -> np.ndarray:
    """A view (N, C, Ho, Wo, kh, kw) of every receptive field of the padded input; no copy."""
    dh, dw = dilation
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    v = sliding_window_view(xp, (span_h, span_w), axis=(2, 3))   # (N, C, Hp-span+1, Wp-span+1, sh, sw)
    return v[:, :, ::stride[0], ::stride[1], ::dh, ::dw]


def _fold(dwin: np.ndarray, shape: tuple, stride: tuple, dilation: tuple) -> np.ndarray:
    """col2im: add the gradient of every window (N, C, Ho, Wo, kh, kw) back onto the padded image."""
    n, c, ho, wo, kh, kw = dwin.shape
    out = np.zeros(shape, dtype=dwin.dtype)                      # (N, C, Hp, Wp)
    sh, sw = stride
    dh, dw = dilation
    for i in range(kh):
        for j in range(kw):
            out[:, :, i * dh:i * dh + sh * (ho - 1) + 1:sh, j * dw:j * dw + sw * (wo - 1) + 1:sw] += dwin[..., i, j]
    return out


class Conv2D(Layer):
    """2-D convolution (cross-correlation, as in every framework).

    Args:
        in_channels, out_channels: C_in and C_out.
        kernel_size: k or (kh, kw). stride: s or (sh, sw). dilation: d or (dh, dw).
        padding: 'valid' (none), 'same' (output size ceil(input / stride)), or an int / pair.
        init: weight initialiser (He by default); rng: the Generator that draws it.

    Shape:
        x (N, C_in, H, W) -> y (N, C_out, Ho, Wo), Ho = (H + pads - dh (kh - 1) - 1) // sh + 1;
        W (C_out, C_in, kh, kw), b (C_out,).

    As the first layer it leaves out dL/dx (``can_skip_input_grad``), as Dense does. With
    numba, ``gradwise.fast.conv2d_forward`` / ``conv2d_backward`` run instead: the same
    products around compiled im2col and col2im loops.
    """

    can_skip_input_grad = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size=3, *, stride=1, padding=0,
                 dilation=1, init="he_normal", rng: np.random.Generator | None = None,
                 dtype=np.float32) -> None:
        super().__init__()
        who = "Conv2D"
        for name, v in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{who}: {name} must be a positive integer; got {v!r}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = _pair(kernel_size, "kernel_size", who)
        self.stride = _pair(stride, "stride", who)
        self.dilation = _pair(dilation, "dilation", who)
        if min(self.kernel_size) < 1 or min(self.stride) < 1 or min(self.dilation) < 1:
            raise ValueError(f"{who}: kernel_size, stride and dilation must be >= 1")
        if padding not in ("valid", "same"):
            padding = _pair(padding, "padding", who)
        self.padding = padding
        rng = np.random.default_rng() if rng is None else rng
        shape = (self.out_channels, self.in_channels, *self.kernel_size)
        self.params = {"W": get_initializer(init)(shape, rng, np.dtype(dtype)),
                       "b": np.zeros(self.out_channels, dtype=dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self._kept: dict[str, np.ndarray] = {}        # scratch arrays reused step to step

    def _pads(self, h: int, w: int):
        if isinstance(self.padding, str):
            return (_padding(self.padding, h, self.kernel_size[0], self.stride[0], self.dilation[0]),
                    _padding(self.padding, w, self.kernel_size[1], self.stride[1], self.dilation[1]))
        return (self.padding[0], self.padding[0]), (self.padding[1], self.padding[1])

    def forward(self, x, training=False):
        _check_4d(x, self.in_channels, "Conv2D")
        x = x.astype(self.params["W"].dtype, copy=False)
        self._geometry(x)
        if runtime.use_kernels(x):
            return fast.conv2d_forward(self, x, training)
        _, _, (pt, pl, pb, pr), (n, ho, wo) = self.cache
        taps = self.kernel_size[0] * self.kernel_size[1] * self.in_channels   # K
        xt = _channels_last(_pad_hw(x, pt, pb, pl, pr))                  # (N, Hp, Wp, C_in)
        cols = self._scratch("cols", (n, ho, wo, taps + 1), training)   # (N, Ho, Wo, K + 1), kept
        kernel = self._kernel_matrix()                                  # (K + 1, C_out)
        out = np.empty((n, ho, wo, self.out_channels), dtype=kernel.dtype)   # channels last
        for part in self._chunks(n, ho * wo * (taps + 1)):             # a few images at a time:
            self._unfold(xt[part], cols[part])                          # im2col, then
            np.matmul(_rows(cols[part]), kernel, out=_rows(out[part]))  # y = [patch, 1] @ [W; b]
        self.cols = cols
        return out.transpose(0, 3, 1, 2)                                # NCHW view, channels last

    def _geometry(self, x) -> None:
        """Check that the kernel fits x (N, C_in, H, W) and keep the sizes both directions
        need: self.cache = (x.shape, (Hp, Wp), (pad top, left, bottom, right), (N, Ho, Wo))."""
        n, c, h, w = x.shape
        (pt, pb), (pl, pr) = self._pads(h, w)
        (kh, kw), (sh, sw), (dh, dw) = self.kernel_size, self.stride, self.dilation
        hp, wp = h + pt + pb, w + pl + pr                              # padded size
        if hp < dh * (kh - 1) + 1 or wp < dw * (kw - 1) + 1:
            raise ValueError(f"Conv2D: a {kh}x{kw} kernel does not fit an input of {x.shape[2:]} "
                             f"(with padding {self.padding}); pad it or use a smaller kernel")
        ho, wo = (hp - dh * (kh - 1) - 1) // sh + 1, (wp - dw * (kw - 1) - 1) // sw + 1
        self.cache = (x.shape, (hp, wp), (pt, pl, pb, pr), (n, ho, wo))

    def _chunks(self, n: int, values_per_image: int):
        """Slices of the batch whose im2col rows fill about CHUNK_BYTES: a chunk's patches
        are multiplied (or folded back) while still in cache, instead of being written
        whole to memory and read back (forward 5.2 -> 4.3 ms, dcols + col2im 4.1 -> 3.1 ms
        for the MNIST CNN's second layer at batch 128)."""
        size = max(1, CHUNK_BYTES // (values_per_image * self.params["W"].itemsize))
        return [slice(i, min(i + size, n)) for i in range(0, n, size)]

    def _unfold(self, xt, cols):
        """im2col in NumPy: xt (b, Hp, Wp, C) padded -> cols (b, Ho, Wo, kh*kw*C + 1)."""
        (kh, kw), c = self.kernel_size, self.in_channels
        patches = cols[..., :-1].reshape(*cols.shape[:3], kh, kw, c)   # a view into cols
        for i, j, rows, columns in self._positions(*cols.shape[1:3]):  # rows of C values at a time
            patches[:, :, :, i, j, :] = xt[:, rows, columns, :]
        cols[..., -1] = 1.0

    def _kernel_rows(self) -> np.ndarray:
        """W as a (C_out, kh*kw*C_in) matrix whose columns follow the patch rows' order."""
        return self.params["W"].transpose(0, 2, 3, 1).reshape(self.out_channels, -1)

    def _kernel_matrix(self) -> np.ndarray:
        """[W; b]: the (K + 1, C_out) matrix a patch row [patch, 1] is multiplied by."""
        return np.concatenate([self._kernel_rows(), self.params["b"][:, None]], axis=1).T

    def _scratch(self, name: str, shape: tuple, keep: bool) -> np.ndarray:
        """An uninitialised array; with ``keep``, the one this layer used last time when the
        shape is the same. The im2col matrix of a 128-image batch is 29 MB: allocated anew at
        every step, its pages may come fresh from the OS, to be faulted in and zeroed again
        (see gradwise.memory). Only arrays that never leave the layer are kept, and only in
        training, so an evaluation in between never overwrites the patches a backward pass
        needs."""
        dtype = self.params["W"].dtype
        kept = self._kept.get(name) if keep else None
        if kept is None or kept.shape != shape or kept.dtype != dtype:
            kept = np.empty(shape, dtype=dtype)
            if keep:
                self._kept[name] = kept
        return kept

    def _positions(self, ho, wo):
        """For each kernel position (i, j): the rows and columns of the padded input it meets."""
        (kh, kw), (sh, sw), (dh, dw) = self.kernel_size, self.stride, self.dilation
        for i in range(kh):
            for j in range(kw):
                yield (i, j, slice(i * dh, i * dh + sh * (ho - 1) + 1, sh),
                       slice(j * dw, j * dw + sw * (wo - 1) + 1, sw))

    def backward(self, grad):
        if runtime.use_kernels(grad):
            return fast.conv2d_backward(self, grad)
        _, (hp, wp), (pt, pl, pb, pr), (n, ho, wo) = self.cache
        (kh, kw), c = self.kernel_size, self.in_channels
        taps = kh * kw * c                                              # K
        gt = _channels_last(grad)                                       # (N, Ho, Wo, C_out), free
        self._weight_grads(gt)
        if not self.needs_input_grad:
            return None
        kernel = self._kernel_rows()                                    # (C_out, K)
        parts = self._chunks(n, ho * wo * taps)
        scratch = self._scratch("dcols", (parts[0].stop, ho, wo, taps), True)
        dxt = np.zeros((n, hp, wp, c), dtype=gt.dtype)                  # (N, Hp, Wp, C_in) padded
        for part in parts:                                              # a few images at a time:
            dcols = scratch[:part.stop - part.start]                    # (b, Ho, Wo, K)
            np.matmul(_rows(gt[part]), kernel, out=_rows(dcols))        # d patches = g @ W
            patches = dcols.reshape(*dcols.shape[:3], kh, kw, c)
            for i, j, rows, columns in self._positions(ho, wo):        # col2im: each patch
                dxt[part, rows, columns, :] += patches[:, :, :, i, j, :]   # adds onto its pixels
        dxt = np.ascontiguousarray(dxt[:, pt:hp - pb, pl:wp - pr, :])   # (N, H, W, C_in)
        return dxt.transpose(0, 3, 1, 2)                                # NCHW view, channels last

    def _weight_grads(self, gt: np.ndarray) -> None:
        """dW and db = g.T @ [patches, 1] from the kept patch matrix (the column of ones sums
        g for db); gt is the output gradient as a C-contiguous (N, Ho, Wo, C_out) array."""
        n, ho, wo, cout = gt.shape
        (kh, kw), c = self.kernel_size, self.in_channels
        taps = kh * kw * c
        cols = self.cols                                                # (N, Ho, Wo, K + 1)
        if taps + 1 <= PER_IMAGE_DW_MAX_COLUMNS:                        # one product per image
            dWb = np.matmul(gt.reshape(n, ho * wo, cout).transpose(0, 2, 1),
                            cols.reshape(n, ho * wo, taps + 1)).sum(axis=0)
        else:
            dWb = gt.reshape(-1, cout).T @ cols.reshape(-1, taps + 1)  # (C_out, K + 1)
        self.grads["W"][...] = dWb[:, :taps].reshape(cout, kh, kw, c).transpose(0, 3, 1, 2)
        self.grads["b"][...] = dWb[:, taps]                             # the 1s column summed g

    def __repr__(self) -> str:
        return f"Conv2D({', '.join([str(self.in_channels), str(self.out_channels), *_changed(self, kernel_size=3)])})"

    def get_config(self):
        return {"in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": list(self.kernel_size), "stride": list(self.stride),
                "padding": self.padding if isinstance(self.padding, str) else list(self.padding),
                "dilation": list(self.dilation), "dtype": self.params["W"].dtype.name}


class _Pool2D(Layer):
    def __init__(self, kernel_size=2, stride=None, padding=0) -> None:
        super().__init__()
        who = type(self).__name__
        self.kernel_size = _pair(kernel_size, "kernel_size", who)
        self.stride = _pair(stride if stride is not None else kernel_size, "stride", who)
        self.padding = _pair(padding, "padding", who)
        if min(self.kernel_size) < 1 or min(self.stride) < 1:
            raise ValueError(f"{who}: kernel_size and stride must be >= 1")
        if self.padding[0] > self.kernel_size[0] // 2 or self.padding[1] > self.kernel_size[1] // 2:
            raise ValueError(f"{who}: padding must be at most half the kernel size; got {padding}")

    def _geometry(self, x) -> tuple[int, int]:
        """Check the input holds one window; remember its shapes; return (Ho, Wo)."""
        _check_4d(x, None, type(self).__name__)
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        hp, wp = x.shape[2] + 2 * ph, x.shape[3] + 2 * pw
        if hp < kh or wp < kw:
            raise ValueError(f"{type(self).__name__}: a {self.kernel_size} window does not fit {x.shape[2:]}")
        self.cache = (x.shape, (*x.shape[:2], hp, wp))
        return (hp - kh) // sh + 1, (wp - kw) // sw + 1

    def _pad(self, x, fill):
        """The input padded with ``fill``."""
        ph, pw = self.padding
        return _pad_hw(x, ph, ph, pw, pw, fill)

    def _unpad(self, dxp):
        x_shape = self.cache[0]
        ph, pw = self.padding
        return dxp[:, :, ph:ph + x_shape[2], pw:pw + x_shape[3]]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(_changed(self, kernel_size=2, stride=self.kernel_size))})"

    def get_config(self):
        return {"kernel_size": list(self.kernel_size), "stride": list(self.stride),
                "padding": list(self.padding)}


class MaxPool2D(_Pool2D):
    """The largest value of each window; the gradient goes to that one position (the first
    one, on a tie, as argmax picks).

    Written as a loop over the kh*kw positions of the window, each a strided slice of the
    whole batch: a running maximum and the position it came from. (Gathering the windows
    and calling argmax over a last axis of 4 was 4x slower.) With numba,
    ``gradwise.fast.maxpool2d_forward`` / ``maxpool2d_backward`` run the same as one
    compiled loop over the channels-last memory, and the output lies channels-last too.

    Shape: (N, C, H, W) -> (N, C, Ho, Wo), Ho = (H + 2 p - k) // s + 1.
    """

    def _slices(self, ho, wo):
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        for i in range(kh):
            for j in range(kw):
                yield i * kw + j, (slice(None), slice(None), slice(i, i + sh * (ho - 1) + 1, sh),
                                   slice(j, j + sw * (wo - 1) + 1, sw))

    def _is_2x2(self) -> bool:
        return self.kernel_size == (2, 2) and self.stride == (2, 2) and self.padding == (0, 0)

    def _position_dtype(self):
        """The integer type that holds a position i * kw + j in the window."""
        return np.int8 if self.kernel_size[0] * self.kernel_size[1] <= 127 else np.int32

    def forward(self, x, training=False):
        ho, wo = self._geometry(x)
        if runtime.use_kernels(x):
            return fast.maxpool2d_forward(self, x, ho, wo)
        xp = self._pad(x, -np.inf)
        out = arg = None
        for p, sl in self._slices(ho, wo):
            v = xp[sl]                                                # (N, C, Ho, Wo) view
            if out is None:
                out, arg = v.copy(), np.zeros(v.shape, self._position_dtype())
            else:
                better = v > out                                      # strict: first max wins
                np.copyto(out, v, where=better)
                arg[better] = p
        self.arg = arg                                                # (N, C, Ho, Wo)
        return out

    def backward(self, grad):
        if runtime.use_kernels(grad) and fast.maxpool2d_fits(self.arg):
            return fast.maxpool2d_backward(self, grad)
        dxp = np.zeros(self.cache[1], dtype=grad.dtype)
        overlap = self.stride[0] < self.kernel_size[0] or self.stride[1] < self.kernel_size[1]
        for p, sl in self._slices(*grad.shape[2:]):
            routed = np.where(self.arg == p, grad, 0)                 # (N, C, Ho, Wo)
            if overlap:
                dxp[sl] += routed
            else:
                dxp[sl] = routed
        return self._unpad(dxp)


class AvgPool2D(_Pool2D):
    """The mean of each window (padding counts as zeros, as in PyTorch's default).

    Shape: (N, C, H, W) -> (N, C, Ho, Wo).
    """

    def forward(self, x, training=False):
        self._geometry(x)
        win = _windows(self._pad(x, 0.0), *self.kernel_size, self.stride, (1, 1))  # (N, C, Ho, Wo, kh, kw)
        return win.mean(axis=(-2, -1))

    def backward(self, grad):
        xp_shape = self.cache[1]
        kh, kw = self.kernel_size
        share = grad / (kh * kw)                                      # (N, C, Ho, Wo)
        dwin = np.broadcast_to(share[..., None, None], (*share.shape, kh, kw))
        return self._unpad(_fold(dwin, xp_shape, self.stride, (1, 1)))


class GlobalAvgPool2D(Layer):
    """The mean of each channel over the whole image: (N, C, H, W) -> (N, C)."""

    def forward(self, x, training=False):
        _check_4d(x, None, "GlobalAvgPool2D")
        self.shape = x.shape
        return x.mean(axis=(2, 3))

    def backward(self, grad):
        n, c, h, w = self.shape
        return np.broadcast_to((grad / (h * w))[:, :, None, None], self.shape).copy()


class BatchNorm(Layer):
    """Batch normalisation of features (N, F) or of channels (N, C, H, W).

    Training: ``y = gamma * (x - mean) / sqrt(var + eps) + beta`` with the batch's mean and
    (biased) variance per feature/channel, and running averages kept for evaluation
    (``running = (1 - momentum) * running + momentum * batch``, the unbiased variance, as
    PyTorch does). Evaluation uses the running averages.

    With numba, inputs of 32k values or more that lie as rows of features ((N, F), or images
    stored channels-last, as Conv2D's outputs are) go to ``gradwise.fast.batchnorm_forward``
    / ``batchnorm_backward``: the sums and the normalisation as compiled passes.

    Shape: (N, F) -> (N, F) or (N, C, H, W) -> (N, C, H, W); gamma, beta (F,) or (C,).
    """

    def __init__(self, num_features: int, *, momentum: float = 0.1, eps: float = 1e-5,
                 dtype=np.float32) -> None:
        super().__init__()
        if not isinstance(num_features, (int, np.integer)) or num_features < 1:
            raise ValueError(f"BatchNorm: num_features must be a positive integer; got {num_features!r}")
        if not 0 <= momentum <= 1 or eps <= 0:
            raise ValueError(f"BatchNorm: momentum must be in [0, 1] and eps > 0; got {momentum}, {eps}")
        self.num_features, self.momentum, self.eps = int(num_features), float(momentum), float(eps)
        self.params = {"gamma": np.ones(num_features, dtype), "beta": np.zeros(num_features, dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.buffers = {"running_mean": np.zeros(num_features, dtype),
                        "running_var": np.ones(num_features, dtype)}

    def _axes(self, x):
        if x.ndim not in (2, 4) or x.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm({self.num_features}) expects (N, {self.num_features}) or "
                             f"(N, {self.num_features}, H, W); got {x.shape}")
        return (0,) if x.ndim == 2 else (0, 2, 3)

    def _b(self, v, ndim):                     # a per-channel vector, broadcastable to x
        return v if ndim == 2 else v[None, :, None, None]

    def forward(self, x, training=False):
        axes = self._axes(x)
        gamma, beta = self.params["gamma"], self.params["beta"]
        x = x.astype(gamma.dtype, copy=False)
        m = x.size // self.num_features                                # values per feature
        if training and m < 2:
            raise ValueError("BatchNorm: training needs more than one value per channel")
        self.training, self.axes = training, axes
        if runtime.use_kernels(x) and fast.batchnorm_fits(x):
            return fast.batchnorm_forward(self, x, training)
        if training:
            mean = x.mean(axis=axes)                                   # (F,)
            var = x.var(axis=axes)                                     # (F,) biased
            self._track(mean, var, m)
        else:
            mean, var = self.buffers["running_mean"], self.buffers["running_var"]
        self.inv_std = (1.0 / np.sqrt(var + self.eps)).astype(gamma.dtype)   # (F,)
        self.xhat = (x - self._b(mean, x.ndim)) * self._b(self.inv_std, x.ndim)
        return self.xhat * self._b(gamma, x.ndim) + self._b(beta, x.ndim)

    def _track(self, mean, var, m: int) -> None:
        """Move the running averages towards the batch's mean and variance (of m values per
        feature), the variance unbiased, as PyTorch does."""
        rm, rv = self.buffers["running_mean"], self.buffers["running_var"]
        rm *= 1 - self.momentum
        rm += self.momentum * mean
        rv *= 1 - self.momentum
        rv += self.momentum * var * (m / (m - 1))

    def backward(self, grad):
        if runtime.use_kernels(grad) and fast.batchnorm_fits(grad, self.xhat):
            return fast.batchnorm_backward(self, grad)
        nd, axes = grad.ndim, self.axes
        gamma = self.params["gamma"]
        sum_g = grad.sum(axis=axes)                                    # (F,)
        sum_gx = (grad * self.xhat).sum(axis=axes)                     # (F,)
        self.grads["gamma"][...] = sum_gx
        self.grads["beta"][...] = sum_g
        if not self.training:                                          # running stats: constants
            return grad * self._b(gamma * self.inv_std, nd)
        # with the batch's statistics: dx = gamma / (m std) * (m g - sum g - xhat sum(g xhat))
        m = grad.size // self.num_features
        scale = gamma * self.inv_std / m                               # (F,)
        return self._b(scale, nd) * (m * grad - self._b(sum_g, nd) - self.xhat * self._b(sum_gx, nd))

    def __repr__(self) -> str:
        return f"BatchNorm({', '.join([str(self.num_features), *_changed(self, momentum=0.1, eps=1e-5)])})"

    def get_config(self):
        return {"num_features": self.num_features, "momentum": self.momentum, "eps": self.eps,
                "dtype": self.params["gamma"].dtype.name}
