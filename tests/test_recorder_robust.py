"""Recorder.log is cheap and never crashes: fuzzed with the malformed inputs it exists to
observe, and its budget checked with a fake clock."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gradwise.doctor.recorder import FIRST_WINDOW, RUN, Recorder

FUZZ = settings(max_examples=120, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# ------------------------------------------------------------------------------ inputs

dtypes = st.sampled_from([np.float64, np.float32, np.float16, np.int64, np.int8, np.uint8, np.bool_])
odd_floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64),
                       st.sampled_from([0.0, -0.0, 1e-320, 1e308, -1e308, 0.5]))


@st.composite
def numeric_arrays(draw, max_dims=3, max_side=6):
    dtype = np.dtype(draw(dtypes))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=max_dims, min_side=0, max_side=max_side))
    if dtype.kind == "f":
        elements = st.floats(allow_nan=True, allow_infinity=True, width=8 * min(dtype.itemsize, 8))
        fill = draw(odd_floats) if dtype.itemsize == 8 else None
        return draw(hnp.arrays(dtype, shape, elements=elements,
                               fill=st.just(fill) if fill is not None else None))
    return draw(hnp.arrays(dtype, shape))


#: anything a user might pass where an array belongs
array_likes = st.one_of(
    numeric_arrays(),
    numeric_arrays().map(lambda a: a.tolist()),                     # Python lists (or a scalar)
    odd_floats, st.integers(-10**30, 10**30), st.none(), st.text(max_size=3),
    st.just([[1.0, 2.0], [3.0]]),                                   # ragged
    st.just(np.array([1 + 2j, 3j])), st.just(np.array(["a", "b"])), st.just(object()),
    st.just(np.array([None, 1.0], dtype=object)),
)

param_lists = st.one_of(
    st.none(), st.lists(array_likes, max_size=5), array_likes,
    st.lists(array_likes, max_size=4).map(tuple),
    st.dictionaries(st.sampled_from(["W1", "b1", "W2", 3]), array_likes, max_size=4),
)


@st.composite
def labels(draw):
    n = draw(st.integers(0, 9))
    return draw(st.one_of(
        st.none(),
        hnp.arrays(np.int64, n, elements=st.integers(-5, 12)),                       # negative, large
        hnp.arrays(np.int64, (n, 1), elements=st.integers(0, 3)),                    # (N, 1)
        hnp.arrays(np.float64, n, elements=odd_floats),                              # floats, NaN
        hnp.arrays(np.int64, n, elements=st.integers(0, 6)).map(lambda y: np.eye(7)[y][:, :4]),
        hnp.arrays(np.float64, (n, draw(st.integers(0, 4)))),                        # soft / wrong width
        st.just(np.array([0, 10**18, -10**18])), st.just(np.array([1e300, 0.0])),
        numeric_arrays(), array_likes,
    ))


@st.composite
def logits(draw):
    n, c = draw(st.integers(0, 9)), draw(st.integers(0, 5))
    base = draw(hnp.arrays(np.float64, (n, c), elements=odd_floats))
    return draw(st.one_of(st.just(base), st.just(base.T), numeric_arrays(), array_likes))


@st.composite
def activations(draw):
    n, units = draw(st.integers(0, 10)), draw(st.integers(0, 6))
    relu_rows = np.maximum(draw(hnp.arrays(np.float64, (n, units), elements=odd_floats)), 0)
    one = st.one_of(st.just(relu_rows), st.just(relu_rows.T), numeric_arrays(), array_likes)
    return draw(st.one_of(st.none(), st.lists(one, max_size=3), one))


kinds = st.one_of(st.none(), st.lists(st.sampled_from(["relu", "sigmoid", "tanh", "gelu", None, ""]),
                                      max_size=4))
losses = st.one_of(st.none(), odd_floats, st.integers(-10, 10**400), st.sampled_from([np.float32(2.3)]),
                   array_likes, st.just(np.array([2.3])), st.just(np.ones(7)))
steps = st.one_of(st.integers(-3, 10**6), st.floats(allow_nan=True, allow_infinity=True),
                  st.sampled_from([np.int64(4), np.float32(2.0), "7", None, [1], 1j]))


def calls():
    return st.fixed_dictionaries({}, optional={
        "loss": losses, "weights": param_lists, "grads": param_lists, "activations": activations(),
        "logits": logits(), "labels": labels(), "activation_kinds": kinds})


def _step_refused(e: Exception) -> bool:
    return isinstance(e, (TypeError, ValueError)) and "step" in str(e)


def _run(budget, names, sequence) -> Recorder:
    rec = Recorder(names, budget=budget)
    for i, (step, kw) in enumerate(sequence):
        try:
            rec.log(step if step is not None else i, **kw)
        except (TypeError, ValueError) as e:
            assert _step_refused(e), f"log raised {e!r} for {kw!r}"
    report = rec.report()
    str(report), report.to_json(), report.codes()
    return rec


@FUZZ
@given(budget=st.sampled_from([None, 0.0, 0.05, 1.0]),
       names=st.one_of(st.none(), st.lists(st.sampled_from(["W1", "b1", "W2", "b2", 7]), max_size=6)),
       sequence=st.lists(st.tuples(st.one_of(st.none(), steps), calls()), min_size=1, max_size=6))
def test_log_and_report_never_crash_on_malformed_inputs(budget, names, sequence):
    _run(budget, names, sequence)


@st.composite
def broken_but_consistent(draw):
    """A run of many steps with one kind of bug held throughout (so the checks and the rules
    see a real trace): mismatched lists, wrong shapes, NaN, integer arrays, column layouts."""
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    d, h, c, n = 5, draw(st.integers(1, 6)), draw(st.integers(1, 4)), draw(st.integers(1, 12))
    bug = draw(st.sampled_from(["fewer grads", "transposed", "nan", "ints", "columns", "lists",
                                "one-hot width", "labels (N,1)", "float labels", "empty", "scalars"]))
    steps = draw(st.integers(5, 40))
    seq = []
    W = [rng.standard_normal((d, h)), np.zeros(h), rng.standard_normal((h, c)), np.zeros(c)]
    for step in range(steps):
        G = [0.1 * rng.standard_normal(w.shape) for w in W]
        for w, g in zip(W, G):
            w -= 0.1 * g
        A = np.maximum(rng.standard_normal((n, h)), 0)
        Z = rng.standard_normal((n, c))
        y = rng.integers(0, c, n)
        kw = dict(loss=2.0 - step / steps, weights=[w.copy() for w in W], grads=G, activations=[A],
                  logits=Z, labels=y)
        if bug == "fewer grads":
            kw["grads"] = G[:-1]
        elif bug == "transposed":
            kw["grads"] = [g.T for g in G]
        elif bug == "nan" and step > steps // 2:
            kw["grads"][0][0, 0] = np.nan
            kw["loss"] = float("nan")
        elif bug == "ints":
            kw.update(weights=[np.round(w * 10).astype(int) for w in W], logits=Z.astype(int))
        elif bug == "columns":
            kw.update(weights=[w.T for w in W], grads=[g.T for g in G], activations=[A.T], logits=Z.T)
        elif bug == "lists":
            kw.update(weights=[w.tolist() for w in W], grads=[g.tolist() for g in G],
                      activations=[A.tolist()], logits=Z.tolist(), labels=y.tolist())
        elif bug == "one-hot width":
            kw["labels"] = np.eye(c + 2)[y]
        elif bug == "labels (N,1)":
            kw["labels"] = y[:, None]
        elif bug == "float labels":
            kw["labels"] = y + 0.5
        elif bug == "empty":
            kw.update(weights=[np.zeros((0, 3)), np.zeros(0)], grads=[np.zeros((0, 3)), np.zeros(0)],
                      activations=[np.zeros((0, h))], logits=np.zeros((0, c)), labels=np.zeros(0, int))
        elif bug == "scalars":
            kw.update(weights=[1.0, 2.0], grads=0.5, activations=3.0, logits=1.0, labels=2)
        seq.append((step, kw))
    return seq


@FUZZ
@given(budget=st.sampled_from([None, 0.0, 0.05]), sequence=broken_but_consistent())
def test_log_and_report_never_crash_on_a_run_with_one_bug(budget, sequence):
    _run(budget, ["W1", "b1", "W2", "b2"], sequence)


@pytest.mark.parametrize("value", [1e200, -1e300, np.inf, np.nan, 10**30])
def test_extreme_values_from_the_first_call_on(value):
    """Huge, infinite or NaN numbers everywhere, from the first call (where the init checks
    run too), with every floating-point error raising (tests/conftest.py)."""
    for budget in (None, 0.05):
        rec = Recorder(["W", "b"], budget=budget)
        for step in range(12):
            W = np.linspace(-1, 2, 12).reshape(4, 3) * value      # unequal: past the init's
            W = W.astype(object) if value == 10**30 else W            # symmetry check
            rec.log(step, loss=value if step % 2 else 1.0, weights=[W, np.full(3, value)],
                    grads=[W * 0.5, np.full(3, value)], activations=[np.full((8, 3), value)],
                    logits=np.full((8, 3), value), labels=np.full(8, value))
        str(rec.report())


def test_unusable_steps_are_refused_by_name():
    rec = Recorder()
    for bad in (None, "three", float("nan"), float("inf"), object()):
        with pytest.raises((TypeError, ValueError), match="step"):
            rec.log(bad, loss=1.0)
    rec.log(np.int64(3), loss=1.0)
    rec.log(4.0, loss=1.0)
    assert [r["step"] for r in rec.trace] == [3, 4]


def test_what_it_can_read_it_records():
    rec = Recorder(["W", "b"], budget=None)
    W, b = np.ones((3, 2)), np.zeros(2)
    rec.log(0, loss=[2.5], weights=[W, b], grads=[W.T, b])      # a one-element list: the loss
    rec.log(1, loss="high", weights=[W, b], grads=[W, b, b])     # unreadable loss; 3 gradients
    assert rec.trace[0]["loss"] == 2.5 and rec.trace[1]["loss"] is None
    messages = [f.message for f in rec.findings]
    assert len(rec.findings) == 2 and "transposed" in messages[0] and "3 gradients" in messages[1]
    rec.log(2, loss=1.0, weights=[W, b], grads=[W.T, b])         # the same mismatch: once
    assert len(rec.findings) == 2
    # samples as columns: activations (units, N) and logits (C, N) are read as such
    rec = Recorder(budget=None)
    y = np.arange(8) % 2
    z = np.zeros((2, 8))
    z[0] = 1                                                     # every sample predicts class 0
    rec.log(0, loss=1.0, activations=[np.zeros((5, 8))], activation_kinds=["relu"], logits=z, labels=y)
    r = rec.trace[0]
    assert r["top_pred_share"] == 1.0 and r["top_label_share"] == 0.5 and r["dead_share"] == [1.0]


# ------------------------------------------------------------------------------ the budget

class FakeClock:
    """Time that moves only when told, and by ``tick`` at every reading (so each call of the
    Recorder, which reads it on entry and exit, costs a little)."""

    def __init__(self, tick=1e-3):
        self.t, self.tick = 0.0, tick

    def __call__(self):
        self.t += self.tick
        return self.t


def _fake_run(budget, calls, step=1.0, heavy=2.0, allowance=0.0, jitter=0.0):
    """``calls`` calls, a user step of ``step`` seconds between them and ``heavy`` seconds per
    full summary (both varied by up to ``jitter`` of themselves, as on a busy machine): the
    Recorder's checked calls and the share of the time it took."""
    clock = FakeClock()
    noise = np.random.default_rng(0)

    class Timed(Recorder):
        def _summarise(self, *args):
            clock.t += heavy * (1 + jitter * noise.uniform(-1, 1))
            super()._summarise(*args)

    rec = Timed(budget=budget, allowance=allowance, clock=clock)
    own = 0.0
    w = [np.ones(4)]
    for i in range(calls):
        clock.t += step * (1 + jitter * noise.uniform(-1, 1))   # the user's step
        before = clock.t
        rec.log(i, loss=1.0, weights=w, grads=w)
        own += clock.t - before
    checked = [i for i, r in enumerate(rec.trace) if "weight_norm" in r]
    return rec, checked, own / clock.t


