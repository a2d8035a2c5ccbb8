"""The doctor's entry points never raise on the bugs they exist to name: generated inputs
(malformed labels, wrong shapes, NaN and inf, empty arrays, integer, boolean and object
dtypes, mismatched lists) give a Report, or a ValueError / TypeError that names the
argument. (Recorder.log and report are fuzzed in test_recorder_robust.py.)"""

import math
import re

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gradwise import doctor
from gradwise.doctor import Report

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

dtypes = st.sampled_from([np.float64, np.float32, np.int64, np.uint8, np.int8, np.bool_])
values = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=32),
                   st.integers(-300, 300).map(float))
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=6)


@st.composite
def arrays(draw):
    dtype = draw(dtypes)
    shape = draw(shapes)
    a = draw(hnp.arrays(np.float64, shape, elements=values))
    with np.errstate(all="ignore"):
        return np.nan_to_num(a, posinf=255, neginf=-255).astype(dtype) if dtype not in (
            np.float64, np.float32) else a.astype(dtype)


odd = st.one_of(arrays(), st.none(), st.lists(st.integers(-3, 12), max_size=8),
                st.just("not an array"), st.just([[1, 2], [3]]), st.just({"x": 1}),
                st.just(np.array(["a", "b"], dtype=object)))


def clean(call, argument_names) -> None:
    """``call()`` gives a Report, or a ValueError/TypeError whose message names one of
    ``argument_names``: never another exception, never a bare one."""
    try:
        report = call()
    except (ValueError, TypeError) as e:
        msg = str(e)
        assert msg and any(re.search(rf"\b{n}\b", msg) for n in argument_names), msg
        return
    assert isinstance(report, Report)
    str(report)                                             # and it prints
    for f in report:
        for v in f.evidence.values():                       # its numbers are numbers
            assert isinstance(v, (int, float, str, bool, list, type(None))), (f.code, v)


@FUZZ
@given(X=odd, y=odd, X_test=odd, y_test=odd, classification=st.booleans(),
       num_classes=st.one_of(st.none(), st.integers(-2, 12)), shuffled=st.booleans())
def test_check_data_never_crashes(X, y, X_test, y_test, classification, num_classes, shuffled):
    with np.errstate(all="raise"):                          # a user may run under seterr
        clean(lambda: doctor.check_data(X, y, X_test, y_test, classification=classification,
                                        num_classes=num_classes, shuffled=shuffled),
              ["X_train", "y_train", "X_test", "y_test", "num_classes"])


@FUZZ
@given(weights=st.one_of(st.lists(odd, max_size=4), st.dictionaries(st.sampled_from("Wbv"), odd, max_size=3),
                         odd))
def test_check_init_never_crashes(weights):
    with np.errstate(all="raise"):
        clean(lambda: doctor.check_init(weights), ["weights", "model_or_weights", "W", "b", "v", "param"])


@st.composite
def gradient_problems(draw):
    """Parameters, a loss of them and 'gradients' that may be wrong in every way."""
    n = draw(st.integers(0, 3))
    params = [draw(hnp.arrays(np.float64, draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=4)),
                              elements=st.floats(-3, 3))) for _ in range(n)]
    kind = draw(st.sampled_from(["right", "scaled", "transposed", "shape", "nan", "missing", "extra",
                                 "ints", "scalar"]))
    grads = [2 * p for p in params]                          # the gradient of sum(p ** 2)
    if kind == "scaled":
        grads = [3 * g for g in grads]
    elif kind == "transposed":
        grads = [g.T for g in grads]
    elif kind == "shape" and grads:
        grads[0] = np.zeros(grads[0].size + 1)
    elif kind == "nan" and grads:
        grads[0] = np.full_like(grads[0], np.nan)
    elif kind == "missing":
        grads = grads[:-1]
    elif kind == "extra":
        grads = grads + [np.ones(2)]
    elif kind == "ints":
        grads = [g.astype(np.int64) for g in grads]
    elif kind == "scalar":
        grads = [float(g.sum()) for g in grads]
    loss = draw(st.sampled_from(["sum_sq", "nan", "array", "raises", "none"]))

    def f(ps):
        if loss == "nan":
            return float("nan")
        if loss == "array":
            return np.array([1.0, 2.0])
        if loss == "raises":
            raise ArithmeticError("the user's forward pass broke")
        if loss == "none":
            return None
        with np.errstate(all="ignore"):                      # a user without np.seterr
            return float(sum(np.sum(p ** 2) for p in ps))
    return f, params, grads, loss


@FUZZ
@given(problem=gradient_problems(), eps=st.sampled_from([1e-6, 1e-3, 0.0, -1.0, math.nan]))
def test_check_gradients_never_crashes_and_names_what_is_wrong(problem, eps):
    f, params, grads, loss = problem
    try:
        report = doctor.check_gradients(f, params, grads, eps=eps)
    except (ValueError, TypeError) as e:
        assert re.search(r"\b(f|eps|params?|grads?|parameters?|gradients?|loss)\b", str(e)), str(e)
        return
    except ArithmeticError as e:                            # the user's own f raised: theirs
        assert loss == "raises" and "forward pass" in str(e)
        return
    assert isinstance(report, Report)
    with np.errstate(under="ignore"):
        right = all(isinstance(g, np.ndarray) and g.shape == p.shape and np.all(np.isfinite(g))
                    and np.allclose(g, 2 * p) for p, g in zip(params, grads))
    if loss == "sum_sq" and eps == 1e-6 and params and right and len(grads) == len(params):
        assert not report.codes(), report                   # right gradients: clean
