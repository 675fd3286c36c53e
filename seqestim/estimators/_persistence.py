"""Save and load fitted estimators as JSON + safetensors, without pickle.

A saved estimator is a directory::

    path/
      estimator.json      # format marker, class name, parameters, fitted attributes, history,
                          # and the SHA-256 digest of the weights
      model.safetensors   # the network's state_dict (tensors only)

What :func:`save` promises:

- It never touches a file it did not write. A new directory is written completely under a
  temporary name beside ``path`` and then renamed, so it appears whole or not at all. With
  ``overwrite=True`` an existing save is replaced only after its ``estimator.json`` carries the
  seqestim format marker, and only its two files are replaced; anything else in the directory
  stays as it was. Each file is written to a temporary sibling and swapped in with an atomic
  rename, ``estimator.json`` last. If any step fails, the files replaced so far are put back,
  so the previous save is intact. A crash between the two renames leaves weights that do not
  match ``estimator.json``, which :func:`load` reports instead of loading them.
- The directory it creates is private to the user (mode 0700) and so are the files (0600),
  whatever the umask.

What :func:`load` promises: it rebuilds only classes on seqestim's own allow-list (the named
estimators, see :func:`seqestim.estimators.named_estimators`) and never runs code from the
file. Every file that is not a complete, unmodified save raises :class:`LoadError`, a
``ValueError``, with the reason:

- the files must be regular files (never symlinks, FIFOs or devices, which are refused without
  being opened) and ``estimator.json`` at most 1 GiB;
- the JSON must have the expected structure; parameters must be the class's own, and the
  fitted attributes only those the class declares (``_fitted_attributes`` over its bases, see
  ARCHITECTURE.md), set without going through descriptors, so a file cannot replace a method or
  ``__class__``;
- values are decoded into plain data only: numbers, strings, lists, dicts, numpy arrays of
  numeric, boolean or string dtype, pandas indexes, periods, timestamps and offsets, and the
  two dataclasses of fitted state below;
- the network is first built on PyTorch's ``meta`` device, which allocates nothing, and its
  tensor names, shapes and dtypes must equal those of the weights file's header (the header is
  read first; its offsets must cover the file exactly). Only then are the tensors read, and the
  file must match the SHA-256 digest recorded in ``estimator.json``. The meta network receives
  the weights directly, so its random initialisation never runs. A third-party backbone whose
  construction cannot run on the meta device is built normally and checked before its weights
  are read.

Weights saved from a GPU load on the CPU. ``pickle``/``joblib`` keep working too, for sklearn's
and joblib's own needs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import hashlib
import json
import math
import os
import pathlib
import re
import secrets
import stat
import struct
import threading
import warnings

import numpy as np
import pandas as pd
import torch
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from seqestim._version import __version__
from seqestim.estimators._catalogue import named_estimators
from seqestim.estimators._series import _SeriesMeta
from seqestim.estimators._tokens import Vocabulary
from seqestim.estimators._training import build_net
from seqestim.training.privacy import DifferentialPrivacy
from seqestim.training.target_space import TargetSpace

__all__ = ["LoadError", "declared_fitted_attributes", "load", "save"]

FORMAT = "seqestim-estimator"
FORMAT_VERSION = 1
_CONFIG = "estimator.json"
_WEIGHTS = "model.safetensors"
_MAX_CONFIG_BYTES = 1 << 30
_MAX_HEADER_BYTES = 100 << 20  # safetensors' own limit
_FILE_MODE = 0o600
_DIR_MODE = 0o700

# plain-data classes that may appear in fitted state (decoded by name, never by import path)
_DATACLASSES = {
    "_SeriesMeta": _SeriesMeta,
    "Vocabulary": Vocabulary,
    "DifferentialPrivacy": DifferentialPrivacy,
    "TargetSpace": TargetSpace,
}
# numpy dtype kinds a saved array may have: bool, signed/unsigned int, float, complex, str
_ARRAY_KINDS = "biufcU"
# safetensors dtype names -> torch dtypes
_SAFETENSORS_DTYPES = {
    "F64": torch.float64,
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I64": torch.int64,
    "I32": torch.int32,
    "I16": torch.int16,
    "I8": torch.int8,
    "U8": torch.uint8,
    "BOOL": torch.bool,
    "C64": torch.complex64,
}
_NAME = re.compile(r"^_?[A-Za-z][A-Za-z0-9_]*$")
_MAX_RANGE = 1 << 24  # entries of a saved RangeIndex (fitted state keeps a few labels)


class LoadError(ValueError):
    """A saved estimator cannot be loaded: the file is malformed, modified or unsafe.

    Raised by :func:`seqestim.load` for every file that is not a complete, unmodified save;
    the message says what is wrong. A path that does not exist raises ``FileNotFoundError``.
    """


def _allow_list() -> dict[str, type]:
    return {cls.__name__: cls for cls in named_estimators()}


def declared_fitted_attributes(cls: type) -> frozenset[str]:
    """The attributes ``fit`` of ``cls`` may set, and so the ones a saved file may restore.

    The union of ``_fitted_attributes`` and ``_network_attributes`` over the class and its
    bases; ``net_`` is rebuilt from the weights and is not part of it.
    """
    names = set()
    for base in cls.__mro__:
        names.update(base.__dict__.get("_fitted_attributes", ()))
        names.update(base.__dict__.get("_network_attributes", ()))
    return frozenset(names)


# ------------------------------------------------------------------------------------ encoding
def _encode(value, what: str):
    """JSON-safe form of a parameter or fitted attribute; raises for anything else."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, np.generic) and value.dtype.kind in "biufU":
        return value.item()
    if isinstance(value, pd.Index):
        return _encode_index(value, what)
    if isinstance(value, pd.Period):
        return {"__period__": int(value.ordinal), "freq": value.freqstr}
    if isinstance(value, pd.Timestamp):
        return {"__timestamp__": int(value.value), "unit": value.unit, "tz": _encode_tz(value.tz)}
    if isinstance(value, pd.DateOffset):
        return {"__offset__": _encode_offset(value, what)}
    if dataclasses.is_dataclass(value) and _DATACLASSES.get(type(value).__name__) is type(value):
        fields = {
            f.name: _encode(getattr(value, f.name), f"{what}.{f.name}")
            for f in dataclasses.fields(value)
        }
        return {"__dataclass__": type(value).__name__, "fields": fields}
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            items = [_encode(v, what) for v in value.ravel().tolist()]
            return {"__ndarray__": items, "dtype": "object", "shape": list(value.shape)}
        if value.dtype.kind not in _ARRAY_KINDS:
            raise ValueError(f"{what} is an array of dtype {value.dtype}, which cannot be saved.")
        if value.dtype.kind == "c":
            items = [[z.real, z.imag] for z in value.ravel().tolist()]
        else:
            items = value.ravel().tolist()
        return {"__ndarray__": items, "dtype": value.dtype.str, "shape": list(value.shape)}
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


