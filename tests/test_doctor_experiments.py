"""The doctor's experiments (gradwise.doctor.experiments): lr_sweep, examine, verify.

Small synthetic problems (a few hundred rows, tens of steps) keep each test to about a second;
every fix is checked to run on a copy: the user's model, params and arrays never change.
"""

import copy

import numpy as np
import pytest

import gradwise as gw
from gradwise import doctor
from gradwise.doctor import experiments as ex


def blobs(n=400, d=8, c=3, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((c, d)) * 3
    y = rng.integers(0, c, n)
    X = (centres[y] + rng.standard_normal((n, d))).astype(np.float32) * scale
    return X, y


def setup(model, X, y, **kw):
    kw = {"loss": None, "optimizer": gw.SGD(0.1), "batch_size": 32, "seed": 0, "max_samples": None, **kw}
    return ex._model_setup(model, X, y, **kw)


def snapshot(model):
    return [p.copy() for p in model.params]


def same(model, before):
    return all(np.array_equal(a, b) for a, b in zip(model.params, before))


# ----------------------------------------------------------------------------- each fix on a copy

@pytest.mark.parametrize("code", sorted(ex.MODEL_FIXES))
def test_each_fix_changes_a_copy_never_the_users_model_or_arrays(code):
    X, y = blobs()
    X[3, 2] = np.nan if code == "NONFINITE_INPUT" else X[3, 2]
    model = gw.Sequential([gw.Dense(8, 16, rng=np.random.default_rng(0)), gw.ReLU(),
                           gw.Dense(16, 3, rng=np.random.default_rng(1)), gw.Softmax()])
    opt = gw.SGD(0.1)
    s = setup(model, X, y, optimizer=opt)
    X0, y0, w0, layers0 = X.copy(), y.copy(), snapshot(model), len(model.layers)
    fixed = ex.MODEL_FIXES[code][1](s, {"lr": 0.03})
    assert fixed is not None and fixed is not s
    assert np.array_equal(X, X0, equal_nan=True) and np.array_equal(y, y0)
    assert same(model, w0) and len(model.layers) == layers0 and opt.lr == 0.1 and opt.clip_norm is None
    assert np.array_equal(s.X, X0, equal_nan=True) and same(s.model, w0)   # the setup itself is kept too
    ex._train_model(fixed, None, 3)                                       # and the fixed copy trains


def test_the_fixes_do_what_they_say():
    X, y = blobs(scale=200.0)
    model = gw.Sequential([gw.Dense(8, 16, init="uniform01", rng=np.random.default_rng(0)), gw.ReLU(),
                           gw.Dense(16, 3, rng=np.random.default_rng(1)), gw.Softmax()])
    s = setup(model, X, y)
    scaled = ex._fix_scale(s, {})
    assert abs(scaled.X.mean()) < 1e-3 and abs(scaled.X.std(axis=0) - 1).max() < 1e-3
    assert ex._fix_init(s, {}).model.layers[0].params["W"].min() < 0            # no longer all positive
    assert type(ex._fix_output_loss(s, {}).model.layers[-1]).__name__ != "Softmax"
    assert ex._fix_lr(s, {"lr": 0.03}).optimizer.lr == 0.03
    assert ex._fix_clip(s, {}).optimizer.clip_norm == 1.0
    assert ex._fix_shuffle(dataclass_replace(s, shuffle=False), {}).shuffle


def dataclass_replace(s, **kw):
    import dataclasses
    return dataclasses.replace(s, **kw)


# ----------------------------------------------------------------------------- lr_sweep

def test_lr_sweep_finds_a_working_rate_and_calls_a_tiny_one_too_low(tmp_path):
    X, y = blobs()
    model = gw.mlp([8, 16, 3], seed=0)
    w0 = snapshot(model)
    sw = doctor.lr_sweep(model, X, y, optimizer=gw.SGD(1e-5), steps=40, batch_size=32, run_dir=tmp_path)
    assert same(model, w0)
    assert 1e-3 <= sw.lr <= 10 and sw.low is not None and sw.low < sw.high
    assert sw.best_loss < 0.5 * sw.initial_loss
    assert [f.code for f in sw.findings] == ["LR_TOO_LOW"]
    assert (tmp_path / "lr_sweep.json").exists()
    assert "use lr" in str(sw)


def test_lr_sweep_calls_a_huge_rate_too_high_and_a_good_one_nothing():
    X, y = blobs()
    high = doctor.lr_sweep(gw.mlp([8, 16, 3], seed=0), X, y, optimizer=gw.SGD(50.0), steps=40)
    assert [f.code for f in high.findings] == ["LR_TOO_HIGH"]
    good = doctor.lr_sweep(gw.mlp([8, 16, 3], seed=0), X, y, optimizer=gw.SGD(high.lr), steps=40)
    assert good.findings == []


def test_lr_sweep_refuses_a_backwards_range():
    X, y = blobs()
    with pytest.raises(ValueError, match="lr_min < lr_max"):
        doctor.lr_sweep(gw.mlp([8, 3], seed=0), X, y, lr_min=1.0, lr_max=0.1)


# ----------------------------------------------------------------------------- examine

def softmax_loop(bug=None):
    """A CS231n-style 2-layer loop (X @ W), as a step function, and its gradient."""
    def forward_backward(p, X, y):
        h = np.maximum(X @ p["W1"] + p["b1"], 0)                   # (N, H)
        z = h @ p["W2"] + p["b2"]                                   # (N, C)
        z = z - z.max(axis=1, keepdims=True)
        P = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        loss = -np.log(P[np.arange(len(y)), y]).mean()
        dz = P.copy()
        dz[np.arange(len(y)), y] -= 1
        dz /= len(y)
        dh = (dz @ p["W2"].T) * (h > 0)
        g = {"W1": X.T @ dh, "b1": dh.sum(0), "W2": h.T @ dz, "b2": dz.sum(0)}
        if bug == "grad":
            g["W1"] = 2 * g["W1"]
        return loss, g

    def step(p, X, y, lr):
        loss, g = forward_backward(p, X, y)
        for k in p:
            if bug == "frozen" and k == "W1":
                continue
            p[k] -= lr * g[k]
        return loss
    return step, (lambda p, X, y: forward_backward(p, X, y)[1])


def params(d=8, h=16, c=3, seed=0, gain=1.0):
    rng = np.random.default_rng(seed)
    return {"W1": rng.standard_normal((d, h)) * np.sqrt(2 / d) * gain, "b1": np.zeros(h),
            "W2": rng.standard_normal((h, c)) * np.sqrt(2 / h) * gain, "b2": np.zeros(c)}


def test_examine_a_correct_loop_is_clean_and_leaves_the_params_alone():
    X, y = blobs()
    step, grad = softmax_loop()
    p = params()
    p0 = copy.deepcopy(p)
    report = doctor.examine(step, p, X, y, grad=grad, lr=0.1, steps=40)
    assert report.codes() == [], str(report)
    assert all(np.array_equal(p[k], p0[k]) for k in p)
    used = report.experiments
    assert used["steps"] == 40 and used["overfit"]["loss_end"] < 0.1 * used["overfit"]["loss_start"]


def test_examine_names_a_wrong_gradient_a_low_rate_and_unscaled_inputs():
    X, y = blobs()
    step, grad = softmax_loop("grad")
    assert "GRADIENT_MISMATCH" in doctor.examine(step, params(), X, y, grad=grad, lr=0.1, steps=30).codes()
    step, grad = softmax_loop()
    low = doctor.examine(step, params(), X, y, lr=1e-5, steps=30)
    assert low.codes()[0] == "LR_TOO_LOW"
    assert low.get("LR_TOO_LOW").verified["helped"]
    big = doctor.examine(step, params(), X * 300, y, lr=0.1, steps=30)
    assert "INPUT_SCALE" in big.codes() and big.get("INPUT_SCALE").verified["helped"]


def test_examine_copies_a_stateful_step_for_each_trial():
    X, y = blobs()
    _, grad = softmax_loop()

    class Momentum:                                   # a step that keeps its velocity in itself
        def __init__(self):
            self.v = {}

        def __call__(self, p, X, y, lr):
            loss = -np.log(1e-9)                      # not used: the loss comes from step's value
            g = grad(p, X, y)
            for k in p:
                self.v[k] = 0.9 * self.v.get(k, 0) + g[k]
                p[k] -= lr * self.v[k]
            return ex_loss(p, X, y) if loss else 0.0
    step = Momentum()
    report = doctor.examine(step, params(), X, y, lr=0.05, steps=30)
    assert step.v == {}                               # the user's object never ran
    assert "LR_TOO_HIGH" not in report.codes()


def ex_loss(p, X, y):
    h = np.maximum(X @ p["W1"] + p["b1"], 0)
    z = h @ p["W2"] + p["b2"]
    z = z - z.max(axis=1, keepdims=True)
    return float((np.log(np.exp(z).sum(1)) - z[np.arange(len(y)), y]).mean())


def test_examine_cannot_overfit_a_loop_that_never_updates():
    X, y = blobs()
    report = doctor.examine(lambda p, X, y, lr: ex_loss(p, X, y), params(), X, y, lr=0.1, steps=20)
    assert "NOT_LEARNING" in report.codes()
    assert report.get("NOT_LEARNING").evidence["overfit_steps"] == 60


def test_examine_refuses_what_is_no_step_function():
    with pytest.raises(TypeError, match="step must be a function"):
        doctor.examine("step", params(), *blobs())


# ----------------------------------------------------------------------------- verify

def test_verify_shows_the_fix_of_unscaled_inputs_helping_and_ranks_it_first():
    X, y = blobs(scale=255.0)
    model = gw.mlp([8, 16, 3], seed=0)
    w0, X0 = snapshot(model), X.copy()
    report = doctor.diagnose(model, X, y, optimizer=gw.SGD(0.1), epochs=2, batch_size=32, verify=True)
    assert same(model, w0) and np.array_equal(X, X0)
    top = report.findings[0]
    assert top.code == "INPUT_SCALE" and top.verified["helped"], str(report)
    assert top.verified["after"] > top.verified["before"]
    assert "tried: standardise" in str(report) and "tried:" in report._repr_html_()
    assert report.to_dict()["experiments"]["verify_steps"] > 0


def test_verify_on_a_healthy_run_claims_no_help():
    X, y = blobs()
    report = doctor.diagnose(gw.mlp([8, 16, 3], seed=0), X, y, optimizer=gw.Adam(1e-2), epochs=2,
                             batch_size=32, verify=True)
    assert not any(f.verified and f.verified["helped"] for f in report.findings), str(report)


def test_a_finding_without_verified_is_what_it_was():
    f = doctor.Finding("INPUT_SCALE", "warning", "m", {"p99": 255.0}, "fix")
    assert f.verified is None and "tried" not in str(f)
    assert doctor.Report([f]).to_dict()["findings"][0]["verified"] is None


def nested_loop(factor=1.0, bug=False):
    """softmax_loop's network held as a Nielsen-style {"w": [W1, W2], "b": [b1, b2]}."""
    step0, grad0 = softmax_loop()

    def flat(p):
        return {"W1": p["w"][0], "b1": p["b"][0], "W2": p["w"][1], "b2": p["b"][1]}

    def grad(p, X, y):
        g = grad0(flat(p), X, y)
        if bug:
            g["W2"] = g["W2"].T.reshape(g["W2"].shape)       # entries moved: a wrong direction
        return {"w": [factor * g["W1"], factor * g["W2"]], "b": [factor * g["b1"], factor * g["b2"]]}

    def step(p, X, y, lr):
        loss = step0(flat(p), X, y, 0.0)
        g = grad(p, X, y)
        for group in ("w", "b"):
            for a, d in zip(p[group], g[group]):
                a -= lr * d
        return loss
    return step, grad


def nested_params():
    p = params()
    return {"w": [p["W1"], p["W2"]], "b": [p["b1"], p["b2"]]}


def test_examine_reads_nested_params_and_checks_their_gradients():
    X, y = blobs()
    assert [n for n, _ in ex._float_arrays(nested_params())] == ["w[0]", "w[1]", "b[0]", "b[1]"]
    step, grad = nested_loop()
    clean = doctor.examine(step, nested_params(), X, y, grad=grad, lr=0.1, steps=30)
    assert clean.codes() == [], str(clean)
    assert not clean.experiments["gradient_check"].startswith("not run")
    step, grad = nested_loop(bug=True)
    bad = doctor.examine(step, nested_params(), X, y, grad=grad, lr=0.1, steps=30)
    assert "GRADIENT_MISMATCH" in bad.codes()


def test_a_gradient_off_by_one_constant_factor_is_info_with_the_factor():
    X, y = blobs()
    step, grad = nested_loop(factor=2.0)
    report = doctor.examine(step, nested_params(), X, y, grad=grad, lr=0.05, steps=30)
    mism = [f for f in report.findings if f.code == "GRADIENT_MISMATCH"]
    assert mism and all(f.severity == "info" and f.evidence["constant_factor"] == pytest.approx(2.0)
                        for f in mism)


def test_the_gradient_check_tolerance_grows_with_the_loss_only_past_rounding():
    g = [np.full(10, 0.1)]
    assert ex._gradcheck_tol(2.3, g) == ex.GRADCHECK_TOL          # an ordinary loss: unchanged
    assert ex._gradcheck_tol(9000.0, g) > 1e-4                    # a huge one rounds its differences


def test_examine_names_a_grad_that_adds_into_a_buffer():
    X, y = blobs()
    step0, grad0 = softmax_loop()
    buffers = {}

    def grad(p, Xb, yb):                                       # dW += ..., never zeroed
        for k, g in grad0(p, Xb, yb).items():
            buffers[k] = buffers.get(k, 0) + g
        return dict(buffers)
    found = ex._stateful_grad(grad, params(), X[:8], y[:8])
    assert [f.code for f in found] == ["GRADIENT_NOT_RESET"]
    assert ex._stateful_grad(grad0, params(), X[:8], y[:8]) == []     # a pure function: nothing


def test_examine_reads_dead_relus_from_bias_gradients_that_stay_zero():
    X, y = blobs()
    X = np.abs(X)                                              # positive inputs ...
    step, grad = softmax_loop()
    p = params()
    p["W1"] = -np.abs(p["W1"])                                 # ... into negative weights: all dead
    report = doctor.examine(step, p, X, y, grad=grad, lr=0.1, steps=30)
    assert "DEAD_RELU" in report.codes(), str(report)
    assert ex._bias_names(ex._float_arrays({"W": np.zeros((5, 1)), "b": np.zeros(1)})) == set()


def test_examine_names_a_step_that_scrambles_one_gradient():
    X, y = blobs()
    step0, grad = softmax_loop()

    def step(p, Xb, yb, lr):                                   # W2's (16, 3) gradient "made to fit"
        loss = step0(copy.deepcopy(p), Xb, yb, 0.0)
        g = grad(p, Xb, yb)
        g["W2"] = g["W2"].T.reshape(g["W2"].shape)            # its entries scrambled
        for k in p:
            p[k] -= lr * g[k]
        return loss
    report = doctor.examine(step, params(), X, y, grad=grad, lr=0.1, steps=30)
    assert "GRADIENT_MISMATCH" in report.codes(), str(report)
    assert not ex._unrelated_updates({"W1": [1.0] * 10, "W2": [0.9] * 10})   # all along: nothing


def test_the_sweep_judges_your_rate_against_the_best_between_grid_points():
    sw = ex.LRSweep(lr=0.01, low=None, high=None, grid=[(0.00316, 332.8), (0.01, 242.7), (0.0316, 2052.8),
                                                        (0.05, 2311.6)], current=0.05, current_loss=2311.6,
                    initial_loss=2423.0, steps=100)
    assert ex._refined_best(sw) == pytest.approx(0.0059, rel=0.05)
    assert [f.code for f in ex._lr_findings(sw)] == ["LR_TOO_HIGH"]


def test_examine_with_predict_sees_labels_that_broadcast_against_the_outputs():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=200)     # (N,): the outputs are (N, 1)

    def forward(p, X):
        return X @ p["W"] + p["b"]

    def step(p, X, y, lr):
        err = forward(p, X) - y                                   # (N, N): the broadcast bug
        loss = float(np.mean(err ** 2))
        d = 2 * err.mean(axis=1, keepdims=True) / len(X)
        p["W"] -= lr * X.T @ d
        p["b"] -= lr * d.sum(0)
        return loss
    p = {"W": np.zeros((3, 1)), "b": np.zeros(1)}
    assert "LABEL_SHAPE" not in doctor.examine(step, p, X, y, lr=0.1, steps=30, batch_size=200).codes()
    seen = doctor.examine(step, p, X, y, lr=0.1, steps=30, batch_size=200, predict=forward)
    assert "LABEL_SHAPE" in seen.codes(), str(seen)


