"""The model registry: one decorator per backbone, everything else derived from it.

A backbone is a ``torch.nn.Module`` in ``seqestim/nn/<paper>.py`` that keeps the contract of
:mod:`seqestim.nn._contract` and takes its parameter group as configuration. Decorating it with
:func:`register_model` records a frozen :class:`ModelSpec`; the common tests, the sktime
adapters' test parameters, the CLI and the model tables are built from these specs.

This module sits right above :mod:`seqestim.nn` and knows nothing of the estimators: which tasks
a model serves follows from the named estimators that exist for it
(:func:`seqestim.estimators.named_estimators`).
"""

from __future__ import annotations

import seqestim.nn  # noqa: F401  (importing it runs every paper module's decorator)
from seqestim.nn._registry import _REGISTRY, INPUT_KINDS, MODEL_FORMS, ModelSpec, register_model

__all__ = ["INPUT_KINDS", "MODEL_FORMS", "ModelSpec", "get_spec", "list_models", "register_model"]


def list_models(inputs: str | None = None) -> list[str]:
    """Names of the registered backbones, sorted.

    Parameters
    ----------
    inputs : {"float", "tokens", "frames"}, optional
        Keep only the models that read this kind of input natively.

    Returns
    -------
    names : list of str
    """
    if inputs is not None and inputs not in INPUT_KINDS:
        raise ValueError(f"Unknown input kind {inputs!r}; expected one of {INPUT_KINDS}.")
    return sorted(n for n, s in _REGISTRY.items() if inputs is None or inputs in s.inputs)


def get_spec(model) -> ModelSpec:
    """Return the :class:`ModelSpec` of a registered model.

    Parameters
    ----------
    model : str or type
        The registry name (``"s5"``) or the backbone class.

    Returns
    -------
    spec : ModelSpec

    Raises
    ------
    KeyError
        With the list of known names when ``model`` is not registered.
    """
    if isinstance(model, type):
        for spec in _REGISTRY.values():
            if spec.cls is model:
                return spec
        raise KeyError(f"{model.__name__} is not a registered backbone.")
    try:
        return _REGISTRY[model]
    except KeyError:
        raise KeyError(
            f"Unknown model {model!r}; registered models: {sorted(_REGISTRY)}."
        ) from None