def _encode_offset(offset, what: str) -> str:
    from pandas.tseries.frequencies import to_offset

    text = offset.freqstr
    if to_offset(text) != offset:  # e.g. a business day with holidays
        raise ValueError(f"{what}: the frequency {offset!r} cannot be saved; use pickle.")
    return text


def _encode_tz(tz):
    if tz is None:
        return None
    name = getattr(tz, "key", None) or getattr(tz, "zone", None)  # zoneinfo, pytz
    if isinstance(name, str):
        return name
    if isinstance(tz, datetime.timezone):  # a fixed offset
        return {"utc_offset_seconds": tz.utcoffset(None).total_seconds()}
    raise ValueError(f"The time zone {tz!r} cannot be saved; use a named zone or pickle.")


def _encode_index(index: pd.Index, what: str) -> dict:
    name = _encode(index.name, f"{what}.name")
    if isinstance(index, pd.MultiIndex):
        raise ValueError(f"{what} is a MultiIndex, which cannot be saved; use pickle.")
    if isinstance(index, pd.RangeIndex):
        return {
            "__index__": "range",
            "start": index.start,
            "stop": index.stop,
            "step": index.step,
            "name": name,
        }
    if isinstance(index, pd.PeriodIndex):
        return {
            "__index__": "period",
            "ordinals": index.asi8.tolist(),
            "freq": index.freqstr,
            "name": name,
        }
    if isinstance(index, pd.DatetimeIndex):
        return {
            "__index__": "datetime",
            "values": index.asi8.tolist(),  # in `unit` since the epoch, UTC for aware indexes
            "unit": index.unit,
            "tz": _encode_tz(index.tz),
            "freq": None if index.freq is None else _encode_offset(index.freq, what),
            "name": name,
        }
    return {"__index__": "plain", "values": _encode(np.asarray(index), what), "name": name}


