"""Sequence layers (issue #18): float64 gradient checks, PyTorch twins, the compiled loops
against the NumPy reference, (B, T, F) Dense and losses, integer inputs, save/load, gpt-mini."""

import numpy as np
import pytest

import gradwise as gw
from gradwise import kernels, presets, runtime, sequence
from gradwise.gradcheck import check_function, check_layer, check_loss, check_model

B, T, D, H, V = 2, 5, 8, 2, 7          # small enough for finite differences on every entry


@pytest.fixture(params=["numpy", "compiled"] if kernels.AVAILABLE else ["numpy"])
def loops(request, monkeypatch):
    """Run a test with the NumPy reference and, with numba installed, the compiled twins."""
    monkeypatch.setattr(runtime.settings, "kernels", request.param == "compiled")
    return request.param


LAYERS = {
    "LayerNorm": lambda g: gw.LayerNorm(D, dtype=np.float64),
    "GELU": lambda g: gw.GELU(),
    "PositionalEmbedding": lambda g: gw.PositionalEmbedding(T + 2, D, rng=g, dtype=np.float64),
    "CausalSelfAttention": lambda g: gw.CausalSelfAttention(D, H, T, rng=g, dtype=np.float64),
    "SelfAttention(causal=False)": lambda g: gw.CausalSelfAttention(D, H, T, causal=False, rng=g,
                                                                   dtype=np.float64),
    "TransformerBlock": lambda g: gw.TransformerBlock(D, H, T, proj_std=0.3, rng=g, dtype=np.float64),
    "Dense(B, T, F)": lambda g: gw.Dense(D, 3, rng=g, dtype=np.float64),
}


@pytest.mark.parametrize("name", LAYERS)
def test_gradient_check_float64(name, rng, loops):
    layer = LAYERS[name](rng)
    for key, p in layer.params.items():          # spread: N(0, 0.02^2) makes attention uniform
        p[...] = rng.standard_normal(p.shape) * (0.5 if p.ndim == 2 else 0.3) + (key.endswith("gamma"))
    report = check_layer(layer, rng.standard_normal((B, T, D)))
    assert report.ok and report.max_rel_error < 1e-6, str(report)


def test_embedding_gradient_check(rng):
    layer = gw.Embedding(V, D, rng=rng, dtype=np.float64)
    ids = np.array([[0, 3, 3, 6, 1], [3, 2, 0, 0, 5]])       # repeated ids: their rows add up
    R = rng.standard_normal((B, T, D))
    layer.forward(ids)
    assert layer.backward(R) is None                          # ids have no gradient
    f = lambda p: float(np.sum(layer.forward(ids) * R))       # noqa: E731
    report = check_function(f, layer.params, {"table": layer.grads["table"].copy()})
    assert report.ok and report.max_rel_error < 1e-6, str(report)
    assert np.all(layer.grads["table"][4] == 0)               # id 4 is not in the batch


def test_sequence_cross_entropy_gradient_check_and_mean_over_positions(rng):
    logits, targets = rng.standard_normal((B, T, V)), rng.integers(0, V, (B, T))
    report = check_loss(gw.SoftmaxCrossEntropy(), logits, targets)
    assert report.ok and report.max_rel_error < 1e-6, str(report)
    flat = gw.SoftmaxCrossEntropy().forward(logits.reshape(-1, V), targets.reshape(-1))
    loss = gw.SoftmaxCrossEntropy()
    assert loss.forward(logits, targets) == pytest.approx(flat, rel=1e-12)   # mean over all B*T
    assert loss.backward().shape == (B, T, V)
    assert loss.correct(logits, targets) == (int(np.sum(logits.argmax(-1) == targets)), B * T)
    with pytest.raises(ValueError, match=r"targets of shape \(B, T\)"):
        loss.forward(logits, targets.reshape(-1))


def test_dense_on_a_sequence_is_dense_at_every_position(rng):
    layer = gw.Dense(D, 3, rng=rng)
    x = rng.standard_normal((B, T, D)).astype(np.float32)
    y = layer.forward(x)
    np.testing.assert_allclose(y, layer.forward(x.reshape(-1, D)).reshape(B, T, 3), rtol=1e-6)
    layer.forward(x)
    assert layer.backward(np.ones((B, T, 3), np.float32)).shape == (B, T, D)
    np.testing.assert_allclose(layer.grads["b"], B * T)


