"""Print the model table (registry name, estimators, paper), built from what is registered.

Usage::

    python tools/model_table.py            # Markdown table on stdout (paste into README.md)
    python tools/model_table.py --rst      # the same table as reStructuredText (for the docs)

The docs build imports :func:`markdown_table`/:func:`rst_table` from here so the README and the
documentation cannot drift apart.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a source checkout

from seqestim.estimators import named_estimators
from seqestim.registry import get_spec, list_models

__all__ = ["markdown_table", "model_rows", "rst_table"]


def model_rows() -> list[dict]:
    """One dict per registered model: name, estimators, tasks, paper, url, description."""
    rows = []
    for name in list_models():
        spec = get_spec(name)
        estimators = named_estimators(model=name)
        rows.append(
            {
                "name": name,
                "estimators": [cls.__name__ for cls in estimators],
                "tasks": sorted({cls._task for cls in estimators}),
                "paper": spec.paper,
                "url": spec.url,
                "description": spec.description,
                "causal": spec.causal,
                "supports_step": spec.supports_step,
            }
        )
    return rows


def _escape_md(text: str) -> str:
    return text.replace("|", "\\|")


def markdown_table() -> str:
    """The model table in GitHub Markdown."""
    lines = ["| registry name | estimators | paper |", "|---|---|---|"]
    for row in model_rows():
        estimators = ", ".join(f"`{e}`" for e in row["estimators"])
        paper = f"[{_escape_md(row['paper'])}]({row['url']})" if row["url"] else row["paper"]
        lines.append(f"| `{row['name']}` | {estimators} | {paper} |")
    return "\n".join(lines) + "\n"


def rst_table() -> str:
    """The model table as a reStructuredText ``list-table`` (used by the docs build)."""
    lines = [
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 12 30 58",
        "",
        "   * - registry name",
        "     - estimators",
        "     - paper",
    ]
    for row in model_rows():
        estimators = ", ".join(f":class:`~seqestim.{e}`" for e in row["estimators"])
        paper = row["paper"]
        if row["url"]:
            paper += f" `{row['url']} <{row['url']}>`__"
        lines += [
            f"   * - ``{row['name']}``",
            f"     - {estimators}",
            f"     - {paper}",
        ]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rst", action="store_true", help="reStructuredText instead of Markdown")
    args = parser.parse_args(argv)
    sys.stdout.write(rst_table() if args.rst else markdown_table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
