"""Convolution, pooling, batch norm: float64 gradient checks, PyTorch twins, save/load."""

import numpy as np
import pytest

import gradwise as gw
from gradwise import conv, fast, kernels, runtime
from gradwise.conv import Conv2D, MaxPool2D
from gradwise.gradcheck import check_layer, check_model

CONV_CASES = [
    dict(kernel_size=3),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, padding="same"),
    dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 0)),
    dict(kernel_size=3, dilation=2, padding=2),
    dict(kernel_size=3, stride=2, padding="same"),
]


@pytest.fixture(params=["numpy", "compiled"] if kernels.AVAILABLE else ["numpy"])
def loops(request, monkeypatch):
    """Run a test with conv.py's NumPy loops and, with numba installed, its compiled ones."""
    monkeypatch.setattr(runtime.settings, "kernels", request.param == "compiled")
    return request.param


@pytest.mark.parametrize("kw", CONV_CASES, ids=[str(c) for c in CONV_CASES])
def test_conv2d_gradient_check(kw, rng, loops):
    layer = gw.Conv2D(3, 4, rng=rng, **kw)
    report = check_layer(layer, rng.standard_normal((2, 3, 7, 6)))
    assert report.ok and report.max_rel_error < 1e-6, str(report)


def test_conv2d_same_padding_keeps_the_size(rng):
    y = gw.Conv2D(1, 2, 5, padding="same", rng=rng).forward(np.zeros((1, 1, 28, 28), np.float32))
    assert y.shape == (1, 2, 28, 28)
    y = gw.Conv2D(1, 2, 3, stride=2, padding="same", rng=rng).forward(np.zeros((1, 1, 28, 28), np.float32))
    assert y.shape == (1, 2, 14, 14)


@pytest.mark.parametrize("make", [
    lambda: gw.MaxPool2D(2), lambda: gw.MaxPool2D(3, stride=2, padding=1),
    lambda: gw.AvgPool2D(2), lambda: gw.AvgPool2D(3, stride=2, padding=1),
    gw.GlobalAvgPool2D,
], ids=["max2", "max3s2p1", "avg2", "avg3s2p1", "global"])
def test_pooling_gradient_check(make, rng, loops):
    report = check_layer(make(), rng.standard_normal((2, 3, 6, 7)))
    assert report.ok and report.max_rel_error < 1e-6, str(report)


@pytest.mark.parametrize("shape", [(8, 5), (4, 3, 5, 5)])
@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_gradient_check(shape, training, rng):
    layer = gw.BatchNorm(shape[1])
    layer.params["gamma"][:] = rng.uniform(0.5, 1.5, shape[1])
    layer.params["beta"][:] = rng.standard_normal(shape[1])
    layer.buffers["running_mean"][:] = rng.standard_normal(shape[1])
    report = check_layer(layer, rng.standard_normal(shape) * 2 + 1, training=training)
    assert report.ok and report.max_rel_error < 1e-6, str(report)


def test_batchnorm_normalises_and_tracks_running_statistics(rng):
    bn = gw.BatchNorm(3, dtype=np.float64)
    x = rng.standard_normal((500, 3)) * [1, 5, 10] + [0, -3, 7]
    y = bn.forward(x, training=True)
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-9)
    np.testing.assert_allclose(y.std(0), 1, atol=1e-3)
    np.testing.assert_allclose(bn.buffers["running_mean"], 0.1 * x.mean(0))
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        bn.forward(np.zeros((4, 5)))


def test_a_small_cnn_passes_the_model_check(rng):
    model = gw.Sequential([gw.Conv2D(1, 3, 3, padding=1, rng=rng), gw.BatchNorm(3), gw.ReLU(),
                           gw.MaxPool2D(2), gw.Conv2D(3, 4, 3, rng=rng), gw.Tanh(),
                           gw.GlobalAvgPool2D(), gw.Dense(4, 3, rng=rng)])
    X, y = rng.standard_normal((6, 1, 8, 8)), rng.integers(0, 3, 6)
    report = check_model(model, X, y, gw.SoftmaxCrossEntropy())
    assert report.ok and report.max_rel_error < 1e-6, str(report)


