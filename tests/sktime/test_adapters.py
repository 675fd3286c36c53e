"""The sktime adapters: composition, test parameters covering every model, and faithfulness.

sktime's own conformance suite runs in ``test_sktime_checks.py``; here are the properties that
suite does not know about: every registered model is covered, identical predictions whichever
sktime container carries the data, unequal-length panels, and forecasts equal to the core's.
"""

import doctest
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sktime.classification.base import BaseClassifier
from sktime.datasets import load_airline, load_japanese_vowels, load_longley, load_unit_test
from sktime.datatypes import convert
from sktime.forecasting.base import BaseForecaster, ForecastingHorizon
from sktime.regression.base import BaseRegressor

import seqestim.sktime as sk
from seqestim import ConvARMAForecaster, GRUClassifier, GRUForecaster, GRURegressor, S5Classifier
from seqestim.estimators import named_estimators
from seqestim.sktime import small_estimator

ADAPTERS = {
    "classifier": (sk.SeqestimClassifier, BaseClassifier),
    "regressor": (sk.SeqestimRegressor, BaseRegressor),
    "forecaster": (sk.SeqestimForecaster, BaseForecaster),
}
CONTAINERS = ("numpy3D", "pd-multiindex", "nested_univ", "df-list")


# ------------------------------------------------------------------------------ composition
@pytest.mark.parametrize("task", sorted(ADAPTERS))
def test_test_params_cover_every_model_of_the_task(task):
    adapter, sktime_base = ADAPTERS[task]
    assert issubclass(adapter, sktime_base)
    sets = adapter.get_test_params()
    covered = {type(params["estimator"]) for params in sets}
    assert covered == set(named_estimators(task)), "every named estimator is checked"
    for params in sets:
        assert params["estimator"].max_epochs <= 3
        adapter(**params)  # valid constructor arguments


def test_adapters_compose_and_expose_nested_parameters():
    adapter = sk.SeqestimClassifier(estimator=S5Classifier(d_model=16))
    assert adapter.get_params()["estimator__d_model"] == 16
    adapter.set_params(estimator__d_model=8)
    assert adapter.estimator.d_model == 8
    assert not isinstance(adapter, S5Classifier)  # composition, not inheritance
    assert type(sk.to_sktime(GRUForecaster())) is sk.SeqestimForecaster
    assert type(sk.to_sktime(GRURegressor())) is sk.SeqestimRegressor
    with pytest.raises(TypeError, match="frame_forecaster"):
        sk.to_sktime(ConvARMAForecaster())
    with pytest.raises(TypeError, match="wraps seqestim classifiers"):
        sk.SeqestimClassifier(estimator=GRURegressor())._make_estimator()
    default = sk.SeqestimClassifier()._make_estimator()  # estimator=None: the task default
    assert type(default) is GRUClassifier


def test_fit_clones_and_never_touches_the_given_estimator(unit_test_panel):
    X_train, y_train, _ = unit_test_panel
    core = small_estimator(GRUClassifier)
    adapter = sk.SeqestimClassifier(estimator=core).fit(X_train, y_train)
    assert adapter.estimator is core and not hasattr(core, "net_")
    assert adapter.estimator_ is not core and hasattr(adapter.estimator_, "net_")
    assert clone(adapter).estimator is not core


def test_tags():
    for adapter, _ in ADAPTERS.values():
        assert adapter.get_class_tag("capability:missing_values") is False
        assert adapter.get_class_tag("capability:random_state") is False
        assert adapter.get_class_tag("capability:categorical_in_X") is False
        assert adapter.get_class_tag("capability:multivariate") is True
    forecaster = sk.SeqestimForecaster
    assert forecaster.get_class_tag("capability:exogenous") is True
    assert forecaster.get_class_tag("capability:pred_int") is True  # per instance: see below
    assert forecaster.get_class_tag("capability:insample") is False
    assert forecaster.get_class_tag("requires-fh-in-fit") is False
    for task in ("classifier", "regressor"):
        assert ADAPTERS[task][0].get_class_tag("capability:unequal_length") is True
    assert sk.SeqestimClassifier.get_class_tag("capability:predict_proba") is True