# ------------------------------------------------------------------------------------ decoding
def _decode_tz(value):
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict) and set(value) == {"utc_offset_seconds"}:
        return datetime.timezone(datetime.timedelta(seconds=float(value["utc_offset_seconds"])))
    raise LoadError(f"Invalid time zone {value!r}.")


def _check_keys(value: dict, expected: set, what: str) -> None:
    if set(value) != expected:
        raise LoadError(f"Malformed {what}: expected the keys {sorted(expected)}.")


def _decode_index(value: dict) -> pd.Index:
    from pandas.tseries.frequencies import to_offset

    kind = value["__index__"]
    name = _decode(value.get("name"))
    if kind == "range":
        _check_keys(value, {"__index__", "start", "stop", "step", "name"}, "range index")
        bounds = [value[k] for k in ("start", "stop", "step")]
        if not all(isinstance(b, int) and not isinstance(b, bool) for b in bounds):
            raise LoadError("Malformed range index: start, stop and step must be integers.")
        index = pd.RangeIndex(*bounds, name=name)
        if len(index) > _MAX_RANGE:  # lazy here, but code using it may materialise it
            raise LoadError(f"A saved range index has {len(index)} entries; too many.")
        return index
    if kind == "period":
        _check_keys(value, {"__index__", "ordinals", "freq", "name"}, "period index")
        ordinals = np.asarray(_int_list(value["ordinals"], "period index"), dtype=np.int64)
        dtype = pd.PeriodDtype(value["freq"])
        return pd.PeriodIndex(pd.arrays.PeriodArray(ordinals, dtype=dtype), name=name)
    if kind == "datetime":
        _check_keys(value, {"__index__", "values", "unit", "tz", "freq", "name"}, "datetime index")
        if value["unit"] not in ("s", "ms", "us", "ns"):
            raise LoadError(f"Invalid datetime unit {value['unit']!r}.")
        stamps = np.asarray(_int_list(value["values"], "datetime index"), dtype=np.int64)
        index = pd.DatetimeIndex(stamps.view(f"datetime64[{value['unit']}]"))
        tz = _decode_tz(value["tz"])
        if tz is not None:
            index = index.tz_localize("UTC").tz_convert(tz)
        freq = None if value["freq"] is None else to_offset(value["freq"])
        return pd.DatetimeIndex(index, freq=freq, name=name)
    if kind == "plain":
        _check_keys(value, {"__index__", "values", "name"}, "index")
        values = _decode(value["values"])
        if not isinstance(values, np.ndarray):
            raise LoadError("Malformed index: its values must be an array.")
        return pd.Index(values, name=name)
    raise LoadError(f"Unknown index kind {kind!r}.")


def _int_list(values, what: str) -> list[int]:
    if not isinstance(values, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in values
    ):
        raise LoadError(f"Malformed {what}: expected a list of integers.")
    return values