def test_cnn_save_load_keeps_weights_and_batchnorm_statistics(tmp_path, rng):
    model = gw.Sequential([gw.Conv2D(1, 4, 3, padding="same", rng=rng), gw.BatchNorm(4), gw.ReLU(),
                           gw.MaxPool2D(2), gw.Flatten(), gw.Dense(4 * 4 * 4, 3, rng=rng)])
    X = rng.standard_normal((32, 1, 8, 8)).astype(np.float32)
    y = rng.integers(0, 3, 32)
    model.fit(X, y, epochs=2, batch_size=8, verbose=0)
    model.save(tmp_path / "cnn")
    loaded = gw.Sequential.load(tmp_path / "cnn")
    np.testing.assert_array_equal(loaded.layers[1].buffers["running_var"], model.layers[1].buffers["running_var"])
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_shape_errors_say_what_to_do():
    with pytest.raises(ValueError, match=r"\(N, C, H, W\).*reshape"):
        gw.Conv2D(1, 2, 3).forward(np.zeros((4, 784), np.float32))
    with pytest.raises(ValueError, match="expects 3 input channels; got 1"):
        gw.Conv2D(3, 2, 3).forward(np.zeros((1, 1, 8, 8), np.float32))
    with pytest.raises(ValueError, match="does not fit"):
        gw.Conv2D(1, 2, 5).forward(np.zeros((1, 1, 3, 3), np.float32))
    with pytest.raises(ValueError, match="kernel_size"):
        gw.MaxPool2D((2, 2, 2))


# --------------------------------------------------------------------------- PyTorch twins

def _torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("kw", [dict(kernel_size=3, stride=1, padding=0),
                                dict(kernel_size=3, stride=2, padding=1),
                                dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1), dilation=2),
                                dict(kernel_size=5, stride=1, padding=2)])
