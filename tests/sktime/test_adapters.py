"""The sktime adapters: complete, generated, same parameters, and faithful to the core estimators.

sktime's own conformance suite runs in ``test_sktime_checks.py``; here are the properties that
suite does not know about: one adapter per core estimator, identical predictions whichever
sktime container carries the data, unequal-length panels, and forecasts equal to the core's.
"""

import doctest
import inspect
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sktime.classification.base import BaseClassifier
from sktime.datasets import load_airline, load_japanese_vowels, load_longley, load_unit_test
from sktime.datatypes import convert
from sktime.forecasting.base import BaseForecaster, ForecastingHorizon
from sktime.regression.base import BaseRegressor

import seqestim.sktime as sk
from seqestim import GRUClassifier, GRUForecaster, GRURegressor
from seqestim.sktime._base import small_params
from tests._instances import named_estimator_classes

ROOT = Path(__file__).resolve().parents[2]
CORE_CLASSES = named_estimator_classes()
SKTIME_BASE = {"classifier": BaseClassifier, "regressor": BaseRegressor}
SKTIME_BASE["forecaster"] = BaseForecaster
CONTAINERS = ("numpy3D", "pd-multiindex", "nested_univ", "df-list")


def _adapter_of(core_class):
    return getattr(sk, core_class.__name__)


def _small(core_class, **overrides):
    return {**small_params(core_class), **overrides}


# ------------------------------------------------------------------------------ completeness
def test_generated_file_is_current():
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "generate_sktime_adapters.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_core_estimator_lacks_an_adapter():
    assert CORE_CLASSES, "no core estimators found"
    missing = [c.__name__ for c in CORE_CLASSES if not hasattr(sk, c.__name__)]
    assert not missing, f"core estimators without an sktime adapter: {missing}"
    # and no adapter outlives its core estimator
    core_names = {c.__name__ for c in CORE_CLASSES}
    generated = set(sk._generated.__all__)
    assert generated == core_names


@pytest.mark.parametrize("core_class", CORE_CLASSES, ids=lambda c: c.__name__)
def test_adapter_composes_the_core_estimator(core_class):
    adapter_class = _adapter_of(core_class)
    assert adapter_class._estimator_class is core_class
    assert issubclass(adapter_class, SKTIME_BASE[core_class._task])
    assert not issubclass(adapter_class, core_class)  # composition, not inheritance
    # same parameter names and defaults, keyword-only, no *args/**kwargs
    core_params = inspect.signature(core_class.__init__).parameters
    adapter_params = inspect.signature(adapter_class.__init__).parameters
    assert list(adapter_params) == list(core_params)
    for name, parameter in adapter_params.items():
        assert parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
        assert parameter.default == core_params[name].default, name
    # the adapter builds the core estimator from exactly its own parameters
    params = adapter_class.get_test_params()[1]
    built = adapter_class(**params)._make_estimator()
    assert type(built) is core_class
    assert built.get_params() == core_class(**params).get_params()


@pytest.mark.parametrize("core_class", CORE_CLASSES, ids=lambda c: c.__name__)
def test_tags_and_test_params(core_class):
    adapter = _adapter_of(core_class)
    sets = adapter.get_test_params()
    assert len(sets) >= 2 and sets[0] != sets[1]
    for params in sets:
        assert params["max_epochs"] <= 3
        adapter(**params)  # valid constructor arguments
    assert adapter.get_class_tag("capability:missing_values") is False
    assert adapter.get_class_tag("capability:random_state") is True
    assert adapter.get_class_tag("capability:categorical_in_X") is False
    if core_class._task == "forecaster":
        assert adapter.get_class_tag("capability:exogenous") is True
        assert adapter.get_class_tag("capability:multivariate") is True
        assert adapter.get_class_tag("capability:pred_int") is False
        assert adapter.get_class_tag("capability:insample") is False
        assert adapter.get_class_tag("requires-fh-in-fit") is False
    else:
        assert adapter.get_class_tag("capability:multivariate") is True
        assert adapter.get_class_tag("capability:unequal_length") is True
        if core_class._task == "classifier":
            assert adapter.get_class_tag("capability:predict_proba") is True


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


@pytest.mark.parametrize("core_class", CORE_CLASSES, ids=lambda c: c.__name__)
def test_docstring_example_runs(core_class):
    adapter = _adapter_of(core_class)
    finder = doctest.DocTestFinder(recurse=False)
    (test,) = finder.find(adapter, adapter.__name__, globs={})
    assert test.examples, "no docstring example"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.failures == 0


# ------------------------------------------------------------------------------ containers
@pytest.fixture(scope="module")
def unit_test_panel():
    X_train, y_train = load_unit_test(split="train", return_type="numpy3D")
    X_test, _ = load_unit_test(split="test", return_type="numpy3D")
    return X_train, y_train, X_test[:12]


