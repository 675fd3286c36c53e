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


# ------------------------------------------------------------------ several labels per step
def test_per_step_multi_output_learns_parenthesis_counting():
    from seqestim.datasets.memory_tasks import make_parenthesis_counting

    X, y = make_parenthesis_counting(240, 16, max_count=3, random_state=0)  # y: (n, 3, T)
    clf = GRUClassifier(d_model=32, output="sequence", max_epochs=25, lr=0.01, random_state=0)
    clf.fit(X[:200], y[:200])
    assert clf.n_outputs_ == 3
    assert [list(c) for c in clf.classes_] == [[0, 1, 2, 3]] * 3
    assert clf.predict(X[200:]).shape == (40, 3, 16)
    proba = clf.predict_proba(X[200:])
    assert [p.shape for p in proba] == [(40, 16, 4)] * 3
    np.testing.assert_allclose(proba[1].sum(axis=-1), 1.0, atol=1e-9)
    # a constant guess of the most frequent count per output scores about 0.45 here
    assert clf.score(X[200:], y[200:]) > 0.85


def test_per_step_multi_output_classes_of_each_output_and_ragged_padding():
    rng = np.random.RandomState(3)
    X = [rng.normal(size=(2, n)) for n in (5, 8, 6, 8)]
    y = []
    for x in X:  # output 0: strings, output 1: integers, in one object array per sequence
        labels = np.empty(x.shape, dtype=object)
        labels[0], labels[1] = np.where(x[0] > 0, "up", "down"), (x[1] > 0).astype(int) + 7
        y.append(labels)
    clf = RNNClassifier(d_model=4, output="sequence", max_epochs=2, random_state=0).fit(X, y)
    assert [list(c) for c in clf.classes_] == [["down", "up"], [7, 8]]
    predicted = clf.predict(X)
    assert [p.shape for p in predicted] == [(2, 5), (2, 8), (2, 6), (2, 8)]
    assert set(predicted[0][0]) <= {"down", "up"} and set(predicted[0][1]) <= {7, 8}
    alone = clf.predict_proba([X[0]])  # no padding at all
    together = clf.predict_proba(X)
    for j in range(2):
        np.testing.assert_allclose(alone[j][0], together[j][0], atol=1e-9)
    assert 0.0 <= clf.score(X, y) <= 1.0


def test_multi_output_loss_is_the_mean_of_the_outputs_cross_entropies():
    import torch

    from seqestim.estimators.classifier import MultiOutputStepCrossEntropyLoss

    torch.manual_seed(0)
    logits = torch.randn(3, 5, 2 + 4)  # output 0: 2 classes, output 1: 4 classes
    target = torch.stack([torch.randint(0, 2, (3, 5)), torch.randint(0, 4, (3, 5))], dim=-1)
    target[2, 3:] = -100  # padding
    loss = MultiOutputStepCrossEntropyLoss([2, 4])(logits, target)
    real = target[..., 0] != -100
    ce0 = torch.nn.functional.cross_entropy(logits[..., :2][real], target[..., 0][real])
    ce1 = torch.nn.functional.cross_entropy(logits[..., 2:][real], target[..., 1][real])
    torch.testing.assert_close(loss, (ce0 + ce1) / 2)


def test_multi_output_warm_start_and_persistence(tmp_path):
    import seqestim

    rng = np.random.RandomState(4)
    X = rng.normal(size=(12, 2, 6))
    y = (X > 0).astype(int)  # (n, 2, T): two binary labels per step
    clf = RNNClassifier(d_model=4, output="sequence", max_epochs=1, warm_start=True)
    clf.fit(X, y)
    clf.fit(X, y)  # continues
    with pytest.raises(ValueError, match="outputs of the first fit"):
        clf.fit(X, y[:, 0])
    with pytest.raises(ValueError, match="cannot add classes"):
        clf.fit(X, y + 1)
    loaded = seqestim.load(clf.save(tmp_path / "model"))
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