def test_conv2d_matches_torch(kw, rng, loops):
    torch = _torch()
    cin, cout = 3, 5
    layer = gw.Conv2D(cin, cout, rng=rng, dtype=np.float64, **kw)
    x = rng.standard_normal((4, cin, 11, 9))
    g = rng.standard_normal(layer.forward(x).shape)
    conv = torch.nn.Conv2d(cin, cout, **kw).double()
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(layer.params["W"]))
        conv.bias.copy_(torch.from_numpy(layer.params["b"]))
    tx = torch.from_numpy(x).requires_grad_()
    ty = conv(tx)
    ty.backward(torch.from_numpy(g))
    y = layer.forward(x)
    dx = layer.backward(g)
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(layer.grads["W"], conv.weight.grad.numpy(), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(layer.grads["b"], conv.bias.grad.numpy(), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("kind,k,s,p", [("max", 2, 2, 0), ("max", 3, 2, 1), ("avg", 2, 2, 0), ("avg", 3, 2, 1)])
def test_pooling_matches_torch(kind, k, s, p, rng):
    torch = _torch()
    ours = (gw.MaxPool2D if kind == "max" else gw.AvgPool2D)(k, stride=s, padding=p)
    theirs = (torch.nn.MaxPool2d if kind == "max" else torch.nn.AvgPool2d)(k, stride=s, padding=p)
    x = rng.standard_normal((3, 2, 9, 8))
    y = ours.forward(x)
    g = rng.standard_normal(y.shape)
    tx = torch.from_numpy(x).requires_grad_()
    ty = theirs(tx)
    ty.backward(torch.from_numpy(g))
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(ours.backward(g), tx.grad.numpy(), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("shape", [(16, 6), (5, 4, 6, 7)])
def test_batchnorm_matches_torch_in_training_and_eval(shape, rng):
    torch = _torch()
    ours = gw.BatchNorm(shape[1], dtype=np.float64)
    theirs = (torch.nn.BatchNorm1d if len(shape) == 2 else torch.nn.BatchNorm2d)(shape[1]).double()
    gamma, beta = rng.uniform(0.5, 2, shape[1]), rng.standard_normal(shape[1])
    ours.params["gamma"][:], ours.params["beta"][:] = gamma, beta
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(gamma))
        theirs.bias.copy_(torch.from_numpy(beta))
    for training in (True, True, False):
        theirs.train(training)
        x = rng.standard_normal(shape) * 3 + 1
        g = rng.standard_normal(shape)
        tx = torch.from_numpy(x).requires_grad_()
        ty = theirs(tx)
        ty.backward(torch.from_numpy(g))
        np.testing.assert_allclose(ours.forward(x, training=training), ty.detach().numpy(), rtol=1e-5, atol=1e-8)
        np.testing.assert_allclose(ours.backward(g), tx.grad.numpy(), rtol=1e-5, atol=1e-8)
        np.testing.assert_allclose(ours.grads["gamma"], theirs.weight.grad.numpy(), rtol=1e-5, atol=1e-8)
        theirs.weight.grad = theirs.bias.grad = None
    np.testing.assert_allclose(ours.buffers["running_mean"], theirs.running_mean.numpy(), rtol=1e-6)
    np.testing.assert_allclose(ours.buffers["running_var"], theirs.running_var.numpy(), rtol=1e-6)


# ----------------------------------------------------------------------------- compiled loops

GEOMETRIES = [dict(kernel_size=3, padding=1), dict(kernel_size=3, stride=2, padding="same"),
              dict(kernel_size=(2, 3), stride=(2, 1), padding=(1, 0), dilation=(1, 2)),
              dict(kernel_size=5, padding="valid"), dict(kernel_size=1)]


@pytest.mark.skipif(not kernels.AVAILABLE, reason="numba is not installed")
@pytest.mark.parametrize("make", [lambda g, kw=kw: Conv2D(3, 4, rng=g, dtype=np.float64, **kw) for kw in GEOMETRIES]
                         + [lambda g, kw=kw: Conv2D(1, 4, rng=g, dtype=np.float64, **kw) for kw in GEOMETRIES]
                         + [lambda g: MaxPool2D(2), lambda g: MaxPool2D(3, 2, 1), lambda g: MaxPool2D(3, 1),
                            lambda g: MaxPool2D(2, 1), lambda g: MaxPool2D(2, 2, 1),
                            lambda g: MaxPool2D((2, 3), (1, 2), (1, 1))])
def test_compiled_loops_give_the_numpy_numbers(make, monkeypatch, rng):
    """The numba kernels (im2col, col2im, max pooling) against conv.py's NumPy code, in
    float64: the same numbers up to the order of the sums (col2im adds in another order)."""
    layer = make(np.random.default_rng(0))
    x = rng.standard_normal((3, getattr(layer, "in_channels", 3), 9, 8))
    x[0, 0, :2, :2] = 1.0                                     # ties: the first position must win
    results = []
    for use in (False, True):
        monkeypatch.setattr(runtime.settings, "kernels", use)
        layer = make(np.random.default_rng(0))
        y = layer.forward(x, training=True)
        g = np.sin(np.arange(y.size)).reshape(y.shape)
        results.append((y, layer.backward(g), [v.copy() for v in layer.grads.values()]))
    (y0, dx0, p0), (y1, dx1, p1) = results
    np.testing.assert_allclose(y1, y0, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dx1, dx0, rtol=1e-12, atol=1e-14)
    for a, b in zip(p0, p1):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("model, batchnorm, convs, norms", [("cnn", False, 2, 0), ("cnn", True, 2, 2),
                                                            ("cnn-large", False, 4, 4)])
def test_cnn_presets(model, batchnorm, convs, norms, tmp_path):
    from gradwise.train import TrainConfig, build_model
    net = build_model(TrainConfig(model=model, batchnorm=batchnorm, dropout=0.3), 784, 10)
    kinds = [type(layer).__name__ for layer in net.layers]
    assert kinds.count("Conv2D") == convs and kinds.count("BatchNorm") == norms
    x = np.random.default_rng(0).random((3, 1, 28, 28)).astype(np.float32)
    y = net.forward(x, training=True)
    assert y.shape == (3, 10) and y.dtype == np.float32
    net.save(tmp_path / "m")
    np.testing.assert_allclose(gw.Sequential.load(tmp_path / "m").forward(x), net.forward(x), rtol=1e-6)
    assert repr(net.layers[0]) == "Conv2D(1, 32, padding=1)"


@pytest.mark.parametrize("use_kernels", [False, True] if kernels.AVAILABLE else [False])
@pytest.mark.parametrize("make", [lambda g, kw=kw: Conv2D(2, 5, rng=g, dtype=np.float64, **kw) for kw in GEOMETRIES]
                         + [lambda g: MaxPool2D(2), lambda g: MaxPool2D(3, 2, 1)])
def test_any_memory_layout_gives_the_same_numbers(make, use_kernels, monkeypatch, rng):
    """NCHW-contiguous input, channels-last input (what Conv2D and MaxPool2D return) and a
    strided view: the same outputs and gradients, whatever the memory order."""
    monkeypatch.setattr(runtime.settings, "kernels", use_kernels)
    x = rng.standard_normal((3, 2, 9, 8))
    inputs = [x, np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2),
              np.repeat(x, 2, axis=3)[..., ::2]]
    results = []
    for xi in inputs:
        layer = make(np.random.default_rng(0))
        y = layer.forward(xi, training=True)
        dx = layer.backward(np.cos(np.arange(y.size)).reshape(y.shape))
        results.append((y, dx, *[v.copy() for v in layer.grads.values()]))
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-13)