def _decode_array(value: dict) -> np.ndarray:
    _check_keys(value, {"__ndarray__", "dtype", "shape"}, "array")
    items, dtype, shape = value["__ndarray__"], value["dtype"], value["shape"]
    shape = _int_list(shape, "array shape")
    if not isinstance(items, list) or any(s < 0 for s in shape):
        raise LoadError("Malformed array.")
    if math.prod(shape) != len(items):
        raise LoadError(f"Malformed array: {len(items)} values for the shape {tuple(shape)}.")
    if dtype == "object":
        array = np.empty(len(items), dtype=object)
        array[:] = [_decode(v) for v in items]
        return array.reshape(shape)
    if not isinstance(dtype, str):
        raise LoadError(f"Invalid array dtype {dtype!r}.")
    np_dtype = np.dtype(dtype)
    if np_dtype.kind not in _ARRAY_KINDS or np_dtype.fields is not None or np_dtype.shape:
        raise LoadError(f"Arrays of dtype {dtype!r} are not accepted.")
    if np_dtype.kind == "c":
        if not all(isinstance(z, list) and len(z) == 2 for z in items):
            raise LoadError("Malformed complex array.")
        items = [complex(re_, im) for re_, im in items]
    elif any(isinstance(v, list | dict) for v in items):
        raise LoadError("Malformed array: nested values.")
    if np_dtype.kind == "U":  # the declared width may not inflate the data
        array = np.array(items, dtype=np.str_)
        if np_dtype.itemsize * len(items) > array.nbytes + (1 << 20):
            raise LoadError(f"The string dtype {dtype!r} is far wider than the saved strings.")
        return array.astype(np_dtype).reshape(shape)
    return np.array(items, dtype=np_dtype).reshape(shape)


def _decode_dataclass(value: dict):
    _check_keys(value, {"__dataclass__", "fields"}, "saved object")
    cls = (
        _DATACLASSES.get(value["__dataclass__"])
        if isinstance(value["__dataclass__"], str)
        else None
    )
    if cls is None:
        raise LoadError(f"Unknown saved object {value['__dataclass__']!r}.")
    fields = value["fields"]
    allowed = {f.name for f in dataclasses.fields(cls) if f.init}
    if not isinstance(fields, dict) or not set(fields) <= allowed:
        raise LoadError(f"Malformed {cls.__name__}: its fields must be among {sorted(allowed)}.")
    return cls(**{k: _decode(v) for k, v in fields.items()})


def _decode(value):
    """Plain data for a JSON value written by :func:`_encode`; :class:`LoadError` otherwise."""
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__index__" in value:
        return _decode_index(value)
    if "__ndarray__" in value:
        return _decode_array(value)
    if "__dataclass__" in value:
        return _decode_dataclass(value)
    if "__period__" in value:
        _check_keys(value, {"__period__", "freq"}, "period")
        if not isinstance(value["__period__"], int):
            raise LoadError("Malformed period.")
        return pd.Period(ordinal=value["__period__"], freq=value["freq"])
    if "__timestamp__" in value:
        _check_keys(value, {"__timestamp__", "unit", "tz"}, "timestamp")
        if not isinstance(value["__timestamp__"], int) or value["unit"] not in (
            "s",
            "ms",
            "us",
            "ns",
        ):
            raise LoadError("Malformed timestamp.")
        stamp = pd.Timestamp(value["__timestamp__"], unit="ns").as_unit(value["unit"])
        tz = _decode_tz(value["tz"])
        return stamp if tz is None else stamp.tz_localize("UTC").tz_convert(tz)
    if "__offset__" in value:
        from pandas.tseries.frequencies import to_offset

        _check_keys(value, {"__offset__"}, "frequency")
        return to_offset(value["__offset__"])
    if "__optimizer__" in value:
        _check_keys(value, {"__optimizer__"}, "optimizer")
        name = value["__optimizer__"]
        optimizer = getattr(torch.optim, name, None) if isinstance(name, str) else None
        if not (isinstance(optimizer, type) and issubclass(optimizer, torch.optim.Optimizer)):
            raise LoadError(f"Unknown optimizer {name!r} in saved file.")
        return optimizer
    if any(key.startswith("__") for key in value):
        raise LoadError(f"Unknown saved value {sorted(value)}.")
    return {k: _decode(v) for k, v in value.items()}