def xor_loop():
    """A correct 2-3-1 sigmoid network on XOR, one pattern per step, squared error: slow
    to leave its plateau, as XOR is."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)
    y = np.array([0.0, 1.0, 1.0, 0.0])
    sig = lambda z: 1 / (1 + np.exp(-z))             # noqa: E731

    def step(p, Xb, yb, lr):
        h = sig(Xb @ p["W1"] + p["b1"])
        o = sig(h @ p["W2"] + p["b2"])[:, 0]
        d_o = ((o - yb) * o * (1 - o))[:, None] / len(yb)
        d_h = (d_o @ p["W2"].T) * h * (1 - h)
        for k, g in (("W2", h.T @ d_o), ("b2", d_o.sum(0)), ("W1", Xb.T @ d_h), ("b1", d_h.sum(0))):
            p[k] -= lr * g
        return float(0.5 * np.mean((o - yb) ** 2))
    rng = np.random.default_rng(3)
    p = {"W1": rng.uniform(-1, 1, (2, 3)), "b1": np.zeros(3), "W2": rng.uniform(-1, 1, (3, 1)), "b2": np.zeros(1)}
    return step, p, X, y


def test_examine_gives_a_slow_correct_loop_its_own_training_length_before_calling_it_broken():
    step, p, X, y = xor_loop()
    report = doctor.examine(step, p, X, y, lr=0.5, batch_size=1, steps=20, train_steps=3000)
    assert "NOT_LEARNING" not in report.codes() and "LR_TOO_HIGH" not in report.codes(), str(report)
    frozen = doctor.examine(lambda p, X, y, lr: step(copy.deepcopy(p), X, y, 0.0), p, X, y, lr=0.5,
                            batch_size=1, steps=20, train_steps=3000)
    assert "NOT_LEARNING" in frozen.codes()
