"""``seqestim models``: the registered models, their papers and the estimators of each task."""

from __future__ import annotations

from seqestim.cli._common import CLIError, wrap

__all__ = ["add_parser", "run"]


def run(args) -> int:
    """Print the registered models (of one task with ``--task``); returns the exit status."""
    from seqestim.estimators import list_tasks, named_estimators
    from seqestim.registry import get_spec, list_models

    if args.task is not None and args.task not in list_tasks():
        raise CLIError(f"unknown task {args.task!r}; choose from: {', '.join(list_tasks())}")
    names = list_models()
    if args.task is not None:
        names = [name for name in names if named_estimators(args.task, model=name)]
    width = max((len(n) for n in names), default=0)
    for name in names:
        spec = get_spec(name)
        estimators = named_estimators(model=name)
        tasks = ", ".join(sorted({cls._task for cls in estimators}))
        classes = ", ".join(cls.__name__ for cls in estimators)
        print(f"{name:<{width}}  {spec.description}")
        print(f"{'':<{width}}  tasks: {tasks}  ->  {classes}")
        print(wrap(f"paper: {spec.paper} {spec.url}", 100, " " * (width + 2)))
    print(f"\n{len(names)} model(s).")
    return 0


def add_parser(subparsers) -> None:
    """Declare ``seqestim models`` on an ``argparse`` subparsers object."""
    parser = subparsers.add_parser(
        "models", help="list the registered models, their papers and tasks"
    )
    parser.add_argument("--task", help="only the models offered for this task, e.g. classifier")
    parser.set_defaults(func=run)
