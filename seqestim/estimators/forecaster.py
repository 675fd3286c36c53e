"""The forecaster task: windows of one or many series in, the next ``horizon`` steps out.

The series interface (``fit(y, X=None)``, ``predict(fh=None, X=None)``, ``predict_quantiles``,
``predict_interval``, ``score``) comes from :class:`seqestim.estimators.BaseForecaster`, shared
with the statsmodels baselines; the training machinery from
:class:`~seqestim.estimators._base.SequenceEstimator`.

How series become training data
--------------------------------
Every training position ``t`` of a series (with ``window_length`` observations before it and
``horizon`` after it) gives one example:

- input: the ``window_length`` scaled observations ``y[t-W:t]`` as channels, and, when exogenous
  variables are given, the sequence is extended by the ``horizon`` future steps: ``X`` fills its
  channels over all ``W + H`` steps, the ``y`` channels are zero on the future steps, and one
  more channel flags them. The backbone reads the whole sequence, so the last step has seen the
  exogenous values of every step it forecasts;
- target: the scaled ``y[t:t+H]``, flattened to ``H * k`` values (direct multi-step
  forecasting).

A global model (``fit`` on a list of series or a long ``unique_id``/``ds``/``y`` frame, see
:mod:`seqestim.estimators._series`) takes the windows of every series. A series shorter than
``window_length + horizon`` gives one window with the history it has: the window is padded at the
end and masked, as the backbone contract allows.

Scaling happens twice. ``y`` is standardised per series and column with the mean and standard
deviation of that series' training history (``y_mean_``, ``y_scale_``; ``X`` per column over all
training rows: ``X_mean_``, ``X_scale_``). Then, with ``window_normalization``, every window is
normalised per ``y`` column before the network reads it: by its own mean (``"mean"``, the
default) or by its own mean and standard deviation (``"standard"``), and the network's forecasts
are mapped back with the same numbers (instance normalisation, as RevIN without the learned
affine map: Kim et al., ICLR 2022). The network then learns the next steps relative to the
recent level (and spread), which carries across series and across the level shifts of trending
series.

Outputs and losses (``loss``)
-----------------------------
- ``"mse"``: one value per step and column, trained with the mean squared error; point
  forecasts only.
- ``"quantile"``: one value per step, column and level of ``quantiles`` (0.5 is always added),
  trained with the pinball loss. The levels cannot cross: the head outputs the median and the
  positive (softplus) gaps to the next level up and down, whose cumulative sums give the other
  levels. The point forecast is the median.
- ``"normal"``: a mean and a standard deviation (softplus) per step and column, trained with the
  Gaussian negative log-likelihood. The point forecast is the mean.

Quantiles at any level between the smallest and largest of ``quantiles`` are interpolated
linearly between the trained levels (a normal head gives every level).

A backbone whose output at step ``t`` already is the forecast of the next observation says so
with a true ``forecasts_next_step`` attribute; for one-step point forecasting of the series
alone (``horizon=1``, ``loss="mse"``, no exogenous ``X``) it then gets no head
(:class:`~seqestim.nn.heads.IdentityHead`), so its own parameters are the whole model.

Forecasts further ahead than ``horizon``
----------------------------------------
Point forecasts further ahead are made recursively, block by block, feeding the point forecasts
back as observations. Quantiles of those steps come from sample paths: each block draws one
value per step and column from the network's distribution (for a quantile head by inverting the
interpolated quantile function, truncated at the outermost levels), feeds the draws back, and
the quantiles are read off ``n_paths`` such paths. The draws within one block are independent
across steps; the steps of the first block use the network's quantiles directly. Exogenous rows
missing for the last block's unused steps repeat the last given row (they cannot affect the steps
asked for before them only when the backbone is causal, which the recurrent backbones are).

Early stopping
--------------
The validation windows of ``early_stopping`` are the last ``validation_fraction`` of each
series' windows in time, and every training window's targets end at least ``horizon`` steps
before the first validation window starts (:func:`temporal_window_split`): no validation step
is ever a training input or target, unlike a shuffled split of overlapping windows.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch
from torch import nn

from seqestim.estimators._base import SequenceEstimator
from seqestim.estimators._series import BaseForecaster
from seqestim.estimators._training import TrainingParams
from seqestim.nn._params import param, parameter_group
from seqestim.nn.heads import SequenceNet

__all__ = [
    "ForecastParams",
    "GaussianNLLLoss",
    "PinballLoss",
    "SequenceForecaster",
    "WindowParams",
    "temporal_window_split",
]

_LOSSES = ("mse", "quantile", "normal")
_WINDOW_NORMALIZATIONS = ("none", "mean", "standard")
#: Smallest per-window scale, in units of the series' standard deviation: a nearly flat window
#: is not blown up to unit variance.
_MIN_WINDOW_SCALE = 0.1
_DEFAULT_QUANTILES = (
    0.01,
    0.025,
    0.05,
    0.1,
    0.2,
    0.3,
    0.4,
    0.5,
    0.6,
    0.7,
    0.8,
    0.9,
    0.95,
    0.975,
    0.99,
)


@parameter_group
class WindowParams:
    """How a neural forecaster cuts the series into examples."""

    window_length: int = param(
        24, "Number of past observations the network reads for one forecast."
    )
    horizon: int = param(
        6,
        "Steps forecast at once by the network (direct multi-step output); longer horizons are\n"
        "forecast recursively in blocks of this size. Also the default ``fh`` of\n"
        ":meth:`predict`.",
    )


@parameter_group
class ForecastParams:
    """What a neural forecaster outputs and how it normalises its windows."""

    loss: str = param(
        "quantile",
        '"normal": a Gaussian head trained with its negative log-likelihood (point forecast:\n'
        'the mean); "quantile": a non-crossing quantile head trained with the pinball loss\n'
        '(point forecast: the median); "mse": point forecasts only.',
        kind='{"normal", "quantile", "mse"}',
    )
    quantiles: tuple | None = param(
        None,
        'Levels the quantile head learns (``loss="quantile"``; 0.5 is always added); None:\n'
        "0.01, 0.025, 0.05, 0.1, 0.2, ..., 0.9, 0.95, 0.975, 0.99. Other levels between the\n"
        "smallest and the largest are interpolated.",
        kind="sequence of float in (0, 1) or None",
    )
    window_normalization: str = param(
        "mean",
        'Subtract every window\'s own mean ("mean"), also divide by its standard deviation\n'
        '("standard"), or neither ("none"); forecasts are mapped back.',
        kind='{"mean", "standard", "none"}',
    )


# ------------------------------------------------------------------------------------- losses
class PinballLoss(nn.Module):
    """Mean pinball (quantile) loss of quantile forecasts.

    Parameters
    ----------
    quantiles : sequence of float
        The levels, in the order of the last axis of the forecasts.
    """

    def __init__(self, quantiles):
        super().__init__()
        self.register_buffer("levels", torch.tensor(list(quantiles), dtype=torch.float32))

    def forward(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        """``y_pred`` (B, T, Q) quantiles, ``y_true`` (B, T) -> scalar."""
        error = y_true.unsqueeze(-1) - y_pred  # (B, T, Q)
        levels = self.levels.to(y_pred.dtype)
        return torch.maximum(levels * error, (levels - 1.0) * error).mean()


class GaussianNLLLoss(nn.Module):
    """Mean Gaussian negative log-likelihood of ``(mean, standard deviation)`` forecasts."""

    def forward(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        """``y_pred`` (B, T, 2) means and standard deviations, ``y_true`` (B, T) -> scalar."""
        mean, std = y_pred[..., 0], y_pred[..., 1]
        z = (y_true - mean) / std
        return (0.5 * z**2 + torch.log(std) + 0.5 * math.log(2 * math.pi)).mean()


class _ForecastNet(SequenceNet):
    """Backbone, last-step pooling and a linear head, with the output form of the loss.

    ``(B, L, C)`` -> ``(B, T)`` for ``"mse"``, ``(B, T, Q)`` non-crossing quantiles for
    ``"quantile"``, ``(B, T, 2)`` means and standard deviations for ``"normal"``, with ``T``
    the number of forecast values (horizon x columns).
    """

    def __init__(self, backbone, n_targets: int, loss: str, n_levels: int, median: int, **kw):
        self.n_targets, self.loss, self.n_levels, self.median = n_targets, loss, n_levels, median
        per_target = {"mse": 1, "quantile": n_levels, "normal": 2}[loss]
        super().__init__(backbone, n_targets * per_target, pooling="last", **kw)

    def forward(self, x, lengths=None):
        """Map a padded batch to the forecast values of its loss."""
        raw = super().forward(x, lengths)  # (B, T * P)
        if self.loss == "mse":
            return raw  # (B, T)
        raw = raw.reshape(raw.shape[0], self.n_targets, -1)  # (B, T, P)
        if self.loss == "normal":
            std = nn.functional.softplus(raw[..., 1]) + 1e-3
            return torch.stack([raw[..., 0], std], dim=-1)  # (B, T, 2)
        m = self.median
        centre = raw[..., m : m + 1]  # (B, T, 1)
        gaps = nn.functional.softplus(raw)  # positive gaps between neighbouring levels
        above = centre + torch.cumsum(gaps[..., m + 1 :], dim=-1)  # (B, T, Q - m - 1)
        below = centre - torch.cumsum(gaps[..., :m].flip(-1), dim=-1).flip(-1)  # (B, T, m)
        return torch.cat([below, centre, above], dim=-1)  # (B, T, Q), increasing in Q


# ------------------------------------------------------------------------------------- splits
def temporal_window_split(series: np.ndarray, starts: np.ndarray, fraction: float, gap: int):
    """Training and validation windows of early stopping, by time within each series.

    Parameters
    ----------
    series : ndarray of int, shape (n_windows,)
        Which series each window comes from.
    starts : ndarray of int, shape (n_windows,)
        The first forecast step of each window, a position in its series.
    fraction : float
        Share of each series' windows (at least one) held out for validation: its last ones.
    gap : int
        Steps between the last training window and the first validation window of a series
        (the horizon): a training window starting at ``t`` forecasts ``t .. t + gap - 1``, so
        it is kept only when ``t + gap <= `` the first validation start.

    Returns
    -------
    train, valid : ndarray of int
        Indices into the windows. A series with fewer than two windows only trains.
    """
    train, valid = [], []
    for s in np.unique(series):
        rows = np.flatnonzero(series == s)
        rows = rows[np.argsort(starts[rows], kind="stable")]
        n_valid = max(1, round(fraction * len(rows)))
        if len(rows) < 2 or n_valid >= len(rows):
            train.append(rows)
            continue
        held = rows[-n_valid:]
        first = starts[held].min()
        train.append(rows[:-n_valid][starts[rows[:-n_valid]] + gap <= first])
        valid.append(held)
    train = np.concatenate(train) if train else np.zeros(0, dtype=np.int64)
    valid = np.concatenate(valid) if valid else np.zeros(0, dtype=np.int64)
    return np.sort(train), np.sort(valid)


class WindowSplit:
    """A skorch ``train_split`` with fixed training and validation indices.

    Parameters
    ----------
    train, valid : ndarray of int
        Indices of the training and validation examples.
    """

    def __init__(self, train: np.ndarray, valid: np.ndarray):
        self.train = np.asarray(train, dtype=np.int64)
        self.valid = np.asarray(valid, dtype=np.int64)

    def __call__(self, dataset, y=None, groups=None):
        """The two subsets of ``dataset``."""
        from torch.utils.data import Subset

        return Subset(dataset, self.train.tolist()), Subset(dataset, self.valid.tolist())


# ------------------------------------------------------------------------------------- windows
def _standardise(values: np.ndarray):
    mean = values.mean(axis=0)
    scale = values.std(axis=0)
    scale[scale == 0] = 1.0
    return mean, scale


def _left_aligned(histories: list[np.ndarray], width: int) -> tuple[np.ndarray, np.ndarray]:
    """The last ``width`` rows of each history, left-aligned and zero-padded: (B, width, c)."""
    c = histories[0].shape[1]
    out = np.zeros((len(histories), width, c))
    lengths = np.empty(len(histories), dtype=np.int64)
    for i, h in enumerate(histories):
        tail = h[-width:]
        out[i, : len(tail)] = tail
        lengths[i] = len(tail)
    return out, lengths


class SequenceForecaster(
    BaseForecaster, WindowParams, ForecastParams, TrainingParams, SequenceEstimator
):
    """Neural forecaster task over sliding windows of one or many series.

    See the module docstring of :mod:`seqestim.estimators.forecaster` for how series become
    training examples, the losses and the early-stopping split.

    Attributes
    ----------
    n_series_ : int
        Number of columns of ``y``.
    n_exog_ : int
        Number of columns of the exogenous ``X`` (0 without).
    n_train_ : int
        Number of training observations (of all series together).
    cutoff_ : object
        The last index label of the training ``y`` (its last position for arrays); for several
        series a ``pd.Index`` of them, in the order of ``series_ids_``.
    series_ids_ : list or None
        The ids of the series of a global fit, in the order of the rows of ``y_mean_``; None
        for one series.
    n_channels_ : int
        Input channels of the network (series, exogenous variables and the future flag).
    y_mean_, y_scale_ : ndarray of shape (n_series,) or (n_ids, n_series)
        Standardisation of ``y`` from each series' training history (one row per series of a
        global fit).
    X_mean_, X_scale_ : ndarray of shape (n_exog,) or None
        Standardisation of ``X``, from all training rows.
    quantile_levels_ : ndarray or None
        The levels the quantile head learned (``loss="quantile"``).
    last_window_ : ndarray of shape (<= window_length, n_series) or list of them
        The observations the next forecast reads (one array per series of a global fit).
    last_exog_window_ : ndarray or list of ndarray or None
        The exogenous rows that go with ``last_window_``.
    """

    _task = "forecaster"
    _fitted_attributes = (
        "n_channels_",
        "y_mean_",
        "y_scale_",
        "X_mean_",
        "X_scale_",
        "last_window_",
        "last_exog_window_",
        "series_ids_",
        "quantile_levels_",
    )
    #: Sample paths drawn for quantiles beyond ``horizon``.
    _n_paths = 1000

    # series are short: a higher learning rate and more passes than the other tasks' defaults
    lr: float = param(1e-2)
    max_epochs: int = param(100)

    # ------------------------------------------------------------------------------ checks
    def _check_window(self):
        for name in ("window_length", "horizon"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1; got {value!r}.")

    def _check_forecast_params(self) -> None:
        if self.loss not in _LOSSES:
            raise ValueError(f"loss must be one of {_LOSSES}; got {self.loss!r}.")
        if self.window_normalization not in _WINDOW_NORMALIZATIONS:
            raise ValueError(
                f"window_normalization must be one of {_WINDOW_NORMALIZATIONS}; got "
                f"{self.window_normalization!r}."
            )
        self._levels()

    def _levels(self) -> np.ndarray:
        """The sorted quantile levels of the head, 0.5 included."""
        try:
            chosen = _DEFAULT_QUANTILES if self.quantiles is None else self.quantiles
            levels = np.asarray(chosen, dtype=np.float64).ravel()
        except (TypeError, ValueError):
            levels = np.array([np.nan])
        if levels.size == 0 or not np.all((levels > 0) & (levels < 1)):
            raise ValueError(
                f"quantiles must be a non-empty sequence of levels in (0, 1); got "
                f"{self.quantiles!r}."
            )
        return np.unique(np.r_[levels, 0.5])

    def _min_samples(self) -> int:
        self._check_window()
        return self.window_length + self.horizon

    def _default_fh(self):
        return self.horizon

    # ------------------------------------------------------------------------------ network
    def _criterion(self):
        if self.loss == "quantile":
            return PinballLoss(self.quantile_levels_)
        if self.loss == "normal":
            return GaussianNLLLoss()
        return nn.MSELoss

    def _build_module(self) -> SequenceNet:
        backbone = self._make_backbone(self.n_channels_)
        next_step = self.horizon == 1 and self.n_exog_ == 0 and self.loss == "mse"
        levels = self.quantile_levels_ if self.loss == "quantile" else np.array([0.5])
        return _ForecastNet(
            backbone,
            self.horizon * self.n_series_,
            self.loss,
            len(levels),
            int(np.flatnonzero(np.isclose(levels, 0.5))[0]),
            next_step=next_step,
        )

    def _train_split(self, targets, seed: int):
        if not self.early_stopping:
            return None
        train, valid = temporal_window_split(
            self._window_series, self._window_starts, self.validation_fraction, self.horizon
        )
        if valid.size == 0 or train.size == 0:
            raise ValueError(
                f"early_stopping needs validation windows after a gap of horizon={self.horizon} "
                f"steps, but the series give only {len(self._window_starts)} window(s); use a "
                "longer series, a shorter window_length/horizon, or early_stopping=False."
            )
        return WindowSplit(train, valid)

    # ------------------------------------------------------------------------------ scaling
    def _scalers(self) -> tuple[np.ndarray, np.ndarray]:
        """``y`` means and scales, one row per series: (S, k) each."""
        return np.atleast_2d(self.y_mean_), np.atleast_2d(self.y_scale_)

    def _window_stats(self, past: np.ndarray, lengths: np.ndarray):
        """Per-window location and scale of the ``y`` channels: (B, k) each."""
        B, _, k = past.shape
        if self.window_normalization == "none":
            return np.zeros((B, k)), np.ones((B, k))
        valid = (np.arange(past.shape[1])[None, :] < lengths[:, None])[..., None]  # (B, W, 1)
        count = lengths[:, None].astype(np.float64)  # (B, 1)
        loc = (past * valid).sum(axis=1) / count  # (B, k)
        if self.window_normalization == "mean":
            return loc, np.ones((B, k))
        var = (((past - loc[:, None]) ** 2) * valid).sum(axis=1) / count
        return loc, np.maximum(np.sqrt(var), _MIN_WINDOW_SCALE)

    def _encode(self, past_y, lengths, past_X=None, future_X=None):
        """Network inputs from left-aligned scaled windows.

        Parameters
        ----------
        past_y : ndarray (B, W, k)
            Scaled observations, the first ``lengths[i]`` rows of row ``i`` real.
        lengths : ndarray (B,)
        past_X : ndarray (B, W, m), optional
            The exogenous rows that go with ``past_y``.
        future_X : ndarray (B, H, m), optional
            The exogenous rows of the forecast steps.

        Returns
        -------
        inputs : dict
            ``x`` (B, L, C) float32 and ``lengths`` (B,).
        loc, scale : ndarray (B, k)
            The window normalisation, to map outputs back.
        """
        loc, scale = self._window_stats(past_y, lengths)
        B, W, k = past_y.shape
        valid = (np.arange(W)[None, :] < lengths[:, None])[..., None]
        y_part = np.where(valid, (past_y - loc[:, None]) / scale[:, None], 0.0)  # (B, W, k)
        if past_X is None:
            x, total = y_part, lengths
        else:
            H, m = future_X.shape[1], future_X.shape[2]
            L = W + H
            x = np.zeros((B, L, k + m + 1))
            rows = np.arange(B)[:, None]
            x[:, :W, :k] = y_part  # real past rows stay where they are
            x[:, :W, k : k + m] = np.where(valid, past_X, 0.0)
            future_pos = lengths[:, None] + np.arange(H)[None, :]  # right after the real past
            x[rows, future_pos, k : k + m] = future_X
            x[rows, future_pos, k + m] = 1.0  # the flag of the future steps
            total = lengths + H
        inputs = {"x": x.astype(np.float32), "lengths": total.astype(np.int64)}
        return inputs, loc, scale

    # ------------------------------------------------------------------------------ fit
    def _fit(self, y: np.ndarray, X: np.ndarray | None) -> None:
        self._fit_series([y], None if X is None else [X], ids=None)

    def _fit_series(self, ys: list, Xs: list | None, ids) -> None:
        """Train one network on the windows of every series in ``ys``."""
        self._check_window()
        self._check_forecast_params()
        W, H = self.window_length, self.horizon
        if not (self.warm_start and hasattr(self, "y_mean_")):
            stats = [_standardise(y) for y in ys]
            means, scales = np.stack([s[0] for s in stats]), np.stack([s[1] for s in stats])
            self.y_mean_, self.y_scale_ = (means[0], scales[0]) if ids is None else (means, scales)
            if Xs is not None:
                self.X_mean_, self.X_scale_ = _standardise(np.concatenate(Xs))
            else:
                self.X_mean_ = self.X_scale_ = None
        self.series_ids_ = None if ids is None else list(ids)
        self.quantile_levels_ = self._levels() if self.loss == "quantile" else None
        means, scales = self._scalers()
        past, lengths, past_X, future_X, targets, series, starts = [], [], [], [], [], [], []
        for s, y in enumerate(ys):
            z = (y - means[s]) / scales[s]
            zx = None if Xs is None else (Xs[s] - self.X_mean_) / self.X_scale_
            n = len(z)
            if n < H + 1:
                raise ValueError(
                    f"Series {s if ids is None else ids[s]!r} has {n} observation(s); a "
                    f"forecaster with horizon={H} needs at least {H + 1}."
                )
            t = np.arange(W, n - H + 1) if n >= W + H else np.array([n - H])
            first = t - np.minimum(t, W)  # window start, clipped at the series start
            idx = first[:, None] + np.arange(W)[None, :]  # (N, W)
            length = np.minimum(t, W)
            idx = np.minimum(idx, n - 1)  # rows past the real ones are padding, masked below
            past.append(z[idx])
            lengths.append(length)
            targets.append(z[t[:, None] + np.arange(H)[None, :]].reshape(len(t), -1))
            if zx is not None:
                past_X.append(zx[idx])
                future_X.append(zx[t[:, None] + np.arange(H)[None, :]])
            series.append(np.full(len(t), s))
            starts.append(t)
        past, lengths = np.concatenate(past), np.concatenate(lengths)
        valid = (np.arange(W)[None, :] < lengths[:, None])[..., None]
        past = np.where(valid, past, 0.0)
        inputs, loc, scale = self._encode(
            past,
            lengths,
            None if Xs is None else np.concatenate(past_X),
            None if Xs is None else np.concatenate(future_X),
        )
        k = ys[0].shape[1]
        targets = np.concatenate(targets).reshape(-1, H, k)
        targets = ((targets - loc[:, None]) / scale[:, None]).reshape(len(targets), -1)
        self.n_channels_ = inputs["x"].shape[2]
        # what predict needs to continue each series, kept unscaled
        windows = [y[-W:].copy() for y in ys]
        exog_windows = None if Xs is None else [X[-W:].copy() for X in Xs]
        if ids is None:
            self.last_window_ = windows[0]
            self.last_exog_window_ = None if Xs is None else exog_windows[0]
        else:
            self.last_window_, self.last_exog_window_ = windows, exog_windows
        self._window_series, self._window_starts = np.concatenate(series), np.concatenate(starts)
        try:
            self._fit_network(inputs, targets.astype(np.float32))
        finally:
            del self._window_series, self._window_starts

    # ------------------------------------------------------------------------------ several series
    def _min_panel_samples(self, minimum: int) -> int:
        return self.horizon + 1  # a short series gives one (padded) window

    def _fit_panel(self, panel) -> None:
        self._set_panel_attributes(panel)
        self._fit_series(panel.ys, panel.Xs, ids=list(panel.ids))

    def _panel_points(self, steps, X_list):
        return self._predict_batch(steps, X_list)[0]

    def _panel_quantiles(self, steps, X_list, alpha):
        return self._predict_batch(steps, X_list, alpha=alpha, seed=self._seed())[1]

    # ------------------------------------------------------------------------------ predict
    def _contexts(self, histories=None, exog_histories=None, series_index=None):
        """Scaled contexts (last ``window_length`` rows) and their series scalers.

        Without arguments: the training series' own last windows.
        """
        means, scales = self._scalers()
        if histories is None:
            histories = self.last_window_ if self.series_ids_ is not None else [self.last_window_]
            exog_histories = (
                None
                if self.n_exog_ == 0
                else (
                    self.last_exog_window_
                    if self.series_ids_ is not None
                    else [self.last_exog_window_]
                )
            )
            series_index = np.arange(len(histories))
        mean_rows, scale_rows = [], []
        for i, h in enumerate(histories):
            s = None if series_index is None else series_index[i]
            if s is None or s < 0:  # a series the model has not seen: scale by its own history
                mean, scale = _standardise(np.asarray(h, dtype=np.float64))
            else:
                mean, scale = means[s], scales[s]
            mean_rows.append(mean)
            scale_rows.append(scale)
        mean, scale = np.stack(mean_rows), np.stack(scale_rows)  # (B, k)
        W = self.window_length
        past, lengths = _left_aligned(
            [(np.asarray(h)[-W:] - mean[i]) / scale[i] for i, h in enumerate(histories)], W
        )
        past_X = None
        if exog_histories is not None:
            past_X, _ = _left_aligned(
                [(np.asarray(x)[-W:] - self.X_mean_) / self.X_scale_ for x in exog_histories], W
            )
        return past, lengths, past_X, mean, scale

    def _future_exog(self, X_list, n_rows: int):
        """Scaled future exogenous rows (B, n_rows, m), the last row repeated when short."""
        out = []
        for X in X_list:
            Z = (np.asarray(X, dtype=np.float64) - self.X_mean_) / self.X_scale_
            if Z.shape[0] < n_rows:
                Z = np.concatenate([Z, np.repeat(Z[-1:], n_rows - Z.shape[0], axis=0)])
            out.append(Z[:n_rows])
        return np.stack(out)

    def _outputs(self, past, lengths, past_X, future_X):
        """One block of network outputs in series-scaled units: (B, H, k[, P])."""
        inputs, loc, scale = self._encode(past, lengths, past_X, future_X)
        raw = self._network_outputs(inputs)  # (B, T) or (B, T, P)
        B, H, k = len(past), self.horizon, self.n_series_
        values = raw.reshape(B, H, k, -1)  # P = 1 for mse
        if self.loss == "normal":
            mean = values[..., 0] * scale[:, None] + loc[:, None]
            std = values[..., 1] * scale[:, None]
            return np.stack([mean, std], axis=-1)
        return values * scale[:, None, :, None] + loc[:, None, :, None]

    def _point(self, outputs: np.ndarray) -> np.ndarray:
        """Point forecasts (B, H, k) from block outputs."""
        if self.loss == "quantile":
            return outputs[..., int(np.flatnonzero(np.isclose(self.quantile_levels_, 0.5))[0])]
        return outputs[..., 0]

    def _quantiles_of(self, outputs: np.ndarray, alpha: np.ndarray) -> np.ndarray:
        """Quantiles (B, H, k, A) at levels ``alpha`` from block outputs."""
        if self.loss == "normal":
            from scipy.special import ndtri

            return outputs[..., :1] + outputs[..., 1:2] * ndtri(alpha)
        levels = self.quantile_levels_
        if len(levels) == 1:
            return np.repeat(outputs, len(alpha), axis=-1)
        # linear interpolation between the learned levels, the same weights for every row
        j = np.clip(np.searchsorted(levels, alpha, side="right") - 1, 0, len(levels) - 2)
        w = np.clip((alpha - levels[j]) / (levels[j + 1] - levels[j]), 0.0, 1.0)
        return outputs[..., j] * (1 - w) + outputs[..., j + 1] * w

    def _sample(self, outputs: np.ndarray, u: np.ndarray) -> np.ndarray:
        """One draw (B, H, k) from each block output's distribution; ``u`` uniform (B, H, k)."""
        if self.loss == "normal":
            from scipy.special import ndtri

            return outputs[..., 0] + outputs[..., 1] * ndtri(u)
        levels = self.quantile_levels_
        if len(levels) == 1:
            return outputs[..., 0]
        u = levels[0] + u * (levels[-1] - levels[0])  # truncated at the outermost levels
        flat, uf = outputs.reshape(-1, len(levels)), u.ravel()
        # inverse of the piecewise-linear quantile function, one draw per row
        j = np.clip(np.searchsorted(levels, uf, side="right") - 1, 0, len(levels) - 2)
        w = (uf - levels[j]) / (levels[j + 1] - levels[j])
        rows = np.arange(len(flat))
        draws = flat[rows, j] * (1 - w) + flat[rows, j + 1] * w
        return draws.reshape(u.shape)

    def _run(self, past, lengths, past_X, future_X, n_blocks: int, *, rng=None, n_paths=1):
        """Forecast ``n_blocks`` blocks; point paths (B, n_blocks*H, k) and the first outputs.

        With ``rng``, the values fed back are draws from the network's distribution instead of
        its point forecasts: the rows are ``n_paths`` sample paths of each context in turn, and
        every context gets the same uniform numbers, so that a context's paths do not depend on
        which other contexts share the batch.
        """
        W, H = self.window_length, self.horizon
        B = len(past)
        history = [past[i, : lengths[i]] for i in range(B)]
        hist_X = None if past_X is None else [past_X[i, : lengths[i]] for i in range(B)]
        blocks, first = [], None
        for block in range(n_blocks):
            p, ln = _left_aligned(history, W) if block else (past, lengths)
            px = fx = None
            if future_X is not None:
                px = _left_aligned(hist_X, W)[0] if block else past_X
                fx = future_X[:, block * H : (block + 1) * H]
            outputs = self._outputs(p, ln, px, fx)
            if first is None:
                first = outputs
            if rng is None:
                values = self._point(outputs)
            else:
                u = rng.uniform(1e-12, 1.0, size=(n_paths, H, self.n_series_))
                values = self._sample(outputs, np.tile(u, (B // n_paths, 1, 1)))
            blocks.append(values)
            if block + 1 < n_blocks:
                history = [np.concatenate([history[i], values[i]]) for i in range(B)]
                if hist_X is not None:
                    hist_X = [np.concatenate([hist_X[i], fx[i]]) for i in range(B)]
        return np.concatenate(blocks, axis=1), first

    def _predict_batch(self, steps, X_list=None, *, contexts=None, alpha=None, seed=0):
        """Forecasts of many contexts in one batched pass per block.

        Parameters
        ----------
        steps : ndarray of int
        X_list : list of ndarray, optional
            Future exogenous rows of each context.
        contexts : tuple, optional
            ``(histories, exog_histories, series_index)``; the training series by default.
        alpha : ndarray, optional
            Also return quantiles at these levels.
        seed : int
            Seeds the sample paths of quantiles beyond ``horizon``.

        Returns
        -------
        point : ndarray (B, len(steps), k)
            In the units of ``y``.
        quantiles : ndarray (B, len(steps), k, len(alpha)) or None
        """
        H = self.horizon
        n_blocks = -(-int(steps.max()) // H)  # ceil
        past, lengths, past_X, mean, scale = self._contexts(*(contexts or ()))
        future_X = None
        if self.n_exog_:
            future_X = self._future_exog(X_list, n_blocks * H)
        path, first = self._run(past, lengths, past_X, future_X, n_blocks)
        point = (path * scale[:, None] + mean[:, None])[:, steps - 1]
        if alpha is None:
            return point, None
        self._check_probabilistic()
        alpha = np.asarray(alpha, dtype=np.float64)
        if self.loss == "quantile":
            low, high = self.quantile_levels_[0], self.quantile_levels_[-1]
            if alpha.min() < low - 1e-12 or alpha.max() > high + 1e-12:
                raise ValueError(
                    f"The quantile head learned the levels {low:g} .. {high:g}; alpha "
                    f"{alpha.tolist()} lies outside them. Add the levels to `quantiles` or "
                    "use loss='normal'."
                )
        quantiles = self._quantiles_of(first, alpha)  # (B, H, k, A), block 1 exactly
        full = np.zeros((len(past), n_blocks * H, self.n_series_, len(alpha)))
        full[:, :H] = quantiles
        if n_blocks > 1:
            n = self._n_paths
            rng = np.random.default_rng(seed)
            rep = np.repeat
            paths, _ = self._run(
                rep(past, n, axis=0),
                rep(lengths, n),
                None if past_X is None else rep(past_X, n, axis=0),
                None if future_X is None else rep(future_X, n, axis=0),
                n_blocks,
                rng=rng,
                n_paths=n,
            )
            paths = paths.reshape(len(past), n, n_blocks * H, self.n_series_)
            later = np.quantile(paths[:, :, H:], alpha, axis=1)  # (A, B, T - H, k)
            full[:, H:] = np.moveaxis(later, 0, -1)
        full = full * scale[:, None, :, None] + mean[:, None, :, None]
        return point, full[:, steps - 1]

    def _check_probabilistic(self) -> None:
        if self.loss == "mse":
            raise NotImplementedError(
                f"{type(self).__name__} was trained with loss='mse' and gives point forecasts "
                "only; set loss='normal' or loss='quantile' for quantiles and intervals."
            )

    def _seed(self) -> int:
        state = self.random_state
        return int(state) if isinstance(state, numbers.Integral) else 0

    def _predict(self, steps: np.ndarray, X: np.ndarray | None) -> np.ndarray:
        point, _ = self._predict_batch(steps, None if X is None else [X])
        return point[0]

    def _predict_quantiles(self, steps, X, alpha):
        _, quantiles = self._predict_batch(
            steps, None if X is None else [X], alpha=alpha, seed=self._seed()
        )
        return quantiles[0]

    def _predict_paths(self, horizon, X, n_paths, seed):
        self._check_probabilistic()
        past, lengths, past_X, mean, scale = self._contexts()
        n_blocks = -(-int(horizon) // self.horizon)
        future_X = None if X is None else self._future_exog([X], n_blocks * self.horizon)
        rep = np.repeat
        paths, _ = self._run(
            rep(past, n_paths, axis=0),
            rep(lengths, n_paths),
            None if past_X is None else rep(past_X, n_paths, axis=0),
            None if future_X is None else rep(future_X, n_paths, axis=0),
            n_blocks,
            rng=np.random.default_rng(seed),
            n_paths=n_paths,
        )  # (n_paths, n_blocks * H, k)
        return paths[:, :horizon] * scale[0] + mean[0]

    def _forecast_from(self, histories, X_histories, steps, X_futures, alpha=None):
        histories = [np.asarray(h, dtype=np.float64) for h in histories]
        short = [len(h) for h in histories if len(h) < 1]
        if short:
            raise ValueError("Every history needs at least one observation.")
        # a single-series model scales every history as its training series; a global model
        # scales each by its own history, as it does for series it has not seen
        index = np.full(len(histories), 0 if self.series_ids_ is None else -1)
        return self._predict_batch(
            steps,
            X_futures,
            contexts=(histories, X_histories, index),
            alpha=alpha,
            seed=self._seed(),
        )
