"""Training parameters: seeding, divergence, early stopping, warm start, progress, callbacks."""

import pickle

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from skorch.callbacks import LRScheduler

from seqestim import GRUClassifier, GRURegressor, LSTMRegressor, RNNClassifier
from seqestim.estimators import TrainingDivergedError


def test_same_seed_same_predictions_different_seed_differs(panel_data):
    X, y = panel_data
    make = lambda seed: GRUClassifier(d_model=6, max_epochs=3, random_state=seed)  # noqa: E731
    p0 = make(0).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(p0, make(0).fit(X, y).predict_proba(X))
    assert not np.allclose(p0, make(1).fit(X, y).predict_proba(X))


def test_fit_leaves_global_random_state_alone(panel_data):
    X, y = panel_data
    torch.manual_seed(123)
    np.random.seed(123)
    expected_torch = torch.rand(3)
    expected_numpy = np.random.rand(3)
    torch.manual_seed(123)
    np.random.seed(123)
    GRUClassifier(d_model=4, max_epochs=2, dropout=0.0, random_state=5).fit(X, y)
    np.testing.assert_array_equal(torch.rand(3), expected_torch)
    np.testing.assert_array_equal(np.random.rand(3), expected_numpy)


def test_random_state_instance_is_not_mutated(panel_data):
    X, y = panel_data
    rng = np.random.RandomState(0)
    clf = GRUClassifier(d_model=4, max_epochs=1, random_state=rng)
    clf.fit(X, y)
    # sklearn's convention: a RandomState instance is drawn from, never replaced
    assert clf.get_params()["random_state"] is rng


def test_nan_loss_is_a_clear_error_and_keeps_previous_fit(panel_data):
    X, _ = panel_data
    y = X[:, 0].sum(axis=1)
    reg = GRURegressor(d_model=4, max_epochs=2, random_state=0).fit(X, y)
    before = reg.predict(X)
    reg.set_params(lr=1e30, optimizer="sgd")
    with pytest.raises(TrainingDivergedError, match=r"epoch 1, batch \d+"):
        reg.fit(X, y * 1e30)
    np.testing.assert_array_equal(reg.predict(X), before)  # nothing half-written


def test_early_stopping_stops_and_records_validation(panel_data):
    X, y = panel_data
    clf = GRUClassifier(
        d_model=4,
        max_epochs=200,
        lr=0.05,
        early_stopping=True,
        n_iter_no_change=2,
        validation_fraction=0.25,
        random_state=0,
    ).fit(X, y)
    assert len(clf.history_) < 200
    assert "valid_loss" in clf.history_[-1]


def test_warm_start_continues_training(panel_data):
    X, y = panel_data
    clf = GRUClassifier(d_model=4, max_epochs=2, warm_start=True, random_state=0).fit(X, y)
    net = clf.net_
    clf.fit(X, y)
    assert clf.net_ is net and len(clf.history_) == 4
    cold = GRUClassifier(d_model=4, max_epochs=2, random_state=0).fit(X, y)
    first = cold.net_
    cold.fit(X, y)
    assert cold.net_ is not first and len(cold.history_) == 2


def test_verbose_shows_progress_bar_with_eta(panel_data, capsys):
    X, y = panel_data
    GRUClassifier(d_model=4, max_epochs=3, verbose=1, random_state=0).fit(X, y)
    err = capsys.readouterr().err
    assert "3/3" in err and "epoch" in err and "<" in err  # tqdm prints elapsed<remaining


def test_user_callbacks_are_copied_not_mutated(panel_data):
    X, y = panel_data
    callback = LRScheduler(policy="StepLR", step_size=1, gamma=0.5)
    clf = GRUClassifier(d_model=4, max_epochs=2, callbacks=[callback], random_state=0).fit(X, y)
    assert clf.history_[-1]["event_lr"] == pytest.approx(clf.lr * 0.5)
    assert clf.callbacks[0] is callback and not hasattr(callback, "lr_scheduler_")


def test_gradient_clip_and_optimizers(panel_data):
    X, y = panel_data
    for optimizer in ("adam", "sgd", "rmsprop", torch.optim.Adagrad):
        RNNClassifier(d_model=4, max_epochs=1, optimizer=optimizer, gradient_clip=1.0).fit(X, y)
    with pytest.raises(ValueError, match="Unknown optimizer"):
        RNNClassifier(max_epochs=1, optimizer="lion").fit(X, y)


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("max_epochs", 0),
        ("batch_size", -1),
        ("lr", 0.0),
        ("validation_fraction", 1.5),
        ("gradient_clip", -1.0),
        ("device", "tpu"),
        ("pooling", "max"),
        ("dropout", 2.0),
    ],
)
def test_bad_parameters_are_clear_errors(panel_data, param, value):
    X, y = panel_data
    with pytest.raises(
        ValueError, match=param if param not in ("pooling", "dropout") else "pooling|dropout"
    ):
        GRUClassifier(**{"max_epochs": 1, param: value}).fit(X, y)


def test_pickle_joblib_and_clone(panel_data, tmp_path):
    X, _ = panel_data
    y = X[:, 1].mean(axis=1)
    reg = LSTMRegressor(d_model=4, max_epochs=2, random_state=0).fit(X, y)
    expected = reg.predict(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(reg)).predict(X), expected)
    joblib.dump(reg, tmp_path / "reg.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "reg.joblib").predict(X), expected)
    fresh = clone(reg)
    assert not hasattr(fresh, "net_") and fresh.get_params() == reg.get_params()


def test_regressors_learn_a_sequence_task():
    # stands in for sklearn's tabular score check (see BaseSequenceRegressor's tags)
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 1, 10)).astype(np.float32)
    y = X[:, 0, -3:].sum(axis=1)  # sum of the last three steps
    reg = GRURegressor(d_model=16, max_epochs=60, lr=0.01, random_state=0).fit(X[:240], y[:240])
    assert reg.score(X[240:], y[240:]) > 0.8
