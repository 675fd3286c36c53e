"""The ``lr_schedule`` training parameter: the rate recorded in ``history_`` follows it."""

import math

import numpy as np
import pytest

from seqestim import GRUClassifier, S5Classifier
from seqestim.estimators._training import CosineSchedule


def _cosine(epoch, max_epochs):
    """The documented schedule, written independently of the implementation."""
    warmup = math.ceil(0.05 * max_epochs) if max_epochs >= 20 else 0
    if epoch < warmup:
        return (epoch + 1) / (warmup + 1)
    return 0.5 * (1 + math.cos(math.pi * (epoch - warmup) / (max_epochs - warmup)))


@pytest.mark.parametrize("max_epochs", [6, 24])
def test_cosine_schedule_is_recorded_in_history(panel_data, max_epochs):
    X, y = panel_data
    clf = GRUClassifier(
        d_model=4, max_epochs=max_epochs, lr=0.02, lr_schedule="cosine", random_state=0
    ).fit(X, y)
    recorded = clf.history_[:, "event_lr"]
    expected = [0.02 * _cosine(e, max_epochs) for e in range(max_epochs)]
    np.testing.assert_allclose(recorded, expected, rtol=1e-12)
    warmup = 2 if max_epochs >= 20 else 0
    if warmup:  # a warm-up: the rate rises first, then decays
        assert recorded[0] < recorded[1] < recorded[2] == pytest.approx(0.02)
    assert (np.diff(recorded[warmup:]) < 0).all()
    assert recorded[-1] < 0.1 * 0.02


def test_the_schedule_scales_every_parameter_group_alike(panel_data):
    X, y = panel_data
    clf = S5Classifier(
        d_model=8, d_state=8, n_layers=1, max_epochs=4, lr=0.02, ssm_lr=0.005,
        lr_schedule="cosine", random_state=0,
    ).fit(X, y)  # fmt: skip
    # event_lr records the first group (S5's SSM parameters), epoch by epoch
    expected = [0.005 * _cosine(e, 4) for e in range(4)]
    np.testing.assert_allclose(clf.history_[:, "event_lr"], expected, rtol=1e-12)
    ssm, *regular = (group["lr"] for group in clf.net_.optimizer_.param_groups)
    assert regular and all(ssm / lr == pytest.approx(0.005 / 0.02) for lr in regular)


def test_plateau_halves_the_rate_when_the_loss_stalls(panel_data):
    X, y = panel_data
    clf = GRUClassifier(
        d_model=4, max_epochs=12, lr=1e-6, lr_schedule="plateau", n_iter_no_change=4,
        optimizer="sgd", random_state=0,
    ).fit(X, y)  # fmt: skip
    recorded = np.array(clf.history_[:, "event_lr"])
    losses = np.array(clf.history_[:, "train_loss"])
    assert recorded[0] == 1e-6
    assert set(np.round(recorded / 1e-6, 6)) <= {1.0, 0.5, 0.25, 0.125, 0.0625}
    assert recorded[-1] < recorded[0]  # with lr 1e-6 the loss barely moves: the rate drops
    assert (np.diff(recorded) <= 0).all()
    assert np.isfinite(losses).all()


def test_constant_rate_without_a_schedule(panel_data):
    X, y = panel_data
    clf = GRUClassifier(d_model=4, max_epochs=3, lr=0.01, lr_schedule=None, random_state=0)
    clf.fit(X, y)
    assert "event_lr" not in clf.history_[-1]
    assert clf.net_.optimizer_.param_groups[0]["lr"] == 0.01


def test_unknown_schedule_is_a_clear_error(panel_data):
    X, y = panel_data
    with pytest.raises(ValueError, match="lr_schedule must be one of"):
        GRUClassifier(d_model=4, max_epochs=1, lr_schedule="step").fit(X, y)


def test_cosine_factor_holds_its_last_value_past_max_epochs():
    schedule = CosineSchedule(40)
    assert schedule.warmup == 2
    assert schedule(0) == pytest.approx(1 / 3)
    assert schedule(2) == pytest.approx(1.0)
    assert schedule(100) == schedule(39) > 0


def test_a_user_scheduler_replaces_the_schedule(panel_data):
    from skorch.callbacks import LRScheduler

    X, y = panel_data
    callback = LRScheduler(policy="StepLR", step_size=1, gamma=0.5)
    clf = GRUClassifier(
        d_model=4, max_epochs=3, lr=0.02, lr_schedule="cosine", callbacks=[callback],
        random_state=0,
    ).fit(X, y)  # fmt: skip
    np.testing.assert_allclose(clf.history_[:, "event_lr"], [0.02, 0.01, 0.005], rtol=1e-12)
