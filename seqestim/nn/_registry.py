"""Where registered backbones are recorded: the :func:`register_model` decorator and its table.

The table lives in the torch layer so that each paper module can register its backbone with a
decorator next to the class (timm's ``_registry.py`` style) without importing anything above
``seqestim.nn``. Users read it through :mod:`seqestim.registry`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

__all__ = ["INPUT_KINDS", "MODEL_FORMS", "ModelSpec", "register_model"]

#: What a backbone's ``forward`` reads: float features ``(B, L, d_input)``, integer tokens
#: ``(B, L)`` (``d_input`` is then the vocabulary size), or image frames ``(B, L, C, H, W)``.
INPUT_KINDS = ("float", "tokens", "frames")

#: ``"encoder"``: ``forward(x, mask) -> (B, L, d_output)``. ``"encoder_decoder"``:
#: ``encode``/``decode_step`` for sequence-to-sequence models (see :mod:`seqestim.nn._contract`).
MODEL_FORMS = ("encoder", "encoder_decoder")


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """Everything the library knows about one registered backbone.

    Parameters
    ----------
    name : str
        Registry key, e.g. ``"s5"``.
    cls : type
        The backbone class (a ``torch.nn.Module`` built as ``cls(d_input, params)``).
    params : type
        Its parameter group (see :mod:`seqestim.nn._params`), e.g. ``S5Params``.
    paper : str
        Full citation of the paper the backbone implements.
    url : str
        Where the paper can be read.
    description : str
        One line for the model tables.
    inputs : tuple of str
        The :data:`INPUT_KINDS` the backbone reads natively. A float backbone serves token
        tasks behind an embedding, which the task adds.
    form : str
        One of :data:`MODEL_FORMS`.
    causal : bool
        Whether output step ``t`` depends only on inputs ``<= t`` with the default parameters
        (an instance may say otherwise through its own ``causal`` attribute).
    supports_step : bool
        Whether the backbone has ``init_state``/``step`` for online use.
    carries_state : bool
        Whether the backbone can continue a sequence from the state an earlier call returned
        (``forward_with_state``, see :mod:`seqestim.nn._contract`), so that long sequences are
        processed in chunks with the state carried across them.
    test_params : tuple of dict
        At least two small parameter sets, used by the common tests and the sktime adapters.
    """

    name: str
    cls: type
    params: type
    paper: str
    url: str
    description: str = ""
    inputs: tuple[str, ...] = ("float",)
    form: str = "encoder"
    causal: bool = False
    supports_step: bool = False
    carries_state: bool = False
    test_params: tuple[Mapping[str, Any], ...] = ()

    def build(self, d_input: int, **params: Any):
        """A backbone for ``d_input`` input features with ``params`` changed from the defaults."""
        return self.cls(d_input, self.params(**params))


_REGISTRY: dict[str, ModelSpec] = {}


def register_model(
    name: str,
    *,
    params: type,
    paper: str,
    url: str,
    description: str = "",
    inputs: tuple[str, ...] = ("float",),
    form: str = "encoder",
    causal: bool = False,
    supports_step: bool = False,
    carries_state: bool = False,
    test_params: tuple[Mapping[str, Any], ...] = (),
) -> Callable[[type], type]:
    """Register a backbone class under ``name``.

    Parameters
    ----------
    name : str
        Registry key; must be unique.
    params, paper, url, description, inputs, form, causal, supports_step, carries_state, \
    test_params
        See :class:`ModelSpec`.

    Returns
    -------
    decorator : callable
        Returns the class unchanged after recording its spec.

    Raises
    ------
    ValueError
        If ``name`` is taken, an input kind or form is unknown, ``params`` is not a dataclass,
        or fewer than two test parameter sets are given.
    """
    unknown = set(inputs) - set(INPUT_KINDS)
    if unknown or not inputs:
        raise ValueError(f"Unknown input kind(s) {sorted(unknown)} for {name!r}; {INPUT_KINDS}.")
    if form not in MODEL_FORMS:
        raise ValueError(f"Unknown form {form!r} for model {name!r}; expected {MODEL_FORMS}.")
    if not dataclasses.is_dataclass(params):
        raise ValueError(f"params of model {name!r} must be a parameter group (a dataclass).")
    if carries_state and not supports_step:
        raise ValueError(f"Model {name!r} carries its state, so it must also step.")
    if len(test_params) < 2:
        raise ValueError(f"Model {name!r} needs at least two test parameter sets.")
    field_names = {field.name for field in dataclasses.fields(params)}
    for test in test_params:
        if set(test) - field_names:
            raise ValueError(
                f"Test parameters {sorted(set(test) - field_names)} of {name!r} are not fields "
                f"of {params.__name__}."
            )

    def decorator(cls: type) -> type:
        if name in _REGISTRY and _REGISTRY[name].cls is not cls:
            raise ValueError(f"A model named {name!r} is already registered.")
        _REGISTRY[name] = ModelSpec(
            name=name,
            cls=cls,
            params=params,
            paper=paper,
            url=url,
            description=description,
            inputs=tuple(inputs),
            form=form,
            causal=causal,
            supports_step=supports_step,
            carries_state=carries_state,
            test_params=tuple(MappingProxyType(dict(p)) for p in test_params),
        )
        return cls

    return decorator
