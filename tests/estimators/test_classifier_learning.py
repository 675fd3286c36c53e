"""Every named classifier learns a simple sequence task (a real-data stand-in for sklearn's
tabular accuracy check, which some sequence models are tagged out of)."""

import numpy as np
import pytest

from tests._instances import named_estimator_classes, small_instance


def _bump_task(n=160, length=24, seed=0):
    """Class = whether a three-step bump at a random position goes up or down."""
    rng = np.random.RandomState(seed)
    X = 0.3 * rng.normal(size=(n, 1, length))
    y = rng.randint(0, 2, size=n)
    positions = rng.randint(0, length - 3, size=n)
    for i, p in enumerate(positions):
        X[i, 0, p : p + 3] += 2.0 if y[i] else -2.0
    return X.astype(np.float32), y


@pytest.mark.parametrize("cls", named_estimator_classes("classifier"), ids=lambda c: c.__name__)
def test_tagged_poor_score_classifiers_still_learn_sequences(cls):
    estimator = small_instance(cls, max_epochs=30)
    if not estimator.__sklearn_tags__().classifier_tags.poor_score:
        pytest.skip("checked by sklearn's own accuracy check")
    X, y = _bump_task()
    estimator.fit(X[:120], y[:120])
    assert estimator.score(X[120:], y[120:]) > 0.9
