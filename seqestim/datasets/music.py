"""Bach chorales as piano rolls, from the corpus that music21 ships (no download).

The polyphonic-music experiments of Chung et al. (2014) use the JSB Chorales piano rolls of
Boulanger-Lewandowski et al. (2012), which are a download. :func:`load_bach_chorales` builds a
JSB-like set from the 371 four-part chorales in music21's own corpus instead: every chorale
sampled at the start of every quarter note (one frame per beat, as JSB), 88 binary pitches
(MIDI 21 = A0 to 108 = C8), and a fixed split by piece. It is **not** JSB's exact data or
split (JSB has 229/76/77 chorales): numbers obtained on it are not comparable with published
JSB tables.

Parsing the corpus takes a few minutes once; the piano rolls are then cached as a ``.npz`` file
in ``data_home`` (``$SEQESTIM_DATA`` or ``~/seqestim_data``).
"""

from __future__ import annotations

import os
import pathlib
import zlib

import numpy as np

__all__ = ["load_bach_chorales"]

#: MIDI numbers of the 88 piano keys, the rows of every piano roll.
PITCHES = np.arange(21, 109)
_SPLITS = ("train", "valid", "test")


def _data_home(data_home) -> pathlib.Path:
    if data_home is None:
        data_home = os.environ.get("SEQESTIM_DATA", pathlib.Path.home() / "seqestim_data")
    path = pathlib.Path(data_home).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _split_of(name: str) -> str:
    """Fixed split by piece: 60 % train, 20 % valid, 20 % test, from a hash of the name."""
    bucket = zlib.crc32(name.encode()) % 10
    return "train" if bucket < 6 else "valid" if bucket < 8 else "test"


def _piano_roll(score, step: float) -> np.ndarray:
    """``(88, T)`` binary roll: pitch ``p`` sounds at the start of frame ``t`` (time ``t·step``)."""
    notes = []
    end = 0.0
    for element in score.flatten().notes:
        start = float(element.offset)
        length = float(element.duration.quarterLength)
        if length <= 0:  # grace notes take no time
            continue
        for pitch in element.pitches:
            notes.append((start, start + length, int(pitch.midi)))
        end = max(end, start + length)
    n_frames = int(np.ceil(end / step - 1e-9))
    roll = np.zeros((len(PITCHES), n_frames), dtype=np.float32)
    frame_times = np.arange(n_frames) * step
    for start, stop, midi in notes:
        if not PITCHES[0] <= midi <= PITCHES[-1]:
            continue
        sounding = (frame_times >= start - 1e-9) & (frame_times < stop - 1e-9)
        roll[midi - PITCHES[0], sounding] = 1.0
    return roll


def _corpus_names() -> list[str]:
    from music21 import corpus

    names = corpus.chorales.Iterator(returnType="filename")
    return sorted(set(names))


def load_bach_chorales(*, step: float = 1.0, n_pieces: int | None = None, data_home=None):
    """Load the Bach chorales of music21's corpus as 88-key piano rolls, split by piece.

    Parameters
    ----------
    step : float, default=1.0
        Frame length in quarter notes (1.0: one frame per beat, as JSB Chorales; 0.5: eighths).
    n_pieces : int, optional
        Only the first ``n_pieces`` chorales in name order (for quick experiments); every piece
        keeps its split.
    data_home : str or path-like, optional
        Where the parsed piano rolls are cached; ``$SEQESTIM_DATA`` or ``~/seqestim_data`` by
        default.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``train``, ``valid``, ``test``: lists of ``(88, T_i)`` float32 arrays of 0 and 1 (pitches
        first, like the estimators' panels); ``pieces``: the corpus names of each split's
        chorales, in the same order; ``pitches``: the MIDI number of each row; ``step``.

    Examples
    --------
    >>> from seqestim.datasets import load_bach_chorales
    >>> chorales = load_bach_chorales(n_pieces=3)  # doctest: +SKIP
    >>> chorales.train[0].shape  # doctest: +SKIP
    (88, 51)
    """
    from sklearn.utils import Bunch

    try:
        import music21
    except ImportError:  # pragma: no cover - music21 is a test dependency
        raise ImportError(
            "load_bach_chorales needs music21: pip install 'seqestim[music]'."
        ) from None
    if not (isinstance(step, int | float) and 0 < step <= 4):
        raise ValueError(f"step must be a number of quarter notes in (0, 4]; got {step!r}.")
    names = _corpus_names()
    if n_pieces is not None:
        if isinstance(n_pieces, bool) or not isinstance(n_pieces, int) or n_pieces < 1:
            raise ValueError(f"n_pieces must be a positive integer; got {n_pieces!r}.")
        names = names[:n_pieces]
    cache = _data_home(data_home) / f"bach_chorales_step{step:g}_music21-{music21.__version__}.npz"
    rolls = _read_cache(cache)
    missing = [name for name in names if name not in rolls]
    if missing:
        from music21 import corpus

        for name in missing:
            rolls[name] = _piano_roll(corpus.parse(name), float(step))
        _write_cache(cache, rolls)
    data = Bunch(pieces={}, pitches=PITCHES.copy(), step=float(step))
    for split in _SPLITS:
        data.pieces[split] = [name for name in names if _split_of(name) == split]
        data[split] = [rolls[name].copy() for name in data.pieces[split]]
    return data


def _read_cache(path: pathlib.Path) -> dict:
    if not path.exists():
        return {}
    with np.load(path, allow_pickle=False) as archive:
        names = archive["names"].tolist()
        bounds = archive["bounds"]
        frames = archive["frames"]  # (88, total T) for all pieces, concatenated
    return {
        name: frames[:, bounds[i] : bounds[i + 1]].astype(np.float32)
        for i, name in enumerate(names)
    }


def _write_cache(path: pathlib.Path, rolls: dict) -> None:
    names = sorted(rolls)
    lengths = [rolls[name].shape[1] for name in names]
    bounds = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    frames = np.concatenate([rolls[name] for name in names], axis=1).astype(np.uint8)
    temporary = path.with_name(path.name + f".{os.getpid()}.tmp.npz")
    np.savez_compressed(temporary, names=np.asarray(names), bounds=bounds, frames=frames)
    os.replace(temporary, path)
