"""Turn what users pass as ``X`` into one padded batch-first float array plus lengths.

Accepted layouts (ARCHITECTURE.md, "Inputs"):

========================  ==============================================  ===================
layout                    example                                         ``n_features_in_``
========================  ==============================================  ===================
``"tabular"``             2D array ``(n, T)`` or wide DataFrame            ``T``
``"sequence"``            3D array ``(n, C, T)`` (channels first)          ``C``
``"sequence"``            list of ``(C, T_i)`` or ``(T_i,)`` arrays         ``C``
``"sequence"``            sktime ``pd-multiindex`` / ``nested_univ``        ``C``
========================  ==============================================  ===================

A 2D array is ``n`` univariate sequences of one fixed length; sklearn's conventions hold for it
(its column count is ``n_features_in_`` and must match at predict time), which keeps sklearn's
common checks meaningful. Every other layout is a panel of ``C``-channel sequences whose
lengths may differ; ragged panels are right-padded with zeros and their lengths returned, so the
networks can mask the padding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_array, validate_data

__all__ = ["Panel", "check_panel"]


@dataclass
class Panel:
    """A validated batch of sequences.

    Attributes
    ----------
    values : ndarray of shape (n, T_max, C), float32
        Batch-first, right-padded with zeros.
    lengths : ndarray of shape (n,), int64
        Real steps per sequence.
    layout : {"tabular", "sequence"}
        How the user passed the data (see the module docstring).
    """

    values: np.ndarray
    lengths: np.ndarray
    layout: str

    @property
    def n_channels(self) -> int:
        """Number of channels ``C``."""
        return self.values.shape[2]

    def as_net_input(self) -> dict[str, np.ndarray]:
        """The dict that skorch hands to ``SequenceNet.forward(x, lengths)``."""
        return {"x": self.values, "lengths": self.lengths}


def _is_multiindex_panel(X) -> bool:
    return isinstance(X, pd.DataFrame) and isinstance(X.index, pd.MultiIndex)


def _is_nested_univ(X) -> bool:
    return (
        isinstance(X, pd.DataFrame)
        and not _is_multiindex_panel(X)
        and X.shape[0] > 0
        and X.shape[1] > 0
        and all(dtype == np.dtype(object) for dtype in X.dtypes)
        and isinstance(X.iloc[0, 0], pd.Series | np.ndarray)
    )


def _as_float_sequence(sequence, position: int) -> np.ndarray:
    """One ragged element as ``(T_i, C)`` float32, with errors that name its position."""
    if hasattr(sequence, "toarray") or hasattr(sequence, "tocsr"):
        raise TypeError("Sparse matrices are not supported; pass dense arrays.")
    try:
        array = np.asarray(sequence, dtype=np.float32)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"Sequence {position} of X is not numeric ({error}); sequences must hold numbers."
        ) from None
    if array.ndim == 1:
        array = array[:, None]  # (T_i,) -> (T_i, 1)
    elif array.ndim == 2:
        array = array.T  # (C, T_i) -> (T_i, C)
    else:
        raise ValueError(
            f"Sequence {position} of X has {array.ndim} dimensions; each sequence must be "
            "(T_i,) or (C, T_i)."
        )
    if array.shape[0] == 0:
        raise ValueError(f"Sequence {position} of X has length 0; every sequence needs a step.")
    if not np.isfinite(array).all():
        raise ValueError(f"Sequence {position} of X contains NaN or infinity.")
    return array


def _pad(sequences: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Stack ``(T_i, C)`` arrays into ``(n, T_max, C)`` with zero right-padding."""
    channels = {s.shape[1] for s in sequences}
    if len(channels) > 1:
        raise ValueError(f"All sequences must have the same number of channels; got {channels}.")
    lengths = np.array([s.shape[0] for s in sequences], dtype=np.int64)
    values = np.zeros((len(sequences), lengths.max(), channels.pop()), dtype=np.float32)
    for row, sequence in enumerate(sequences):
        values[row, : sequence.shape[0]] = sequence
    return values, lengths