def _runs(checked):
    runs, start = [], None
    for i, c in enumerate(checked):
        if start is None or c != checked[i - 1] + 1:
            runs.append([c])
        else:
            runs[-1].append(c)
        start = c
    return runs


def test_budget_bounds_the_share_of_time_and_checks_come_in_consecutive_runs():
    # a full summary costs 2 user steps: 5% of the time allows one run of 3 every ~120 steps
    rec, checked, share = _fake_run(0.05, 5000)
    assert share < 0.06, share
    runs = _runs(checked)
    assert all(len(r) == RUN for r in runs), runs[:5]
    assert checked[:RUN] == [0, 1, 2]                                # always the first steps
    assert 30 <= len(runs) <= 50                                     # spread over the run ...
    assert checked[-1] > 4700                                        # ... to its end
    gaps = np.diff([r[0] for r in runs[len(runs) // 2:]])            # once the first checks
    assert gaps.max() < 1.2 * np.median(gaps)                        # are paid for: evenly
    # the pairs and triples the rules need: a cosine on the 2nd and 3rd call, a fit on the 3rd
    t = rec.trace
    assert all("update_norm" in t[r[1]] and "momentum_fit" in t[r[2]] for r in runs)
    assert not any("update_norm" in t[r[0]] for r in runs[1:])        # no delta across a gap


def test_a_busy_machine_gets_the_same_checks_as_a_quiet_one():
    """Runs start at multiples of a power of two of calls, set by the measured cost: timing
    noise of +-30% (a loaded machine) leaves the checked calls, and so the verdict, alone."""
    # a run of 3 summaries of 1.5 s: 5% of the 1 s user step pays for it every 90 calls, so
    # +-30% puts the need between 63 and 117 calls, every time the same power of two: 128
    _, quiet, share = _fake_run(0.05, 3000, heavy=1.5)
    _, busy, busy_share = _fake_run(0.05, 3000, heavy=1.5, jitter=0.3)
    assert busy == quiet and share < 0.06 and busy_share < 0.06
    starts = [r[0] for r in _runs(quiet)]
    assert set(np.diff(starts[len(starts) // 2:])) == {128}


def test_a_tiny_budget_still_checks_a_few_runs_spread_over_the_run():
    rec, checked, share = _fake_run(0.0, 300)
    starts = [r[0] for r in _runs(checked)]
    w = FIRST_WINDOW
    assert starts == [0, w, 3 * w, 7 * w, 15 * w, 31 * w]            # 0, 8, 24, 56, 120, 248
    rec, checked, _ = _fake_run(None, 20)
    assert checked == list(range(20))                               # budget=None: every call


def test_the_allowance_watches_a_short_run_in_full_then_the_budget_rules():
    # a summary costs 2 ms (1 ms of work, 1 ms of clock ticks) against steps of 0.1 ms: a
    # budget of 0 pays for nothing, but the first 20 ms are free: 10 calls, the last run
    # completed (12), whatever the machine's speed; then the doubling windows only
    rec, checked, _ = _fake_run(0.0, 300, step=1e-4, heavy=1e-3, allowance=0.02)
    assert checked == [*range(12), 56, 57, 58, 120, 121, 122, 248, 249, 250]
    with pytest.raises(ValueError, match="allowance"):
        Recorder(allowance=-1)


def test_a_first_nonfinite_loss_is_summarised_at_once():
    clock = FakeClock()
    rec = Recorder(budget=0.0, clock=clock)
    W = [np.ones((3, 3))]
    for i in range(30):
        clock.t += 1.0
        bad = i >= 17
        rec.log(i, loss=float("nan") if bad else 1.0, weights=[W[0] * (np.nan if bad else 1)], grads=W)
    r = rec.trace[17]
    assert r["nonfinite"] == "the loss" and "weight_norm" in r
    nonfinite = next(f for f in rec.report().findings if f.code == "NONFINITE")
    assert nonfinite.evidence["step"] == 17


def test_rules_read_sparse_checks_when_the_last_record_is_cheap():
    """Dead units, one predicted class and a frozen weight, seen on checks only: the rules
    find them although the trace ends on records that hold only the loss."""
    clock = FakeClock()
    rec = Recorder(["W", "b"], budget=0.0, allowance=0.0, clock=clock)
    rng = np.random.default_rng(0)
    W, b = rng.standard_normal((6, 4)), np.zeros(4)
    for i in range(200):
        clock.t += 1.0
        z = np.zeros((32, 4))
        z[:, 1] = 5.0
        rec.log(i, loss=2.3, weights=[W, b - 0.01 * i], grads=[np.ones_like(W), np.ones(4)],
                activations=[np.zeros((32, 16))], logits=z, labels=np.arange(32) % 4)
    assert "weight_norm" not in rec.trace[-1]                        # the last record is cheap
    assert 0.02 < sum("weight_norm" in r for r in rec.trace) / 200 < 0.1
    report = rec.report()
    codes = report.codes()
    assert {"DEAD_RELU", "SINGLE_CLASS", "WEIGHTS_FROZEN"} <= set(codes), codes
    assert next(f for f in report.findings if f.code == "SINGLE_CLASS").evidence["class"] == 1
    assert next(f for f in report.findings if f.code == "WEIGHTS_FROZEN").where == "W"


def test_momentum_fit_from_dot_products_matches_the_direct_fit(rng):
    from gradwise.doctor.recorder import _fit, fit_momentum
    prev, g = rng.standard_normal(300), rng.standard_normal(300)
    for delta in (0.9 * prev - 0.01 * g, rng.standard_normal(300)):
        direct = fit_momentum(delta, prev, g)
        dots = _fit(prev @ prev, prev @ g, g @ g, prev @ delta, g @ delta, delta @ delta)
        assert dots[:2] == pytest.approx(direct[:2]) and dots[2] == pytest.approx(direct[2], abs=1e-6)
    assert _fit(1.0, 0.0, 1.0, 0.0, 0.0, 0.0) is None                      # no update: no fit
