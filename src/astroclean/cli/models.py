"""``astroclean models``: list the registered models with their cards."""

from __future__ import annotations


def add_parser(subparsers):
    p = subparsers.add_parser("models", help="list models and their cards")
    p.add_argument("--task", default=None, help="only models of this task: its command or code name (cosmic, sources, ...)")
    p.add_argument("--all", action="store_true", help="also list untrained architecture variants")
    p.set_defaults(func=run)


def run(args) -> int:
    from astroclean.models import get_card, list_models

    task = None
    if args.task is not None:
        from astroclean.tasks import get_task

        task = get_task(args.task).name
    for name in list_models(task):
        card = get_card(name)
        if card.weights_file is None and not args.all:
            continue
        print(card.summary())
        print()
    return 0