def test_a_tiny_gpt_passes_the_model_check(rng, loops):
    model = presets.gpt_mini(V, context=T, dim=D, layers=1, heads=H, seed=0, dtype=np.float64)
    g = np.random.default_rng(1)
    for layer in model.layers:                   # spread the weights: every path matters
        for key, p in layer.params.items():
            p[...] = g.standard_normal(p.shape) * (0.4 if p.ndim == 2 else 0.2) + key.endswith("gamma")
    ids = rng.integers(0, V, (B, T))
    report = check_model(model, ids, np.roll(ids, -1, axis=1), gw.SoftmaxCrossEntropy(), max_coords=40)
    assert report.ok and report.max_rel_error < 1e-6, str(report)


# ----------------------------------------------------------------------------- twins

def torch_attention(torch, qkv, proj, heads, causal=True):
    """PyTorch's multi-head self-attention written out, with nn.Linear ``qkv`` and ``proj``."""
    def attend(x):
        b, t, d = x.shape
        q, k, v = qkv(x).view(b, t, 3, heads, d // heads).permute(2, 0, 3, 1, 4)
        s = q @ k.transpose(-1, -2) / (d // heads) ** 0.5
        if causal:
            s = s.masked_fill(torch.ones(t, t, dtype=torch.bool).triu(1), float("-inf"))
        y = torch.softmax(s, dim=-1) @ v                           # (B, H, T, hd)
        return proj(y.transpose(1, 2).reshape(b, t, d))
    return attend


def _compare(torch, ours, theirs_fn, theirs_params, x, pairs):
    """Forward and backward of ours against theirs to 1e-5: output, dx, and each
    (our parameter name, their tensor, transpose?) pair's gradient."""
    y = ours.forward(x, training=True)
    g = np.sin(np.arange(y.size)).reshape(y.shape)
    dx = ours.backward(g)
    tx = torch.from_numpy(x).requires_grad_()
    ty = theirs_fn(tx)
    ty.backward(torch.from_numpy(g))
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-5, atol=1e-7)
    for name, tensor, transpose in pairs:
        theirs = tensor.grad.numpy()
        np.testing.assert_allclose(ours.grads[name], theirs.T if transpose else theirs,
                                   rtol=1e-5, atol=1e-7, err_msg=name)


def test_layer_norm_and_gelu_match_torch(rng, loops):
    torch = pytest.importorskip("torch")
    ln = gw.LayerNorm(D, dtype=np.float64)
    ln.params["gamma"][...] = rng.standard_normal(D)
    ln.params["beta"][...] = rng.standard_normal(D)
    theirs = torch.nn.LayerNorm(D).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(ln.params["gamma"]))
        theirs.bias.copy_(torch.from_numpy(ln.params["beta"]))
    x = rng.standard_normal((B, T, D)) * 3 + 1
    _compare(torch, ln, theirs, theirs, x, [("gamma", theirs.weight, False), ("beta", theirs.bias, False)])
    gelu = gw.GELU()
    _compare(torch, gelu, lambda t: torch.nn.functional.gelu(t, approximate="tanh"), None,
             rng.standard_normal((B, T, 4 * D)) * 3, [])


@pytest.mark.parametrize("causal", [True, False])
def test_attention_matches_torch(causal, rng, loops):
    torch = pytest.importorskip("torch")
    attn = gw.CausalSelfAttention(D, H, T, causal=causal, rng=rng, dtype=np.float64)
    for p in attn.params.values():
        p[...] = rng.standard_normal(p.shape) * 0.4
    qkv, proj = torch.nn.Linear(D, 3 * D).double(), torch.nn.Linear(D, D).double()
    with torch.no_grad():
        for mod, name in ((qkv, "qkv"), (proj, "proj")):
            mod.weight.copy_(torch.from_numpy(attn.params[f"{name}_W"].T.copy()))
            mod.bias.copy_(torch.from_numpy(attn.params[f"{name}_b"]))
    _compare(torch, attn, torch_attention(torch, qkv, proj, H, causal), None, rng.standard_normal((B, T, D)),
             [("qkv_W", qkv.weight, True), ("qkv_b", qkv.bias, False),
              ("proj_W", proj.weight, True), ("proj_b", proj.bias, False)])


