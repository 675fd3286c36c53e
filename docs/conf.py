"""Sphinx configuration for seqestim.

Build with ``sphinx-build -b html docs docs/_build/html``. The model table is generated from the
registry at build time (``tools/model_table.py``) and the examples in ``examples/`` are run by
sphinx-gallery, so both always match the code.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))
os.environ.setdefault("OMP_NUM_THREADS", "1")

import seqestim  # noqa: E402

project = "seqestim"
author = "seqestim developers"
copyright = "seqestim developers"
release = seqestim.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = [  # the generated pages are included by models.rst and api.rst
    "_build",
    "Thumbs.db",
    ".DS_Store",
    "generated/models_table.rst",
    "generated/api_estimators.rst",
]
html_theme = "alabaster"
html_static_path = []

# ---------------------------------------------------------------------------------- API docs
autosummary_generate = True
autodoc_default_options = {"inherited-members": False, "members": True}
numpydoc_show_class_members = False  # autosummary pages list members already
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

intersphinx_mapping = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable", None),
    "sklearn": ("https://scikit-learn.org/stable", None),
    "torch": ("https://pytorch.org/docs/stable", None),
}
intersphinx_timeout = 2  # offline builds should not wait on the network

# ---------------------------------------------------------------------------------- gallery
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",  # run every plot_*.py
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "reference_url": {"seqestim": None},
}


# ---------------------------------------------------------------------------------- models page
def _write_model_table(app):
    """Generate ``generated/models_table.rst`` from the registry before reading sources."""
    from model_table import model_rows, rst_table

    lines = [rst_table(), ""]
    for row in model_rows():
        title = f"``{row['name']}``"
        lines += [title, "-" * len(title), ""]
        if row["description"]:
            lines += [row["description"][0].upper() + row["description"][1:] + ".", ""]
        lines += [
            f"- Estimators: {', '.join(f':class:`~seqestim.{e}`' for e in row['estimators'])}",
            f"- Tasks: {', '.join(row['tasks'])}",
            f"- Causal: {'yes' if row['causal'] else 'no'}; "
            f"step-by-step inference: {'yes' if row['supports_step'] else 'no'}",
            f"- Paper: {row['paper']} `{row['url']} <{row['url']}>`__",
            "",
        ]
    out = Path(app.srcdir) / "generated" / "models_table.rst"
    out.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(lines)
    if not out.exists() or out.read_text() != text:  # keep mtime stable for incremental builds
        out.write_text(text)


def _write_estimator_api(app):
    """Generate ``generated/api_estimators.rst``: one autosummary section per registered task."""
    from seqestim.estimators import list_tasks, named_estimators

    lines = []
    for task in list_tasks():
        title = task.replace("_", " ").capitalize() + "s"
        lines += [title, "-" * len(title), "", ".. autosummary::", "   :toctree: generated/"]
        lines += ["   :nosignatures:", ""]
        lines += [f"   {cls.__name__}" for cls in named_estimators(task)]
        lines.append("")
    out = Path(app.srcdir) / "generated" / "api_estimators.rst"
    out.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(lines)
    if not out.exists() or out.read_text() != text:
        out.write_text(text)


def _skip_metadata_request_methods(app, what, name, obj, skip, options):
    """Hide sklearn's generated ``set_*_request`` methods (their docstrings cite sklearn's docs)."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("builder-inited", _write_model_table)
    app.connect("autodoc-skip-member", _skip_metadata_request_methods)
    app.connect("builder-inited", _write_estimator_api)
