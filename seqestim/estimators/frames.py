"""The frame-forecasting task: series of image frames in, the next frames out.

A frame forecaster reads series whose observations are ``H x W x C`` frames rather than numbers:

- ``fit(y)``: ``y`` is one series of frames, an array ``(T, H, W, C)``, or several independent
  series of the same frame shape, ``(n_series, T, H, W, C)``. ``data_format="channels_first"``
  reads ``(T, C, H, W)`` / ``(n_series, T, C, H, W)`` instead (torch's layout).
- ``predict(fh=1)``: the ``fh`` frames after the end of each training series, in the layout
  of ``y``: ``(len(fh), H, W, C)`` for one series, ``(n_series, len(fh), H, W, C)`` for
  several. Frames beyond the first are forecast recursively (each forecast frame is fed back
  as the newest observation).
- ``score(y)``: R² of the forecast of the frames ``y`` that follow the training series
  (pixels pooled), so that higher is better as everywhere in sklearn.

This is not a :class:`seqestim.estimators.BaseForecaster`: that base validates
observations as rows of numbers and gives forecasts a pandas index; frames are 3-D observations
with no pandas representation, so this task keeps the same method names and semantics (``fh``
as an int or an array of steps ahead, errors for ``fh <= 0``, short series, NaN) on plain
arrays.

Training: every window of ``window_length + 1`` consecutive frames of a training series is one
example; the backbone (``inputs=("frames",)`` in the registry) reads the first
``window_length`` frames, and its output at every step ``t`` is trained to match frame
``t + 1`` (sequence-to-sequence frame prediction with teacher forcing), with mean squared error
unless the named estimator chooses another loss.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils.validation import check_is_fitted
from torch import nn

from seqestim.estimators._base import SequenceEstimator, transactional
from seqestim.estimators._series import check_fh
from seqestim.estimators._training import TrainingParams
from seqestim.nn._params import param, parameter_group

__all__ = ["FrameForecaster", "FrameParams"]

_FORMATS = ("channels_last", "channels_first")


@parameter_group
class FrameParams:
    """How a frame forecaster reads its series."""

    window_length: int = param(
        6, "Frames read for one forecast (and length of the training windows)."
    )
    data_format: str = param(
        "channels_last",
        "Layout of each frame in ``y``: ``(H, W, C)`` or ``(C, H, W)``.",
        kind='{"channels_last", "channels_first"}',
    )


class FrameForecaster(FrameParams, TrainingParams, SequenceEstimator):
    """Frame-forecasting task: forecast the next frames of image series.

    See the module docstring of :mod:`seqestim.estimators.frames` for the data layout and the
    training scheme.

    Attributes
    ----------
    frame_shape_ : tuple of int
        ``(H, W, C)`` or ``(C, H, W)``, as in ``y``.
    n_series_ : int
        Number of series fitted (1 for a 4-D ``y``).
    n_channels_ : int
        Channels ``C`` of every frame.
    single_series_ : bool
        Whether ``y`` was one series (a 4-D array).
    last_window_ : ndarray of shape (n_series, window_length, C, H, W)
        The frames the next forecast reads.
    """

    _task = "frame_forecaster"
    _fitted_attributes = (
        "frame_shape_",
        "n_series_",
        "n_channels_",
        "single_series_",
        "last_window_",
    )

    def _criterion(self):
        return nn.MSELoss

    def _build_module(self) -> nn.Module:
        # the backbone predicts the next frame at every step itself: it is the whole network
        return self._make_backbone(self.n_channels_)

    # ------------------------------------------------------------------ checks
    def _check_frame_params(self):
        value = self.window_length
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
            raise ValueError(f"window_length must be an integer >= 1; got {value!r}.")
        if self.data_format not in _FORMATS:
            raise ValueError(f"data_format must be one of {_FORMATS}; got {self.data_format!r}.")

    def _check_frames(self, array: np.ndarray) -> None:
        """Model-specific checks of the frame values (none by default)."""

    def _to_internal(self, y, *, reset: bool) -> np.ndarray:
        """``y`` -> float32 ``(n_series, T, C, H, W)``, with clear errors."""
        try:
            array = np.asarray(y, dtype=np.float32)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"y must be a numeric array of frames ({exc}).") from exc
        if array.ndim not in (4, 5):
            raise ValueError(
                "y must be a series of frames, (T, H, W, C) or (n_series, T, H, W, C) for "
                f'data_format="channels_last" (channels first: (T, C, H, W)); got {array.ndim} '
                "dimensions."
            )
        if array.ndim == 4:
            array = array[None]
        if array.size == 0:
            raise ValueError(f"y is empty (shape {array.shape}); frames need pixels.")
        if not np.isfinite(array).all():
            raise ValueError("y contains NaN or infinite values; frames must be finite.")
        self._check_frames(array)
        frame = array.shape[2:]
        if not reset:
            if frame != self.frame_shape_:
                raise ValueError(f"Frames have shape {frame}, but fit saw {self.frame_shape_}.")
            if array.shape[0] != self.n_series_:
                raise ValueError(f"y has {array.shape[0]} series, but fit saw {self.n_series_}.")
        if self.data_format == "channels_last":
            return np.ascontiguousarray(array.transpose(0, 1, 4, 2, 3))  # (n, T, C, H, W)
        return array

    def _from_internal(self, frames: np.ndarray) -> np.ndarray:
        if self.data_format == "channels_last":
            frames = frames.transpose(0, 1, 3, 4, 2)
        return frames[0] if self.single_series_ else frames

    # ------------------------------------------------------------------ fit / predict
    @transactional
    def fit(self, y, X=None):
        """Fit on one or several series of frames.

        Parameters
        ----------
        y : array-like of shape (T, H, W, C) or (n_series, T, H, W, C)
            Frames, oldest first (``(T, C, H, W)``-style with ``data_format="channels_first"``).
        X : None
            Exogenous variables are not supported; must be None.

        Returns
        -------
        self : object
            The fitted forecaster.
        """
        self._check_frame_params()
        if X is not None:
            raise ValueError(f"{type(self).__name__} does not use exogenous variables; X=None.")
        frames = self._to_internal(y, reset=True)  # (n, T, C, H, W)
        n, T = frames.shape[:2]
        W = int(self.window_length)
        if T < W + 1:
            raise ValueError(
                f"y has {T} frames per series, but window_length={W} needs at least {W + 1}."
            )
        starts = np.arange(T - W)  # window [s, s + W] inclusive: W inputs and W targets
        windows = np.stack([frames[i, s : s + W + 1] for i in range(n) for s in starts])
        self.single_series_ = np.ndim(y) == 4
        self.n_series_ = n
        self.n_channels_ = frames.shape[2]
        self.frame_shape_ = tuple(np.shape(y)[-3:])
        self.last_window_ = frames[:, -W:].copy()  # (n, W, C, H, W)
        # step t of the input predicts frame t + 1
        self._fit_network({"x": windows[:, :-1]}, windows[:, 1:])
        return self

    def predict(self, fh=1, X=None):
        """Forecast the frames ``fh`` steps after the end of each training series.

        Parameters
        ----------
        fh : int or array-like of int, default=1
            ``h`` forecasts steps ``1..h``; an array lists the steps ahead (each ``>= 1``).
        X : None
            Not supported; must be None.

        Returns
        -------
        frames : ndarray
            ``(len(fh), *frame_shape_)`` for one training series, else
            ``(n_series, len(fh), *frame_shape_)``.
        """
        check_is_fitted(self, "net_")
        if X is not None:
            raise ValueError(f"{type(self).__name__} does not use exogenous variables; X=None.")
        steps = check_fh(fh)
        history = self.last_window_  # (n, W, C, H, W)
        W = history.shape[1]
        forecasts = []
        for _ in range(int(steps.max())):
            following = self._network_outputs({"x": history[:, -W:]})[:, -1]  # (n, C, H, W)
            forecasts.append(following)
            history = np.concatenate([history[:, 1:], following[:, None]], axis=1)
        path = np.stack(forecasts, axis=1)  # (n, max step, C, H, W)
        return self._from_internal(path[:, steps - 1])

    def score(self, y, X=None):
        """R² of the forecast of the frames ``y`` right after the training series.

        Parameters
        ----------
        y : array-like
            The next frames, with the layout and number of series of the training ``y``.
        X : None
            Not supported.

        Returns
        -------
        score : float
            ``1 - SSE / SST`` over all pixels (SST about the mean of ``y``).
        """
        check_is_fitted(self, "net_")
        truth = self._to_internal(y, reset=False)  # (n, h, C, H, W)
        predicted = self.predict(fh=truth.shape[1])
        predicted = predicted[None] if self.single_series_ else predicted
        if self.data_format == "channels_last":
            predicted = predicted.transpose(0, 1, 4, 2, 3)
        sse = float(((truth - predicted) ** 2).sum())
        sst = float(((truth - truth.mean()) ** 2).sum())
        return 1.0 - sse / sst if sst > 0 else float(sse == 0.0)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        return tags
