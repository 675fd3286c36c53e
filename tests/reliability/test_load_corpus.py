"""A corpus of malformed and malicious saves: every one is refused with ``LoadError``.

Each case starts from a valid save, changes one thing, and checks that ``seqestim.load``
raises :class:`seqestim.persistence.LoadError` (a ``ValueError``) with a reason, without
running code from the file, allocating what the file claims, or blocking on special files.
"""

import json
import os
import shutil
import struct
import threading

import numpy as np
import pytest
import torch
from safetensors.torch import load as load_bytes
from safetensors.torch import save_file

import seqestim
from seqestim import GRUClassifier
from seqestim.persistence import LoadError
from tests.reliability.conftest import panel, series, tiny_classifier, tiny_forecaster


@pytest.fixture(scope="module")
def golden(tmp_path_factory):
    """Valid saves of a classifier and a forecaster, copied by every case."""
    root = tmp_path_factory.mktemp("golden")
    X, y = panel()
    clf = tiny_classifier().fit(X, y)
    clf.save(root / "classifier")
    tiny_classifier(random_state=7).fit(X, y).save(root / "other")
    tiny_forecaster().fit(series()).save(root / "forecaster")
    return root, clf, X


def _copy(golden, tmp_path, which="classifier"):
    root = golden[0]
    path = tmp_path / which
    shutil.copytree(root / which, path)
    return path


def _edit_config(path, edit):
    config = json.loads((path / "estimator.json").read_text())
    edit(config)
    (path / "estimator.json").write_text(json.dumps(config))


def _set(*keys, value):
    def edit(config):
        target = config
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return edit


CONFIG_CASES = {
    # (edit of the parsed estimator.json, expected reason)
    "wrong-format": (_set("format", value="other"), "does not hold"),
    "newer-format": (_set("format_version", value=99), "newer"),
    "format-version-string": (_set("format_version", value="1"), "format_version"),
    "class-os-system": (_set("class", value="os.system"), "allow-list"),
    "class-builtins-eval": (_set("class", value="builtins.eval"), "allow-list"),
    "class-task-base": (_set("class", value="SequenceClassifier"), "allow-list"),
    "class-empty": (_set("class", value=""), "allow-list"),
    "class-not-a-string": (_set("class", value=["GRUClassifier"]), "allow-list"),
    "unknown-parameter": (_set("params", "evil", value=1), "not parameters"),
    "dunder-parameter": (_set("params", "__init__", value=1), "not parameters"),
    "reduce-payload": (
        _set("params", "optimizer", value={"__reduce__": ["os.system", ["echo pwned"]]}),
        "Unknown saved value",
    ),
    "optimizer-outside-torch-optim": (
        _set("params", "optimizer", value={"__optimizer__": "os"}),
        "Unknown optimizer",
    ),
    "unknown-dataclass": (
        _set("fitted", "classes_", value={"__dataclass__": "Popen", "fields": {}}),
        "Unknown saved object",
    ),
    "oversized-n_channels": (_set("fitted", "n_channels_", value=10**9), "do not fit"),
    "n_channels-not-a-number": (_set("fitted", "n_channels_", value="abc"), "cannot be loaded"),
    "negative-n_channels": (_set("fitted", "n_channels_", value=-3), "cannot be loaded"),
    "billion-layers": (_set("params", "n_layers", value=10**9), "much larger network"),
    "string-dtype-amplification": (
        _set(
            "fitted", "classes_", value={"__ndarray__": ["a"], "dtype": "<U50000000", "shape": [1]}
        ),
        "far wider",
    ),
    "array-shape-lie": (
        _set("fitted", "classes_", value={"__ndarray__": [1], "dtype": "<i8", "shape": [10**12]}),
        "for the shape",
    ),
    "array-void-dtype": (
        _set("fitted", "classes_", value={"__ndarray__": [1], "dtype": "V8", "shape": [1]}),
        "not accepted",
    ),
    "array-bytes-dtype": (
        _set("fitted", "classes_", value={"__ndarray__": ["a"], "dtype": "|S1", "shape": [1]}),
        "not accepted",
    ),
    "history-not-a-list": (_set("history", value={"epochs": 1}), "history"),
    "history-rows-not-objects": (_set("history", value=[1, 2]), "history"),
    "digest-missing": (lambda config: config.pop("weights_sha256"), "weights_sha256"),
    "params-not-an-object": (_set("params", value=[1]), "params"),
}