# ------------------------------------------------------------------------------------ save
def _is_our_save(path: pathlib.Path) -> bool:
    """Whether the existing directory ``path`` holds a save: its marker is seqestim's."""
    try:
        with _open_regular(path / _CONFIG, _CONFIG) as file:
            config = json.loads(file.read(_MAX_CONFIG_BYTES))
    except (LoadError, OSError, ValueError, RecursionError):
        return False
    if not (isinstance(config, dict) and config.get("format") == FORMAT):
        return False
    weights = path / _WEIGHTS
    return not os.path.lexists(weights) or stat.S_ISREG(os.lstat(weights).st_mode)


def _write_private(path: pathlib.Path, data: bytes) -> None:
    """Write ``data`` to the new file ``path`` with mode 0600, flushed to disk."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags, _FILE_MODE)
    try:
        with contextlib.suppress(AttributeError, NotImplementedError):
            os.fchmod(fd, _FILE_MODE)  # exact, whatever the umask
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_directory(path: pathlib.Path) -> None:
    with contextlib.suppress(OSError, AttributeError):  # not every platform syncs directories
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _fitted_state(estimator, params: dict) -> dict:
    """The JSON form of everything ``fit`` set, refusing attributes the class does not declare."""
    declared = declared_fitted_attributes(type(estimator))
    fitted = {}
    for key, value in vars(estimator).items():
        if key in params or key == "net_":
            continue
        if key not in declared:
            raise ValueError(
                f"{type(estimator).__name__} has the attribute {key!r}, which is not part of its "
                "declared fitted state (_fitted_attributes); remove it or use pickle to save."
            )
        fitted[key] = _encode(value, key)
    return fitted


def save(estimator, path, *, overwrite: bool = False) -> pathlib.Path:
    """Save a fitted neural estimator to the directory ``path``.

    Parameters
    ----------
    estimator : seqestim estimator
        A fitted estimator from :mod:`seqestim.estimators`.
    path : str or path-like
        Directory to create.
    overwrite : bool, default=False
        Replace what a previous :func:`save` wrote at ``path`` (after checking its format
        marker). Other files in that directory, and any other existing file or directory,
        are never touched.

    Returns
    -------
    path : pathlib.Path

    Raises
    ------
    FileExistsError
        If ``path`` exists and is not a save to overwrite.
    ValueError
        If the estimator holds state that cannot be written as JSON.
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator)
    name = type(estimator).__name__
    if _allow_list().get(name) is not type(estimator):
        raise TypeError(f"{name} is not a seqestim estimator that can be saved.")
    path = pathlib.Path(path)
    _check_destination(path, overwrite)

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
    state = {
        k: v.detach().cpu().contiguous().clone() for k, v in estimator.module_.state_dict().items()
    }
    weights = save_safetensors(state, metadata={"format": FORMAT})
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "class": name,
        "seqestim_version": __version__,
        "torch_version": torch.__version__,
        "weights_sha256": hashlib.sha256(weights).hexdigest(),
        "params": {k: _encode(v, k) for k, v in params.items()},
        "fitted": _fitted_state(estimator, params),
        "history": json.loads(json.dumps(list(estimator.history_), default=float)),
    }
    files = {_WEIGHTS: weights, _CONFIG: json.dumps(config, indent=2).encode()}
    if path.is_dir():
        _replace_files(path, files)
    else:
        _create_directory(path, files)
    return path


def _check_destination(path: pathlib.Path, overwrite: bool) -> None:
    if not os.path.lexists(path) or (path.is_dir() and not any(path.iterdir())):
        return  # nothing there to lose
    ours = path.is_dir() and _is_our_save(path)
    if not ours:
        raise FileExistsError(
            f"{path} exists and is not a saved seqestim estimator; refusing to touch it."
        )
    if not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace a saved estimator.")