@pytest.mark.skipif(not kernels.AVAILABLE, reason="numba is not installed")
def test_cnn_activations_stay_channels_last(rng):
    """Conv2D, ReLU and MaxPool2D hand each other channels-last memory, so no layer of the
    CNN copies data between layouts (gradwise.conv's docstring)."""
    from gradwise.train import cnn_preset
    net = cnn_preset("cnn", 784, 10, seed=0)
    out = rng.random((4, 1, 28, 28)).astype(np.float32)
    for layer in net.layers[:6]:                              # conv relu pool conv relu pool
        out = layer.forward(out, training=True)
        assert out.transpose(0, 2, 3, 1).flags.c_contiguous, type(layer).__name__
    g = np.ones(out.shape, np.float32)
    for layer in reversed(net.layers[1:6]):
        g = layer.backward(g)
        assert g.transpose(0, 2, 3, 1).flags.c_contiguous, type(layer).__name__


def test_conv2d_reuses_its_patch_matrix_in_training_only(rng):
    layer = Conv2D(2, 3, rng=rng)
    x = rng.random((2, 2, 6, 6)).astype(np.float32)
    layer.forward(x, training=True)
    kept = layer.cols
    layer.forward(x[:1])                                      # an evaluation in between ...
    assert not np.shares_memory(layer.cols, kept)
    layer.forward(x, training=True)                           # ... leaves the training one alone
    assert layer.cols is kept


@pytest.mark.parametrize("use_kernels", [False, True] if kernels.AVAILABLE else [False])
@pytest.mark.parametrize("kw", GEOMETRIES, ids=[str(g) for g in GEOMETRIES])
def test_batch_parts_and_both_dw_products_give_the_same_numbers(kw, use_kernels, monkeypatch, rng):
    """Conv2D unfolds the batch in parts of CHUNK_BYTES and forms dW per image or as one
    product: any part size and either form give the same numbers."""
    monkeypatch.setattr(runtime.settings, "kernels", use_kernels)
    x = rng.standard_normal((5, 2, 9, 8))
    results = []
    for chunk, per_image in ((1 << 30, 0), (1, 10**6), (3000, 0)):   # whole, one image, ~2
        monkeypatch.setattr(conv, "CHUNK_BYTES", chunk)
        monkeypatch.setattr(conv, "PER_IMAGE_DW_MAX_COLUMNS", per_image)
        layer = Conv2D(2, 5, rng=np.random.default_rng(0), dtype=np.float64, **kw)
        y = layer.forward(x, training=True)
        dx = layer.backward(np.cos(np.arange(y.size)).reshape(y.shape))
        results.append((y, dx, layer.grads["W"].copy(), layer.grads["b"].copy()))
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-13)