def test_gpt_matches_its_pytorch_twin(rng, loops):
    """The whole model (embeddings, blocks, final LayerNorm, head) and the benchmark's twin:
    logits, the loss and every parameter's gradient to 1e-5, in float64."""
    torch = pytest.importorskip("torch")
    from benchmarks.gpt import torch_twin, twin_parameters
    model = presets.gpt_mini(V, context=T, dim=D, layers=2, heads=H, seed=0, dtype=np.float64)
    for layer in model.layers:
        for key, p in layer.params.items():
            p[...] = rng.standard_normal(p.shape) * 0.4 + key.endswith("gamma")
    twin = torch_twin(model, H)
    ids = rng.integers(0, V, (B, T))
    targets = np.roll(ids, -1, axis=1)
    loss = gw.SoftmaxCrossEntropy()
    value = loss.forward(model.forward(ids, training=True), targets)
    model.backward(loss.backward())
    logits = twin(torch.from_numpy(ids))
    theirs = torch.nn.functional.cross_entropy(logits.reshape(-1, V), torch.from_numpy(targets).reshape(-1))
    theirs.backward()
    assert value == pytest.approx(theirs.item(), rel=1e-10)
    np.testing.assert_allclose(model.predict_logits(ids), logits.detach().numpy(), rtol=1e-5, atol=1e-9)
    for layer, key, tensor, transposed in twin_parameters(model, twin):
        g = tensor.grad.numpy()
        np.testing.assert_allclose(layer.grads[key], g.T if transposed else g, rtol=1e-5, atol=1e-9,
                                   err_msg=f"{type(layer).__name__} {key}")


def test_embeddings_match_torch(rng):
    torch = pytest.importorskip("torch")
    emb = gw.Embedding(V, D, rng=rng, dtype=np.float64)
    theirs = torch.nn.Embedding(V, D).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(emb.params["table"]))
    ids = rng.integers(0, V, (B, T))
    y = emb.forward(ids)
    g = np.cos(np.arange(y.size)).reshape(y.shape)
    emb.backward(g)
    ty = theirs(torch.from_numpy(ids))
    ty.backward(torch.from_numpy(g))
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(emb.grads["table"], theirs.weight.grad.numpy(), rtol=1e-5, atol=1e-12)


# ----------------------------------------------------------------------------- compiled loops

@pytest.mark.skipif(not kernels.AVAILABLE, reason="numba is not installed")
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
def test_compiled_loops_give_the_numpy_numbers(dtype, tol, monkeypatch, rng):
    x = (rng.standard_normal((3, 6, 16)) * 3).astype(dtype)
    gamma, beta = rng.standard_normal(16).astype(dtype), rng.standard_normal(16).astype(dtype)
    g = rng.standard_normal(x.shape).astype(dtype)
    scores = rng.standard_normal((3, 2, 6, 6)).astype(dtype) * 4
    datt = rng.standard_normal(scores.shape).astype(dtype)
    results = []
    for use in (False, True):
        monkeypatch.setattr(runtime.settings, "kernels", use)
        y, cache = sequence.layer_norm_forward(x, gamma, beta)
        dg, db = np.zeros_like(gamma), np.zeros_like(beta)
        dx = sequence.layer_norm_backward(g, cache, dg, db)
        gy, gcache = sequence.gelu_forward(x)
        gdx = sequence.gelu_backward(g, gcache)
        out = []
        for causal in (True, False):
            att, d = scores.copy(), datt.copy()
            sequence.attention_softmax(att, 0.35, causal)
            sequence.attention_softmax_backward(d, att, 0.35, causal)
            out += [att, d]
        results.append([y, dx, dg, db, gy, gdx, *out])
    for a, b in zip(*results):
        np.testing.assert_allclose(b, a, rtol=tol, atol=tol)


# ----------------------------------------------------------------------------- the model

def test_gpt_mini_is_nanogpts_cpu_model():
    model = presets.gpt_mini(65)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Embedding", "PositionalEmbedding", *["TransformerBlock"] * 4, "LayerNorm", "Dense"]
    assert model.layers[2].heads == 4 and model.layers[2].dim == 128 and model.layers[1].context == 64
    assert 0.8e6 < model.num_params() < 0.83e6
    ids = np.random.default_rng(0).integers(0, 65, (3, 64))
    logits = model.predict_logits(ids)
    assert logits.shape == (3, 64, 65) and logits.dtype == np.float32
    loss = gw.SoftmaxCrossEntropy().forward(logits, ids)
    assert abs(loss - np.log(65)) < 0.1                      # a fresh model guesses uniformly
    assert model.predict(ids).shape == (3, 64)


def test_integer_windows_train_through_fit_and_evaluate(rng):
    model = presets.gpt_mini(V, context=T, dim=D, layers=1, heads=H, seed=0)
    ids = np.tile(np.arange(T + 1) % V, (40, 1))             # the same easy sequence: learnable
    X, y = ids[:, :-1], ids[:, 1:]
    before = model.evaluate(X, y)["loss"]
    hist = model.fit(X, y, epochs=3, batch_size=8, optimizer=gw.AdamW(1e-2), seed=0, verbose=0)
    after = model.evaluate(X, y)
    assert after["loss"] < before - 0.5 and 0 <= after["accuracy"] <= 1
    assert len(hist.history["loss"]) == 3
    with pytest.raises(ValueError, match="integer token ids"):
        model.predict_logits(X.astype(np.float32))


