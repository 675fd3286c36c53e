"""ConvARMAForecaster: next frames of moving squares, layouts, sklearn plumbing, bad input."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone

from seqestim import ConvARMAForecaster
from seqestim.datasets import make_moving_squares


def _videos(n=12, frames=10, seed=0):
    # (n, T, C, H, W) channels first, as the generator writes them
    return make_moving_squares(
        n, frames, image_size=10, square_size=3, max_speed=1, random_state=seed
    )


def _small(**params):
    defaults = {
        "units": 6,
        "window_length": 4,
        "max_epochs": 25,
        "lr": 0.015,
        "batch_size": 32,
        "random_state": 0,
    }
    return ConvARMAForecaster(**{**defaults, **params})


def _check_learns(videos, n_fit, min_score, max_error_ratio, **params):
    f = _small(data_format="channels_first", **params).fit(videos[:, :n_fit])
    predicted = f.predict(fh=1)
    assert predicted.shape == (len(videos), 1, *videos.shape[2:])
    truth = videos[:, n_fit : n_fit + 1]
    # pixels wrong after thresholding, against a motion-blind forecaster (the last frame again)
    error = ((predicted > 0.5) != truth).mean()
    persistence = (videos[:, n_fit - 1 : n_fit] != truth).mean()
    assert error < max_error_ratio * persistence
    assert f.score(videos[:, n_fit : n_fit + 2]) > min_score


def test_predicts_the_next_frame_of_moving_squares():
    # measured: 0.48 x persistence's pixel errors, R² 0.41 (3-4 s)
    _check_learns(_videos(24, 10), 8, 0.2, 0.75)


@pytest.mark.slow
def test_predicts_the_next_frame_of_moving_squares_closely():
    # measured: 0.1 x persistence's pixel errors, R² 0.81
    _check_learns(_videos(32, 12), 10, 0.6, 0.25, units=8, max_epochs=30, lr=0.01, batch_size=32)


def test_channels_last_single_series_and_fh_array():
    videos = _videos(n=1, frames=30, seed=2)[0].transpose(0, 2, 3, 1)  # (T, H, W, C)
    f = _small(max_epochs=2).fit(videos[:24])
    full = f.predict(fh=4)
    assert full.shape == (4, 10, 10, 1)
    np.testing.assert_allclose(f.predict(fh=[4, 2]), full[[3, 1]], rtol=1e-6)
    assert 0.0 <= full.min() and full.max() <= 1.0
    assert np.isfinite(f.score(videos[24:27]))


def test_same_seed_same_forecast_clone_and_pickle():
    videos = _videos(n=4, frames=8)
    f = _small(max_epochs=2, data_format="channels_first")
    a = f.fit(videos).predict(fh=2)
    b = clone(f).fit(videos).predict(fh=2)
    np.testing.assert_array_equal(a, b)
    restored = pickle.loads(pickle.dumps(f))
    np.testing.assert_array_equal(restored.predict(fh=2), a)
    assert clone(f).get_params() == f.get_params()


def test_bad_input():
    videos = _videos(n=2, frames=6)
    f = _small(max_epochs=1, data_format="channels_first")
    with pytest.raises(ValueError, match="at least"):
        f.fit(videos[:, :4])  # window_length=4 needs 5 frames
    with pytest.raises(ValueError, match="dimensions"):
        f.fit(videos[0, :, 0, 0])
    bad = videos.copy()
    bad[0, 0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        f.fit(bad)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        f.fit(videos * 3)
    with pytest.raises(ValueError, match="data_format"):
        _small(data_format="nhwc").fit(videos)
    f.fit(videos)
    for fh in (0, -1, [0, 2]):
        with pytest.raises(ValueError):
            f.predict(fh=fh)
    with pytest.raises(ValueError, match="exogenous"):
        f.predict(fh=1, X=np.zeros((1, 1)))
