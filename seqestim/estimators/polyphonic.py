"""The polyphonic-music task: sequences of binary frames, the next frame predicted pitch by pitch.

A piano roll is a sequence of frames ``x_1 .. x_T``, each a vector of ``P`` binary pitches (88
piano keys for :func:`seqestim.datasets.load_bach_chorales`). The model reads the frames before
``t`` and outputs one logit per pitch for frame ``t``; the pitches of a frame are independent
Bernoulli variables given that output (Boulanger-Lewandowski et al. 2012; Chung et al. 2014,
whose music experiments this task reproduces). The first frame is predicted from a silent
frame, so every frame of a sequence is scored.

The loss and the score are the negative log-likelihood **per frame**, summed over the pitches
and averaged over all real frames of all sequences (in nats):

    NLL = - (1 / Σ_i T_i) Σ_i Σ_t Σ_p [x_itp log σ(o_itp) + (1 - x_itp) log(1 - σ(o_itp))]

``score(X)`` is ``-NLL`` (higher is better), ``nll(X)`` is ``NLL``; ``predict_proba(X)`` gives
the probability of every pitch of every frame given the frames before it.

Any causal float backbone serves the task; the named estimators are the tanh RNN, GRU and LSTM
of Chung et al. (``RNNPolyphonicModel``, ``GRUPolyphonicModel``, ``LSTMPolyphonicModel``).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.utils.validation import check_is_fitted
from torch import nn

from seqestim.estimators._base import SequenceEstimator, transactional
from seqestim.estimators._data import check_panel
from seqestim.estimators._training import TrainingParams
from seqestim.nn.heads import SequenceNet
from seqestim.registry import get_spec

__all__ = ["FrameNLLLoss", "PolyphonicModel", "frame_nll"]


class FrameNLLLoss(nn.Module):
    """Bernoulli negative log-likelihood summed over pitches, mean over the real frames.

    ``logits`` and ``target`` are ``(B, L, P)``; padded frames have NaN targets and do not count.
    """

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Mean over real frames of ``Σ_p BCE(logit, target)``."""
        real = ~torch.isnan(target[..., 0])  # (B, L)
        per_pitch = F.binary_cross_entropy_with_logits(
            logits, torch.nan_to_num(target), reduction="none"
        )  # (B, L, P)
        per_frame = per_pitch.sum(dim=-1) * real  # (B, L)
        return per_frame.sum() / real.sum().clamp(min=1)


def frame_nll(proba: np.ndarray, frames: np.ndarray) -> float:
    """Mean negative log-likelihood per frame of binary ``frames`` under pitch probabilities.

    Parameters
    ----------
    proba : ndarray of shape (n_frames, P)
        Probability of every pitch being on, in ``(0, 1)``.
    frames : ndarray of shape (n_frames, P)
        The frames, 0 or 1.

    Returns
    -------
    nll : float
        ``-mean_t Σ_p [x log p + (1 - x) log(1 - p)]``, in nats.
    """
    proba = np.asarray(proba, dtype=np.float64)
    frames = np.asarray(frames, dtype=np.float64)
    log_likelihood = frames * np.log(proba) + (1 - frames) * np.log1p(-proba)
    return float(-log_likelihood.sum(axis=1).mean())


