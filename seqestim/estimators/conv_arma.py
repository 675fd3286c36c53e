"""ConvARMAForecaster: next-frame forecasting of image series with the ConvARMA network.

The estimator wraps :class:`seqestim.nn.conv_arma.ConvARMANet` (Schiele, Berninger & Rügamer
2022, the ConvARMA section of "ARMA Cell: A Modular and Effective Approach for Neural
Autoregressive Modeling", arXiv:2208.14919) in the seqestim forecaster interface, adapted to
series whose observations are ``H x W x C`` frames rather than numbers:

- ``fit(y)``: ``y`` is one series of frames, an array ``(T, H, W, C)``, or several independent
  series of the same frame shape, ``(n_series, T, H, W, C)`` (e.g. the videos of
  :func:`seqestim.datasets.make_moving_squares`). ``data_format="channels_first"`` reads
  ``(T, C, H, W)`` / ``(n_series, T, C, H, W)`` instead (torch's layout; the generator's).
- ``predict(fh=1)``: the ``fh`` frames after the end of the training series, in the layout
  of ``y``: ``(len(fh), H, W, C)`` for one series, ``(n_series, len(fh), H, W, C)`` for
  several. Frames beyond the first are forecast recursively (each forecast frame is fed back
  as the newest observation).
- ``score(y)``: R² of the forecast of the frames ``y`` that follow the training series
  (pixels pooled), so that higher is better as everywhere in sklearn.

Why this is not a :class:`seqestim._series.BaseForecaster`: that base validates observations as
rows of numbers (2-D ``y``) and gives forecasts a pandas index; frames are 3-D observations
with no pandas representation, so this class keeps the same method names and semantics
(``fh`` as an int or an array of steps ahead, errors for ``fh <= 0``, short series, NaN) on
plain arrays.

Training: every window of ``window_length + 1`` consecutive frames of the training series is
one example; the network reads the first ``window_length`` frames and its output at every step
``t`` is trained to match frame ``t + 1`` (the paper's sequence-to-sequence frame prediction,
teacher forcing) — binary cross-entropy with ``output_activation="sigmoid"`` (frames in
``[0, 1]``, as in the paper's benchmarks), mean squared error with ``"linear"``. The loop is a
plain PyTorch loop with Adam: the network is not a registry backbone (its input is 5-D), so the
skorch machinery of the named estimators is not needed.
"""

from __future__ import annotations

import numbers
import time

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from seqestim._series import check_fh

__all__ = ["ConvARMAForecaster"]

_FORMATS = ("channels_last", "channels_first")


