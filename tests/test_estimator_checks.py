"""sklearn's own estimator checks over every named classifier and regressor: zero failures."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from tests._instances import named_estimator_classes, small_instance

ESTIMATORS = [
    small_instance(cls)
    for cls in named_estimator_classes("classifier") + named_estimator_classes("regressor")
]


def test_every_named_estimator_is_checked():
    assert {type(e).__name__ for e in ESTIMATORS} >= {
        "RNNClassifier",
        "GRUClassifier",
        "LSTMClassifier",
        "RNNRegressor",
        "GRURegressor",
        "LSTMRegressor",
    }


def test_two_d_input_is_enabled():
    # sklearn skips every check for estimators that do not accept 2D arrays
    for estimator in ESTIMATORS:
        tags = estimator.__sklearn_tags__()
        assert tags.input_tags.two_d_array and tags.input_tags.three_d_array


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)