class PolyphonicModel(TrainingParams, SequenceEstimator):
    """Polyphonic-music task: predicts every binary frame of a piano roll from the ones before.

    See the module docstring of :mod:`seqestim.estimators.polyphonic`. ``X`` is a list of
    ``(P, T_i)`` arrays of 0 and 1 (pitches first, like the channels of a panel) or an array
    ``(n, P, T)``.

    Attributes
    ----------
    n_pitches_ : int
        Number of pitches ``P`` of every frame.
    n_features_in_ : int
        The same as ``n_pitches_`` for panels.
    feature_names_in_ : ndarray of str
        Column names of a wide DataFrame ``X``, if given.
    n_channels_ : int
        The same as ``n_pitches_``.
    input_layout_ : str
        How ``X`` was given ("sequence" for panels).
    """

    _task = "polyphonic"
    _fitted_attributes = (
        "n_pitches_",
        "n_features_in_",
        "feature_names_in_",
        "n_channels_",
        "input_layout_",
    )

    def _criterion(self):
        return FrameNLLLoss

    def _build_module(self) -> torch.nn.Module:
        backbone = self._make_backbone(self.n_pitches_)
        causal = getattr(backbone, "causal", get_spec(self._backbone).causal)
        if not causal or getattr(backbone, "bidirectional", False):
            raise ValueError(
                f"{type(self).__name__} needs a causal backbone (frame t may only depend on "
                "the frames before it); these parameters make it non-causal."
            )
        return SequenceNet(backbone, self.n_pitches_, pooling=None)

    def _encode(self, X, *, reset: bool):
        """Network inputs (the frames shifted by one, a silent frame first) and targets."""
        if not reset:
            check_is_fitted(self, "net_")
        panel = check_panel(self, X, reset=reset)
        values, lengths = panel.values, panel.lengths  # (n, T, P)
        real = np.arange(values.shape[1])[None] < lengths[:, None]  # (n, T)
        if not np.isin(values[real], (0.0, 1.0)).all():
            raise ValueError("Piano rolls must contain only 0 and 1 (a pitch is off or on).")
        if reset:
            self.n_pitches_ = panel.n_channels
        inputs = np.zeros_like(values)
        inputs[:, 1:] = values[:, :-1]  # frame t reads frames < t; frame 0 reads silence
        targets = np.where(real[..., None], values, np.nan).astype(np.float32)
        return {"x": inputs, "lengths": lengths}, targets

    @transactional
    def fit(self, X, y=None):
        """Fit the model to piano rolls.

        Parameters
        ----------
        X : list of ndarray of shape (P, T_i), or ndarray of shape (n, P, T)
            Binary frames, pitches first.
        y : None
            Ignored; present for sklearn's API.

        Returns
        -------
        self : object
            The fitted model.
        """
        inputs, targets = self._encode(X, reset=not (self.warm_start and hasattr(self, "net_")))
        self._fit_network(inputs, targets)
        return self

    def _frame_outputs(self, X):
        inputs, targets = self._encode(X, reset=False)
        logits = self._network_outputs(inputs)  # (n, T, P)
        return logits, targets, inputs["lengths"]

    def nll(self, X) -> float:
        """Mean negative log-likelihood per frame (nats), over all frames of ``X``.

        Parameters
        ----------
        X : list of ndarray of shape (P, T_i), or ndarray of shape (n, P, T)
            Binary frames, pitches first.

        Returns
        -------
        nll : float
        """
        logits, targets, _ = self._frame_outputs(X)
        real = ~np.isnan(targets[..., 0])
        x = np.nan_to_num(targets[real]).astype(np.float64)  # (n_frames, P)
        o = logits[real]
        # log σ(o) = -softplus(-o), log(1 - σ(o)) = -softplus(o)
        log_likelihood = -(x * np.logaddexp(0, -o) + (1 - x) * np.logaddexp(0, o))
        return float(-log_likelihood.sum(axis=1).mean())

    def score(self, X, y=None) -> float:
        """Minus :meth:`nll`: the mean log-likelihood per frame (higher is better).

        Parameters
        ----------
        X : list of ndarray of shape (P, T_i), or ndarray of shape (n, P, T)
            Binary frames, pitches first.
        y : None
            Ignored.

        Returns
        -------
        score : float
        """
        return -self.nll(X)

    def predict_proba(self, X):
        """Probability of every pitch of every frame, given the frames before it.

        Parameters
        ----------
        X : list of ndarray of shape (P, T_i), or ndarray of shape (n, P, T)
            Binary frames, pitches first.

        Returns
        -------
        proba : ndarray of shape (n, P, T) for equal lengths, else a list of (P, T_i) arrays
        """
        logits, _, lengths = self._frame_outputs(X)
        proba = 1.0 / (1.0 + np.exp(-logits))  # (n, T, P)
        rows = [p[:n].T for p, n in zip(proba, lengths, strict=True)]
        return np.stack(rows) if (lengths == lengths[0]).all() else rows

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        tags.input_tags.three_d_array = True
        return tags
