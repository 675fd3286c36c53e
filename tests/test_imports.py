"""Layering: seqestim.nn must import without the sklearn layer (ARCHITECTURE.md, "Layers")."""

import subprocess
import sys

BLOCKED = ("sklearn", "skorch", "pandas", "statsmodels", "sktime")


def test_nn_imports_without_sklearn_skorch_pandas():
    code = f"""
import sys, importlib.abc
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {BLOCKED!r}:
            raise ImportError('blocked: ' + name)
sys.meta_path.insert(0, Block())
import seqestim.nn
from seqestim.registry import list_models
assert list_models(), 'no models registered'
print('ok')
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_nn_sources_do_not_mention_the_sklearn_layer():
    import pathlib

    import seqestim.nn

    for path in pathlib.Path(seqestim.nn.__file__).parent.glob("*.py"):
        text = path.read_text()
        for name in BLOCKED:
            assert f"import {name}" not in text and f"from {name}" not in text, (path, name)
