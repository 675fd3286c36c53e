"""Save and load fitted estimators as JSON + safetensors, without pickle.

A saved estimator is a directory::

    path/
      estimator.json      # class name, parameters, fitted attributes, training history
      model.safetensors   # the network's state_dict (tensors only)

:func:`load` rebuilds only classes on seqestim's own allow-list (the named estimators, see
:func:`seqestim.estimators.named_estimators`), builds their network from the fitted attributes
as ``fit`` does, and reads tensors with safetensors, so loading a file can never run code.
Weights saved from a GPU load on the CPU. ``pickle``/``joblib`` keep working too, for sklearn's
and joblib's own needs.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import shutil
import tempfile
import warnings

import numpy as np
import pandas as pd
import torch
from safetensors.torch import load_file, save_file

from seqestim._version import __version__
from seqestim.estimators._catalogue import named_estimators
from seqestim.estimators._series import _SeriesMeta
from seqestim.estimators._tokens import Vocabulary
from seqestim.estimators._training import build_net

__all__ = ["load", "save"]

FORMAT = "seqestim-estimator"
FORMAT_VERSION = 1
_CONFIG = "estimator.json"
_WEIGHTS = "model.safetensors"


# plain-data classes that may appear in fitted state (decoded by name, never by import path)
_DATACLASSES = {"_SeriesMeta": _SeriesMeta, "Vocabulary": Vocabulary}


def _allow_list() -> dict[str, type]:
    return {cls.__name__: cls for cls in named_estimators()}


def _encode(value, what: str):
    """JSON-safe form of a parameter or fitted attribute; raises for anything else."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Index):
        return _encode_index(value, what)
    if isinstance(value, pd.Period):
        return {"__period__": str(value), "freq": value.freqstr}
    if isinstance(value, pd.Timestamp):
        return {"__timestamp__": value.isoformat()}
    if dataclasses.is_dataclass(value) and _DATACLASSES.get(type(value).__name__) is type(value):
        fields = {
            f.name: _encode(getattr(value, f.name), f"{what}.{f.name}")
            for f in dataclasses.fields(value)
        }
        return {"__dataclass__": type(value).__name__, "fields": fields}
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            items = [_encode(v, what) for v in value.tolist()]
            return {"__ndarray__": items, "dtype": "object", "shape": list(value.shape)}
        return {"__ndarray__": value.tolist(), "dtype": value.dtype.str, "shape": list(value.shape)}
    if isinstance(value, list | tuple):
        return [_encode(v, what) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v, what) for k, v in value.items()}
    if isinstance(value, type) and issubclass(value, torch.optim.Optimizer):
        if getattr(torch.optim, value.__name__, None) is not value:
            raise ValueError(f"Only torch.optim optimizers can be saved; {what} is {value!r}.")
        return {"__optimizer__": value.__name__}
    raise ValueError(
        f"{what} = {value!r} cannot be saved as JSON; use pickle/joblib for this estimator."
    )


def _encode_index(index: pd.Index, what: str) -> dict:
    if isinstance(index, pd.PeriodIndex):
        return {"__index__": "period", "values": index.astype(str).tolist(), "freq": index.freqstr}
    if isinstance(index, pd.DatetimeIndex):
        freq = index.freqstr if index.freq is not None else None
        return {"__index__": "datetime", "values": [t.isoformat() for t in index], "freq": freq}
    return {"__index__": "plain", "values": _encode(np.asarray(index), what), "name": index.name}


def _decode_index(value: dict) -> pd.Index:
    if value["__index__"] == "period":
        return pd.PeriodIndex(value["values"], freq=value["freq"])
    if value["__index__"] == "datetime":
        return pd.DatetimeIndex(value["values"], freq=value["freq"])
    return pd.Index(_decode(value["values"]), name=value["name"])


def _decode(value):
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        if "__index__" in value:
            return _decode_index(value)
        if "__period__" in value:
            return pd.Period(value["__period__"], freq=value["freq"])
        if "__timestamp__" in value:
            return pd.Timestamp(value["__timestamp__"])
        if "__dataclass__" in value:
            cls = _DATACLASSES.get(value["__dataclass__"])
            if cls is None:
                raise ValueError(f"Unknown saved object {value['__dataclass__']!r}.")
            obj = cls.__new__(cls)
            obj.__dict__.update({k: _decode(v) for k, v in value["fields"].items()})
            return obj
        if "__ndarray__" in value:
            dtype = value["dtype"]
            if dtype == "object":
                array = np.empty(len(value["__ndarray__"]), dtype=object)
                array[:] = [_decode(v) for v in value["__ndarray__"]]
                return array.reshape(value["shape"])
            return np.array(value["__ndarray__"], dtype=np.dtype(dtype)).reshape(value["shape"])
        if "__optimizer__" in value:
            optimizer = getattr(torch.optim, value["__optimizer__"], None)
            if not (isinstance(optimizer, type) and issubclass(optimizer, torch.optim.Optimizer)):
                raise ValueError(f"Unknown optimizer {value['__optimizer__']!r} in saved file.")
            return optimizer
        return {k: _decode(v) for k, v in value.items()}
    return value


