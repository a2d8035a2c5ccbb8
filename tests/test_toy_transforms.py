import numpy as np
import pytest

import gradwise as gw
from gradwise.data import MinMaxScaler, Standardizer, scaler_from_dict, toy, train_val_split


def test_all_sixteen_gates_by_name_and_table():
    tables = {toy.truth_table(name) for name in toy.GATES}
    assert len(tables) == 16
    assert gw.data.load("xor").y_train.tolist() == [0, 1, 1, 0]
    assert gw.data.load("NAND").y_train.tolist() == [1, 1, 1, 0]
    assert gw.data.load("nor").y_train.tolist() == [1, 0, 0, 0]
    assert gw.data.load("1001").info == {"truth_table": "1001", "linearly_separable": False}
    assert gw.data.load("implies").y_train.tolist() == [1, 1, 0, 1]
    assert sum(t not in toy.NOT_LINEARLY_SEPARABLE for t in tables) == 14
    with pytest.raises(ValueError, match="truth table of 4 bits"):
        toy.truth_table("0121")


def test_spirals_and_blobs_are_seeded():
    a, b = gw.data.load("spirals", seed=3), gw.data.load("spirals", seed=3)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert a.X_train.shape == (200, 2) and a.X_test.shape == (200, 2) and set(a.y_train) == {0, 1}
    blobs = gw.data.load("blobs", n=90, classes=3)
    assert blobs.X_train.shape == (45, 2) and blobs.classes == ("0", "1", "2")


def test_unknown_name_lists_the_choices():
    with pytest.raises(ValueError, match="mnist-mini, tinyshakespeare, spirals, blobs"):
        gw.data.load("imagenet")


def test_mnist_mini_is_real_stratified_and_small():
    ds = gw.data.load("mnist-mini")
    assert ds.X_train.shape == (5000, 28, 28) and ds.X_test.shape == (1000, 28, 28)
    assert np.bincount(ds.y_train).tolist() == [500] * 10
    assert ds.X_train.dtype == np.uint8 and ds.X_train.max() == 255
    assert not np.all(np.diff(ds.y_train[:50].astype(int)) >= 0)   # not sorted by class


def test_mnist_mini_trains_a_small_mlp_to_over_90_percent():
    ds = gw.data.load("mnist-mini")
    X, Xt = gw.data.scale_pixels(ds.X_train), gw.data.scale_pixels(ds.X_test)
    model = gw.mlp([784, 64, 10], seed=0)
    model.fit(X, ds.y_train, epochs=5, batch_size=64, seed=0, verbose=0)
    assert model.evaluate(Xt, ds.y_test)["accuracy"] > 0.9


def test_standardizer_uses_training_statistics_for_every_split(rng):
    train = rng.normal(5, 2, (500, 3))
    test = rng.normal(50, 20, (100, 3))                             # a very different test set
    s = Standardizer().fit(train)
    np.testing.assert_allclose(s.transform(train).mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(s.transform(train).std(0), 1, atol=1e-4)
    assert s.transform(test).mean() > 10                            # not re-centred on itself
    restored = scaler_from_dict(s.to_dict())
    np.testing.assert_array_equal(restored.transform(test), s.transform(test))
    const = Standardizer().fit(np.ones((4, 2)))                     # zero variance: no div by 0
    assert np.all(np.isfinite(const.transform(np.ones((2, 2)))))


def test_minmax_scaler_and_errors(rng):
    X = rng.uniform(0, 255, (50, 4))
    s = MinMaxScaler().fit(X)
    out = s.transform(X)
    assert out.dtype == np.float32 and out.min() == pytest.approx(0) and out.max() == pytest.approx(1)
    np.testing.assert_allclose(s.inverse_transform(out), X, rtol=1e-5)
    with pytest.raises(RuntimeError, match="not fitted"):
        MinMaxScaler().transform(X)
    with pytest.raises(ValueError, match="fitted on 4 features, got 3"):
        s.transform(X[:, :3])
    with pytest.raises(ValueError, match="low < high"):
        MinMaxScaler((1, 0))


def test_stratified_split_keeps_every_class_and_shuffles():
    y = np.repeat(np.arange(4), [50, 30, 15, 5])                    # sorted and imbalanced
    X = np.arange(len(y))[:, None]
    X_tr, y_tr, X_va, y_va = train_val_split(X, y, val_size=0.2, seed=0)
    assert np.bincount(y_va).tolist() == [10, 6, 3, 1]
    assert len(set(X_tr[:, 0]) & set(X_va[:, 0])) == 0 and len(y_tr) + len(y_va) == 100
    assert not np.all(np.diff(y_tr) >= 0)
    with pytest.raises(ValueError, match="val_size"):
        train_val_split(X, y, val_size=1.5)


def test_one_hot_is_exported():
    assert gw.data.one_hot(np.array([1]), 3).tolist() == [[0, 1, 0]]
