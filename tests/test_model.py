import json
import os
import re

import numpy as np
import pytest

import gradwise as gw
from gradwise.errors import ModelFileError


def blobs(rng, n=300, d=5, k=3):
    centres = rng.standard_normal((k, d)) * 3
    y = rng.integers(0, k, n)
    return (centres[y] + rng.standard_normal((n, d))).astype(np.float32), y


def small_model(seed=0, d=5, k=3, dropout=0.0):
    return gw.mlp([d, 16, k], seed=seed, dropout=dropout)


def test_fit_learns_and_records_history(rng):
    X, y = blobs(rng)
    model = small_model()
    hist = model.fit(X, y, epochs=5, batch_size=32, optimizer=gw.Adam(1e-2), seed=0, verbose=0,
                     validation_split=0.2)
    assert set(hist.history) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr", "time"}
    assert len(hist["loss"]) == 5 and hist["loss"][-1] < hist["loss"][0]
    assert hist["val_accuracy"][-1] > 0.9
    assert model.evaluate(X, y)["accuracy"] > 0.9
    assert model.predict(X).shape == (300,)
    proba = model.predict_proba(X)
    assert proba.shape == (300, 3) and np.allclose(proba.sum(axis=1), 1, atol=1e-5)


@pytest.mark.parametrize("batch_size", [1, None])
def test_online_and_full_batch(batch_size, rng):
    X, y = blobs(rng, n=60)
    model = small_model()
    steps = []
    cb = gw.LambdaCallback(on_batch_end=lambda b, logs: steps.append(logs["size"]))
    model.fit(X, y, epochs=2, batch_size=batch_size, optimizer=gw.SGD(0.05), seed=0, verbose=0,
              callbacks=[cb])
    assert steps == ([1] * 120 if batch_size == 1 else [60, 60])


def test_shuffling_is_on_by_default_and_can_be_switched_off(rng):
    X, y = blobs(rng, n=40)
    seen = []

    class Spy(gw.Callback):
        def on_batch_end(self, batch, logs):
            seen.append(self.model.layers[0].x[:, 0].copy())

    small_model().fit(X, y, epochs=2, batch_size=40, seed=0, verbose=0, callbacks=[Spy()])
    assert not np.array_equal(seen[0], X[:, 0]) and not np.array_equal(seen[0], seen[1])
    seen.clear()
    small_model().fit(X, y, epochs=1, batch_size=40, seed=0, verbose=0, callbacks=[Spy()],
                      shuffle=False)
    np.testing.assert_array_equal(seen[0], X[:, 0])


def test_same_seed_gives_bit_identical_runs(rng):
    X, y = blobs(rng)
    runs = []
    for _ in range(2):
        model = small_model(seed=3, dropout=0.3)
        model.fit(X, y, epochs=3, batch_size=16, seed=0, verbose=0, validation_split=0.1)
        runs.append([p.copy() for p in model.params])
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)
    other = small_model(seed=3, dropout=0.3)
    other.fit(X, y, epochs=3, batch_size=16, seed=1, verbose=0, validation_split=0.1)
    assert not np.array_equal(other.params[0], runs[0][0])


def test_xor_2_4_1_learns_for_ten_of_ten_seeds():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    y = np.array([0, 1, 1, 0])
    for seed in range(10):
        model = gw.mlp([2, 4, 1], activation="tanh", seed=seed)
        model.fit(X, y, epochs=300, batch_size=None, loss=gw.BinaryCrossEntropy(),
                  optimizer=gw.Adam(0.05), seed=seed, verbose=0)
        np.testing.assert_array_equal(model.predict(X), y, err_msg=f"seed {seed}")


def test_regression_with_mse_predicts_values(rng):
    X = rng.standard_normal((200, 3)).astype(np.float32)
    y = (X @ np.array([1.0, -2.0, 0.5]) + 0.3).astype(np.float32)[:, None]
    model = gw.Sequential([gw.Dense(3, 1, rng=rng)])
    hist = model.fit(X, y, epochs=60, batch_size=20, loss="mse", optimizer=gw.SGD(0.05),
                     seed=0, verbose=0)
    assert "accuracy" not in hist and hist["loss"][-1] < 1e-4
    assert model.predict(X).shape == (200, 1)
    np.testing.assert_allclose(model.layers[0].params["b"], [0.3], atol=1e-2)


