"""The long-memory tasks and the training protocols shared by ``nc_gru.py`` and ``atn.py``.

Everything trains through the public estimators. A task gives fresh data and the estimator to
fit on it; the two protocols of the papers are:

- *fresh batches* (NC-GRU scripts, ATN copy task): every optimizer step sees a new batch. The
  estimator is built with ``warm_start=True, max_epochs=1`` and fitted on one new chunk of
  ``batch_size * eval_every`` sequences at a time: one pass over a chunk is ``eval_every``
  optimizer steps on fresh batches, and ``warm_start`` keeps the network *and* the optimizer
  state between chunks. The test metrics are read after every chunk (a learning curve);
- *fixed training set* (ATN adding task): ``max_epochs=1`` and ``warm_start=True`` again, one
  ``fit`` per epoch on the same data, the test metrics after each.

Tasks (``seqestim.datasets.memory_tasks``), with the metric each paper reports:

- ``adding`` (T): regression on the last step; test MSE (predicting 1 scores about 1/6);
- ``copy`` (T): K = 10 symbols of 8, T blanks, marker, recall; per-step cross-entropy (the
  memoryless baseline ``10 ln 8 / (T + 20)``) and accuracy on the 10 recall steps;
- ``denoise`` (T): 10 symbols of 9 scattered in T + 9 noise steps; as copy, baseline
  ``10 ln 9 / (T + 20)``;
- ``parenthesis`` (T): 3 saturating bracket counts (0..5) per step, three labels per step
  (the per-step multi-output classifier); mean per-step accuracy and cross-entropy.
"""

from __future__ import annotations

import math
import time

import numpy as np

from seqestim.datasets.memory_tasks import (
    make_adding,
    make_copy_memory,
    make_denoise,
    make_parenthesis_counting,
)
from seqestim.estimators import (
    GRUClassifier,
    GRURegressor,
    LSTMClassifier,
    LSTMRegressor,
    NCGRUClassifier,
    NCGRURegressor,
)
from seqestim.nn.gated_rnn import GRU, LSTM
from seqestim.nn.nc_gru import NCGRU, ScaledCayleyOrthogonal
from seqestim.registry import get_spec

K_SYMBOLS = 10


# ------------------------------------------------------------------------------------ tasks
class Task:
    """A task of length ``T``: data, estimator kind, metrics."""

    def __init__(self, name: str, T: int):
        self.name, self.T = name, int(T)
        self.regression = name == "adding"
        if name == "copy":
            self.baseline = K_SYMBOLS * math.log(8) / (T + 2 * K_SYMBOLS)
        elif name == "denoise":
            self.baseline = K_SYMBOLS * math.log(9) / (T + 2 * K_SYMBOLS)
        elif name == "adding":
            self.baseline = 1 / 6
        elif name == "parenthesis":
            self.baseline = None
        else:
            raise ValueError(f"unknown task {name!r}")

    @property
    def label(self) -> str:
        """``<name>_T<length>``."""
        return f"{self.name}_T{self.T}"

    def make(self, n: int, seed: int):
        """``n`` fresh sequences ``(X, y)`` drawn with ``seed``."""
        if self.name == "adding":
            return make_adding(n, self.T, random_state=seed)
        if self.name == "copy":
            return make_copy_memory(n, self.T, n_symbols=K_SYMBOLS, random_state=seed)
        if self.name == "denoise":
            return make_denoise(n, self.T, n_symbols=K_SYMBOLS, random_state=seed)
        return make_parenthesis_counting(n, self.T, random_state=seed)

    def metrics(self, est, X, y) -> dict:
        """The papers' metrics on a test set."""
        if self.regression:
            return {"mse": float(np.mean((est.predict(X) - y) ** 2))}
        proba = est.predict_proba(X)
        if self.name == "parenthesis":  # one (n, T, 6) array per bracket type
            ce = np.mean([_cross_entropy(p, y[:, j], est.classes_[j]) for j, p in enumerate(proba)])
            return {"ce": float(ce), "accuracy": float(est.score(X, y))}
        ce = _cross_entropy(proba, y, est.classes_)
        recall = slice(-K_SYMBOLS, None)
        predicted = est.classes_[proba[:, recall].argmax(-1)]
        return {"ce": float(ce), "recall_accuracy": float(np.mean(predicted == y[:, recall]))}


def _cross_entropy(proba, y, classes) -> float:
    """Mean per-step cross-entropy of probabilities ``(n, T, C)`` for labels ``(n, T)``."""
    index = np.clip(np.searchsorted(classes, y), 0, len(classes) - 1)
    picked = np.take_along_axis(proba, index[..., None], axis=-1)[..., 0]
    picked = np.where(classes[index] == y, picked, 0.0)  # a label never seen in training
    return float(-np.mean(np.log(np.clip(picked, 1e-12, None))))