def test_import_seqestim_does_not_import_sktime():
    code = (
        "import sys, seqestim\n"
        "seqestim.GRUClassifier, seqestim.GRUForecaster\n"
        "assert 'sktime' not in sys.modules, 'sktime imported'\n"
        "import seqestim.sktime\n"
        "assert 'sktime' in sys.modules\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_module_docstring_example_runs():
    finder = doctest.DocTestFinder(recurse=False)
    (test,) = finder.find(sk, "seqestim.sktime", globs={})
    assert test.examples, "no docstring example"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.failures == 0


# ------------------------------------------------------------------------------ containers
def _params(core_class, **overrides):
    return small_estimator(core_class, **overrides).get_params()


@pytest.fixture(scope="module")
def unit_test_panel():
    X_train, y_train = load_unit_test(split="train", return_type="numpy3D")
    X_test, _ = load_unit_test(split="test", return_type="numpy3D")
    return X_train, y_train, X_test[:12]


@pytest.mark.parametrize("container", CONTAINERS)
def test_classifier_containers_round_trip(unit_test_panel, container):
    X_train, y_train, X_test = unit_test_panel
    params = _params(GRUClassifier, d_model=6)
    adapter = sk.SeqestimClassifier(GRUClassifier(**params)).fit(
        convert(X_train, "numpy3D", container), y_train
    )
    core = GRUClassifier(**params).fit(X_train, y_train)  # the core on its own input
    expected = core.predict_proba(X_test)
    proba = adapter.predict_proba(convert(X_test, "numpy3D", container))
    np.testing.assert_array_equal(proba, expected)  # identical, not merely close
    np.testing.assert_array_equal(adapter.predict(X_test), core.predict(X_test))


@pytest.mark.parametrize("container", CONTAINERS)
def test_regressor_containers_round_trip(container):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(30, 2, 10))
    y = X[:, 0].mean(axis=1) - X[:, 1, -1]
    params = _params(GRURegressor, d_model=6)
    adapter = sk.SeqestimRegressor(GRURegressor(**params)).fit(convert(X, "numpy3D", container), y)
    core = GRURegressor(**params).fit(X, y)
    prediction = adapter.predict(convert(X[:8], "numpy3D", container))
    np.testing.assert_array_equal(prediction, core.predict(X[:8]))


# ------------------------------------------------------------------------------ unequal length
@pytest.fixture(scope="module")
def japanese_vowels():
    X, y = load_japanese_vowels(split="train", return_type="nested_univ")
    lengths = X.iloc[:, 0].map(len)
    assert lengths.nunique() > 1, "JapaneseVowels should be ragged"
    return X.iloc[:60], y[:60], X.iloc[60:75]


def _as_core_list(nested):
    """nested_univ -> the core's ragged list of (C, T_i) arrays."""
    return [np.stack([np.asarray(cell) for cell in row]) for _, row in nested.iterrows()]


def test_unequal_length_panels_through_adapter_and_core(japanese_vowels):
    X_train, y_train, X_test = japanese_vowels
    params = _params(GRUClassifier, d_model=6)
    adapter = sk.SeqestimClassifier(GRUClassifier(**params)).fit(X_train, y_train)
    assert adapter.estimator_.n_channels_ == 12
    core = GRUClassifier(**params).fit(_as_core_list(X_train), y_train)
    expected = core.predict_proba(_as_core_list(X_test))
    for container in ("nested_univ", "pd-multiindex", "df-list"):
        X_c = convert(X_test, "nested_univ", container)
        np.testing.assert_array_equal(adapter.predict_proba(X_c), expected)
    # padding is masked: a sequence predicted alone gets the same probabilities as in a batch
    single = adapter.predict_proba(X_test.iloc[[3]])
    np.testing.assert_allclose(single[0], expected[3], rtol=0, atol=1e-5)


