"""The base of every neural estimator: parameters, tasks as plug-ins, the training engine glue.

Estimators here are plain sklearn estimators. They do not subclass skorch's ``NeuralNet``
(whose ``__init__`` and ``set_params`` break sklearn's checks); ``fit`` builds a skorch net
through :func:`seqestim.estimators._training.train_network` and keeps it as ``net_``.

Three kinds of classes derive from :class:`SequenceEstimator` (see ARCHITECTURE.md):

- **parameter groups** are mixed in: the backbone's (``S5Params``, declared in
  ``seqestim/nn/s5.py``), the task's and :class:`~seqestim.estimators._training.TrainingParams`.
  Every subclass of :class:`SequenceEstimator` is made a keyword-only dataclass automatically
  (``dataclass_transform``, so IDEs and type checkers see the signature), so its ``__init__``
  lists every inherited parameter and only stores them, as sklearn requires;
- a **task base** (``SequenceClassifier``, ``SequenceForecaster``, ...) sets ``_task`` and owns
  input encoding, the network around the backbone (``_build_module``), the loss
  (``_criterion``), target decoding and ``score``;
- a **named estimator** (``S5Classifier``) combines a backbone's parameter group with a task base
  and sets ``_backbone``; it holds the paper-specific behaviour, if any.

Both task bases and named estimators register themselves when their class is created, so the
list of tasks, :func:`named_estimators`, :func:`make_estimator`, the persistence allow-list, the
sktime adapters' test parameters, the CLI and the model tables follow from the classes that
exist. Each class's numpydoc ``Parameters`` section is assembled from its fields; a named
estimator's ``Attributes`` section adds its task's, and its ``References`` come from the
registry.
"""

from __future__ import annotations

import dataclasses
import time
from typing import ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from seqestim.estimators._catalogue import register_estimator_class
from seqestim.estimators._training import network_outputs, train_network
from seqestim.estimators._transaction import transactional
from seqestim.nn._params import (
    dataclass_transform,
    param,
    parameters_section,
    replace_section,
    section_body,
)
from seqestim.registry import get_spec

__all__ = ["SequenceEstimator", "transactional"]


