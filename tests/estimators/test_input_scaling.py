"""Input scaling of the classifiers and regressors: statistics from the training data only."""

import numpy as np
import pytest

from seqestim import GRUClassifier, S5Regressor, load


def _panel(n=30, seed=0, offset=(5.0, -200.0), spread=(3.0, 40.0)):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 2, 10))
    X = X * np.array(spread)[None, :, None] + np.array(offset)[None, :, None]
    y = (X[:, 0].mean(axis=1) > offset[0]).astype(int)
    return X, y


def test_channel_statistics_come_from_the_training_data_only():
    X_train, y_train = _panel(seed=0)
    X_test, _ = _panel(seed=1, offset=(50.0, 10.0), spread=(0.1, 1.0))  # very different data
    clf = GRUClassifier(d_model=4, max_epochs=1, random_state=0).fit(X_train, y_train)
    values = X_train.astype(np.float32).transpose(0, 2, 1).reshape(-1, 2).astype(np.float64)
    np.testing.assert_allclose(clf.input_mean_, values.mean(axis=0), rtol=1e-10)
    np.testing.assert_allclose(clf.input_scale_, values.std(axis=0), rtol=1e-10)
    before = (clf.input_mean_.copy(), clf.input_scale_.copy())
    clf.predict(X_test)
    clf.score(X_test, (X_test[:, 0].mean(axis=1) > 50).astype(int))
    np.testing.assert_array_equal(clf.input_mean_, before[0])  # predicting fits nothing
    np.testing.assert_array_equal(clf.input_scale_, before[1])
    # the network sees the standardised training values
    panel = clf._encode_panel(X_train, reset=False)
    real = panel.values.reshape(-1, 2)
    np.testing.assert_allclose(real.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(real.std(axis=0), 1.0, atol=1e-5)


def test_ragged_padding_counts_only_real_steps_and_stays_zero():
    rng = np.random.RandomState(0)
    X = [rng.normal(3.0, 2.0, size=(1, n)) for n in (4, 9, 6, 9)] * 3
    y = np.arange(len(X)) % 2
    clf = GRUClassifier(d_model=4, max_epochs=1, random_state=0).fit(X, y)
    values = np.concatenate([x.ravel() for x in X]).astype(np.float32).astype(np.float64)
    np.testing.assert_allclose(clf.input_mean_, [values.mean()], rtol=1e-10)
    np.testing.assert_allclose(clf.input_scale_, [values.std()], rtol=1e-10)
    panel = clf._encode_panel(X, reset=False)
    assert (panel.values[0, 4:] == 0).all()  # the padding of the 4-step sequence


def test_statistics_survive_save_and_load(tmp_path):
    X, y = _panel()
    clf = GRUClassifier(d_model=4, max_epochs=2, random_state=0).fit(X, y)
    loaded = load(clf.save(tmp_path / "model"))
    np.testing.assert_array_equal(loaded.input_mean_, clf.input_mean_)
    np.testing.assert_array_equal(loaded.input_scale_, clf.input_scale_)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_a_constant_channel_is_centred_not_divided_by_zero():
    X, _ = _panel()
    X[:, 1] = 7.0  # constant channel
    reg = S5Regressor(d_model=8, d_state=8, n_layers=1, max_epochs=2, random_state=0)
    reg.fit(X, X[:, 0].mean(axis=1))
    assert reg.input_scale_[1] == 1.0
    assert reg.input_mean_[1] == pytest.approx(7.0)
    assert np.isfinite(reg.predict(X)).all()
    panel = reg._encode_panel(X, reset=False)
    np.testing.assert_array_equal(panel.values[..., 1], 0.0)


def test_sequence_scaling_standardises_every_sequence_by_itself():
    X, y = _panel()
    X[0, 0] = 4.0  # a constant sequence in one channel
    clf = GRUClassifier(d_model=4, max_epochs=1, scaling="sequence", random_state=0).fit(X, y)
    assert not hasattr(clf, "input_mean_")  # nothing is fitted
    panel = clf._encode_panel(X, reset=False).values  # (n, T, C)
    np.testing.assert_allclose(panel[1:].mean(axis=1), 0.0, atol=1e-5)
    np.testing.assert_allclose(panel[1:].std(axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(panel[0, :, 0], 0.0)
    # a sequence's scaled values do not depend on the data it is predicted with
    alone = clf._encode_panel(X[3:4] * 1.0, reset=False).values
    np.testing.assert_array_equal(alone[0], panel[3])


def test_no_scaling_passes_values_through_and_refit_forgets_statistics():
    X, y = _panel()
    clf = GRUClassifier(d_model=4, max_epochs=1, random_state=0).fit(X, y)
    assert hasattr(clf, "input_mean_")
    clf.set_params(scaling=None).fit(X, y)
    assert not hasattr(clf, "input_mean_")
    np.testing.assert_allclose(
        clf._encode_panel(X, reset=False).values, X.transpose(0, 2, 1), rtol=1e-6
    )
    with pytest.raises(ValueError, match="scaling must be one of"):
        clf.set_params(scaling="minmax").fit(X, y)


def test_warm_start_keeps_the_first_statistics():
    X, y = _panel()
    clf = GRUClassifier(d_model=4, max_epochs=1, warm_start=True, random_state=0).fit(X, y)
    mean = clf.input_mean_.copy()
    clf.fit(X + 100.0, y)
    np.testing.assert_array_equal(clf.input_mean_, mean)