def test_unequal_length_regression(japanese_vowels):
    X_train, _, X_test = japanese_vowels
    y = X_train.iloc[:, 0].map(np.mean).to_numpy()
    adapter = sk.SeqestimRegressor(small_estimator(GRURegressor, d_model=6)).fit(X_train, y)
    prediction = adapter.predict(convert(X_test, "nested_univ", "df-list"))
    assert prediction.shape == (len(X_test),) and np.isfinite(prediction).all()


# ------------------------------------------------------------------------------ forecasters
def _forecaster_params(**overrides):
    return _params(GRUForecaster, **{"d_model": 6, "window_length": 6, "horizon": 3, **overrides})


def test_forecaster_matches_core_and_keeps_the_index():
    y = load_airline()
    adapter = sk.SeqestimForecaster(GRUForecaster(**_forecaster_params())).fit(y.iloc[:120])
    core = GRUForecaster(**_forecaster_params()).fit(y.iloc[:120].to_numpy())
    fh = [1, 2, 5, 7]  # beyond the horizon (recursive) and not contiguous
    prediction = adapter.predict(fh=fh)
    assert isinstance(prediction, pd.Series)
    expected_index = ForecastingHorizon(fh).to_absolute_index(y.index[[119]])
    assert prediction.index.equals(expected_index)
    np.testing.assert_allclose(prediction.to_numpy(), core.predict(fh=fh), rtol=1e-12)


def test_forecaster_exogenous_and_multivariate():
    data = load_longley()
    y, X = data[0], data[1]  # TOTEMP and five exogenous columns, annual PeriodIndex
    params = _forecaster_params(window_length=4, horizon=2)
    adapter = sk.SeqestimForecaster(GRUForecaster(**params)).fit(y.iloc[:12], X=X.iloc[:12])
    prediction = adapter.predict(fh=[1, 2, 3], X=X.iloc[12:15])
    core = GRUForecaster(**params).fit(y.iloc[:12].to_numpy(), X=X.iloc[:12].to_numpy())
    np.testing.assert_allclose(
        prediction.to_numpy(), core.predict(fh=3, X=X.iloc[12:15].to_numpy()), rtol=1e-12
    )
    with pytest.raises(ValueError, match="exogenous"):
        adapter.predict(fh=[1, 2, 3], X=X.iloc[13:15])  # the row of step 1 is missing
    # several series at once: DataFrame in, DataFrame with the same columns out
    Y = X[["GNPDEFL", "GNP"]]
    multi = sk.SeqestimForecaster(GRUForecaster(**params)).fit(Y.iloc[:12]).predict(fh=[1, 2])
    assert list(multi.columns) == ["GNPDEFL", "GNP"]
    assert multi.index.equals(Y.index[12:14])


def test_forecaster_update():
    y = load_airline()
    params = _forecaster_params()
    forecaster = sk.SeqestimForecaster(GRUForecaster(**params)).fit(y.iloc[:100])
    weights = {k: v.clone() for k, v in forecaster.estimator_.module_.state_dict().items()}
    before = forecaster.predict(fh=[1, 2])
    # update_params=False: same network, context moved to the new data
    forecaster.update(y.iloc[100:110], update_params=False)
    after = forecaster.predict(fh=[1, 2])
    assert after.index.equals(y.index[110:112])
    for key, value in forecaster.estimator_.module_.state_dict().items():
        assert (value == weights[key]).all(), key
    assert not np.allclose(after.to_numpy(), before.to_numpy())
    # update_params=True: the same as fitting on everything seen so far
    forecaster.update(y.iloc[110:120])
    refit = sk.SeqestimForecaster(GRUForecaster(**params)).fit(y.iloc[:120])
    np.testing.assert_allclose(
        forecaster.predict(fh=[1, 2, 3]).to_numpy(), refit.predict(fh=[1, 2, 3]).to_numpy()
    )


def test_forecaster_rejects_in_sample_forecasts():
    y = load_airline()
    forecaster = sk.SeqestimForecaster(GRUForecaster(**_forecaster_params())).fit(y.iloc[:60])
    with pytest.raises((NotImplementedError, ValueError)):
        forecaster.predict(fh=[-1, 0, 1])