def parse_tasks(specs) -> list[Task]:
    """``["adding:100", ...]`` -> tasks."""
    return [Task(spec.split(":")[0], int(spec.split(":")[1])) for spec in specs]


# ------------------------------------------------------------------------------------ models
def effective_parameters(module) -> int:
    """Trainable parameters, counting a skew-symmetric ``A`` as n(n-1)/2 (its free entries)."""
    total = 0
    for m in module.modules():
        for name, p in m.named_parameters(recurse=False):
            if isinstance(m, ScaledCayleyOrthogonal) and name == "P":
                total += p.shape[0] * (p.shape[0] - 1) // 2
            else:
                total += p.numel()
    return total


def _backbone_parameters(cls, d_input: int, d_model: int) -> int:
    return effective_parameters(get_spec(cls).build(d_input, d_model=d_model))


def matched_width(cls, d_input: int, target: int) -> int:
    """The width whose backbone parameter count is closest to ``target``."""
    widths = range(2, 400)
    return min(widths, key=lambda d: abs(_backbone_parameters(cls, d_input, d) - target))


ESTIMATORS = {
    "NC-GRU": (NCGRURegressor, NCGRUClassifier, {"orthogonal_update": "exact"}),
    "NC-GRU (Neumann)": (
        NCGRURegressor,
        NCGRUClassifier,
        {"orthogonal_update": "neumann", "reinvert_every": 49},  # the official scripts' 49
    ),
    "GRU": (GRURegressor, GRUClassifier, {}),
    "LSTM": (LSTMRegressor, LSTMClassifier, {}),
    "LN-LSTM": (LSTMRegressor, LSTMClassifier, {"normalization": "layer"}),
    "ATN-LSTM": (LSTMRegressor, LSTMClassifier, {"normalization": "assorted_time"}),
}


def make_estimator(model: str, task: Task, d_model: int, training: dict, **extra):
    """The named estimator for ``model`` on ``task`` (per-step output for the sequence tasks)."""
    regressor, classifier, params = ESTIMATORS[model]
    cls = regressor if task.regression else classifier
    # the values as generated, as when the committed results were measured
    kwargs = {**params, **extra, "d_model": int(d_model), "scaling": None, **training}
    if model.startswith("NC-GRU"):
        kwargs.setdefault("n_neg_ones", int(d_model) // 2)
    if not task.regression:
        kwargs["output"] = "sequence"
    return cls(**kwargs)


def backbone_class(model: str):
    return NCGRU if model.startswith("NC-GRU") else (GRU if model == "GRU" else LSTM)


# ---------------------------------------------------------------------------------- training
def train_fresh_batches(est, task: Task, *, steps, batch_size, eval_every, test, seed, log=None):
    """Fit on a new chunk of ``batch_size * eval_every`` sequences at a time (warm start).

    Returns the learning curve: the test metrics after every ``eval_every`` optimizer steps.
    """
    est.set_params(warm_start=True, max_epochs=1, batch_size=batch_size)
    curve, start = [], time.perf_counter()
    for chunk in range(math.ceil(steps / eval_every)):
        n_steps = min(eval_every, steps - chunk * eval_every)
        X, y = task.make(batch_size * n_steps, seed=seed * 1_000_003 + chunk + 1)
        est.fit(X, y)
        loss = float(est.history_[-1, "train_loss"])
        row = {"step": chunk * eval_every + n_steps, "train_loss": loss, **task.metrics(est, *test)}
        row["seconds"] = time.perf_counter() - start
        curve.append(row)
        if log:
            log(row)
        if not math.isfinite(loss):
            break
    return curve


def train_epochs(est, task: Task, *, data, epochs, batch_size, test, log=None):
    """Fit on a fixed training set one epoch at a time (warm start); test metrics per epoch."""
    est.set_params(warm_start=True, max_epochs=1, batch_size=batch_size)
    curve, start = [], time.perf_counter()
    steps_per_epoch = math.ceil(len(data[0]) / batch_size)
    for epoch in range(1, epochs + 1):
        est.fit(*data)
        loss = float(est.history_[-1, "train_loss"])
        row = {"epoch": epoch, "step": epoch * steps_per_epoch, "train_loss": loss}
        row.update(task.metrics(est, *test))
        row["seconds"] = time.perf_counter() - start
        curve.append(row)
        if log:
            log(row)
    return curve
