"""sktime objects for every seqestim classifier, regressor and forecaster, by composition.

One adapter per task wraps any seqestim estimator of that task:

>>> from seqestim import S5Classifier
>>> from seqestim.sktime import SeqestimClassifier, to_sktime
>>> clf = SeqestimClassifier(estimator=S5Classifier(d_model=16))
>>> clf.get_params()["estimator__d_model"]
16
>>> type(to_sktime(S5Classifier())).__name__
'SeqestimClassifier'

``fit`` clones ``estimator`` into ``estimator_`` and every prediction is delegated to it, so the
adapters work with sktime's containers (``numpy3D``, ``pd-multiindex``, ``nested_univ``,
``df-list``, unequal-length panels) and tools (``evaluate``, ``ForecastingGridSearchCV`` with
``estimator__d_model`` in the grid, ``TransformedTargetForecaster``, pipelines). Without an
``estimator`` the adapters use the GRU estimator of their task.

``import seqestim`` does not import sktime; importing this subpackage does.

Panel containers
----------------
The core estimators read ``numpy3D`` ``(n, C, T)`` arrays, ``pd-multiindex`` and ``nested_univ``
DataFrames directly, with equal or unequal lengths, so sktime passes those through unchanged.
``df-list`` (a list of ``(T_i, C)`` DataFrames) is time-first, while the core's ragged lists are
channels-first ``(C, T_i)`` arrays: the adapter transposes it. Any other panel mtype is converted
by sktime to the first of these that can hold it.

Forecasters
-----------
The core forecasters work on plain arrays and positions (steps ahead of the end of the training
series). The adapter fits them on ``y.to_numpy()`` and turns sktime's ``ForecastingHorizon``
into steps relative to the cutoff; sktime builds the time index of the result. Exogenous ``X``
at predict time is aligned on the steps ``1..max(fh)`` after the cutoff (the core needs every
row up to the last step, hence ``capability:non_contiguous_X=False``). In-sample forecasts are
not offered by the core, so the tags say so. ``predict_interval`` and ``predict_quantiles``
delegate to the core's methods of the same names, which already return sktime's formats; the
``capability:pred_int`` tag is set per instance: True unless the wrapped forecaster gives point
forecasts only (``loss="mse"``).

``update(y, update_params=True)`` refits on all data seen so far (the core has no incremental
training); with ``update_params=False`` the network is kept and only the context window it reads
moves to the end of the new data. The adapter keeps the data it needs for this itself, so it
sets sktime's ``remember_data`` config to False.

Frame forecasters (:class:`seqestim.ConvARMAForecaster`) have no sktime counterpart: sktime has
no container for series of images.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
from sklearn.base import clone
from sktime.classification.base import BaseClassifier
from sktime.forecasting.base import BaseForecaster, ForecastingHorizon
from sktime.regression.base import BaseRegressor

from seqestim.estimators import named_estimators
from seqestim.registry import get_spec

__all__ = [
    "SeqestimClassifier",
    "SeqestimForecaster",
    "SeqestimRegressor",
    "small_estimator",
    "to_sktime",
]

#: Panel mtypes the core estimators read; the first one is sktime's conversion target.
PANEL_MTYPES = ["numpy3D", "pd-multiindex", "nested_univ", "df-list"]

_PACKAGING_TAGS = {
    "authors": "seqestim developers",
    "maintainers": "seqestim developers",
    "python_dependencies": ["torch", "skorch"],
    # random_state lives on the wrapped estimator (estimator__random_state), not the adapter
    "capability:random_state": False,
}

_PANEL_TAGS = {
    **_PACKAGING_TAGS,
    "X_inner_mtype": PANEL_MTYPES,
    "capability:multivariate": True,
    "capability:unequal_length": True,  # ragged panels are padded and masked by the core
    "capability:missing_values": False,  # the core rejects NaN
    "capability:categorical_in_X": False,
}

#: Training budget of the sktime conformance checks: tiny networks, a couple of epochs.
_TEST_TRAINING = {"max_epochs": 2, "lr": 0.02, "batch_size": 16, "random_state": 0}

#: Window and horizon of the test forecasters (sktime's test series are short).
_TEST_WINDOWS = ({"window_length": 3, "horizon": 2}, {"window_length": 4, "horizon": 3})


def small_estimator(estimator_class, index: int = 0, **overrides):
    """A small instance of a named estimator, for tests and examples.

    Parameters
    ----------
    estimator_class : type
        A named estimator (``seqestim.GRUClassifier``, ...).
    index : int, default=0
        Which of the registry's test parameter sets to start from.
    **overrides
        Parameters that replace the small ones.

    Returns
    -------
    estimator : object
        Built with the registry's ``test_params[index]``, a two-epoch training budget and,
        for forecasters, a short window and horizon.
    """
    spec = get_spec(estimator_class._backbone)
    params = {**spec.test_params[index % len(spec.test_params)], **_TEST_TRAINING}
    if estimator_class._task == "forecaster":
        params.update(_TEST_WINDOWS[index % len(_TEST_WINDOWS)])
    params.update(overrides)
    return estimator_class(**params)


def to_core_panel(X):
    """Hand an sktime inner panel to the core estimator in a layout it reads natively.

    Parameters
    ----------
    X : numpy3D array, pd-multiindex or nested_univ DataFrame, or df-list
        A panel in one of :data:`PANEL_MTYPES`.

    Returns
    -------
    X : array, DataFrame or list of ``(C, T_i)`` arrays
        ``df-list`` becomes a list of channels-first arrays; the rest is returned unchanged.
    """
    if isinstance(X, list):  # df-list: (T_i, C) frames -> (C, T_i) arrays
        return [np.asarray(frame, dtype=np.float64).T for frame in X]
    return X


class _Adapter:
    """What every adapter shares: the wrapped estimator and the test parameters."""

    #: The task of the wrapped estimators.
    _core_task: ClassVar[str] = ""
    #: The estimator used when none is given.
    _default_model: ClassVar[str] = "gru"

    def __init__(self, estimator=None):
        self.estimator = estimator
        super().__init__()

    def _make_estimator(self):
        """A fresh, unfitted clone of ``estimator`` (or of the task's default estimator)."""
        if self.estimator is None:
            from seqestim.estimators import make_estimator

            return make_estimator(self._default_model, self._core_task)
        if getattr(self.estimator, "_task", None) != self._core_task:
            raise TypeError(
                f"{type(self).__name__} wraps seqestim {self._core_task}s; got "
                f"{type(self.estimator).__name__}."
            )
        return clone(self.estimator)

    @classmethod
    def get_test_params(cls, parameter_set="default"):
        """One small parameter set per registered model of the adapter's task.

        Parameters
        ----------
        parameter_set : str, default="default"
            Unused; every set is small enough for the checks.

        Returns
        -------
        params : list of dict
            ``{"estimator": <small estimator>}`` for every named estimator of the task, the
            first of them alternating the registry's two test parameter sets.
        """
        classes = named_estimators(cls._core_task)
        return [
            {"estimator": small_estimator(core, index % 2)} for index, core in enumerate(classes)
        ]


class SeqestimClassifier(_Adapter, BaseClassifier):
    """sktime classifier that delegates to a seqestim classifier.

    Parameters
    ----------
    estimator : seqestim classifier, default=None
        The estimator to fit (cloned); ``GRUClassifier()`` when None.

    Attributes
    ----------
    estimator_ : seqestim classifier
        The fitted clone.

    Examples
    --------
    >>> from sktime.datasets import load_unit_test
    >>> from seqestim import GRUClassifier
    >>> from seqestim.sktime import SeqestimClassifier
    >>> X, y = load_unit_test(split="train", return_type="numpy3D")
    >>> clf = SeqestimClassifier(GRUClassifier(d_model=8, max_epochs=2, random_state=0))
    >>> clf.fit(X, y).predict(X[:3]).shape
    (3,)
    """

    _core_task = "classifier"
    _tags: ClassVar[dict] = {**_PANEL_TAGS, "capability:predict_proba": True}

    def _fit(self, X, y):
        self.estimator_ = self._make_estimator().fit(to_core_panel(X), y)
        return self

    def _predict(self, X):
        return self.estimator_.predict(to_core_panel(X))

    def _predict_proba(self, X):
        # the core's columns follow np.unique(y), as sktime's classes_ do
        return self.estimator_.predict_proba(to_core_panel(X))


class SeqestimRegressor(_Adapter, BaseRegressor):
    """sktime regressor that delegates to a seqestim regressor.

    Parameters
    ----------
    estimator : seqestim regressor, default=None
        The estimator to fit (cloned); ``GRURegressor()`` when None.

    Attributes
    ----------
    estimator_ : seqestim regressor
        The fitted clone.

    Examples
    --------
    >>> import numpy as np
    >>> from seqestim import GRURegressor
    >>> from seqestim.sktime import SeqestimRegressor
    >>> X = np.random.RandomState(0).normal(size=(30, 2, 12))
    >>> reg = SeqestimRegressor(GRURegressor(d_model=8, max_epochs=2, random_state=0))
    >>> reg.fit(X, X[:, 0].mean(axis=1)).predict(X[:3]).shape
    (3,)
    """

    _core_task = "regressor"
    _tags: ClassVar[dict] = dict(_PANEL_TAGS)

    def _fit(self, X, y):
        self.estimator_ = self._make_estimator().fit(to_core_panel(X), y)
        return self

    def _predict(self, X):
        return self.estimator_.predict(to_core_panel(X))


class SeqestimForecaster(_Adapter, BaseForecaster):
    """sktime forecaster that delegates to a seqestim forecaster.

    Parameters
    ----------
    estimator : seqestim forecaster, default=None
        The forecaster to fit (cloned); ``GRUForecaster()`` when None.

    Attributes
    ----------
    estimator_ : seqestim forecaster
        The fitted clone.

    Examples
    --------
    >>> from sktime.datasets import load_airline
    >>> from seqestim import GRUForecaster
    >>> from seqestim.sktime import SeqestimForecaster
    >>> y = load_airline()
    >>> forecaster = SeqestimForecaster(GRUForecaster(max_epochs=2, random_state=0)).fit(y)
    >>> forecaster.predict(fh=[1, 2, 3]).index.astype(str).tolist()
    ['1961-01', '1961-02', '1961-03']
    """

    _core_task = "forecaster"
    _tags: ClassVar[dict] = {
        **_PACKAGING_TAGS,
        "y_inner_mtype": "pd.DataFrame",
        "X_inner_mtype": "pd.DataFrame",
        "capability:multivariate": True,
        "capability:exogenous": True,
        "capability:insample": False,
        "capability:pred_int": True,  # per instance: False for loss="mse" (see __init__)
        "capability:pred_int:insample": False,
        "capability:missing_values": False,
        "capability:non_contiguous_X": False,
        "capability:categorical_in_X": False,
        "requires-fh-in-fit": False,
        "X-y-must-have-same-index": True,
    }
    # the adapter keeps its own copy of the series for update(); see the module docstring
    _config: ClassVar[dict] = {"remember_data": False}
    # sktime sets these in __init__ only when remember_data is on; its conformance suite turns
    # the config on after construction and still expects them to exist (and be None)
    _y = None
    _X = None

    def __init__(self, estimator=None):
        super().__init__(estimator=estimator)
        loss = getattr(estimator, "loss", "quantile")  # None: the default GRUForecaster
        self.set_tags(**{"capability:pred_int": loss != "mse"})

    def _fit(self, y, X=None, fh=None):
        estimator = self._make_estimator()
        estimator.fit(_values(y), None if X is None else _values(X))
        self.estimator_ = estimator
        self.y_columns_ = y.columns
        self._y_seen, self._X_seen = y, X  # for update(update_params=True)
        return self

    def _steps(self, fh) -> np.ndarray:
        """Steps ahead of the cutoff, as the positive integers the core forecasters take."""
        return np.asarray(fh.to_relative(self.cutoff).to_numpy(), dtype=np.int64)

    def _future_X(self, X, n_steps: int):
        """Exogenous rows for the steps ``1..n_steps`` after the cutoff, or None."""
        if self.estimator_.n_exog_ == 0:
            return None  # fitted without X: sktime forecasters ignore an X they cannot use
        if X is None:
            return None  # the core raises a ValueError that says X is needed
        future = ForecastingHorizon(np.arange(1, n_steps + 1), is_relative=True)
        index = future.to_absolute_index(self.cutoff)
        missing = index.difference(X.index)
        if len(missing):
            raise ValueError(
                f"X must hold the exogenous values of every step from the cutoff up to the last "
                f"step of fh; it lacks {len(missing)} of them (first: {missing[0]})."
            )
        return _values(X.loc[index])

    def _predict(self, fh, X=None):
        steps = self._steps(fh)
        values = self.estimator_.predict(fh=steps, X=self._future_X(X, int(steps.max())))
        values = np.asarray(values, dtype=np.float64).reshape(len(steps), -1)
        index = fh.to_absolute_index(self.cutoff)
        return pd.DataFrame(values, index=index, columns=self.y_columns_)

    def _predict_quantiles(self, fh, X, alpha):
        steps = self._steps(fh)
        quantiles = self.estimator_.predict_quantiles(
            fh=steps, X=self._future_X(X, int(steps.max())), alpha=alpha
        )
        return self._relabel(quantiles, fh)

    def _predict_interval(self, fh, X, coverage):
        steps = self._steps(fh)
        intervals = self.estimator_.predict_interval(
            fh=steps, X=self._future_X(X, int(steps.max())), coverage=coverage
        )
        return self._relabel(intervals, fh)

    def _relabel(self, frame: pd.DataFrame, fh) -> pd.DataFrame:
        """The core's frame with sktime's time index and the training columns as variables."""
        names = dict(zip(range(len(self.y_columns_)), self.y_columns_, strict=True))
        columns = pd.MultiIndex.from_tuples(
            [(names[c[0]], *c[1:]) for c in frame.columns.to_flat_index()]
        )
        return pd.DataFrame(
            frame.to_numpy(), index=fh.to_absolute_index(self.cutoff), columns=columns
        )

    def _update(self, y, X=None, update_params=True):
        y_all = _append(self._y_seen, y)
        X_all = None if X is None or self._X_seen is None else _append(self._X_seen, X)
        if update_params:
            # the core has no incremental training: refit on everything seen so far
            return self._fit(y_all, X_all)
        self._move_context(y_all, X_all)
        self._y_seen, self._X_seen = y_all, X_all
        return self

    def _move_context(self, y_all, X_all):
        """Keep the network, but read the last ``window_length`` observations seen."""
        estimator = self.estimator_
        window = estimator.window_length
        estimator.last_window_ = _values(y_all)[-window:]
        if estimator.n_exog_ > 0 and X_all is not None:
            estimator.last_exog_window_ = _values(X_all)[-window:]


_ADAPTERS = {
    adapter._core_task: adapter
    for adapter in (SeqestimClassifier, SeqestimRegressor, SeqestimForecaster)
}


def to_sktime(estimator):
    """Wrap a seqestim estimator in the sktime adapter of its task.

    Parameters
    ----------
    estimator : seqestim classifier, regressor or forecaster
        Used as the adapter's ``estimator`` (cloned at fit).

    Returns
    -------
    adapter : SeqestimClassifier, SeqestimRegressor or SeqestimForecaster

    Raises
    ------
    TypeError
        When no sktime adapter exists for the estimator's task.
    """
    task = getattr(estimator, "_task", None)
    if task not in _ADAPTERS:
        raise TypeError(
            f"No sktime adapter for {type(estimator).__name__}: sktime has classifiers, "
            f"regressors and forecasters; this is a {task or 'non-seqestim'} estimator."
        )
    return _ADAPTERS[task](estimator=estimator)


def _append(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """``old`` followed by the rows of ``new``; rows of ``new`` win where indices overlap."""
    return pd.concat([old.loc[old.index.difference(new.index)], new]).sort_index()


def _values(frame) -> np.ndarray:
    """A DataFrame or Series as a 2D float array (time x columns)."""
    return np.asarray(frame, dtype=np.float64).reshape(len(frame), -1)
