"""Adding a paper is one place: a toy backbone and a toy task, registered here, make a working
estimator that passes sklearn's ``check_estimator`` with nothing excused.

The toy is registered by a fixture and removed afterwards, so the other tests never see it."""

import numpy as np
import pytest
import torch
from sklearn.base import RegressorMixin
from sklearn.utils.estimator_checks import check_estimator
from sklearn.utils.validation import check_array, check_consistent_length, column_or_1d

from seqestim.estimators import PanelTask, make_estimator, named_estimators, transactional
from seqestim.estimators._catalogue import _NAMED, _TASKS
from seqestim.nn._params import param, parameter_group
from seqestim.nn._registry import _REGISTRY
from seqestim.registry import get_spec, list_models, register_model


def _define_the_toy():
    # -------------------------------------------------------------------- the ~20 lines
    @parameter_group
    class ToyParams:
        """Hyperparameters of the toy backbone."""

        d_model: int = param(8, "Width of the per-step features.")

    @register_model("toy", params=ToyParams, paper="Nobody (2026). Toy.", url="https://example.org",
                    causal=True, test_params=({"d_model": 4}, {"d_model": 6}))  # fmt: skip
    class Toy(torch.nn.Module):
        def __init__(self, d_input, params=None):
            super().__init__()
            self.d_output = (params or ToyParams()).d_model
            self.rnn = torch.nn.GRU(d_input, self.d_output, batch_first=True)

        def forward(self, x, mask=None):  # (B, L, C) -> (B, L, d_model); causal: no masking
            return self.rnn(x)[0]

    class SequenceMeanRegressor(RegressorMixin, PanelTask):
        """Toy task: one number per sequence, a pooled linear head, mean squared error."""

        _task = "toy_regressor"

        def _n_outputs(self):
            return 1

        def _criterion(self):
            return torch.nn.MSELoss

        @transactional
        def fit(self, X, y):
            panel = self._encode_panel(X, reset=True, y=y)
            y = column_or_1d(check_array(y, ensure_2d=False, dtype=np.float32), warn=True)
            check_consistent_length(panel.values, y)
            self._fit_network(panel.as_net_input(), y.reshape(-1, 1))
            return self

        def predict(self, X):
            return self._panel_outputs(self._encode_panel(X, reset=False))[:, 0]

    class ToyRegressor(ToyParams, SequenceMeanRegressor):
        """Toy estimator.

        Examples
        --------
        >>> ToyRegressor(d_model=4)  # doctest: +SKIP
        """

        _backbone = Toy

    # classes made in a function pickle once the module holds them under their own names
    for cls in (ToyParams, Toy, SequenceMeanRegressor, ToyRegressor):
        cls.__qualname__ = cls.__name__
        globals()[cls.__name__] = cls
    return Toy, ToyRegressor


@pytest.fixture(scope="module")
def toy():
    """Register the toy for this module's tests only, then remove it again."""
    Toy, ToyRegressor = _define_the_toy()
    yield Toy, ToyRegressor
    _REGISTRY.pop("toy")
    _NAMED.pop(("toy", "toy_regressor"))
    _TASKS.pop("toy_regressor")
    assert "toy" not in list_models()


# -------------------------------------------------------------------- what follows from them
def test_the_toy_is_everywhere_it_should_be(toy):
    Toy, ToyRegressor = toy
    assert "toy" in list_models() and get_spec("toy").cls is Toy
    assert named_estimators("toy_regressor") == [ToyRegressor]
    estimator = make_estimator("toy", "toy_regressor", d_model=5, max_epochs=2)
    assert type(estimator) is ToyRegressor and estimator.d_model == 5
    assert "d_model : int, default=8" in ToyRegressor.__doc__
    assert (
        "max_epochs : int or None, default=None" in ToyRegressor.__doc__
    )  # training parameters too


def test_the_toy_estimator_learns_and_passes_sklearn_checks(toy):
    _, ToyRegressor = toy
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 1, 10)).astype(np.float32)
    y = X[:, 0].mean(axis=1)
    model = ToyRegressor(d_model=8, max_epochs=60, lr=0.02, random_state=0).fit(X[:100], y[:100])
    assert np.corrcoef(model.predict(X[100:]), y[100:])[0, 1] > 0.8
    check_estimator(ToyRegressor(d_model=16, max_epochs=40, lr=0.05, random_state=0))
