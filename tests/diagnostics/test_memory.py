"""The memorization task and the memory-limit diagnostic, against closed forms."""

import matplotlib
import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.linear_model import LinearRegression, LogisticRegression

from seqestim import GRURegressor
from seqestim.datasets import make_memorization
from seqestim.diagnostics import MemoryLimit, memory_capacity, memory_limit

matplotlib.use("Agg")


class LinearReservoirRegressor(RegressorMixin, BaseEstimator):
    """A one-unit linear RNN ``h_t = a h_{t-1} + x_t`` (h_{-1} = 0) and a linear readout of h_T.

    Its memory is known in closed form: for i.i.d. inputs, ``cov(x_{T-1-k}, h_T) = a^k Var x``
    and ``Var h_T = Var x (1 - a^{2T}) / (1 - a²)``, so
    ``MC_k = a^{2k} (1 - a²) / (1 - a^{2T})`` whatever the readout's weights.
    """

    def __init__(self, a=0.8):
        self.a = a

    def _state(self, X):
        x = np.asarray(X)[:, 0, :]  # (n, T)
        powers = self.a ** np.arange(x.shape[1])[::-1]  # a^{T-1-t}
        return (x * powers).sum(axis=1, keepdims=True)

    def fit(self, X, y):
        self.readout_ = LinearRegression().fit(self._state(X), y)
        return self

    def predict(self, X):
        return self.readout_.predict(self._state(X))


def test_make_memorization_targets_the_input_k_steps_back():
    X, y = make_memorization(50, length=12, distance=4, random_state=0)
    assert X.shape == (50, 1, 12) and X.dtype == np.float32
    np.testing.assert_array_equal(y, X[:, 0, 7])
    assert -1 <= X.min() and X.max() <= 1
    X, y = make_memorization(50, length=12, distance=0, n_symbols=3, random_state=0)
    assert X.shape == (50, 3, 12) and set(np.unique(X)) == {0.0, 1.0}
    np.testing.assert_array_equal(X.sum(axis=1), 1.0)  # one-hot
    np.testing.assert_array_equal(y, X[:, :, 11].argmax(axis=1))
    again, _ = make_memorization(50, length=12, distance=0, n_symbols=3, random_state=0)
    np.testing.assert_array_equal(X, again)


@pytest.mark.parametrize(
    "kwargs",
    [{"distance": 12}, {"distance": -1}, {"length": 0}, {"n_samples": 0}, {"n_symbols": 1}],
)
def test_make_memorization_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        make_memorization(**{"n_samples": 5, "length": 12, "distance": 2, **kwargs})


def test_memory_capacity_is_the_squared_correlation():
    rng = np.random.RandomState(0)
    x = rng.normal(size=1000)
    assert memory_capacity(x, 3 * x + 1) == pytest.approx(1.0)
    assert memory_capacity(x, -x) == pytest.approx(1.0)
    assert memory_capacity(x, np.ones_like(x)) == 0.0
    noisy = x + rng.normal(size=1000)
    assert memory_capacity(x, noisy) == pytest.approx(np.corrcoef(x, noisy)[0, 1] ** 2)


@pytest.mark.parametrize("a", [0.5, 0.8])
def test_capacity_of_a_linear_rnn_matches_the_closed_form(a):
    T = 30
    distances = (0, 1, 2, 4, 6)
    result = memory_limit(
        LinearReservoirRegressor(a=a), distances, length=T, n_train=2000, n_test=40000
    )
    expected = a ** (2 * result.distances) * (1 - a**2) / (1 - a ** (2 * T))
    # the standard error of a squared correlation ρ² over n pairs is about
    # 2ρ(1 - ρ²)/√n <= 0.004 here: allow three of them
    np.testing.assert_allclose(result.capacity, expected, atol=0.012)
    # for this model R² on new data and MC_k coincide (up to the readout's estimation error)
    np.testing.assert_allclose(result.scores, expected, atol=0.012)
    assert result.metric == "r2" and result.threshold == 0.9
    # MC_0 = 1 - a²: the last input is never fully recalled by a leaky unit, so nothing is
    # memorised at the 0.9 bar
    assert result.limit is None


def test_limit_is_the_largest_distance_reaching_the_threshold():
    result = MemoryLimit(
        distances=np.array([1, 2, 4, 8]),
        scores=np.array([0.99, 0.95, 0.5, 0.92]),
        capacity=np.array([0.99, 0.9, 0.4, 0.9]),
        metric="r2",
        threshold=0.9,
    )
    assert result.limit == 8 and result.total_capacity == pytest.approx(3.19)
    frame = result.to_frame()
    assert list(frame.columns) == ["distance", "r2", "MC_k", "memorized"]
    assert frame["memorized"].tolist() == [True, True, False, True]
    ax = result.plot()
    assert ax.get_xlabel().startswith("distance")


class WindowClassifier(ClassifierMixin, BaseEstimator):
    """Logistic regression on the flattened one-hot window: recalls any step exactly."""

    def fit(self, X, y):
        self.model_ = LogisticRegression(max_iter=500).fit(X.reshape(len(X), -1), y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X.reshape(len(X), -1))

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def test_classifiers_get_accuracy_and_the_capacity_of_the_expected_symbol():
    result = memory_limit(WindowClassifier(), (1, 3), length=8, n_train=400, n_test=200)
    assert result.metric == "accuracy" and result.threshold == 0.95
    assert (result.scores > 0.95).all() and (result.capacity > 0.9).all()
    assert result.limit == 3


def test_a_small_gru_memorises_short_distances_and_not_long_ones():
    gru = GRURegressor(
        d_model=8, max_epochs=25, lr=0.01, batch_size=32, pooling="last", random_state=0
    )  # the last step's features: the symbols k steps before it are what is recalled
    result = memory_limit(gru, (1, 12), length=14, n_train=400, n_test=200)
    assert result.scores[0] > 0.9  # one step back: memorised
    assert result.scores[1] < 0.5 < result.scores[0]
    assert result.limit == 1