def _create_directory(path: pathlib.Path, files: dict[str, bytes]) -> None:
    """Write ``files`` into a private temporary sibling of ``path``, then rename it to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.parent / f".{path.name}.seqestim-{secrets.token_hex(6)}"
    os.mkdir(staging, _DIR_MODE)
    try:
        os.chmod(staging, _DIR_MODE)  # exact, whatever the umask
        for name, data in files.items():
            _write_private(staging / name, data)
        _fsync_directory(staging)
        if os.path.lexists(path):  # appeared meanwhile: never replace it
            raise FileExistsError(f"{path} was created by someone else while saving.")
        os.rename(staging, path)
    except BaseException:
        for name in files:
            with contextlib.suppress(OSError):
                os.unlink(staging / name)
        with contextlib.suppress(OSError):
            os.rmdir(staging)
        raise
    _fsync_directory(path.parent)


def _replace_files(path: pathlib.Path, files: dict[str, bytes]) -> None:
    """Swap ``files`` into the existing directory ``path``, one atomic rename each, config last.

    Each new file is written to a temporary sibling first; each old one is kept under a
    temporary name (a hard link) until every rename has succeeded, so that a failure puts the
    previous save back.
    """
    token = secrets.token_hex(6)
    new = {name: path / f".{name}.{token}.new" for name in files}
    old = {name: path / f".{name}.{token}.old" for name in files}
    replaced = []
    keep = set()  # backups that could not be put back: never delete those
    try:
        for name, data in files.items():
            _write_private(new[name], data)
        for name in files:  # the weights first; estimator.json, the commit point, last
            if os.path.lexists(path / name):
                try:
                    os.link(path / name, old[name])
                except OSError:  # no hard links on this filesystem: keep a copy
                    _write_private(old[name], (path / name).read_bytes())
            os.replace(new[name], path / name)
            replaced.append(name)
    except BaseException:
        for name in reversed(replaced):  # put the previous save back
            try:
                if os.path.lexists(old[name]):
                    os.replace(old[name], path / name)
                else:
                    os.unlink(path / name)
            except OSError:
                keep.add(old[name])
        raise
    finally:
        for temporary in (*new.values(), *old.values()):
            if temporary not in keep:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
        _fsync_directory(path)


# ------------------------------------------------------------------------------------ load
def _open_regular(path: pathlib.Path, what: str):
    """Open ``path`` for reading only if it is a regular file (not a symlink, FIFO, device)."""
    try:
        info = os.lstat(path)  # opens nothing
    except FileNotFoundError:
        raise LoadError(f"{path.parent} has no {what}; it is not a complete save.") from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a symlink" if stat.S_ISLNK(info.st_mode) else "not a regular file"
        raise LoadError(f"{path} is {kind}; a saved estimator holds regular files only.")
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags | getattr(os, "O_BINARY", 0))
    opened = os.fstat(fd)
    if not stat.S_ISREG(opened.st_mode) or (opened.st_dev, opened.st_ino) != (
        info.st_dev,
        info.st_ino,
    ):
        os.close(fd)
        raise LoadError(f"{path} changed while it was opened.")
    return os.fdopen(fd, "rb")


def _read_config(path: pathlib.Path) -> dict:
    with _open_regular(path / _CONFIG, _CONFIG) as file:
        if os.fstat(file.fileno()).st_size > _MAX_CONFIG_BYTES:
            raise LoadError(f"{path / _CONFIG} is larger than {_MAX_CONFIG_BYTES} bytes.")
        data = file.read(_MAX_CONFIG_BYTES + 1)
    if len(data) > _MAX_CONFIG_BYTES:
        raise LoadError(f"{path / _CONFIG} is larger than {_MAX_CONFIG_BYTES} bytes.")
    try:
        config = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise LoadError(f"{path / _CONFIG} is not valid JSON ({error}).") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise LoadError(f"{path} does not hold a saved seqestim estimator.")
    version = config.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise LoadError(f"{path / _CONFIG} has an invalid format_version {version!r}.")
    if version > FORMAT_VERSION:
        raise LoadError(f"{path} was written by a newer seqestim (format {version}).")
    expected = {"params": dict, "fitted": dict, "history": list, "weights_sha256": str}
    for key, kind in expected.items():
        if not isinstance(config.get(key), kind):
            raise LoadError(f"{path / _CONFIG}: {key!r} is missing or not a {kind.__name__}.")
    if not all(isinstance(row, dict) for row in config["history"]):
        raise LoadError(f"{path / _CONFIG}: the history must be a list of objects.")
    return config


def _read_header(file, size: int) -> tuple[dict, int]:
    """The tensor entries of a safetensors header, checked to cover the file exactly."""
    if size < 8:
        raise LoadError("The weights file is truncated (no header).")
    (length,) = struct.unpack("<Q", file.read(8))
    if length > min(_MAX_HEADER_BYTES, size - 8):
        raise LoadError("The weights file's header is larger than the file: truncated or corrupt.")
    try:
        header = json.loads(file.read(length).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise LoadError("The weights file is not a safetensors file.") from None
    if not isinstance(header, dict):
        raise LoadError("The weights file is not a safetensors file.")
    header.pop("__metadata__", None)
    spans = []
    for name, entry in header.items():
        if not (
            isinstance(entry, dict)
            and set(entry) == {"dtype", "shape", "data_offsets"}
            and entry["dtype"] in _SAFETENSORS_DTYPES
        ):
            raise LoadError(f"The weights file has a malformed entry for {name!r}.")
        shape = _int_list(entry["shape"], f"shape of {name!r}")
        begin, end = _int_list(entry["data_offsets"], f"offsets of {name!r}")
        itemsize = _SAFETENSORS_DTYPES[entry["dtype"]].itemsize
        if any(s < 0 for s in shape) or end - begin != math.prod(shape) * itemsize:
            raise LoadError(f"The weights file's entry for {name!r} is inconsistent.")
        spans.append((begin, end))
    position = 0
    for begin, end in sorted(spans):
        if begin != position:
            raise LoadError("The weights file's tensors overlap or leave gaps: corrupt.")
        position = end
    if position != size - 8 - length:
        raise LoadError(
            f"The weights file holds {size - 8 - length} bytes of data, its header "
            f"describes {position}: truncated or corrupt."
        )
    return header, 8 + length


@contextlib.contextmanager
def _construction_budget(n_tensors: int):
    """Stop building a network that registers far more tensors than the weights file holds.

    Building on the meta device allocates no tensor memory, but a crafted parameter (say
    ``n_layers=10**9``) would still create that many Python objects. torch's registration
    hooks are global, so the budget is kept per thread and other threads are not affected.
    """
    _BUDGET.left = {"tensors": n_tensors + 64, "modules": 16 * n_tensors + 256}

    def spend(kind):
        left = getattr(_BUDGET, "left", None)
        if left is None:
            return
        left[kind] -= 1
        if left[kind] < 0:
            raise LoadError(
                "The saved parameters describe a much larger network than the weights file holds."
            )

    hooks = [
        torch.nn.modules.module.register_module_parameter_registration_hook(
            lambda *args: spend("tensors")
        ),
        torch.nn.modules.module.register_module_buffer_registration_hook(
            lambda *args: spend("tensors")
        ),
        torch.nn.modules.module.register_module_module_registration_hook(
            lambda *args: spend("modules")
        ),
    ]
    try:
        yield
    finally:
        _BUDGET.left = None
        for hook in hooks:
            hook.remove()


_BUDGET = threading.local()


def _build_module_on_meta(estimator, n_tensors: int):
    """The task network built on the meta device (no memory), or None when it cannot be."""
    try:
        with _construction_budget(n_tensors), torch.device("meta"):
            return estimator._build_network()
    except (RuntimeError, NotImplementedError) as error:
        if "meta" in str(error).lower():  # construction reads values a meta tensor lacks
            return None
        raise


def _check_against_header(module: torch.nn.Module, header: dict) -> None:
    """Raise :class:`LoadError` unless the header describes exactly ``module``'s tensors."""
    wanted = {
        name: torch.empty(entry["shape"], dtype=_SAFETENSORS_DTYPES[entry["dtype"]], device="meta")
        for name, entry in header.items()
    }
    try:
        # the module's own loading logic (some buffers take the length of the saved ones)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # copying into meta tensors is a no-op
            module.load_state_dict(wanted, strict=True)
    except RuntimeError as error:
        raise LoadError(f"The weights do not fit the saved parameters: {error}") from None
    expected = {k: (v.dtype, tuple(v.shape)) for k, v in module.state_dict().items()}
    found = {k: (v.dtype, tuple(v.shape)) for k, v in wanted.items()}
    if expected != found:
        differ = sorted(
            k for k in expected.keys() | found.keys() if expected.get(k) != found.get(k)
        )
        raise LoadError(f"The weights do not fit the saved parameters (tensors {differ[:5]}).")


