"""``astroclean models``: list the shipped models with their cards, and which one each task uses by default."""

from __future__ import annotations

#: What each task's command uses when no --model is given (the command reads the header to choose).
DEFAULTS = {
    "ground": "default of `astroclean cosmic` for ground-based frames",
    "space": "default of `astroclean cosmic` for frames from space (header TELESCOP=HST, JWST, ...)",
    "pacs-blue": "default of `astroclean sources` for PACS 70 and 100 um maps (header WAVELNTH)",
    "pacs-red": "default of `astroclean sources` for PACS 160 um maps (header WAVELNTH)",
}


def add_parser(subparsers):
    p = subparsers.add_parser("models", help="list models and their cards")
    p.add_argument("--task", default=None,
                   help="only models of this task: its command or code name (cosmic, sources, ...; default: all)")
    p.add_argument("--all", action="store_true", help="also list untrained architecture variants (for training)")
    p.set_defaults(func=run)


def run(args) -> int:
    from astroclean.models import get_card, list_models

    task = None
    if args.task is not None:
        from astroclean.tasks import get_task

        task = get_task(args.task).name
    names = list_models(task, pretrained=None if args.all else True)
    for name in names:
        card = get_card(name)
        if name in DEFAULTS:
            print(f"* {DEFAULTS[name]}")
        elif card.weights_file is None:
            print("* untrained architecture: for training only (its output is noise until trained)")
        print(card.summary())
        print()
    if not names:
        print(f"(no shipped model for task {task}; --all lists the untrained architectures)")
    return 0