@dataclass_transform(kw_only_default=True, field_specifiers=(param, dataclasses.field))
class SequenceEstimator(BaseEstimator):
    """Shared machinery of the neural estimators; not for direct use.

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained skorch net.
    module_ : torch.nn.Module
        The trained network (backbone and task head).
    history_ : skorch.History
        Losses and timings of every epoch.
    fit_time_ : float
        Seconds spent in the last call to ``fit``.
    model_size_bits_ : int
        Bits needed to store the network's parameters (fewer with ``weight_bits``).
    privacy_spent_ : tuple of (float, float)
        ``(ε, δ)`` spent by a private fit (``privacy=``), from Opacus' accountant.
    """

    #: The task a task base implements ("classifier", ...); inherited by named estimators.
    _task: ClassVar[str] = ""
    #: The backbone class of a named estimator (a registered ``torch.nn.Module``).
    _backbone: ClassVar[type | None] = None
    #: Attributes ``_fitted_from_network`` may set; a refit removes them first.
    _network_attributes: ClassVar[tuple[str, ...]] = ()
    #: Attributes ``fit`` sets (besides ``net_``), each class adding its own: the only ones a
    #: saved file may restore (``seqestim.load``).
    _fitted_attributes: ClassVar[tuple[str, ...]] = ("fit_time_",)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        dataclasses.dataclass(cls, kw_only=True, eq=False, repr=False)
        # parameter groups are ordinary dataclasses (value equality, a field repr); an estimator
        # compares by identity and prints like every sklearn estimator
        cls.__eq__ = object.__eq__
        cls.__hash__ = object.__hash__
        cls.__repr__ = BaseEstimator.__repr__
        cls.__doc__ = _assemble_docstring(cls)
        register_estimator_class(cls)

    # ------------------------------------------------------------------------------ task hooks
    def _build_module(self) -> torch.nn.Module:  # pragma: no cover - implemented by tasks
        """The network to train: the backbone inside the task's head, sized from fitted state."""
        raise NotImplementedError

    def _build_network(self) -> torch.nn.Module:
        """The task's network in the form a fitted estimator keeps it (used by ``load``).

        ``_build_module()`` with the structural training options of the fitted state applied
        (target space); the same as ``_build_module()`` for ordinary training.
        """
        from seqestim.estimators._training_options import wrap_network

        return wrap_network(self, self._build_module())

    def _criterion(self) -> type:  # pragma: no cover - implemented by tasks
        """The loss class."""
        raise NotImplementedError

    def _train_split(self, targets, seed: int):
        """The validation split of early stopping, or None for the engine's default."""
        return None

    def _shuffle_batches(self) -> bool:
        """Whether training batches are drawn in random order (False keeps the row order)."""
        return True

    def _fitted_from_network(self) -> dict:
        """Paper-specific fitted attributes read off the trained network (none by default)."""
        return {}

    # ------------------------------------------------------------------------------ backbone
    @classmethod
    def _model_name(cls) -> str:
        """Registry name of the backbone ("" for task bases)."""
        return get_spec(cls._backbone).name if cls._backbone is not None else ""

    def _backbone_params(self):
        """The backbone's parameter group filled with this estimator's values."""
        group = get_spec(self._backbone).params
        return group(**{f.name: getattr(self, f.name) for f in dataclasses.fields(group)})

    def _make_backbone(self, d_input: int) -> torch.nn.Module:
        """A new backbone for ``d_input`` input features."""
        if self._backbone is None:
            raise TypeError(f"{type(self).__name__} is a task base; use a named estimator.")
        return self._backbone(int(d_input), self._backbone_params())

    # ------------------------------------------------------------------------------ engine
    def _fit_network(self, inputs: dict, targets, *, stratify: bool = False) -> None:
        """Train on encoded data; sets ``net_``, ``fit_time_`` and paper-specific attributes.

        Call it from a :func:`transactional` ``fit`` after the input checks have set the
        fitted attributes ``_build_module`` needs.
        """
        for name in self._network_attributes:  # never keep those of an earlier fit
            self.__dict__.pop(name, None)
        start = time.perf_counter()
        self.net_ = train_network(self, inputs, targets, stratify=stratify)
        self.fit_time_ = time.perf_counter() - start
        for name, value in self._fitted_from_network().items():
            setattr(self, name, value)

    def _network_outputs(self, inputs: dict) -> np.ndarray:
        """Raw network outputs for encoded inputs, in eval mode, as float64 numpy."""
        check_is_fitted(self, "net_")
        return network_outputs(self.net_, inputs, self.batch_size)

    # ------------------------------------------------------------------------------ views
    @property
    def module_(self) -> torch.nn.Module:
        """The trained ``torch.nn.Module`` (backbone and head)."""
        check_is_fitted(self, "net_")
        return self.net_.module_

    @property
    def history_(self):
        """Skorch ``History`` of the fit: one dict per epoch (losses, durations)."""
        check_is_fitted(self, "net_")
        return self.net_.history

    @property
    def n_parameters_(self) -> int:
        """Number of trainable parameters of the network."""
        return sum(p.numel() for p in self.module_.parameters() if p.requires_grad)

    @property
    def model_size_bits_(self) -> int:
        """Bits needed to store the network's parameters.

        32 per value, except for weights quantised with ``weight_bits``: that many bits per
        value plus 32 for the tensor's scale.
        """
        from seqestim.estimators._training_options import model_size_bits

        check_is_fitted(self, "net_")
        return model_size_bits(self)

    @property
    def privacy_spent_(self) -> tuple[float, float]:
        """``(ε, δ)`` spent by a private fit (``privacy=``), from Opacus' accountant."""
        check_is_fitted(self, "net_")
        spent = self.__dict__.get("_privacy_spent")
        if spent is None:
            raise AttributeError(f"{type(self).__name__} was not fitted with privacy.")
        return float(spent[0]), float(spent[1])

    def quantized_weights(self) -> dict:
        """The quantised weight tensors as the network uses them at prediction time.

        Returns
        -------
        weights : dict of str -> seqestim.training.QuantizedTensor
            By parameter name, ``(values, scale, bits)``: ``values`` (float64) takes at most
            ``2^bits`` distinct values, ``values / scale`` lies in ``[-1, 1]`` (``±1`` for one
            bit). Empty when ``weight_bits`` is None.
        """
        from seqestim.estimators._training_options import quantized_weights

        check_is_fitted(self, "net_")
        return quantized_weights(self)

    # ------------------------------------------------------------------------------ persistence
    def save(self, path, *, overwrite: bool = False):
        """Save the fitted estimator as JSON + safetensors (no pickle).

        Parameters
        ----------
        path : str or path-like
            A directory to create; it holds ``estimator.json`` and ``model.safetensors``.
        overwrite : bool, default=False
            Replace what an earlier ``save`` wrote at ``path``; other files are never touched.

        Returns
        -------
        path : pathlib.Path
        """
        from seqestim.estimators._persistence import save

        return save(self, path, overwrite=overwrite)

    def to_onnx(self, path, *, opset_version: int = 17):
        """Export the fitted prediction function as an ONNX model.

        The model takes a float32 ``X`` with dynamic batch and length axes (``(batch,
        channels, length)``, or ``(batch, length)`` after a fit on 2D ``X``) and includes every
        fitted pre- and post-processing step, so that ONNX Runtime reproduces
        ``predict_proba`` (classifiers) or ``predict`` (regressors) from raw inputs.

        Parameters
        ----------
        path : str or path-like
            File to write; an existing file is replaced.
        opset_version : int, default=17
            ONNX operator set.

        Returns
        -------
        path : pathlib.Path

        Raises
        ------
        NotImplementedError
            For a task or backbone that cannot be exported, with the reason.
        """
        from seqestim.estimators._onnx import export_onnx

        return export_onnx(self, path, opset_version=opset_version)

    def _onnx_prediction(self):
        """``(network, output map, tabular, input scaling)`` for the ONNX export (``_onnx.py``)."""
        raise NotImplementedError(
            f"{type(self).__name__} has no ONNX export: it is available for classifiers and "
            "regressors with one prediction per sequence."
        )

    # ------------------------------------------------------------------------------ sklearn
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = getattr(self, "device", "cpu") != "cpu"
        return tags


