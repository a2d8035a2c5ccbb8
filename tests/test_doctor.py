"""The doctor's entry points, end to end, on real (mnist-mini) and toy data."""

import json

import numpy as np
import pytest

import gradwise as gw
from gradwise import cli, doctor
from gradwise.doctor import Finding, Report


@pytest.fixture(scope="module")
def mini():
    ds = gw.data.load("mnist-mini")
    return (gw.data.scale_pixels(ds.X_train[:2000]), ds.y_train[:2000].astype(int),
            gw.data.scale_pixels(ds.X_test[:500]), ds.y_test[:500].astype(int))


def test_report_orders_root_causes_first_and_serialises():
    r = Report([Finding("SINGLE_CLASS", "error", "collapsed"),
                Finding("CLASS_IMBALANCE", "info", "fyi"),
                Finding("INPUT_SCALE", "warning", "pixels", {"max": 255.0}, "divide by 255"),
                Finding("NONFINITE", "error", "nan", where="layer 0")])
    assert r.codes() == ["INPUT_SCALE", "NONFINITE", "SINGLE_CLASS"] and not r.ok
    assert r.findings[-1].code == "CLASS_IMBALANCE"
    d = json.loads(r.to_json())
    assert d["codes"] == r.codes() and d["findings"][0]["evidence"] == {"max": 255.0}
    text = str(r)
    assert text.index("INPUT_SCALE") < text.index("NONFINITE") and "fix: divide by 255" in text
    assert Report().ok and "no problems" in str(Report())
    with pytest.raises(ValueError, match="severity"):
        Finding("X", "fatal", "no")


def test_check_data_healthy_and_broken(mini):
    X, y, Xt, yt = mini
    assert doctor.check_data(X, y, Xt, yt, num_classes=10).ok
    bad = doctor.check_data(X * 255, y + 1, Xt, yt, num_classes=10)
    assert bad.codes()[:2] == ["LABEL_RANGE", "INPUT_SCALE"]


def test_check_init_model_and_lists(rng):
    assert doctor.check_init(gw.mlp([784, 64, 10], seed=0)).ok
    assert doctor.check_init(gw.mlp([784, 64, 10], init="uniform01", seed=0)).codes()[0] == "INIT_ALL_POSITIVE"
    own = [rng.standard_normal((64, 784)), np.zeros(64)]             # (out, in) and a bias
    assert doctor.check_init(own).codes() == ["INIT_TOO_LARGE"]
    assert doctor.check_init({"W1": rng.standard_normal((784, 64)) * 0.05}).ok


def test_check_gradients_right_wrong_float32_and_ignored_params(rng):
    A = rng.standard_normal((5, 4))
    f = lambda p: float(np.sum(np.tanh(A @ p[0]) ** 2))              # noqa: E731
    W = rng.standard_normal((4, 3))
    h = np.tanh(A @ W)
    good = A.T @ (2 * h * (1 - h ** 2))
    assert doctor.check_gradients(f, [W], [good]).ok
    assert doctor.check_gradients(f, [W.astype(np.float32)], [good]).ok   # checked in float64
    bad = doctor.check_gradients(f, [W], [good * 1.1])
    assert bad.codes() == ["GRADIENT_MISMATCH"] and bad.findings[0].evidence["worst"]
    assert doctor.check_gradients(f, [W], [good.T]).codes() == ["GRADIENT_SHAPE"]
    W_global = W.copy()
    ignores = doctor.check_gradients(lambda p: float(np.sum(W_global)), [W], [np.ones_like(W)])
    assert "does f use the params" in ignores.findings[0].message


def test_recorder_with_any_subset_of_inputs(rng):
    rec = doctor.Recorder()
    for step in range(10):
        rec.log(step, loss=2.3 - 0.1 * step)
    assert rec.report().ok
    rec = doctor.Recorder()
    for step in range(10):
        rec.log(step, logits=rng.standard_normal((32, 10)), labels=rng.integers(0, 10, 32))
    assert rec.report().ok
    rec = doctor.Recorder(["W", "b"])
    rec.log(0, weights=[np.zeros((3, 2)), np.zeros(2)], grads=[np.zeros((2, 3)), np.zeros(2)])
    assert rec.report().codes() == ["GRADIENT_SHAPE"] and "transposed" in rec.report().findings[0].message