def _ragged_from_pandas(X: pd.DataFrame) -> list:
    if _is_multiindex_panel(X):
        if X.index.nlevels != 2:
            raise ValueError(
                "A pd-multiindex panel needs exactly two index levels (instance, time)."
            )
        # (T_i, C) blocks in instance order, as (C, T_i) for _as_float_sequence
        return [block.to_numpy().T for _, block in X.groupby(level=0, sort=False)]
    rows = []
    for _, row in X.iterrows():  # nested_univ: one pd.Series per cell
        cells = [np.asarray(cell, dtype=np.float32) for cell in row]
        if len({len(cell) for cell in cells}) > 1:
            raise ValueError(
                "In a nested_univ DataFrame the channels of a row must share a length."
            )
        rows.append(np.stack(cells))  # (C, T_i)
    return rows


def check_panel(estimator, X, *, reset: bool) -> Panel:
    """Validate ``X`` for ``estimator`` and convert it to a :class:`Panel`.

    With ``reset=True`` (in ``fit``) this records ``n_features_in_`` (and ``feature_names_in_``
    for DataFrames), ``n_channels_`` and ``input_layout_`` on the estimator. With
    ``reset=False`` it checks ``X`` against them.

    Raises
    ------
    TypeError
        For sparse or non-numeric input.
    ValueError
        For NaN/inf, empty input, zero-length sequences, wrong dimensions or a channel count that
        differs from the one seen in ``fit``.
    """
    if X is None:
        raise ValueError("X is None; expected an array of sequences.")
    if _is_multiindex_panel(X) or _is_nested_univ(X):
        sequences = _ragged_from_pandas(X)
    elif isinstance(X, list | tuple) and len(X) > 0 and not _is_rectangular(X):
        sequences = list(X)
    else:
        sequences = None

    if sequences is not None:
        if len(sequences) == 0:
            raise ValueError("X is empty; at least one sequence is needed.")
        values, lengths = _pad([_as_float_sequence(s, i) for i, s in enumerate(sequences)])
        panel = Panel(values, lengths, "sequence")
        if reset:
            _forget_feature_names(estimator)
            estimator.n_features_in_ = panel.n_channels
    else:
        panel = _check_array_input(estimator, X, reset=reset)

    if reset:
        estimator.n_channels_ = panel.n_channels
        estimator.input_layout_ = panel.layout
    elif panel.n_channels != estimator.n_channels_:
        raise ValueError(
            f"X has {panel.n_channels} channel(s), but {type(estimator).__name__} was fitted "
            f"with {estimator.n_channels_}."
        )
    return panel


def _is_rectangular(X) -> bool:
    """Whether a list of sequences stacks into a regular array (same shape everywhere)."""
    try:
        shapes = {np.shape(item) for item in X}
    except ValueError:
        return False
    return len(shapes) == 1


def _forget_feature_names(estimator) -> None:
    if hasattr(estimator, "feature_names_in_"):
        del estimator.feature_names_in_


def _check_array_input(estimator, X, *, reset: bool) -> Panel:
    ndim = getattr(X, "ndim", None)
    if ndim is None:
        ndim = np.ndim(X) if isinstance(X, list | tuple) else 2
    tabular_fit = not reset and estimator.input_layout_ == "tabular"
    if reset or (ndim == 2 and tabular_fit):
        # sklearn's own validation: dtype, NaN/inf, sparse, empty, n_features_in_, feature names
        array = validate_data(
            estimator, X, reset=reset, allow_nd=True, dtype=np.float32, ensure_min_features=1
        )
    else:
        # panels are checked by channel count in check_panel; 2D input for a model fitted on
        # panels is univariate sequences of any length
        array = check_array(X, allow_nd=True, dtype=np.float32, ensure_min_features=1)
    same_layout = reset or (array.ndim == 2) == tabular_fit
    if array.ndim == 2:
        if not same_layout and estimator.n_channels_ != 1:
            raise ValueError(
                f"X is 2D (univariate sequences), but {type(estimator).__name__} was fitted on "
                f"{estimator.n_channels_} channels; pass a 3D array (n, C, T)."
            )
        values, layout = array[:, :, None], "tabular"  # (n, T) -> (n, T, 1)
    elif array.ndim == 3:
        if array.shape[2] == 0:
            raise ValueError("X has sequences of length 0; every sequence needs a step.")
        values, layout = np.ascontiguousarray(array.transpose(0, 2, 1)), "sequence"  # (n, T, C)
    else:
        raise ValueError(
            f"X has {array.ndim} dimensions; expected 2D (n, T) or 3D (n, C, T) arrays, "
            "a list of sequences or an sktime panel DataFrame."
        )
    lengths = np.full(values.shape[0], values.shape[1], dtype=np.int64)
    return Panel(values, lengths, layout)