# ---------------------------------------------------------------------------------- docstrings
def _assemble_docstring(cls: type) -> str:
    """The class's own docstring with its Parameters, Attributes and References completed."""
    own = cls.__dict__.get("__doc__") or ""
    doc = replace_section(own, "Parameters", parameters_section(cls))
    attributes = _attribute_entries(section_body(own, "Attributes"))
    parent = next(
        (b for b in cls.__mro__[1:] if issubclass(b, SequenceEstimator)), None
    )  # the nearest estimator base, whose docstring is already complete
    if parent is not None:
        for name, entry in _attribute_entries(section_body(parent.__doc__ or "", "Attributes")):
            if name not in dict(attributes):
                attributes.append((name, entry))
    if attributes:
        body = "\n".join(entry for _, entry in attributes)
        doc = replace_section(doc, "Attributes", f"Attributes\n----------\n{body}")
    if cls.__dict__.get("_backbone") is not None and not section_body(own, "References"):
        spec = get_spec(cls._backbone)
        doc = replace_section(
            doc, "References", f"References\n----------\n.. [1] {spec.paper}\n   {spec.url}"
        )
    return doc


def _attribute_entries(body: str) -> list[tuple[str, str]]:
    """Split a numpydoc Attributes body into ``(name, entry text)`` pairs."""
    entries: list[tuple[str, list[str]]] = []
    for line in body.splitlines():
        if line and not line.startswith(" "):
            entries.append((line.split(":")[0].strip(), [line]))
        elif entries:
            entries[-1][1].append(line)
    return [(name, "\n".join(lines).rstrip()) for name, lines in entries]