@pytest.mark.skipif(not kernels.AVAILABLE, reason="numba is not installed")
@pytest.mark.parametrize("shape, layout", [((50, 6), "C"), ((4, 3, 7, 5), "channels-last"),
                                           ((4, 3, 7, 5), "C")])
@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_compiled_passes_give_the_numpy_numbers(shape, layout, training, monkeypatch, rng):
    """BatchNorm's compiled passes (rows of features: (N, F), or channels-last images; other
    layouts go to NumPy) against its NumPy code, float64, with rows left over after the
    blocks of kernels.ROWS; and the float64 gradient check ((N, F) rows take the compiled
    passes there too)."""
    monkeypatch.setattr(fast.conv, "KERNEL_MIN_SIZE", 1)
    x = rng.standard_normal(shape) * 3 + 2
    g = np.cos(np.arange(x.size)).reshape(shape)
    if layout == "channels-last":
        x, g = (np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2) for a in (x, g))
    results = []
    for use in (False, True):
        monkeypatch.setattr(runtime.settings, "kernels", use)
        layer = gw.BatchNorm(shape[1], dtype=np.float64)
        layer.params["gamma"][:] = np.linspace(0.5, 1.5, shape[1])
        layer.buffers["running_mean"][:] = 0.3
        y = layer.forward(x, training=training)
        dx = layer.backward(g)
        results.append((y, dx, *[v.copy() for v in (*layer.grads.values(), *layer.buffers.values())]))
    for a, b in zip(*results):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)
    report = check_layer(gw.BatchNorm(shape[1]), np.ascontiguousarray(x), training=training)
    assert report.ok and report.max_rel_error < 1e-6, str(report)


@pytest.mark.skipif(not kernels.AVAILABLE, reason="numba is not installed")
@pytest.mark.parametrize("make", [lambda: Conv2D(3, 4, 3, padding=1, rng=np.random.default_rng(0), dtype=np.float64),
                                  lambda: MaxPool2D(2), lambda: MaxPool2D(3, 2, 1),
                                  lambda: gw.BatchNorm(3, dtype=np.float64), gw.ReLU],
                         ids=["conv", "max2", "max3s2p1", "batchnorm", "relu"])
@pytest.mark.parametrize("paths", [(True, False), (False, True)], ids=["compiled-numpy", "numpy-compiled"])
def test_forward_on_one_path_and_backward_on_the_other_agree(make, paths, monkeypatch, rng):
    """What a forward pass keeps for backward (patches, masks, positions of maxima, xhat)
    means the same on both paths: settings.kernels may change between the two."""
    monkeypatch.setattr(fast.conv, "KERNEL_MIN_SIZE", 1)
    monkeypatch.setattr(fast.layers, "KERNEL_MIN_SIZE", 1)
    def channels_last(a):                                     # the layout the twins all take
        return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)

    x = channels_last(rng.standard_normal((4, 3, 8, 9)))
    results = []
    for forward_path, backward_path in [(False, False), paths]:
        layer = make()
        monkeypatch.setattr(runtime.settings, "kernels", forward_path)
        y = layer.forward(x, training=True)
        monkeypatch.setattr(runtime.settings, "kernels", backward_path)
        dx = layer.backward(channels_last(np.cos(np.arange(y.size)).reshape(y.shape)))
        results.append((y, dx, *[v.copy() for v in layer.grads.values()]))
    for a, b in zip(*results):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-13)