def save(estimator, path, *, overwrite: bool = False) -> pathlib.Path:
    """Save a fitted neural estimator to the directory ``path``.

    Parameters
    ----------
    estimator : seqestim estimator
        A fitted estimator from :mod:`seqestim.estimators`.
    path : str or path-like
        Directory to create.
    overwrite : bool, default=False
        Replace what a previous :func:`save` wrote at ``path``. Any other existing file or
        directory is never replaced.

    Returns
    -------
    path : pathlib.Path
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator)
    name = type(estimator).__name__
    if _allow_list().get(name) is not type(estimator):
        raise TypeError(f"{name} is not a seqestim estimator that can be saved.")
    path = pathlib.Path(path)
    if path.exists():
        is_ours = path.is_dir() and (path / _CONFIG).is_file()
        if not (overwrite and is_ours):
            raise FileExistsError(
                f"{path} exists; pass overwrite=True to replace a saved estimator."
                if is_ours
                else f"{path} exists and is not a saved seqestim estimator; refusing to touch it."
            )

    params = estimator.get_params(deep=False)
    if params.get("callbacks"):
        warnings.warn(
            "callbacks are training-time objects and are not saved; the loaded estimator has "
            "callbacks=None (predictions are unaffected).",
            UserWarning,
            stacklevel=2,
        )
        params["callbacks"] = None
    if params.get("random_state") is not None and not isinstance(params["random_state"], int):
        raise ValueError("random_state must be an int or None to save; use pickle otherwise.")
    # fitted state = everything fit set: all attributes that are not constructor parameters
    fitted = {
        key: _encode(value, key)
        for key, value in vars(estimator).items()
        if key not in params and key != "net_"
    }
    module = estimator.module_
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "class": name,
        "seqestim_version": __version__,
        "torch_version": torch.__version__,
        "params": {k: _encode(v, k) for k, v in params.items()},
        "fitted": fitted,
        "history": json.loads(json.dumps(list(estimator.history_), default=float)),
    }
    state = {k: v.detach().cpu().contiguous().clone() for k, v in module.state_dict().items()}

    # write into a fresh temporary directory first so a failure leaves nothing half-written
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = pathlib.Path(tempfile.mkdtemp(prefix=".seqestim-", dir=path.parent))
    try:
        (staging / _CONFIG).write_text(json.dumps(config, indent=2))
        save_file(state, str(staging / _WEIGHTS), metadata={"format": FORMAT})
        if path.exists():
            shutil.rmtree(path)
        staging.rename(path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return path


def load(path, *, device: str | None = None):
    """Load an estimator written by :func:`save` (or ``estimator.save``).

    Parameters
    ----------
    path : str or path-like
        The directory given to :func:`save`.
    device : str, optional
        Device to load onto (``"cpu"``, ``"cuda"``...). By default the saved ``device``
        parameter, or ``"cpu"`` when it names a CUDA device that is not available.

    Returns
    -------
    estimator : seqestim estimator
        Fitted, with identical predictions to the saved one.

    Raises
    ------
    ValueError
        If the file is not a seqestim estimator or names a class outside the allow-list.
    """
    from skorch.history import History

    path = pathlib.Path(path)
    config = json.loads((path / _CONFIG).read_text())
    if config.get("format") != FORMAT:
        raise ValueError(f"{path} does not hold a saved seqestim estimator.")
    if config.get("format_version", 0) > FORMAT_VERSION:
        raise ValueError(
            f"{path} was written by a newer seqestim (format {config['format_version']})."
        )
    allowed = _allow_list()
    name = config.get("class")
    if name not in allowed:
        raise ValueError(
            f"Refusing to load class {name!r}: it is not on seqestim's allow-list of estimators."
        )
    cls = allowed[name]
    params = {k: _decode(v) for k, v in config["params"].items()}
    unknown = set(params) - set(cls().get_params(deep=False))
    if unknown:
        raise ValueError(f"Saved parameters {sorted(unknown)} are not parameters of {name}.")
    if device is not None:
        params["device"] = device
    elif str(params.get("device", "cpu")).startswith("cuda") and not torch.cuda.is_available():
        params["device"] = "cpu"
    estimator = cls(**params)
    for key, value in config["fitted"].items():
        setattr(estimator, key, _decode(value))

    # the task builds the network from the fitted attributes, as in fit
    net = build_net(estimator, estimator._build_module(), estimator._criterion(), seed=0)
    net.initialize()
    state = load_file(str(path / _WEIGHTS), device="cpu")
    net.module_.load_state_dict(state, strict=True)
    net.module_.to(net.device)
    net.history_ = History(config["history"])
    estimator.net_ = net
    return estimator