class ConvARMAForecaster(BaseEstimator):
    """Forecast the next frames of an image series with ConvARMA (Schiele et al. 2022).

    See the module docstring of :mod:`seqestim.estimators.conv_arma` for the data layout and
    the training scheme.

    Parameters
    ----------
    p : int, default=2
        Autoregressive order: past frames each ConvARMA step reads.
    q : int, default=1
        Moving-average order: past outputs of the cell each step reads.
    units : int, default=16
        Feature maps of each ConvARMA cell.
    kernel_size : int, default=5
        Odd spatial kernel size of the cell's convolutions; it bounds how far (in pixels)
        an object may move per frame and still be tracked by one layer.
    activation : {"relu", "tanh", "sigmoid", "linear"}, default="relu"
        Non-linearity of the cells.
    n_layers : int, default=1
        Stacked ConvARMA cells.
    spatial_diffs : int, default=0
        Shift of the paper's ``SpatialDiffs`` pre-processing (frame concatenated with its
        differences to the frame shifted by this many pixels); 0 disables it.
    output_activation : {"sigmoid", "linear"}, default="sigmoid"
        Head non-linearity. "sigmoid" needs frames in ``[0, 1]`` and trains with binary
        cross-entropy; "linear" trains with mean squared error.
    window_length : int, default=6
        Frames read for one forecast (and length of the training windows).
    data_format : {"channels_last", "channels_first"}, default="channels_last"
        Layout of each frame in ``y``: ``(H, W, C)`` or ``(C, H, W)``.
    max_epochs : int, default=30
        Passes over the training windows.
    lr : float, default=0.01
        Adam learning rate.
    batch_size : int, default=16
        Windows per mini-batch.
    device : str, default="cpu"
        "cpu", "cuda", "cuda:N" or "auto".
    random_state : int, RandomState instance or None, default=None
        Seeds weights and shuffling without touching the global random state.
    verbose : int, default=0
        1 prints the loss of every epoch.

    Attributes
    ----------
    module_ : seqestim.nn.conv_arma.ConvARMANet
        The trained network (on the CPU after ``fit``).
    frame_shape_ : tuple of int
        ``(H, W, C)`` or ``(C, H, W)``, as in ``y``.
    n_series_ : int
        Number of series fitted (1 for a 4-D ``y``).
    history_ : list of float
        Mean training loss of every epoch.
    fit_time_ : float
        Seconds spent in ``fit``.

    Examples
    --------
    >>> from seqestim.datasets import make_moving_squares
    >>> from seqestim.estimators.conv_arma import ConvARMAForecaster
    >>> videos = make_moving_squares(8, 12, image_size=10, square_size=3, random_state=0)
    >>> videos.shape  # (n_series, T, C, H, W)
    (8, 12, 1, 10, 10)
    >>> f = ConvARMAForecaster(
    ...     units=4, data_format="channels_first", max_epochs=2, random_state=0
    ... ).fit(videos[:, :10])
    >>> f.predict(fh=2).shape
    (8, 2, 1, 10, 10)
    """

    def __init__(
        self,
        *,
        p=2,
        q=1,
        units=16,
        kernel_size=5,
        activation="relu",
        n_layers=1,
        spatial_diffs=0,
        output_activation="sigmoid",
        window_length=6,
        data_format="channels_last",
        max_epochs=30,
        lr=0.01,
        batch_size=16,
        device="cpu",
        random_state=None,
        verbose=0,
    ):
        self.p = p
        self.q = q
        self.units = units
        self.kernel_size = kernel_size
        self.activation = activation
        self.n_layers = n_layers
        self.spatial_diffs = spatial_diffs
        self.output_activation = output_activation
        self.window_length = window_length
        self.data_format = data_format
        self.max_epochs = max_epochs
        self.lr = lr
        self.batch_size = batch_size
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ checks
    def _check_params(self):
        for name in ("window_length", "max_epochs", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1; got {value!r}.")
        if self.data_format not in _FORMATS:
            raise ValueError(f"data_format must be one of {_FORMATS}; got {self.data_format!r}.")
        if not (isinstance(self.lr, float | int) and self.lr > 0):
            raise ValueError(f"lr must be a positive number; got {self.lr!r}.")

    def _device(self) -> str:
        if self.device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        if str(self.device).startswith("cuda") and not torch.cuda.is_available():
            raise ValueError(f"device={self.device!r} was requested, but CUDA is not available.")
        return str(self.device)

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
        if not np.isfinite(array).all():
            raise ValueError("y contains NaN or infinite values; frames must be finite.")
        if self.output_activation == "sigmoid" and (array.min() < 0 or array.max() > 1):
            raise ValueError(
                'output_activation="sigmoid" forecasts frames in [0, 1], but y has values in '
                f'[{array.min():g}, {array.max():g}]; rescale y or use output_activation="linear".'
            )
        frame = array.shape[2:]
        if reset:
            return self._layout(array)
        if frame != self.frame_shape_:
            raise ValueError(f"Frames have shape {frame}, but fit saw {self.frame_shape_}.")
        if array.shape[0] != self.n_series_:
            raise ValueError(f"y has {array.shape[0]} series, but fit saw {self.n_series_}.")
        return self._layout(array)

    def _layout(self, array: np.ndarray) -> np.ndarray:
        if self.data_format == "channels_last":
            return np.ascontiguousarray(array.transpose(0, 1, 4, 2, 3))  # (n, T, C, H, W)
        return array

    def _from_internal(self, frames: np.ndarray) -> np.ndarray:
        if self.data_format == "channels_last":
            frames = frames.transpose(0, 1, 3, 4, 2)
        return frames[0] if self._single_ else frames

    # ------------------------------------------------------------------ fit / predict
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
        self : ConvARMAForecaster
        """
        from seqestim.nn.conv_arma import ConvARMANet

        self._check_params()
        if X is not None:
            raise ValueError("ConvARMAForecaster does not use exogenous variables; pass X=None.")
        single = np.ndim(y) == 4
        frames = self._to_internal(y, reset=True)  # (n, T, C, H, W)
        n, T = frames.shape[:2]
        W = int(self.window_length)
        if T < W + 1:
            raise ValueError(
                f"y has {T} frames per series, but window_length={W} needs at least {W + 1}."
            )
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        device = self._device()
        starts = np.arange(T - W)  # window [s, s + W] inclusive: W inputs and W targets
        windows = np.stack(
            [frames[i, s : s + W + 1] for i in range(n) for s in starts]
        )  # (N, W + 1, C, H, W)
        data = torch.from_numpy(windows)
        sigmoid = self.output_activation == "sigmoid"
        start = time.perf_counter()
        devices = [torch.cuda.current_device()] if torch.cuda.is_available() else []
        with torch.random.fork_rng(devices=devices):  # no global RNG side effects
            torch.manual_seed(seed)
            net = ConvARMANet(
                frames.shape[2],
                spatial_diffs=self.spatial_diffs,
                output_activation=self.output_activation,
                p=self.p,
                q=self.q,
                units=self.units,
                kernel_size=self.kernel_size,
                activation=self.activation,
                n_layers=self.n_layers,
            ).to(device)
            optimizer = torch.optim.Adam(net.parameters(), lr=self.lr)
            generator = torch.Generator().manual_seed(seed)
            history = []
            net.train()
            for epoch in range(int(self.max_epochs)):
                order = torch.randperm(len(data), generator=generator)
                total = 0.0
                for batch in order.split(int(self.batch_size)):
                    window = data[batch].to(device)
                    output = net(window[:, :-1])  # step t predicts frame t + 1
                    target = window[:, 1:]
                    if sigmoid:
                        loss = F.binary_cross_entropy(output, target)
                    else:
                        loss = F.mse_loss(output, target)
                    if not torch.isfinite(loss):
                        raise FloatingPointError(
                            f"The training loss became {loss.item()} in epoch {epoch + 1}; try "
                            "a smaller lr."
                        )
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                    total += loss.item() * len(batch)
                history.append(total / len(data))
                if self.verbose:
                    print(f"epoch {epoch + 1}/{self.max_epochs}: loss {history[-1]:.5f}")
        net.eval()
        self.module_ = net.cpu()
        self.history_ = history
        self.fit_time_ = time.perf_counter() - start
        self._single_ = single
        self.n_series_ = n
        self.frame_shape_ = tuple(np.shape(y)[-3:])
        self.last_window_ = frames[:, -W:].copy()  # (n, W, C, H, W)
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
        check_is_fitted(self, "module_")
        if X is not None:
            raise ValueError("ConvARMAForecaster does not use exogenous variables; pass X=None.")
        steps = check_fh(fh)
        history = torch.from_numpy(self.last_window_)  # (n, W, C, H, W)
        W = history.shape[1]
        forecasts = []
        with torch.no_grad():
            for _ in range(int(steps.max())):
                nxt = self.module_(history[:, -W:])[:, -1]  # (n, C, H, W)
                forecasts.append(nxt)
                history = torch.cat([history[:, 1:], nxt[:, None]], dim=1)
        path = torch.stack(forecasts, dim=1).numpy().astype(np.float64)  # (n, max, C, H, W)
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
        check_is_fitted(self, "module_")
        truth = self._to_internal(y, reset=False)  # (n, h, C, H, W)
        predicted = self.predict(fh=truth.shape[1])
        predicted = predicted[None] if self._single_ else predicted
        if self.data_format == "channels_last":
            predicted = predicted.transpose(0, 1, 4, 2, 3)
        sse = float(((truth - predicted) ** 2).sum())
        sst = float(((truth - truth.mean()) ** 2).sum())
        return 1.0 - sse / sst if sst > 0 else float(sse == 0.0)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        tags.non_deterministic = self.device != "cpu"
        return tags
