"""Optimisers: hand-worked steps, PyTorch twins, schedules, clipping, validation.

The hand-worked examples minimise f(p) = p^2 from p = 1, so g = 2p at every step.
"""

import numpy as np
import pytest

import gradwise as gw


def run(opt, steps=3, p0=1.0):
    p = np.array([p0])
    trace = []
    for _ in range(steps):
        opt.step([p], [2 * p])
        trace.append(float(p[0]))
    return trace


def test_sgd_plain_with_weight_decay():
    # g = 2p + 0.1p = 2.1p;  p <- p - 0.1 * 2.1p = 0.79p
    # 1 -> 0.79 -> 0.6241 -> 0.493039
    assert run(gw.SGD(0.1, weight_decay=0.1)) == pytest.approx([0.79, 0.6241, 0.493039], abs=1e-12)


def test_sgd_momentum():
    # lr 0.1, mu 0.9;  v <- 0.9 v + g;  p <- p - 0.1 v
    # step 1: g = 2,    v = 2,                  p = 1 - 0.2      = 0.8
    # step 2: g = 1.6,  v = 1.8 + 1.6 = 3.4,     p = 0.8 - 0.34   = 0.46
    # step 3: g = 0.92, v = 3.06 + 0.92 = 3.98,  p = 0.46 - 0.398 = 0.062
    assert run(gw.SGD(0.1, momentum=0.9)) == pytest.approx([0.8, 0.46, 0.062], abs=1e-12)


def test_sgd_nesterov():
    # v <- 0.9 v + g;  p <- p - 0.1 (g + 0.9 v)
    # step 1: g = 2,      v = 2,                     step = 2 + 1.8 = 3.8           p = 0.62
    # step 2: g = 1.24,   v = 1.8 + 1.24 = 3.04,      step = 1.24 + 2.736 = 3.976    p = 0.2224
    # step 3: g = 0.4448, v = 2.736 + 0.4448 = 3.1808, step = 0.4448 + 2.86272 = 3.30752
    #         p = 0.2224 - 0.330752 = -0.108352
    assert run(gw.SGD(0.1, momentum=0.9, nesterov=True)) == pytest.approx(
        [0.62, 0.2224, -0.108352], abs=1e-12)


def test_rmsprop():
    # lr 0.01, alpha 0.99;  s <- 0.99 s + 0.01 g^2;  p <- p - 0.01 g / (sqrt(s) + 1e-8)
    # step 1: g = 2,   s = 0.04,                         p = 1 - 0.01 * 2 / 0.2       = 0.9
    # step 2: g = 1.8, s = 0.0396 + 0.0324 = 0.072,       p = 0.9 - 0.018 / 0.268328   = 0.832918
    # step 3: g = 1.665836, s = 0.07128 + 0.02775 = 0.099030, p = 0.832918 - 0.052936 = 0.779982
    assert run(gw.RMSprop(0.01)) == pytest.approx([0.9, 0.83291797, 0.77998227], abs=1e-7)


def test_adam():
    # lr 0.1, betas (0.9, 0.999);  m_hat = m / (1 - 0.9^t), v_hat = v / (1 - 0.999^t)
    # step 1: g = 2;   m = 0.2,  v = 0.004;  m_hat = 2, v_hat = 4;  p = 1 - 0.1 * 2/2 = 0.9
    #         (Adam's first step is lr times the sign of g, whatever its size)
    # step 2: g = 1.8; m = 0.18 + 0.18 = 0.36;  v = 0.003996 + 0.00324 = 0.007236
    #         m_hat = 0.36 / 0.19 = 1.894737;  v_hat = 0.007236 / 0.001999 = 3.619810
    #         p = 0.9 - 0.1 * 1.894737 / 1.902580 = 0.800412
    # step 3: likewise, p = 0.701586
    assert run(gw.Adam(0.1)) == pytest.approx([0.9, 0.80041223, 0.70158627], abs=1e-7)


def test_adamw_decays_weights_before_the_adam_step():
    # weight decay 0.5: p <- p (1 - 0.1 * 0.5) = 0.95 p, then Adam's step on g = 2p
    # step 1: p = 0.95 - 0.1 = 0.85;  step 2: 0.708248;  step 3: 0.574974
    assert run(gw.AdamW(0.1, weight_decay=0.5)) == pytest.approx(
        [0.85, 0.70824844, 0.57497393], abs=1e-7)


def test_updates_are_in_place_and_keep_the_dtype():
    p = np.ones(3, np.float32)
    for opt in (gw.SGD(0.1, momentum=0.9), gw.RMSprop(), gw.Adam(), gw.AdamW()):
        q = p.copy()
        ref = q
        opt.step([q], [np.full(3, 0.5, np.float32)])
        assert q is ref and q.dtype == np.float32 and np.all(q < 1)