def test_float32_training_stays_float32(rng):
    X, y = blobs(rng)
    model = small_model()
    model.fit(X.astype(np.float64), y, epochs=1, verbose=0)
    assert all(p.dtype == np.float32 for p in model.params)
    assert model.predict_proba(X).dtype == np.float32


def test_early_stopping_restores_the_best_weights(rng):
    X, y = blobs(rng, n=100)
    Xv, yv = blobs(np.random.default_rng(99), n=50)       # other centres: val loss rises
    stop = gw.EarlyStopping(patience=2)
    model = small_model()
    hist = model.fit(X, y, epochs=50, optimizer=gw.Adam(1e-2), validation_data=(Xv, yv),
                     callbacks=[stop], verbose=0, seed=0)
    assert stop.stopped_epoch is not None and len(hist["loss"]) < 50
    best = int(np.argmin(hist["val_loss"]))
    assert model.evaluate(Xv, yv)["loss"] == pytest.approx(hist["val_loss"][best], rel=1e-5)


def test_verbose_prints_a_line_per_epoch(rng, capsys):
    X, y = blobs(rng, n=50)
    small_model().fit(X, y, epochs=2, verbose=2, validation_split=0.2)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and out[1].startswith("epoch 2/2") and "val_acc" in out[1]


def test_fit_input_errors(rng):
    X, y = blobs(rng, n=20)
    model = small_model()
    with pytest.raises(ValueError, match="20 input rows but 19 targets"):
        model.fit(X, y[:-1], verbose=0)
    bad = X.copy()
    bad[7, 2] = np.nan
    with pytest.raises(ValueError, match="NaN or inf .*row 7"):
        model.fit(bad, y, verbose=0)
    with pytest.raises(ValueError, match="batch_size must be a positive integer; got 0"):
        model.fit(X, y, batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(X, y, validation_split=1.0, verbose=0)
    with pytest.raises(ValueError, match=r"\(N, 5\)"):
        model.fit(np.zeros((20, 7)), y, verbose=0)
    with pytest.raises(TypeError, match="ReLU instead of ReLU()"):
        gw.Sequential([gw.Dense(2, 2), gw.ReLU])


def test_divergence_is_reported_with_where_and_what_to_do(rng):
    X = rng.uniform(0, 255, (32, 4)).astype(np.float32)    # unscaled pixels and a big step
    y = X.sum(axis=1, keepdims=True)
    model = gw.Sequential([gw.Dense(4, 1, rng=rng)])
    with pytest.raises(gw.TrainingDiverged, match=r"epoch 3, step 2 \(lr=0.1\)\. Lower the learning rate"):
        with np.errstate(over="ignore", invalid="ignore"):
            model.fit(X, y, epochs=5, batch_size=8, loss="mse", optimizer=gw.SGD(0.1), verbose=0)


# ------------------------------------------------------------------------- save / load

def test_save_load_round_trip_gives_identical_predictions(tmp_path, rng):
    X, y = blobs(rng)
    model = gw.Sequential([gw.Dense(5, 8, rng=rng), gw.LeakyReLU(0.2), gw.Dropout(0.1),
                           gw.Dense(8, 3, rng=rng)])
    model.fit(X, y, epochs=1, verbose=0, loss=gw.SoftmaxCrossEntropy())
    model.meta = {"classes": ["a", "b", "c"]}
    npz = model.save(tmp_path / "run" / "model")
    assert npz.name == "model.npz" and (tmp_path / "run" / "model.json").is_file()
    loaded = gw.Sequential.load(tmp_path / "run" / "model.npz")
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert repr(loaded) == repr(model) and loaded.meta == model.meta
    assert isinstance(loaded.loss, gw.SoftmaxCrossEntropy)
    with np.load(npz, allow_pickle=False) as z:               # plain data: no pickle inside
        assert all(z[k].dtype != object for k in z.files)


def test_interrupted_save_keeps_the_previous_file(tmp_path, rng, monkeypatch):
    X, _ = blobs(rng)
    first = small_model(seed=1)
    first.save(tmp_path / "m")
    second = small_model(seed=2)

    def crash(f, **arrays):
        f.write(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt("power cut")
    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        second.save(tmp_path / "m")
    monkeypatch.undo()
    np.testing.assert_array_equal(gw.Sequential.load(tmp_path / "m").predict_proba(X),
                                  first.predict_proba(X))
    assert sorted(os.listdir(tmp_path)) == ["m.json", "m.npz"]      # no temporary file left


def test_load_errors_name_the_file(tmp_path):
    with pytest.raises(ModelFileError, match="no model file at .*nothing.npz"):
        gw.Sequential.load(tmp_path / "nothing")
    (tmp_path / "junk.npz").write_bytes(b"not a zip at all")
    with pytest.raises(ModelFileError, match="junk.npz is not a readable"):
        gw.Sequential.load(tmp_path / "junk")
    np.savez(tmp_path / "plain.npz", a=np.zeros(2))
    with pytest.raises(ModelFileError, match="not written by Sequential.save"):
        gw.Sequential.load(tmp_path / "plain")


def _with_record(tmp_path, edit=None, raw: bytes | None = None):
    """A saved 2-4-2 model whose JSON record (inside the .npz) was edited by ``edit``."""
    model = gw.Sequential([gw.Dense(2, 4), gw.ReLU(), gw.Dense(4, 2)])
    model.meta = {"data": "xor", "classes": ["0", "1"],
                  "preprocessing": {"scale": "none", "flatten": True, "input_shape": [2]}}
    model.save(tmp_path / "m")
    with np.load(tmp_path / "m.npz") as z:
        arrays = {k: z[k] for k in z.files}
    record = json.loads(arrays.pop("__config__").tobytes())
    if edit is not None:
        edit(record)
    text = raw if raw is not None else json.dumps(record).encode()
    np.savez(tmp_path / "m.npz", **arrays, __config__=np.frombuffer(text, dtype=np.uint8))
    return tmp_path / "m"


@pytest.mark.parametrize("edit,message", [
    # found by tests/test_fuzz_model_file.py: each was an AttributeError, TypeError or
    # ComplexWarning when the model was used (gradwise evaluate), not a message at load
    (lambda r: r["meta"].update(preprocessing=5), 'meta "preprocessing" must be a JSON object; got 5'),
    (lambda r: r["meta"]["preprocessing"].update(input_shape=5), 'preprocessing "input_shape" must be'),
    (lambda r: r["meta"]["preprocessing"].update(input_shape=[10**12]), "got [1000000000000]"),
    (lambda r: r["meta"]["preprocessing"].update(flatten="no"), '"flatten" must be true or false'),
    (lambda r: r["meta"].update(data=5), 'meta "data" must be the name of a data set; got 5'),
    (lambda r: r["meta"].update(classes=5), 'meta "classes" must be a list of class names; got 5'),
    (lambda r: r["meta"].update(classes=["a"]), 'names 1 classes but the model has 2 outputs'),
    (lambda r: r["layers"][0]["config"].update(dtype="complex64"),
     "layer 0 (Dense): dtype 'complex64' is not a floating-point type"),
])
def test_an_edited_model_record_is_refused_at_load_naming_the_file(tmp_path, edit, message):
    base = _with_record(tmp_path, edit)
    with pytest.raises(ModelFileError, match=f"m.npz: .*{re.escape(message)}"):
        gw.Sequential.load(base)


@pytest.mark.parametrize("raw,message", [
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),          # was a RecursionError
    (b"1" * 5000, "Exceeds the limit"),                                # was a bare ValueError
])
def test_a_model_record_json_cannot_parse_names_the_file(tmp_path, raw, message):
    with pytest.raises(ModelFileError, match=f"m.npz: the model file record is corrupt .*{message}"):
        gw.Sequential.load(_with_record(tmp_path, raw=raw))


def test_a_fitted_scaler_travels_with_the_saved_model(tmp_path, rng):
    X_train, y = blobs(rng)
    X_train = X_train * 40 + 100                       # badly scaled raw features
    scaler = gw.data.Standardizer().fit(X_train)
    model = small_model()
    model.fit(scaler.transform(X_train), y, epochs=3, verbose=0)
    model.meta["preprocessing"] = scaler.to_dict()
    model.save(tmp_path / "m")
    loaded = gw.Sequential.load(tmp_path / "m")
    again = gw.data.scaler_from_dict(loaded.meta["preprocessing"])
    X_new = X_train[:10] + 1.0
    np.testing.assert_array_equal(loaded.predict(again.transform(X_new)),
                                  model.predict(scaler.transform(X_new)))


def test_checkpoint_resume_gives_bit_identical_weights(tmp_path, rng):
    from gradwise.checkpoint import load_checkpoint
    X, y = blobs(rng, n=200)

    def opt():
        return gw.Adam(1e-2, schedule=gw.CosineDecay(4))

    full = small_model(seed=5, dropout=0.3)
    o = opt()
    hist = gw.History()
    full.fit(X, y, epochs=4, batch_size=16, optimizer=o, seed=7, verbose=0, validation_split=0.1,
             history=hist, callbacks=[gw.Checkpoint(tmp_path / "full.npz", o, hist)])

    first = small_model(seed=5, dropout=0.3)                       # "killed" after epoch 2
    o1 = opt()
    h1 = gw.History()
    first.fit(X, y, epochs=2, batch_size=16, optimizer=o1, seed=7, verbose=0, validation_split=0.1,
              history=h1, callbacks=[gw.Checkpoint(tmp_path / "ck.npz", o1, h1)])
    ck = load_checkpoint(tmp_path / "ck.npz")
    assert ck["epoch"] == 1 and len(ck["history"]["loss"]) == 2
    o2 = opt()
    o2.load_state_dict(ck["optimizer_state"])
    resumed = ck["model"]
    h2 = ck["history"]
    resumed.fit(X, y, epochs=4, batch_size=16, optimizer=o2, seed=7, verbose=0, validation_split=0.1,
                initial_epoch=ck["epoch"] + 1, resume_state=ck["training_state"], history=h2)
    for a, b in zip(full.params, resumed.params):
        np.testing.assert_array_equal(a, b)
    assert h2["loss"] == hist["loss"]


def test_stop_mid_epoch_skips_the_epoch_end(rng):
    X, y = blobs(rng, n=64)
    ends = []
    stopper = gw.LambdaCallback(
        on_batch_end=lambda b, logs: setattr(model, "stop_training", b == 1),
        on_epoch_end=lambda e, logs: ends.append(e))
    model = small_model()
    hist = model.fit(X, y, epochs=3, batch_size=8, callbacks=[stopper], verbose=0)
    assert model.interrupted and ends == [] and hist.epoch == []


@pytest.mark.parametrize("at_epoch, interrupted", [(0, True), (2, False)])
def test_ctrl_c_between_batches_stops_after_the_epoch(rng, at_epoch, interrupted):
    """Ctrl-C that lands while an epoch is validated or checkpointed (no batch left to stop
    after) still stops the run as interrupted, unless that was the last epoch (nothing lost).
    Before, such a run stopped but called itself finished: `gradwise train` wrote model.npz
    and exited 0 (a CI run caught it)."""
    import signal
    from gradwise.train import StopOnCtrlC
    X, y = blobs(rng, n=64)
    press = gw.LambdaCallback(
        on_epoch_end=lambda e, logs: e == at_epoch and os.kill(os.getpid(), signal.SIGINT))
    ctrl_c = StopOnCtrlC(log=lambda msg: None)
    model = small_model()
    try:
        hist = model.fit(X, y, epochs=3, batch_size=8, callbacks=[press, ctrl_c], verbose=0)
    finally:
        ctrl_c.restore()
    assert hist.epoch == list(range(at_epoch + 1)) and model.interrupted is interrupted


def test_early_stopping_is_not_an_interruption(rng):
    X, y = blobs(rng, n=64)
    stopper = gw.LambdaCallback(on_epoch_end=lambda e, logs: setattr(model, "stop_training", True))
    model = small_model()
    hist = model.fit(X, y, epochs=3, batch_size=8, callbacks=[stopper], verbose=0)
    assert hist.epoch == [0] and not model.interrupted


def test_float32_training_never_promotes_to_float64(rng):
    """Every array a float32 step makes (outputs, gradients, optimiser state) stays float32."""
    X, y = blobs(rng, n=64)
    seen = []

    class Spy(gw.Callback):
        def on_batch_end(self, batch, logs):
            seen.append(logs["output"].dtype)
            for layer in self.model.layers:
                seen.extend(a.dtype for a in layer.grads.values())
                seen.extend(v.dtype for k, v in vars(layer).items() if isinstance(v, np.ndarray)
                            and v.dtype.kind == "f")
    for opt in (gw.Adam(1e-3), gw.SGD(0.1, momentum=0.9), gw.RMSprop(1e-3), gw.AdamW(1e-3)):
        model = gw.Sequential([gw.Dense(5, 8, rng=rng), gw.Tanh(), gw.Dropout(0.2), gw.Dense(8, 8, rng=rng),
                               gw.Sigmoid(), gw.Dense(8, 3, rng=rng)])
        model.fit(X, y, epochs=1, batch_size=16, optimizer=opt, callbacks=[Spy()], verbose=0)
        seen.extend(a.dtype for s in opt.state for a in s.values())
    assert seen and set(seen) == {np.dtype(np.float32)}


def test_num_outputs_is_the_last_biased_layers_width():
    assert gw.mlp([4, 8, 3], seed=0).num_outputs() == 3
    with_softmax = gw.Sequential([gw.Dense(4, 5, rng=np.random.default_rng(0)), gw.Softmax()])
    assert with_softmax.num_outputs() == 5                     # the activation keeps the width
    with pytest.raises(ValueError, match="no layer with a bias"):
        gw.Sequential([gw.ReLU()]).num_outputs()


def test_a_validation_split_that_leaves_nothing_to_train_on_is_refused():
    """It was a ZeroDivisionError in the batching (found by tests/test_fuzz_cli.py)."""
    model = gw.Sequential([gw.Dense(2, 2)])
    X, y = np.zeros((4, 2), np.float32), np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match="validation_split 0.9 of 4 samples holds out 4, leaving none"):
        model.fit(X, y, validation_split=0.9, verbose=0)


