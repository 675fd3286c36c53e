"""Synthetic "moving squares" videos for spatio-temporal forecasting (ConvARMA).

Each video shows ``n_squares`` filled squares moving at constant integer velocity and bouncing
off the borders, on a black background — a small, fully predictable stand-in for the moving
squares / Moving MNIST data of the ARMA cell paper (Schiele et al. 2022, ConvARMA section).
The exact generator of the paper's experiments was not reproduced; this one is documented here.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["make_moving_squares"]


def make_moving_squares(
    n_samples: int = 100,
    n_frames: int = 20,
    *,
    image_size: int = 16,
    square_size: int = 4,
    n_squares: int = 1,
    max_speed: int = 2,
    random_state=None,
):
    r"""Generate videos of squares bouncing inside a frame.

    Positions evolve as ``pos_{t+1} = pos_t + v``; when a square would leave the frame its
    velocity component is reversed (a reflection at the border), so every frame follows
    deterministically from the previous two.

    Parameters
    ----------
    n_samples : int, default=100
        Number of videos.
    n_frames : int, default=20
        Frames per video.
    image_size : int, default=16
        Height and width of each frame in pixels.
    square_size : int, default=4
        Side of each square in pixels.
    n_squares : int, default=1
        Squares per video (overlaps are drawn as a union, values stay in {0, 1}).
    max_speed : int, default=2
        Velocity components are drawn from ``{-max_speed, ..., max_speed} \ {0}``.
    random_state : int, RandomState instance or None
        Seed of starting positions and velocities.

    Returns
    -------
    videos : ndarray of shape (n_samples, n_frames, 1, image_size, image_size), float32
        Values in {0, 1}; channels-first frames, as :class:`seqestim.nn.conv_arma.ConvARMA`
        expects.
    """
    if square_size < 1 or square_size >= image_size:
        raise ValueError("square_size must be in [1, image_size).")
    if max_speed < 1 or n_samples < 1 or n_frames < 1 or n_squares < 1:
        raise ValueError("n_samples, n_frames, n_squares and max_speed must be >= 1.")
    rng = check_random_state(random_state)
    limit = image_size - square_size  # largest top-left coordinate
    speeds = np.r_[np.arange(-max_speed, 0), np.arange(1, max_speed + 1)]
    position = rng.randint(0, limit + 1, size=(n_samples, n_squares, 2))
    velocity = rng.choice(speeds, size=(n_samples, n_squares, 2))
    videos = np.zeros((n_samples, n_frames, 1, image_size, image_size), dtype=np.float32)
    rows = np.arange(image_size)
    for t in range(n_frames):
        top, left = position[..., 0], position[..., 1]  # (n, s)
        in_rows = (rows >= top[..., None]) & (rows < top[..., None] + square_size)  # (n, s, H)
        in_cols = (rows >= left[..., None]) & (rows < left[..., None] + square_size)  # (n, s, W)
        frame = (in_rows[..., :, None] & in_cols[..., None, :]).any(axis=1)  # (n, H, W)
        videos[:, t, 0] = frame
        nxt = position + velocity
        bounce = (nxt < 0) | (nxt > limit)
        velocity = np.where(bounce, -velocity, velocity)
        position = np.clip(np.where(bounce, position + velocity, nxt), 0, limit)
    return videos