@pytest.mark.parametrize("container", CONTAINERS)
def test_classifier_containers_round_trip(unit_test_panel, container):
    X_train, y_train, X_test = unit_test_panel
    params = _small(GRUClassifier, d_model=6)
    adapter = sk.GRUClassifier(**params).fit(convert(X_train, "numpy3D", container), y_train)
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
    params = _small(GRURegressor, d_model=6)
    adapter = sk.GRURegressor(**params).fit(convert(X, "numpy3D", container), y)
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
    params = _small(GRUClassifier, d_model=6)
    adapter = sk.GRUClassifier(**params).fit(X_train, y_train)
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
    adapter = sk.GRURegressor(**_small(GRURegressor, d_model=6)).fit(X_train, y)
    prediction = adapter.predict(convert(X_test, "nested_univ", "df-list"))
    assert prediction.shape == (len(X_test),) and np.isfinite(prediction).all()


# ------------------------------------------------------------------------------ forecasters
def _forecaster_params(**overrides):
    return _small(GRUForecaster, **{"d_model": 6, "window_length": 6, "horizon": 3, **overrides})


def test_forecaster_matches_core_and_keeps_the_index():
    y = load_airline()
    adapter = sk.GRUForecaster(**_forecaster_params()).fit(y.iloc[:120])
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
    adapter = sk.GRUForecaster(**params).fit(y.iloc[:12], X=X.iloc[:12])
    prediction = adapter.predict(fh=[1, 2, 3], X=X.iloc[12:15])
    core = GRUForecaster(**params).fit(y.iloc[:12].to_numpy(), X=X.iloc[:12].to_numpy())
    np.testing.assert_allclose(
        prediction.to_numpy(), core.predict(fh=3, X=X.iloc[12:15].to_numpy()), rtol=1e-12
    )
    with pytest.raises(ValueError, match="exogenous"):
        adapter.predict(fh=[1, 2, 3], X=X.iloc[13:15])  # the row of step 1 is missing
    # several series at once: DataFrame in, DataFrame with the same columns out
    Y = X[["GNPDEFL", "GNP"]]
    multi = sk.GRUForecaster(**params).fit(Y.iloc[:12]).predict(fh=[1, 2])
    assert list(multi.columns) == ["GNPDEFL", "GNP"]
    assert multi.index.equals(Y.index[12:14])


def test_forecaster_update():
    y = load_airline()
    params = _forecaster_params()
    forecaster = sk.GRUForecaster(**params).fit(y.iloc[:100])
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
    refit = sk.GRUForecaster(**params).fit(y.iloc[:120])
    np.testing.assert_allclose(
        forecaster.predict(fh=[1, 2, 3]).to_numpy(), refit.predict(fh=[1, 2, 3]).to_numpy()
    )


def test_forecaster_rejects_in_sample_and_intervals():
    y = load_airline()
    forecaster = sk.GRUForecaster(**_forecaster_params()).fit(y.iloc[:60])
    with pytest.raises(NotImplementedError):
        forecaster.predict_interval(fh=[1, 2])
    with pytest.raises((NotImplementedError, ValueError)):
        forecaster.predict(fh=[-1, 0, 1])


# ------------------------------------------------------------------------------ sktime tools
def test_evaluate_with_expanding_window():
    from sktime.forecasting.model_evaluation import evaluate
    from sktime.split import ExpandingWindowSplitter

    y = load_airline().iloc[:72]
    cv = ExpandingWindowSplitter(initial_window=48, step_length=12, fh=[1, 2, 3])
    results = evaluate(sk.GRUForecaster(**_forecaster_params()), cv, y)
    assert len(results) == 2
    assert np.isfinite(results.iloc[:, 0]).all()


def test_classification_pipeline_with_sktime_transformer(unit_test_panel):
    from sktime.transformations.series.exponent import ExponentTransformer

    X_train, y_train, X_test = unit_test_panel
    pipeline = ExponentTransformer(power=0.5) * sk.GRUClassifier(**_small(GRUClassifier))
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
        sk.GRUForecaster(**_forecaster_params()),
        cv=cv,
        param_grid={"window_length": [4, 6]},
        backend=None,  # sequential: loky workers would re-import torch
    )
    pipeline = TransformedTargetForecaster([("log", LogTransformer()), ("gru", search)])
    prediction = pipeline.fit(y).predict(fh=[1, 2])
    assert prediction.index.equals(load_airline().index[60:62])
    assert pipeline.steps_[-1][1].best_params_["window_length"] in (4, 6)


def test_core_regressor_in_make_reduction():
    from sktime.forecasting.compose import make_reduction

    y = load_airline().iloc[:48]
    regressor = GRURegressor(**_small(GRURegressor, d_model=6))
    forecaster = make_reduction(regressor, window_length=12, strategy="recursive").fit(y)
    prediction = forecaster.predict(fh=[1, 2, 3])
    assert prediction.index.equals(load_airline().index[48:51])
    assert np.isfinite(prediction.to_numpy()).all()