# attribute names a crafted file must never set: dunders, methods, properties, parameters and
# names the class does not declare as fitted state
FORBIDDEN_ATTRIBUTES = [
    "__class__",
    "__dict__",
    "__init__",
    "predict_proba",
    "fit",
    "save",
    "_build_module",
    "module_",
    "history_",
    "net_",
    "d_model",
    "n_channels",
    "anything_",
]


@pytest.mark.parametrize("case", sorted(CONFIG_CASES))
def test_malformed_estimator_json_is_refused(golden, tmp_path, case):
    edit, reason = CONFIG_CASES[case]
    path = _copy(golden, tmp_path)
    _edit_config(path, edit)
    with pytest.raises(LoadError, match=reason):
        seqestim.load(path)


@pytest.mark.parametrize("name", FORBIDDEN_ATTRIBUTES)
def test_fitted_section_sets_only_declared_attributes(golden, tmp_path, name):
    path = _copy(golden, tmp_path)
    _edit_config(path, _set("fitted", name, value={"__optimizer__": "SGD"}))
    with pytest.raises(LoadError, match="does not declare"):
        seqestim.load(path)


def test_load_error_is_a_value_error():
    assert issubclass(LoadError, ValueError)


@pytest.mark.parametrize(
    "text", ["{", "[" * 100_000 + "]" * 100_000, "[1, 2]", "\xff\xfe", '{"format": NaN}']
)
def test_estimator_json_that_is_not_json_or_not_an_object(golden, tmp_path, text):
    path = _copy(golden, tmp_path)
    (path / "estimator.json").write_bytes(text.encode("latin-1"))
    with pytest.raises(LoadError):
        seqestim.load(path)


def test_oversized_network_is_refused_before_anything_is_allocated(golden, tmp_path, monkeypatch):
    # d_model=200000 would need 480 GB; the check against the header happens on the meta device
    path = _copy(golden, tmp_path)
    _edit_config(path, _set("params", "d_model", value=200_000))
    devices = []
    build = GRUClassifier._build_module

    def spy(self):
        devices.append(torch.empty(0).device.type)  # the default device during the build
        return build(self)

    monkeypatch.setattr(GRUClassifier, "_build_module", spy)
    with pytest.raises(LoadError, match="do not fit"):
        seqestim.load(path)
    assert devices == ["meta"]


def test_huge_range_index_in_fitted_state(golden, tmp_path):
    path = _copy(golden, tmp_path, "forecaster")
    huge = {"__index__": "range", "start": 0, "stop": 10**15, "step": 1, "name": None}
    _edit_config(path, _set("fitted", "_y_meta", "fields", "index", value=huge))
    with pytest.raises(LoadError, match="too many"):
        seqestim.load(path)


# ---------------------------------------------------------------------------- the weights file
def _weights(path):
    return path / "model.safetensors"


def _tensors(path):
    return load_bytes(_weights(path).read_bytes())  # not memory-mapped: the file is rewritten


def _rewrite_tensors(change):
    def mutate(path):
        tensors = _tensors(path)
        change(tensors)
        save_file(tensors, str(_weights(path)))

    return mutate


def _first_key(tensors):
    return sorted(tensors)[0]


def _raw(change):
    def mutate(path):
        _weights(path).write_bytes(change(_weights(path).read_bytes()))

    return mutate


def _header_with_overlap(data):
    length = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8 : 8 + length])
    names = sorted(k for k in header if k != "__metadata__")
    first, second = header[names[0]], header[names[1]]
    if first["dtype"] == second["dtype"] and first["shape"] == second["shape"]:
        second["data_offsets"] = list(first["data_offsets"])
    else:
        first["data_offsets"] = [0, first["data_offsets"][1] - first["data_offsets"][0]]
        second["data_offsets"] = list(first["data_offsets"])
    encoded = json.dumps(header).encode()
    return struct.pack("<Q", len(encoded)) + encoded + data[8 + length :]


def _flip_last_byte(data):
    return data[:-1] + bytes([data[-1] ^ 0xFF])


def _pickled(path):
    torch.save(_tensors(path), _weights(path))