def test_monitor_on_a_healthy_fit_is_quiet_and_sees_a_bad_one(mini):
    X, y, Xt, yt = mini
    mon = doctor.Monitor(every=5)
    gw.mlp([784, 64, 10], seed=0).fit(X, y, epochs=2, batch_size=64, callbacks=[mon], verbose=0, seed=0)
    assert mon.report().ok, str(mon.report())
    assert len(mon.recorder.trace) > 8
    mon = doctor.Monitor(every=5)
    model = gw.mlp([784, 64, 10], seed=0)
    model.layers.append(gw.Softmax())
    model.fit(X, y, epochs=1, batch_size=64, callbacks=[mon], verbose=0)
    assert mon.report().codes()[0] == "OUTPUT_LOSS_MISMATCH"


class Squash(gw.Tanh):
    """A tanh by another name: the doctor must know it by its hook, not its class name."""


class Probabilities(gw.Softmax):
    """A softmax by another name."""


def test_monitor_knows_layers_by_their_hooks_and_classes_not_their_names(mini):
    X, y, _, _ = mini
    net = gw.Sequential([gw.Dense(784, 32, rng=np.random.default_rng(0)), Squash(),
                         gw.Dense(32, 10, rng=np.random.default_rng(1)), Probabilities()])
    mon = doctor.Monitor(every=2)
    net.fit(X[:256], y[:256], epochs=1, batch_size=64, callbacks=[mon], verbose=0, seed=0)
    traced = next(r for r in mon.recorder.trace if r.get("act_names"))
    assert traced["act_names"] == ["layer 1 (Squash)"]       # Softmax is no element-wise activation
    assert traced["saturated_share"][0] is not None and 0 <= traced["saturated_share"][0] <= 1
    assert "OUTPUT_LOSS_MISMATCH" in mon.report().codes()   # softmax, then SoftmaxCrossEntropy


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_monitor_names_unscaled_inputs_from_the_batches_it_sees(model, mini):
    """A Monitor alone (no check_data before) still names pixels left in 0..255, for rows
    and for images, as the root cause ahead of the huge initial loss it causes."""
    X, y, _, _ = mini
    X = X[:512] * 255
    if model == "cnn":
        from gradwise.train import cnn_preset
        net, X = cnn_preset("cnn", 784, 10, seed=0), X.reshape(-1, 1, 28, 28)
    else:
        net = gw.mlp([784, 64, 10], seed=0)
    mon = doctor.Monitor(every=2)
    net.fit(X, y[:512], epochs=1, batch_size=64, callbacks=[mon], verbose=0, seed=0)
    report = mon.report()
    assert report.codes()[0] == "INPUT_SCALE", str(report)
    assert "first training batch" in report.findings[0].message
    quiet = doctor.Monitor(every=2, check_inputs=False)
    gw.mlp([784, 64, 10], seed=0).fit(X.reshape(len(X), -1), y[:512], epochs=1, batch_size=64,
                                      callbacks=[quiet], verbose=0, seed=0)
    assert "INPUT_SCALE" not in quiet.report().codes()


def test_diagnose_leaves_the_model_untouched_and_names_nonfinite(mini):
    X, y, Xt, yt = mini
    model = gw.mlp([784, 64, 10], seed=0)
    before = [p.copy() for p in model.params]
    report = doctor.diagnose(model, X, y, X_test=Xt, y_test=yt, epochs=1)
    assert report.ok, str(report)
    for a, b in zip(before, model.params):
        np.testing.assert_array_equal(a, b)
    reg = gw.Sequential([gw.Dense(784, 1, rng=np.random.default_rng(0))])
    report = doctor.diagnose(reg, X * 255, X.sum(axis=1, keepdims=True) * 1e3, loss="mse",
                             optimizer=gw.SGD(1.0), epochs=1)
    assert report.codes()[0] == "INPUT_SCALE" and "NONFINITE" in report.codes()
    nonfinite = next(f for f in report.findings if f.code == "NONFINITE")
    assert nonfinite.evidence["step"] >= 1 and nonfinite.where


