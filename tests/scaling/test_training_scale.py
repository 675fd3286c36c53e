"""Mixed precision, gradient accumulation, Accelerate and device names in the training engine."""

import os
import pathlib
import re
import shutil
import subprocess

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from seqestim import GRUClassifier, S5Regressor, TCNClassifier
from seqestim.datasets import make_xor_sequences

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def xor():
    return make_xor_sequences(n_samples=64, seq_len=12, random_state=0)


class _CountSteps(Callback):
    """Counts optimizer steps (each is preceded by on_grad_computed) and records dtypes."""

    def initialize(self):
        self.steps = 0
        return self

    def on_grad_computed(self, net, named_parameters, **kwargs):
        self.steps += 1


def _weights(estimator):
    return {k: v.detach().clone() for k, v in estimator.module_.state_dict().items()}


def test_accumulating_two_half_batches_equals_one_full_batch(xor):
    X, y = xor
    common = {"max_epochs": 3, "lr": 1e-2, "random_state": 0}
    full = GRUClassifier(batch_size=32, **common).fit(X, y)
    halves = GRUClassifier(batch_size=16, gradient_accumulation_steps=2, **common).fit(X, y)
    # same shuffled order, so each group of two half-batches is one full batch: the mean loss,
    # its gradient and every update agree up to float32 rounding
    a, b = _weights(full), _weights(halves)
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=1e-4, atol=1e-5)
    # and the test can fail: without accumulation the half batches take twice as many steps
    plain = _weights(GRUClassifier(batch_size=16, **common).fit(X, y))
    assert max(float((plain[n] - a[n]).abs().max()) for n in a) > 1e-3


def test_a_partial_group_at_the_end_of_an_epoch_still_steps(xor):
    X, y = xor
    counter = ("count", _CountSteps())
    clf = GRUClassifier(
        max_epochs=2, batch_size=16, gradient_accumulation_steps=3, callbacks=[counter]
    ).fit(X[:48], y[:48])  # 3 batches per epoch: one full group of 3 per epoch
    assert dict(clf.net_.callbacks_)["count"].steps == 2
    clf = GRUClassifier(
        max_epochs=2, batch_size=16, gradient_accumulation_steps=2, callbacks=[counter]
    ).fit(X[:48], y[:48])  # groups of 2 + 1 per epoch
    assert dict(clf.net_.callbacks_)["count"].steps == 4


@pytest.mark.parametrize("precision", ["bf16-mixed", "16-mixed"])
def test_mixed_precision_trains_in_low_precision_with_float32_master_weights(xor, precision):
    X, y = xor
    seen = []

    def record(module, args, output):
        seen.append(output.dtype)

    clf = TCNClassifier(max_epochs=2, random_state=0, precision=precision)  # traced head hook
    clf.fit(X, y)
    low = torch.bfloat16 if precision == "bf16-mixed" else torch.float16
    assert all(p.dtype == torch.float32 for p in clf.module_.parameters())
    # the training forward ran under autocast: refit with a hook on the head
    clf.set_params(max_epochs=1)
    clf.fit(X, y)
    handle = clf.net_.module_.head.register_forward_hook(record)
    clf.net_.module_.train()
    with clf.net_._autocast():
        clf.net_.module_(torch.as_tensor(X[:4].transpose(0, 2, 1).copy()))
    handle.remove()
    assert seen == [low]
    # predictions are not computed under autocast: float64 on the CPU, finite, one per row
    proba = clf.predict_proba(X)
    assert proba.dtype == np.float64 and np.isfinite(proba).all()
    assert clf.score(X, y) >= 0.0


def test_bf16_mixed_precision_learns_like_float32():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(128, 1, 16)).astype(np.float32)
    y = X[:, 0, :].mean(axis=1) * 3.0
    common = {"max_epochs": 30, "lr": 3e-3, "random_state": 0}
    full = S5Regressor(**common).fit(X, y).score(X, y)
    mixed = S5Regressor(precision="bf16-mixed", **common).fit(X, y).score(X, y)
    assert full > 0.8
    assert mixed > full - 0.1, (full, mixed)


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"precision": "fp16"}, ValueError, "precision must be one of"),
        ({"gradient_accumulation_steps": 0}, ValueError, "gradient_accumulation_steps"),
        ({"gradient_accumulation_steps": 1.5}, ValueError, "gradient_accumulation_steps"),
        ({"precision": "bf16-mixed", "privacy": {"epsilon": 5.0}}, ValueError, "Opacus"),
        ({"accelerator": "yes"}, TypeError, "dict of accelerate.Accelerator"),
        ({"accelerator": {}, "precision": "bf16-mixed"}, ValueError, "mixed_precision"),
        (
            {"device": "mps"} if not torch.backends.mps.is_available() else {"device": "tpu"},
            ValueError,
            "device",
        ),
    ],
)
def test_bad_scale_parameters_are_refused_before_training(xor, params, error, match):
    X, y = xor
    with pytest.raises(error, match=match):
        GRUClassifier(max_epochs=1, **params).fit(X, y)


def test_an_accelerated_fit_trains_predicts_saves_and_loads(xor, tmp_path):
    pytest.importorskip("accelerate")
    X, y = xor
    clf = GRUClassifier(max_epochs=3, lr=1e-2, random_state=0, accelerator={}).fit(X, y)
    assert type(clf.net_).__name__ == "_AcceleratedNet"
    assert all(p.device.type == "cpu" for p in clf.module_.parameters())
    proba = clf.predict_proba(X)
    clf.save(tmp_path / "model")
    import seqestim

    loaded = seqestim.load(tmp_path / "model")
    assert loaded.accelerator == {}
    np.testing.assert_allclose(loaded.predict_proba(X), proba, rtol=0, atol=1e-12)


@pytest.mark.skipif(shutil.which("accelerate") is None, reason="accelerate is not installed")
def test_accelerate_launch_on_two_processes_keeps_the_replicas_synchronised():
    # on a machine without GPUs, --multi_gpu starts the processes through torchrun and
    # Accelerate trains data parallel on the CPU with the gloo backend
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    command = [
        "accelerate",
        "launch",
        "--multi_gpu",
        "--num_processes",
        "2",
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        str(ROOT / "examples" / "scaling" / "accelerate_fit.py"),
        "--epochs",
        "2",
    ]
    if torch.cuda.is_available():
        pytest.skip("the CPU launch is tested on CPU machines")
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = re.findall(
        r"rank (\d) of (\d): accuracy ([\d.]+), checksum (-?\d+\.\d{10})", result.stdout
    )
    assert sorted(rank for rank, *_ in lines) == ["0", "1"], result.stdout
    assert {total for _, total, *_ in lines} == {"2"}
    assert len({checksum for *_, checksum in lines}) == 1, lines
