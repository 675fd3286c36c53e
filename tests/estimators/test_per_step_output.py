"""output="sequence": one prediction per step, for sequence-to-sequence targets."""

import numpy as np
import pytest

from seqestim import GRUClassifier, LSTMRegressor, RNNClassifier


def test_per_step_classifier_learns_a_delayed_copy():
    rng = np.random.RandomState(0)
    tokens = rng.randint(0, 3, size=(200, 10))
    X = np.eye(3)[tokens].transpose(0, 2, 1)  # (n, 3, T) one-hot
    y = np.concatenate([np.full((200, 1), 9), tokens[:, :-1]], axis=1)  # previous token
    clf = GRUClassifier(d_model=16, output="sequence", max_epochs=40, lr=0.02, random_state=0)
    clf.fit(X[:160], y[:160])
    assert clf.predict(X[160:]).shape == (40, 10)
    assert clf.predict_proba(X[160:]).shape == (40, 10, 4)
    assert clf.score(X[160:], y[160:]) > 0.95
    assert set(clf.classes_) == {0, 1, 2, 9}


def test_per_step_ragged_targets_ignore_padding():
    rng = np.random.RandomState(1)
    X = [rng.normal(size=(1, n)) for n in (4, 7, 5, 7)]
    y = [(x[0] > 0).astype(int) for x in X]
    clf = RNNClassifier(d_model=4, output="sequence", max_epochs=2, random_state=0).fit(X, y)
    predicted = clf.predict(X)
    assert [len(p) for p in predicted] == [4, 7, 5, 7]
    alone = clf.predict_proba(X[0][None])  # no padding at all
    np.testing.assert_allclose(alone[0], clf.predict_proba(X)[0], atol=1e-5)


def test_per_step_regressor_multi_target_channels_first():
    rng = np.random.RandomState(2)
    X = rng.normal(size=(60, 2, 8))
    y = np.cumsum(X, axis=2)  # (n, 2, T): running sums, channels first like X
    reg = LSTMRegressor(d_model=16, output="sequence", max_epochs=60, lr=0.02, random_state=0)
    reg.fit(X[:50], y[:50])
    assert reg.predict(X[50:]).shape == (10, 2, 8)
    assert reg.score(X[50:], y[50:]) > 0.8


def test_per_step_target_errors():
    X = np.zeros((3, 1, 5))
    with pytest.raises(ValueError, match="one entry per step"):
        GRUClassifier(output="sequence", max_epochs=1).fit(X, np.zeros((3, 4)))
    with pytest.raises(ValueError, match="output must be"):
        GRUClassifier(output="steps", max_epochs=1).fit(X, [0, 1, 0])
