"""Parameter groups: every hyperparameter declared and documented once, next to its default.

A parameter group is a keyword-only dataclass whose fields carry their own documentation::

    @parameter_group
    class S5Params:
        '''Hyperparameters of the S5 backbone.'''

        d_model: int = param(64, "Number of features ``H`` of every layer.")
        discretization: str = param(
            "zoh", "Zero-order hold or bilinear.", kind='{"zoh", "bilinear"}'
        )

The backbone takes the group as its configuration (``S5(d_input, S5Params(d_model=32))``, in
the style of nanoGPT's ``GPTConfig``), and the named estimators inherit it, together with the
group of their task and the training parameters, so that ``inspect.signature(S5Classifier)``
lists every parameter with its default while each is written down in one place only. The
numpydoc ``Parameters`` section of every class built this way is assembled from the fields by
:func:`parameters_section`.

A subclass may change a default without repeating the documentation: ``lr: float = param(1e-2)``
keeps the text of the ``lr`` declared further up.

This module is plain Python (``dataclasses`` only), so the torch layer can use it.
"""

from __future__ import annotations

import dataclasses
import textwrap
from typing import Any

try:  # Python >= 3.11
    from typing import dataclass_transform
except ImportError:  # pragma: no cover - Python 3.10

    def dataclass_transform(**_kwargs):
        return lambda obj: obj


__all__ = [
    "param",
    "parameter_docs",
    "parameter_group",
    "parameters_section",
    "replace_section",
]

_DOC = "seqestim_doc"
_KIND = "seqestim_kind"


def param(default: Any, doc: str | None = None, *, kind: str | None = None) -> Any:
    """Declare one documented parameter of a parameter group or an estimator.

    Parameters
    ----------
    default : object
        The default value: ``None``, a number, a string, a tuple or a class (sklearn's
        ``clone`` needs defaults it can compare; mutable defaults are not allowed).
    doc : str, optional
        What the parameter does, in numpydoc prose (no leading type line). Omit it to change
        only the default of a parameter documented in a base class.
    kind : str, optional
        The type as the numpydoc line shows it, e.g. ``'{"zoh", "bilinear"}'``; the field's
        annotation when omitted.

    Returns
    -------
    field : dataclasses.Field
    """
    if isinstance(default, list | dict | set):
        raise TypeError(f"Parameter defaults must be immutable; got {default!r}.")
    metadata = {}
    if doc is not None:
        metadata[_DOC] = textwrap.dedent(doc).strip()
    if kind is not None:
        metadata[_KIND] = kind
    return dataclasses.field(default=default, metadata=metadata)


@dataclass_transform(kw_only_default=True, field_specifiers=(param, dataclasses.field))
def parameter_group(cls: type) -> type:
    """Make ``cls`` a keyword-only dataclass and add the ``Parameters`` section to its docstring.

    Parameters
    ----------
    cls : type
        A class whose annotated attributes are declared with :func:`param`.

    Returns
    -------
    cls : type
        The same class, as a dataclass.
    """
    cls = dataclasses.dataclass(cls, kw_only=True)
    cls.__doc__ = replace_section(cls.__doc__ or "", "Parameters", parameters_section(cls))
    return cls


def parameter_docs(cls: type) -> dict[str, tuple[str, str]]:
    """``name -> (kind, doc)`` of every field of ``cls``, each from the class that documents it.

    The nearest class in the method resolution order whose field declares a ``doc`` wins, so
    a subclass that only changes a default keeps its base's text.
    """
    docs: dict[str, tuple[str, str]] = {}
    for field in dataclasses.fields(cls):
        for base in cls.__mro__:
            declared = base.__dict__.get("__dataclass_fields__", {}).get(field.name)
            if declared is not None and _DOC in declared.metadata:
                kind = declared.metadata.get(_KIND) or _annotation(declared)
                docs[field.name] = (kind, declared.metadata[_DOC])
                break
        else:
            raise TypeError(
                f"Parameter {field.name!r} of {cls.__name__} has no documentation; declare it "
                "with param(default, doc)."
            )
    return docs