def test_hyper_parameters_are_validated_with_the_value_named():
    with pytest.raises(ValueError, match=r"SGD: lr must be in \(0, inf\); got -0.1"):
        gw.SGD(-0.1)
    with pytest.raises(ValueError, match="momentum"):
        gw.SGD(0.1, momentum=1.5)
    with pytest.raises(ValueError, match="nesterov"):
        gw.SGD(0.1, nesterov=True)
    with pytest.raises(ValueError, match=r"betas\[1\]"):
        gw.Adam(betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="weight_decay"):
        gw.AdamW(weight_decay=-1)


def test_one_optimiser_per_model():
    opt = gw.Adam()
    opt.step([np.ones(2)], [np.ones(2)])
    with pytest.raises(ValueError, match="one optimiser per model"):
        opt.step([np.ones(2), np.ones(3)], [np.ones(2), np.ones(3)])
    with pytest.raises(ValueError, match="shape"):
        gw.SGD(0.1).step([np.ones(2)], [np.ones(3)])


def test_clip_grad_norm_keeps_direction():
    g1, g2 = np.array([3.0, 0.0]), np.array([0.0, 4.0])      # global norm 5
    assert gw.clip_grad_norm([g1, g2], 1.0) == pytest.approx(5.0)
    np.testing.assert_allclose(np.concatenate([g1, g2]), [0.6, 0, 0, 0.8], atol=1e-9)
    small = [np.array([0.3, 0.4])]
    gw.clip_grad_norm(small, 1.0)
    np.testing.assert_allclose(small[0], [0.3, 0.4])          # under the limit: untouched
    p = np.zeros(2)
    gw.SGD(1.0, clip_norm=0.5).step([p], [np.array([3.0, 4.0])])
    np.testing.assert_allclose(p, [-0.3, -0.4], atol=1e-9)


def test_schedules():
    step = gw.StepDecay(every=3, factor=10)
    assert [step(e) for e in (0, 2.9, 3, 5, 6)] == pytest.approx([1, 1, 0.1, 0.1, 0.01])
    assert gw.ExponentialDecay(0.5)(2.7) == 0.25
    cos = gw.CosineDecay(10, min_factor=0.1)
    assert cos(0) == 1 and cos(5) == pytest.approx(0.55) and cos(10) == pytest.approx(0.1)
    assert cos(20) == pytest.approx(0.1)
    warm = gw.LinearWarmup(2, then=gw.StepDecay(1, 2), start_factor=0.0)
    assert [warm(e) for e in (0, 1, 2, 3)] == pytest.approx([0, 0.5, 1, 0.5])
    opt = gw.SGD(0.1, schedule=step)
    opt.set_epoch(4)
    assert opt.lr == pytest.approx(0.01)


def test_state_dict_round_trip_resumes_identically():
    a, b = gw.Adam(0.1), gw.Adam(0.1)
    pa = np.array([1.0, -2.0])
    for _ in range(3):
        a.step([pa], [2 * pa])
    pb = pa.copy()
    b.load_state_dict(a.state_dict())
    for _ in range(3):
        a.step([pa], [2 * pa])
        b.step([pb], [2 * pb])
    np.testing.assert_array_equal(pa, pb)


# ---------------------------------------------------------------- PyTorch twins (optional)

@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw",
                                  "adam_l2"])
def test_matches_torch_optim(name):
    torch = pytest.importorskip("torch")
    ours, theirs = {
        "sgd": (lambda: gw.SGD(0.05, weight_decay=0.01),
                lambda p: torch.optim.SGD(p, lr=0.05, weight_decay=0.01)),
        "momentum": (lambda: gw.SGD(0.05, momentum=0.9),
                     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
        "nesterov": (lambda: gw.SGD(0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
                     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True,
                                               weight_decay=1e-3)),
        "rmsprop": (lambda: gw.RMSprop(0.01), lambda p: torch.optim.RMSprop(p, lr=0.01)),
        "adam": (lambda: gw.Adam(0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
        "adamw": (lambda: gw.AdamW(0.01, weight_decay=0.1),
                  lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1)),
        "adam_l2": (lambda: gw.Adam(0.01, weight_decay=0.1),
                    lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.1)),
    }[name]
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 3))
    ps = [rng.standard_normal((3, 2)), rng.standard_normal(2)]
    tps = [torch.tensor(p.copy(), requires_grad=True) for p in ps]
    opt, topt = ours(), theirs(tps)
    for _ in range(5):
        # f = sum(tanh(A @ W + b)^2): a non-quadratic loss so every step differs
        h = np.tanh(A @ ps[0] + ps[1])
        dz = 2 * h * (1 - h * h)
        opt.step(ps, [A.T @ dz, dz.sum(0)])
        topt.zero_grad()
        (torch.tanh(torch.tensor(A) @ tps[0] + tps[1]) ** 2).sum().backward()
        topt.step()
    for p, tp in zip(ps, tps):
        np.testing.assert_allclose(p, tp.detach().numpy(), rtol=1e-6, atol=1e-9)