def _meta_tensors(module: torch.nn.Module) -> list[str]:
    """Names of tensors in ``module`` still on the meta device (state the file did not fill)."""
    names = [n for n, t in module.named_parameters() if t.is_meta]
    names += [n for n, t in module.named_buffers() if t.is_meta]
    for prefix, sub in module.named_modules():
        names += [
            f"{prefix}.{k}".lstrip(".")
            for k, v in vars(sub).items()
            if isinstance(v, torch.Tensor) and v.is_meta
        ]
    return names


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
    LoadError
        A ``ValueError``: the directory is not a complete, unmodified seqestim save, names a
        class outside the allow-list, or holds anything unsafe (see the module docstring).
    FileNotFoundError
        If ``path`` does not exist.
    """
    path = pathlib.Path(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No saved estimator at {path}.")
    if not path.is_dir():
        raise LoadError(f"{path} is not a directory; a saved estimator is a directory.")
    try:
        return _load(path, device)
    except (LoadError, MemoryError):
        raise
    except Exception as error:  # anything else a malformed file can provoke
        raise LoadError(f"{path} cannot be loaded: {type(error).__name__}: {error}") from error


def _load(path: pathlib.Path, device):
    from skorch.history import History

    config = _read_config(path)
    allowed = _allow_list()
    name = config.get("class")
    if not isinstance(name, str) or name not in allowed:
        raise LoadError(
            f"Refusing to load class {name!r}: it is not on seqestim's allow-list of estimators."
        )
    cls = allowed[name]
    known = set(cls().get_params(deep=False))
    unknown = sorted(set(config["params"]) - known)
    if unknown:
        raise LoadError(f"Saved parameters {unknown} are not parameters of {name}.")
    params = {k: _decode(v) for k, v in config["params"].items()}
    if device is not None:
        params["device"] = device
    elif str(params.get("device", "cpu")).startswith("cuda") and not torch.cuda.is_available():
        params["device"] = "cpu"
    estimator = cls(**params)

    declared = declared_fitted_attributes(cls)
    undeclared = sorted(k for k in config["fitted"] if k not in declared or not _NAME.match(k))
    if undeclared:
        raise LoadError(
            f"Refusing the fitted attributes {undeclared[:5]}: {name} does not declare them."
        )
    for key, value in config["fitted"].items():
        estimator.__dict__[key] = _decode(value)  # never through descriptors or __setattr__

    with _open_regular(path / _WEIGHTS, _WEIGHTS) as file:
        size = os.fstat(file.fileno()).st_size
        header, _ = _read_header(file, size)
        module = _build_module_on_meta(estimator, len(header))
        on_meta = module is not None
        if not on_meta:
            with _construction_budget(len(header)):
                module = estimator._build_network()
        _check_against_header(module if on_meta else _as_meta(module), header)
        file.seek(0)
        data = file.read()
    if len(data) != size or hashlib.sha256(data).hexdigest() != config["weights_sha256"]:
        raise LoadError(
            f"{path / _WEIGHTS} does not match {_CONFIG} (a modified file, or a save that was "
            "interrupted part-way)."
        )
    state = load_safetensors(data)
    del data
    if on_meta:
        module.load_state_dict(state, strict=True, assign=True)
        missing = _meta_tensors(module)
        if missing:
            raise LoadError(
                f"{name} keeps state outside its state_dict ({missing[:5]}); it cannot be loaded."
            )
    else:
        module.load_state_dict(state, strict=True)
    net = build_net(estimator, module, estimator._criterion(), seed=0)
    net.initialize()
    net.history_ = History(config["history"])
    estimator.net_ = net
    return estimator


def _as_meta(module: torch.nn.Module) -> torch.nn.Module:
    """A meta-device copy of ``module`` (for the header check of a module built normally)."""
    import copy

    return copy.deepcopy(module).to("meta")
