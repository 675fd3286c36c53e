"""UCR/UEA time-series classification (and TSER regression) sets shipped inside sktime.

sktime installs a handful of archive datasets next to its code (``sktime/datasets/data``):
GunPoint, ItalyPowerDemand, ArrowHead, OSULeaf, ACSF1 (univariate), BasicMotions (6 channels),
JapaneseVowels (12 channels, unequal lengths), PLAID (unequal lengths), the regression sets
Tecator and Covid3Month, and a few more. :func:`load_ucr` reads them through
``sktime.datasets.load_UCR_UEA_dataset`` and returns them in seqestim's layout: channels-first
``(n, C, T)`` float arrays, or a list of ``(C, T_i)`` arrays for unequal-length sets. Nothing
is downloaded: a name that is not on disk is refused with the list of those that are.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import warnings

import numpy as np
from sklearn.utils import Bunch

__all__ = ["list_ucr_datasets", "load_ucr"]

_SPLITS = (None, "train", "test")


def _data_dir() -> str:
    # located without importing sktime (seconds of imports) so that listing stays cheap
    spec = importlib.util.find_spec("sktime")
    if spec is None or spec.origin is None:
        raise ImportError("load_ucr needs sktime, which ships the datasets: pip install sktime")
    return os.path.join(os.path.dirname(spec.origin), "datasets", "data")


def _read_header(path: str) -> dict[str, str]:
    """The ``@key value`` lines of a ``.ts`` file, keys lower-cased, up to ``@data``."""
    header = {}
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            line = line.strip()
            if not line.startswith("@"):
                continue
            key, _, value = line[1:].partition(" ")
            key = key.lower()
            if key == "data":
                break
            header[key] = value.strip()
    return header


@functools.lru_cache(maxsize=1)
def _catalog() -> dict[str, dict]:
    """Shipped ``.ts`` datasets with a train and a test split: name -> header facts."""
    root = _data_dir()
    catalog = {}
    for name in sorted(os.listdir(root)):
        train = os.path.join(root, name, f"{name}_TRAIN.ts")
        test = os.path.join(root, name, f"{name}_TEST.ts")
        if not (os.path.isfile(train) and os.path.isfile(test)):
            continue
        header = _read_header(train)
        if header.get("classlabel", "").lower().startswith("true"):
            task = "classification"
        elif header.get("targetlabel", "").lower().startswith("true"):
            task = "regression"
        else:
            continue  # neither labelled nor a target: not a supervised archive set
        catalog[name] = {
            "task": task,
            "equal_length": header.get("equallength", "true").lower() != "false",
            "univariate": header.get("univariate", "true").lower() != "false",
        }
    return catalog


def list_ucr_datasets(task: str | None = None) -> list[str]:
    """Names of the UCR/UEA (and TSER) datasets shipped with the installed sktime.

    Parameters
    ----------
    task : {"classification", "regression"}, optional
        Keep only the datasets of this task.

    Returns
    -------
    names : list of str
        Sorted names that :func:`load_ucr` accepts, e.g. ``"GunPoint"``.
    """
    if task not in (None, "classification", "regression"):
        raise ValueError(f"task must be None, 'classification' or 'regression'; got {task!r}.")
    return [n for n, facts in _catalog().items() if task is None or facts["task"] == task]


def _resolve_name(name: str) -> str:
    catalog = _catalog()
    if not isinstance(name, str):
        raise TypeError(f"Dataset name must be a string; got {name!r}.")
    if name in catalog:
        return name
    by_lower = {n.lower(): n for n in catalog}
    if name.lower() in by_lower:
        return by_lower[name.lower()]
    raise ValueError(
        f"Unknown or not shipped UCR/UEA dataset {name!r}. Datasets available offline: "
        f"{', '.join(catalog)}. (seqestim never downloads data.)"
    )


def _nested_to_ragged(X) -> list[np.ndarray]:
    """Convert an sktime ``nested_univ`` DataFrame to a list of ``(C, T_i)`` float arrays."""
    return [
        np.stack([np.asarray(cell, dtype=np.float64) for cell in row])
        for row in X.itertuples(index=False)
    ]


def load_ucr(name, split=None, return_X_y=True, return_type="numpy3D"):
    """Load a UCR/UEA dataset that ships with sktime, offline.

    Parameters
    ----------
    name : str
        Dataset name, e.g. ``"GunPoint"``, ``"BasicMotions"`` (case-insensitive); see
        :func:`list_ucr_datasets`.
    split : {None, "train", "test"}, default=None
        The archive's train or test split; None concatenates train then test.
    return_X_y : bool, default=True
        Return ``(X, y)``; otherwise a :class:`sklearn.utils.Bunch`.
    return_type : str, default="numpy3D"
        ``"numpy3D"``: a float64 array ``(n, C, T)`` (channels first), or for unequal-length
        datasets a list of ``(C, T_i)`` float64 arrays. Any other value is an sktime panel
        mtype (``"pd-multiindex"``, ``"nested_univ"``, ...) passed through to sktime.

    Returns
    -------
    (X, y) : tuple
        When ``return_X_y`` is True. ``y`` holds string class labels for classification sets
        and floats for regression sets.
    data : sklearn.utils.Bunch
        When ``return_X_y`` is False, with ``data``, ``target``, ``name``, ``split``, ``task``
        (``"classification"`` or ``"regression"``), ``n_channels``, ``equal_length`` and
        ``classes`` (sorted labels, or None for regression).

    Raises
    ------
    ValueError
        For a name that is not shipped (the message lists those that are) or a bad ``split``.

    Examples
    --------
    >>> from seqestim.datasets.ucr import load_ucr
    >>> X, y = load_ucr("GunPoint", split="train")
    >>> X.shape
    (50, 1, 150)
    >>> X, y = load_ucr("JapaneseVowels", split="test")  # unequal lengths
    >>> type(X).__name__, X[0].shape[0]
    ('list', 12)
    """
    name = _resolve_name(name)
    if split not in _SPLITS:
        raise ValueError(f"split must be None, 'train' or 'test'; got {split!r}.")
    facts = _catalog()[name]
    from sktime.datasets import load_UCR_UEA_dataset

    numpy_out = return_type == "numpy3D"
    sktime_type = (
        ("numpy3D" if facts["equal_length"] else "nested_univ") if numpy_out else return_type
    )
    y_dtype = "str" if facts["task"] == "classification" else "float"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sktime's deprecation chatter about loaders
        X, y = load_UCR_UEA_dataset(
            name,
            split=None if split is None else split.upper(),
            return_X_y=True,
            return_type=sktime_type,
            extract_path=_data_dir(),
            y_dtype=y_dtype,
        )
    if numpy_out:
        X = np.asarray(X, dtype=np.float64) if facts["equal_length"] else _nested_to_ragged(X)
    y = np.asarray(y, dtype=str if y_dtype == "str" else np.float64)
    if return_X_y:
        return X, y
    first = X[0] if isinstance(X, list) or numpy_out else None
    n_channels = first.shape[0] if first is not None else X.shape[1]
    return Bunch(
        data=X,
        target=y,
        name=name,
        split=split,
        task=facts["task"],
        n_channels=int(n_channels),
        equal_length=facts["equal_length"],
        classes=np.unique(y) if facts["task"] == "classification" else None,
    )