def test_a_transform_trains_from_stored_pixels_as_from_the_scaled_copy(rng):
    """fit(transform=...) scales each batch as it is drawn (and the validation rows once):
    the same numbers, to the bit, as training on the whole set scaled first."""
    images = rng.integers(0, 256, (200, 4, 4), dtype=np.uint8)
    y = rng.integers(0, 3, 200)

    def scale(rows):
        return np.divide(rows, np.float32(255), dtype=np.float32).reshape(len(rows), -1)

    runs = []
    for X, transform in ((scale(images), None), (images, scale)):
        model = gw.mlp([16, 8, 3], seed=0)
        hist = model.fit(X, y, epochs=2, batch_size=16, seed=1, verbose=0, validation_split=0.25,
                         transform=transform)
        runs.append((hist.history["loss"], hist.history["val_loss"], model.state_dict()))
    assert runs[0][:2] == runs[1][:2]
    assert all(np.array_equal(runs[0][2][k], runs[1][2][k]) for k in runs[0][2])
    model = gw.mlp([16, 8, 3], seed=0)                      # validation_data: in X's form too
    hist = model.fit(images, y, epochs=1, batch_size=16, verbose=0, transform=scale,
                     validation_data=(images[:20], y[:20]))
    assert 0 <= hist["val_accuracy"][0] <= 1 and np.isfinite(hist["val_loss"][0])
    with pytest.raises(ValueError, match="200 input rows but 199 targets"):
        gw.mlp([16, 3], seed=0).fit(images, y[:-1], transform=scale, verbose=0)