def _annotation(field: dataclasses.Field) -> str:
    annotation = field.type
    return annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "object")


def _format_default(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, type):
        return value.__name__
    return repr(value)


def _field_order(cls: type) -> list[str]:
    """Fields in reading order: each direct base's fields in turn, then the class's own.

    For ``class S5Classifier(S5Params, SequenceClassifier)`` this lists the model's parameters,
    then the task's, then the training parameters; within a group that extends another
    (``NCGRUParams(RecurrentStackParams)``), the base's fields come first, as in
    ``dataclasses.fields``.
    """
    order: list[str] = []
    for base in cls.__bases__:
        if dataclasses.is_dataclass(base):
            order += [name for name in _field_order(base) if name not in order]
    order += [field.name for field in dataclasses.fields(cls) if field.name not in order]
    return order


def parameters_section(cls: type) -> str:
    """The numpydoc ``Parameters`` section of ``cls``, built from its documented fields.

    Parameters
    ----------
    cls : type
        A dataclass whose fields were declared with :func:`param`.

    Returns
    -------
    section : str
        Without indentation, starting with the ``Parameters`` header.
    """
    docs = parameter_docs(cls)
    fields = {field.name: field for field in dataclasses.fields(cls)}
    lines = ["Parameters", "----------"]
    for name in _field_order(cls):
        kind, doc = docs[name]
        default = _format_default(fields[name].default)
        lines.append(f"{name} : {kind}, default={default}")
        lines.extend("    " + line if line else "" for line in doc.splitlines())
    return "\n".join(lines)


def _split_sections(doc: str) -> tuple[str, dict[str, str]]:
    """Split a dedented numpydoc string into its preamble and ``{header: body}``."""
    lines = doc.splitlines()
    preamble: list[str] = []
    sections: dict[str, list[str]] = {}
    current = None
    index = 0
    while index < len(lines):
        line = lines[index]
        underline = lines[index + 1] if index + 1 < len(lines) else ""
        if line.strip() and underline.strip() and set(underline.strip()) == {"-"}:
            current = line.strip()
            sections[current] = []
            index += 2
            continue
        (preamble if current is None else sections[current]).append(line)
        index += 1
    return "\n".join(preamble).rstrip(), {k: "\n".join(v).strip("\n") for k, v in sections.items()}


#: numpydoc's order of sections
_SECTION_ORDER = (
    "Parameters",
    "Attributes",
    "Methods",
    "Raises",
    "Warns",
    "See Also",
    "Notes",
    "References",
    "Examples",
)


def replace_section(doc: str, header: str, section: str) -> str:
    """Put ``section`` (header included) into the numpydoc string ``doc``, in numpydoc's order.

    An existing section of the same header is replaced. The result is dedented.
    """
    preamble, sections = _split_sections(_dedent_docstring(doc))
    body = section.split("\n", 2)[2] if section.count("\n") >= 2 else ""
    sections[header] = body.strip("\n")
    ordered = [h for h in _SECTION_ORDER if h in sections] + [
        h for h in sections if h not in _SECTION_ORDER
    ]
    parts = [preamble] if preamble else []
    for name in ordered:
        if sections[name].strip():
            parts.append(f"{name}\n{'-' * len(name)}\n{sections[name]}")
    return "\n\n".join(parts) + "\n"


def section_body(doc: str, header: str) -> str:
    """The body of section ``header`` of the numpydoc string ``doc`` ('' when absent)."""
    return _split_sections(_dedent_docstring(doc))[1].get(header, "")


def _dedent_docstring(doc: str) -> str:
    """Dedent a docstring whose first line is not indented (PEP 257's ``inspect.cleandoc``)."""
    import inspect

    return inspect.cleandoc(doc) if doc else ""
