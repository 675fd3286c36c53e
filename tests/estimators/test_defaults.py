"""The named classifiers train well with their defaults (what an untuned user gets).

``benchmarks/classification/README.md`` has the full measurement (four UCR/UEA sets, three
seeds, next to ROCKET and InceptionTime); these tests keep the defaults from regressing.
"""

import numpy as np
import pytest

from seqestim.datasets.ucr import load_ucr
from seqestim.estimators import make_estimator, named_estimators

CLASSIFIERS = sorted(cls._model_name() for cls in named_estimators("classifier"))


def test_defaults_are_data_sized():
    from seqestim.estimators._training import resolve_batch_size, resolve_max_epochs

    assert resolve_batch_size(None, 50) == 8  # a small UCR set: several updates per epoch
    assert resolve_batch_size(None, 200) == 25
    assert resolve_batch_size(None, 5000) == 32
    assert resolve_batch_size(16, 5000) == 16  # an explicit value is kept
    assert resolve_max_epochs(None, 7) == 100
    assert resolve_max_epochs(None, 157) == 64  # about 10 000 mini-batches
    assert resolve_max_epochs(None, 5000) == 10
    assert resolve_max_epochs(30, 5000) == 30
    for model in CLASSIFIERS:
        clf = make_estimator(model, "classifier")
        assert (clf.scaling, clf.pooling, clf.lr_schedule) == ("channel", "mean", "cosine")
        assert clf.batch_size is None and clf.max_epochs is None


def test_a_default_fit_on_a_small_set_uses_small_batches_and_100_epochs():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 1, 12))
    y = (X[:, 0, :6].mean(axis=1) > 0).astype(int)
    clf = make_estimator("cdil", "classifier", d_model=4, random_state=0).fit(X, y)
    assert clf.net_.batch_size == 8
    assert len(clf.history_) == 100
    lr = clf.history_[:, "event_lr"]
    assert max(lr) == pytest.approx(clf.lr) and lr[-1] < 0.01 * clf.lr


# measured below 0.90 with defaults (benchmarks/classification/README.md): a known gap, kept
# visible; strict, so the test says so once the defaults are good enough
_BELOW_TARGET = {
    "lstm": "0.61 on GunPoint with defaults (seed 0)",
    "rnn": "0.49 on GunPoint with defaults (seed 0): the majority-class rate",
}


@pytest.mark.slow
@pytest.mark.parametrize(
    "model",
    [
        pytest.param(m, marks=pytest.mark.xfail(strict=True, reason=_BELOW_TARGET[m]))
        if m in _BELOW_TARGET
        else m
        for m in CLASSIFIERS
    ],
)
def test_every_classifier_with_defaults_scores_at_least_090_on_gunpoint(model):
    X_train, y_train = load_ucr("GunPoint", split="train")
    X_test, y_test = load_ucr("GunPoint", split="test")
    clf = make_estimator(model, "classifier", random_state=0).fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= 0.90