@pytest.mark.parametrize("scenario", ["pixels 0..255", "test set not scaled", "labels 1..10",
                                      "learning rate x100", "momentum v = v + g (own loop)",
                                      "gradients never reset (own loop)",
                                      "gradient check nudging all weights"])
def test_benchmark_scenarios_hit_their_code_first(scenario):
    from benchmarks.doctor.scenarios import SCENARIOS
    name, accepted, make = next(s for s in SCENARIOS if s[0] == scenario)
    with np.errstate(all="ignore"):
        assert make(1, 0).codes()[0] in accepted


def test_doctor_command(capsys):
    assert cli.main(["doctor", "--data", "mnist-mini", "--arch", "784-32-10", "--subset", "2000",
                     "--epochs", "1"]) == 0
    assert "no problems found" in capsys.readouterr().out
    assert cli.main(["doctor", "--data", "mnist-mini", "--arch", "784-32-10", "--subset", "2000",
                     "--epochs", "1", "--raw-pixels", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["codes"][0] == "INPUT_SCALE" and report["findings"][0]["fix"]


def test_doctor_command_names_class_order_as_the_root_cause(capsys):
    """Data fed in class order: the order is the error, from the labels and from the batches;
    no learning-rate error beside it (its jumps are the order's), no SINGLE_CLASS, and no
    advice to train longer."""
    assert cli.main(["doctor", "--data", "mnist-mini", "--arch", "784-32-10", "--subset", "2000",
                     "--epochs", "1", "--sorted", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    first = report["findings"][0]
    assert first["code"] == "CLASS_ORDERED" and first["severity"] == "error"
    assert {f["where"] for f in report["findings"] if f["code"] == "CLASS_ORDERED"} >= {"the batches"}
    assert not any(f["code"] in ("LR_TOO_HIGH", "SINGLE_CLASS") and f["severity"] == "error"
                   for f in report["findings"])
    assert not any("train longer" in f["message"] for f in report["findings"])


def test_gradwise_doctor_reports_what_the_library_reports(capsys):
    """The command is the library's diagnose on the pipeline's data and network: the same
    findings, in the same order, with the same messages (nothing added, dropped or reworded)."""
    import dataclasses

    from gradwise import train
    argv = ["--data", "mnist-mini", "--arch", "784-32-10", "--subset", "600", "--epochs", "1"]
    assert cli.main(["doctor", *argv, "--raw-pixels", "--json"]) == 1
    shown = json.loads(capsys.readouterr().out)
    cfg = train.TrainConfig(data="mnist-mini", arch="784-32-10", epochs=1, lr=1e-3).check()
    prepared, pre = train.prepare(cfg)
    prepared = prepared.prepared_as(dataclasses.replace(pre, scale="none"))
    pick = np.sort(np.random.default_rng(cfg.seed).choice(len(prepared.X_train), 600, replace=False))
    X, y = prepared.X_train[pick], prepared.y_train[pick]
    model, optimizer = train.build(cfg, prepared)
    y, yt = (train.targets(cfg, labels, len(prepared.classes)) for labels in (y, prepared.y_test))
    direct = doctor.diagnose(model, X, y, X_test=prepared.X_test, y_test=yt, loss=cfg.loss,
                             optimizer=optimizer, epochs=1, batch_size=cfg.batch_size, seed=cfg.seed,
                             max_samples=None)
    assert shown["codes"] == direct.codes() and shown["codes"][0] == "INPUT_SCALE"
    assert [f["message"] for f in shown["findings"]] == [f.message for f in direct.findings]
