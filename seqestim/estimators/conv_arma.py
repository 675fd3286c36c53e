"""ConvARMAForecaster: next-frame forecasting of image series (Schiele, Berninger & Rügamer 2022).

The network (:class:`seqestim.nn.conv_arma.ConvARMANet`, the ConvARMA section of the ARMA-cell
paper) runs the ARMA cell with 2-D convolutions over image series; the frame-forecasting task
(:mod:`seqestim.estimators.frames`) turns series of frames into training windows. As in the
paper's benchmarks, a sigmoid head (frames in ``[0, 1]``) is trained with binary cross-entropy;
a linear head with mean squared error.

Reference: P. Schiele, C. Berninger, D. Rügamer. "ARMA Cell: A Modular and Effective Approach
for Neural Autoregressive Modeling." arXiv:2208.14919 (2022).
"""

from __future__ import annotations

import numpy as np
from torch import nn

from seqestim.estimators.frames import FrameForecaster
from seqestim.nn._params import param
from seqestim.nn.conv_arma import ConvARMANet, ConvARMAParams

__all__ = ["ConvARMAForecaster"]


class ConvARMAForecaster(ConvARMAParams, FrameForecaster):
    """Forecast the next frames of image series with ConvARMA.

    Examples
    --------
    >>> from seqestim import ConvARMAForecaster
    >>> from seqestim.datasets import make_moving_squares
    >>> videos = make_moving_squares(8, 12, image_size=10, square_size=3, random_state=0)
    >>> videos.shape  # (n_series, T, C, H, W)
    (8, 12, 1, 10, 10)
    >>> forecaster = ConvARMAForecaster(
    ...     units=4, data_format="channels_first", max_epochs=2, random_state=0
    ... ).fit(videos[:, :10])
    >>> forecaster.predict(fh=2).shape
    (8, 2, 1, 10, 10)
    """

    _backbone = ConvARMANet
    p: int = param(2)
    q: int = param(1)
    kernel_size: int = param(5)
    max_epochs: int = param(30)
    lr: float = param(0.01)
    batch_size: int = param(16)

    def _criterion(self):
        return nn.BCELoss if self.output_activation == "sigmoid" else nn.MSELoss

    def _check_frames(self, array: np.ndarray) -> None:
        if self.output_activation == "sigmoid" and (array.min() < 0 or array.max() > 1):
            raise ValueError(
                'output_activation="sigmoid" forecasts frames in [0, 1], but y has values in '
                f'[{array.min():g}, {array.max():g}]; rescale y or use output_activation="linear".'
            )
