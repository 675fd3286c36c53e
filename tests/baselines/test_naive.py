import numpy as np
import pytest

from seqestim.baselines import NaiveForecaster

Y = np.array([3.0, 5.0, 4.0, 8.0, 6.0, 10.0])


@pytest.mark.parametrize(
    ("params", "fh", "expected"),
    [
        ({"strategy": "last"}, 3, [10.0, 10.0, 10.0]),
        ({"strategy": "mean"}, 2, [6.0, 6.0]),
        ({"strategy": "mean", "window_length": 2}, 1, [8.0]),
        # drift: slope (10 - 3) / 5 = 1.4 per step
        ({"strategy": "drift"}, [1, 3], [11.4, 14.2]),
        # season of 4: the last cycle is 4, 8, 6, 10
        ({"strategy": "seasonal_last", "sp": 4}, 6, [4.0, 8.0, 6.0, 10.0, 4.0, 8.0]),
        ({"strategy": "seasonal_last", "sp": 1}, 2, [10.0, 10.0]),
    ],
)
def test_hand_computed_forecasts(params, fh, expected):
    np.testing.assert_allclose(NaiveForecaster(**params).fit(Y).predict(fh), expected)


def test_multivariate_columns_are_independent():
    y = np.column_stack([Y, 2 * Y])
    pred = NaiveForecaster(strategy="drift").fit(y).predict(2)
    np.testing.assert_allclose(pred, [[11.4, 22.8], [12.8, 25.6]])


def test_invalid_parameters():
    with pytest.raises(ValueError, match="strategy"):
        NaiveForecaster(strategy="median").fit(Y)
    with pytest.raises(ValueError, match="sp"):
        NaiveForecaster(sp=0).fit(Y)
    with pytest.raises(ValueError, match="window_length"):
        NaiveForecaster(strategy="mean", window_length=0).fit(Y)
    with pytest.raises(ValueError, match="at least 2"):
        NaiveForecaster(strategy="drift").fit(Y[:1])
