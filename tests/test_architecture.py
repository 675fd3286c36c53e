"""The architecture holds (ARCHITECTURE.md): straight layers, no cycles, no generated code, and
every named estimator declares and documents all of its parameters."""

import ast
import dataclasses
import inspect
import pathlib
import re

import pytest

import seqestim
from seqestim.estimators import TrainingParams, named_estimators
from seqestim.nn._params import section_body

PACKAGE = pathlib.Path(seqestim.__file__).parent

#: Lowest layer first; a module may import its own layer and the ones below, never above.
LAYERS = [
    ("seqestim._version", "seqestim.nn"),
    ("seqestim.registry", "seqestim.datasets", "seqestim.training"),
    ("seqestim.estimators",),
    ("seqestim.baselines", "seqestim.compose", "seqestim.persistence"),
    ("seqestim.model_selection", "seqestim.diagnostics"),
    ("seqestim.sktime",),
    ("seqestim.cli", "seqestim"),
]


def _module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> int:
    best = None
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                # the longest matching prefix decides ("seqestim" matches everything)
                if best is None or len(prefix) > len(best[1]):
                    best = (index, prefix)
    assert best is not None, f"{module} belongs to no layer; add it to LAYERS"
    return best[0]


def _imports(path: pathlib.Path) -> set[str]:
    """Every seqestim module ``path`` imports, at module level or inside functions."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                name = f"{base}.{node.module}" if node.module else base
            else:
                name = node.module
            for alias in node.names:  # "from seqestim.cli import compare" imports a module
                candidate = f"{name}.{alias.name}"
                found.add(candidate if _path_of(candidate) is not None else name)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            found.add(node.args[0].value)
    return {name for name in found if name == "seqestim" or name.startswith("seqestim.")}


def _path_of(module: str):
    relative = pathlib.Path(*module.split("."))
    for candidate in (
        PACKAGE.parent / relative.with_suffix(".py"),
        PACKAGE.parent / relative / "__init__.py",
    ):
        if candidate.is_file():
            return candidate
    return None


SOURCES = sorted(PACKAGE.rglob("*.py"))
GRAPH = {_module_name(path): _imports(path) for path in SOURCES}


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_no_module_imports_upward(module):
    layer = _layer(module)
    upward = sorted(name for name in GRAPH[module] if _layer(name) > layer)
    assert not upward, f"{module} (layer {layer}) imports upward: {upward}"


def test_torch_layer_and_registry_import_only_downward():
    for module, imported in GRAPH.items():
        if module.startswith("seqestim.nn"):
            assert all(n.startswith("seqestim.nn") for n in imported), (module, imported)
        if module == "seqestim.registry":
            assert all(n.startswith("seqestim.nn") for n in imported), imported


def test_no_import_cycles():
    # a package's __init__ importing its own submodules is how packages work; every other
    # edge counts, and the graph must have no cycle
    def edges(module):
        for name in GRAPH[module]:
            if name in GRAPH and not (
                name.startswith(module + ".") and _path_of(module).name == "__init__.py"
            ):
                yield name

    state = {}

    def visit(module, stack):
        state[module] = "active"
        for name in edges(module):
            if state.get(name) == "active":
                cycle = [*stack[stack.index(name) :], name]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if name not in state:
                visit(name, [*stack, name])
        state[module] = "done"

    for module in GRAPH:
        if module not in state:
            visit(module, [module])


def test_no_generated_code_in_the_package():
    for path in SOURCES:
        text = path.read_text()
        assert not re.search(r"\bGENERATED\b|[Dd]o not edit", text), path


ESTIMATORS = named_estimators()
TRAINING = [field.name for field in dataclasses.fields(TrainingParams)]


def test_catalogue_is_complete():
    names = {cls.__name__ for cls in ESTIMATORS}
    assert len(names) == len(ESTIMATORS) >= 25
    assert {"S5Classifier", "ARMACellForecaster", "ConvARMAForecaster"} <= names
    for name in names:
        assert getattr(seqestim, name).__name__ == name  # the top-level import path


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_signature_holds_every_parameter_explicitly(cls):
    parameters = inspect.signature(cls).parameters
    assert all(
        p.kind is p.KEYWORD_ONLY and p.default is not p.empty for p in parameters.values()
    ), "explicit keyword parameters with defaults only (no *args/**kwargs)"
    missing = [name for name in TRAINING if name not in parameters]
    assert not missing, f"training parameters missing: {missing}"
    backbone_group = seqestim.get_spec(cls._backbone).params
    assert {f.name for f in dataclasses.fields(backbone_group)} <= set(parameters)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_docstring_documents_every_parameter_once(cls):
    body = section_body(cls.__doc__, "Parameters")
    documented = re.findall(r"^(\w+) : ", body, re.M)
    assert sorted(documented) == sorted(inspect.signature(cls).parameters)
    assert len(documented) == len(set(documented))
    for section in ("Attributes", "References", "Examples"):
        assert section_body(cls.__doc__, section), f"{cls.__name__} lacks {section}"