def test_save_load_round_trip_keeps_the_logits(tmp_path, rng):
    model = presets.gpt_mini(V, context=T, dim=D, layers=2, heads=H, seed=3)
    model.meta["vocab"] = "abcdefg"
    ids = rng.integers(0, V, (2, T))
    model.save(tmp_path / "model")
    loaded = gw.Sequential.load(tmp_path / "model")
    np.testing.assert_array_equal(loaded.predict_logits(ids), model.predict_logits(ids))
    assert loaded.meta["vocab"] == "abcdefg"
    assert [type(a).__name__ for a in loaded.layers] == [type(a).__name__ for a in model.layers]
    assert loaded.layers[2].get_config() == model.layers[2].get_config()


def test_design_signatures_work_without_a_context():
    assert gw.TransformerBlock(8, 2).context == gw.CausalSelfAttention(8, 2).context == 1024


def test_bad_input_names_the_rule_and_the_fix():
    with pytest.raises(ValueError, match=r"more than the model's context of 4"):
        gw.CausalSelfAttention(8, 2, 4).forward(np.zeros((1, 5, 8), np.float32))
    with pytest.raises(ValueError, match=r"context of 4; feed at most the last 4"):
        gw.PositionalEmbedding(4, 8).forward(np.zeros((1, 6, 8), np.float32))
    with pytest.raises(ValueError, match=r"token ids must be integers in \[0, 5\).*vocabulary"):
        gw.Embedding(5, 3).forward(np.array([[1, 5]]))
    with pytest.raises(ValueError, match=r"shape \(B, T\).*ids\[None, :\]"):
        gw.Embedding(5, 3).forward(np.array([1, 2]))
    with pytest.raises(ValueError, match=r"dim 10 must be divisible by heads 4"):
        gw.TransformerBlock(10, 4, 8)
    with pytest.raises(ValueError, match=r"\(B, T, 8\).*Embedding first"):
        gw.LayerNorm(8).forward(np.zeros((2, 3), np.int64))


# ----------------------------------------------------------------------------- the doctor

def test_check_causal_names_a_gpt_without_its_mask_and_is_quiet_on_the_right_one(rng):
    from gradwise import doctor
    model = presets.gpt_mini(V, context=8, dim=D, layers=2, heads=H, seed=0)
    ids = rng.integers(0, V, (2, 8))
    assert doctor.check_causal(model, ids).codes() == []
    for layer in model.layers[2:4]:
        layer.causal = False                                 # the mask removed
    leak = doctor.check_causal(model, ids).get("CAUSAL_LEAK")
    assert leak is not None and leak.severity == "error"
    assert leak.evidence["earliest_position"] == 0 and leak.evidence["changed_position"] == 1
    assert "-inf" in leak.fix


def test_check_causal_on_a_users_own_attention_function(rng):
    from gradwise import doctor

    def attention(x, mask_from=1):                           # mask_from=2: off by one
        t = x.shape[1]
        s = x @ x.transpose(0, 2, 1) + np.triu(np.full((t, t), -1e9), k=mask_from)
        with np.errstate(under="ignore"):
            p = np.exp(s - s.max(axis=-1, keepdims=True))
        return (p / p.sum(axis=-1, keepdims=True)) @ x

    x = rng.standard_normal((2, 10, 4))
    assert doctor.check_causal(attention, x).codes() == []
    leak = doctor.check_causal(lambda x: attention(x, 2), x).get("CAUSAL_LEAK")
    assert leak.evidence["earliest_position"] == leak.evidence["changed_position"] - 1
    with pytest.raises(ValueError, match=r"keep the \(B, T\) axes"):
        doctor.check_causal(lambda x: x.sum(axis=1), x)


def test_check_initial_loss_against_ln_vocab(rng):
    from gradwise import doctor
    model = presets.gpt_mini(65, context=8, dim=D, layers=1, heads=H, seed=0)
    ids = rng.integers(0, 65, (4, 8))
    assert doctor.check_initial_loss(model, ids, ids).codes() == []      # N(0, 0.02^2) head
    model.layers[-1].params["W"] *= 50                                    # a head far too large
    found = doctor.check_initial_loss(model, ids, ids).get("INITIAL_LOSS")
    assert found.severity == "warning" and found.evidence["excess"] > 0.5