def test_forecaster_intervals_match_the_core_and_follow_the_loss():
    y = load_airline()
    core = GRUForecaster(**_forecaster_params())
    forecaster = sk.SeqestimForecaster(core).fit(y.iloc[:60])
    assert forecaster.get_tag("capability:pred_int") is True
    intervals = forecaster.predict_interval(fh=[1, 2, 5], coverage=[0.5, 0.9])
    assert intervals.index.equals(y.index[[60, 61, 64]])
    assert list(intervals.columns) == [
        ("Number of airline passengers", c, side) for c in (0.5, 0.9) for side in ("lower", "upper")
    ]
    direct = core.fit(y.iloc[:60]).predict_interval(fh=[1, 2, 5], coverage=[0.5, 0.9])
    np.testing.assert_allclose(intervals.to_numpy(), direct.to_numpy())
    quantiles = forecaster.predict_quantiles(fh=[1, 2], alpha=[0.1, 0.5, 0.9])
    assert (np.diff(quantiles.to_numpy(), axis=1) > 0).all()
    # point forecasts only: sktime's tag says so, and sktime raises its NotImplementedError
    point_only = sk.SeqestimForecaster(GRUForecaster(**_forecaster_params(loss="mse")))
    assert point_only.get_tag("capability:pred_int") is False
    with pytest.raises(NotImplementedError):
        point_only.fit(y.iloc[:60]).predict_interval(fh=[1, 2])


# ------------------------------------------------------------------------------ sktime tools
def test_evaluate_with_expanding_window():
    from sktime.forecasting.model_evaluation import evaluate
    from sktime.split import ExpandingWindowSplitter

    y = load_airline().iloc[:72]
    cv = ExpandingWindowSplitter(initial_window=48, step_length=12, fh=[1, 2, 3])
    results = evaluate(sk.SeqestimForecaster(GRUForecaster(**_forecaster_params())), cv, y)
    assert len(results) == 2
    assert np.isfinite(results.iloc[:, 0]).all()


def test_classification_pipeline_with_sktime_transformer(unit_test_panel):
    from sktime.transformations.series.exponent import ExponentTransformer

    X_train, y_train, X_test = unit_test_panel
    pipeline = ExponentTransformer(power=0.5) * sk.SeqestimClassifier(
        small_estimator(GRUClassifier)
    )
    pipeline.fit(X_train, y_train)
    assert pipeline.predict(X_test).shape == (len(X_test),)


def test_forecasting_grid_search_and_transformed_target():
    from sktime.forecasting.compose import TransformedTargetForecaster
    from sktime.forecasting.model_selection import ForecastingGridSearchCV
    from sktime.split import ExpandingWindowSplitter
    from sktime.transformations.series.boxcox import LogTransformer

    y = load_airline().iloc[:60]
    cv = ExpandingWindowSplitter(initial_window=40, step_length=10, fh=[1, 2])
    search = ForecastingGridSearchCV(
        sk.SeqestimForecaster(GRUForecaster(**_forecaster_params())),
        cv=cv,
        param_grid={"estimator__window_length": [4, 6]},
        backend=None,  # sequential: loky workers would re-import torch
    )
    pipeline = TransformedTargetForecaster([("log", LogTransformer()), ("gru", search)])
    prediction = pipeline.fit(y).predict(fh=[1, 2])
    assert prediction.index.equals(load_airline().index[60:62])
    assert pipeline.steps_[-1][1].best_params_["estimator__window_length"] in (4, 6)


def test_core_regressor_in_make_reduction():
    from sktime.forecasting.compose import make_reduction

    y = load_airline().iloc[:48]
    regressor = small_estimator(GRURegressor, d_model=6)
    forecaster = make_reduction(regressor, window_length=12, strategy="recursive").fit(y)
    prediction = forecaster.predict(fh=[1, 2, 3])
    assert prediction.index.equals(load_airline().index[48:51])
    assert np.isfinite(prediction.to_numpy()).all()