WEIGHT_CASES = {
    "truncated": (_raw(lambda data: data[:-10]), "truncated"),
    "empty": (_raw(lambda data: b""), "truncated"),
    "header-longer-than-file": (
        _raw(lambda data: struct.pack("<Q", 10**9) + data[8:]),
        "header is larger",
    ),
    "header-not-json": (_raw(lambda data: data[:8] + b"\x00" * (len(data) - 8)), "safetensors"),
    "pickled-state-dict": (_pickled, "safetensors|header is larger"),
    "overlapping-tensors": (_raw(_header_with_overlap), "overlap|inconsistent|do not fit"),
    "flipped-byte": (_raw(_flip_last_byte), "does not match"),
    "trailing-bytes": (_raw(lambda data: data + b"\x00" * 16), "truncated or corrupt"),
    "extra-tensor": (
        _rewrite_tensors(lambda t: t.__setitem__("extra", torch.zeros(3))),
        "do not fit",
    ),
    "missing-tensor": (_rewrite_tensors(lambda t: t.pop(_first_key(t))), "do not fit"),
    "wrong-dtype": (
        _rewrite_tensors(lambda t: t.__setitem__(_first_key(t), t[_first_key(t)].double())),
        "do not fit",
    ),
    "wrong-shape": (
        _rewrite_tensors(
            lambda t: t.__setitem__(_first_key(t), torch.zeros(t[_first_key(t)].numel() + 1))
        ),
        "do not fit",
    ),
}


@pytest.mark.parametrize("case", sorted(WEIGHT_CASES))
def test_malformed_weights_are_refused(golden, tmp_path, case):
    mutate, reason = WEIGHT_CASES[case]
    path = _copy(golden, tmp_path)
    mutate(path)
    with pytest.raises(LoadError, match=reason):
        seqestim.load(path)


def test_weights_of_another_fit_are_refused(golden, tmp_path):
    path = _copy(golden, tmp_path)
    shutil.copy(golden[0] / "other" / "model.safetensors", _weights(path))
    with pytest.raises(LoadError, match="does not match"):
        seqestim.load(path)


# ---------------------------------------------------------------------------- the file system
def _load_within(path, seconds=20):
    """Call ``load`` in a thread; fail instead of hanging if it blocks (e.g. on a FIFO)."""
    outcome = {}

    def target():
        try:
            outcome["value"] = seqestim.load(path)
        except BaseException as error:  # handed to the test
            outcome["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "load blocked"
    return outcome


@pytest.mark.parametrize("which", ["estimator.json", "model.safetensors"])
@pytest.mark.parametrize("kind", ["symlink", "symlink-to-dev-zero", "fifo", "directory"])
def test_special_files_are_refused_without_opening(golden, tmp_path, which, kind):
    path = _copy(golden, tmp_path)
    target = path / which
    real = tmp_path / f"real-{which}"
    shutil.move(target, real)
    if kind == "symlink":
        target.symlink_to(real)  # even a link to the genuine file: saves hold regular files
    elif kind == "symlink-to-dev-zero":
        target.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(target)
    else:
        target.mkdir()
    outcome = _load_within(path)
    assert isinstance(outcome.get("error"), LoadError), outcome
    assert "symlink" in str(outcome["error"]) or "regular file" in str(outcome["error"])


def test_missing_weights_file(golden, tmp_path):
    path = _copy(golden, tmp_path)
    _weights(path).unlink()
    with pytest.raises(LoadError, match=r"no model\.safetensors"):
        seqestim.load(path)


def test_path_that_is_a_file_or_missing(golden, tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(LoadError, match="not a directory"):
        seqestim.load(tmp_path / "file")
    with pytest.raises(FileNotFoundError):
        seqestim.load(tmp_path / "nothing here")


def test_sparse_giant_estimator_json_is_not_read(golden, tmp_path):
    path = _copy(golden, tmp_path)
    with open(path / "estimator.json", "r+b") as file:
        file.truncate(2 << 30)  # 2 GiB, sparse: reading it would take 2 GiB of memory
    with pytest.raises(LoadError, match="larger than"):
        seqestim.load(path)


def test_the_golden_saves_load(golden):
    root, clf, X = golden
    np.testing.assert_array_equal(seqestim.load(root / "classifier").predict(X), clf.predict(X))
    assert seqestim.load(root / "forecaster").predict(fh=3).shape == (3,)
