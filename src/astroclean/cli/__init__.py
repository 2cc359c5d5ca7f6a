"""astroclean: find and remove what contaminates astronomical images, and measure what is left.

Run a task on FITS files (files, quoted globs or folders; many files in-process or on Dask):

    astroclean cosmic exposure.fits -o out/                 cosmic rays in single exposures
    astroclean sources map.fits --detect 5 -o out/          compact sources in far-infrared maps
    astroclean cirrus g.fits r.fits i.fits -o out/          Galactic cirrus in deep g, r, i images
    astroclean clusters f336w.fits f438w.fits f814w.fits --catalog c.csv -o out/   star clusters (HST)

Models, simulations with truth, training and benchmarks:

    astroclean models                                       shipped models, the default per task
    astroclean simulate cosmic --flavour ground -o set.npz
    astroclean train cosmic --flavour ground --name ground
    astroclean evaluate cosmic -o bench/               ours and every installed peer, same data

`astroclean COMMAND --help` explains each command.
"""

from __future__ import annotations

import argparse
import sys
import warnings

from astroclean.errors import AstrocleanError
from astroclean.io.paths import printable

_FORMAT = argparse.RawDescriptionHelpFormatter


def _run_task(task):
    def run(args) -> int:
        from astroclean.cli.inputs import run_batch_command

        return run_batch_command(task.batch_spec(args), args)
    return run


def _add_task_command(sub, task) -> None:
    """``astroclean <task.command> INPUTS -o OUT [task options] [batch options]``."""
    from astroclean.cli.inputs import add_batch_arguments

    p = sub.add_parser(task.command, help=task.help, description=task.description, formatter_class=_FORMAT)
    p.add_argument("inputs", nargs="+", help="FITS files, quoted globs or directories")
    p.add_argument("-o", "--output", default=".", help="output directory (default: current)")
    task.add_arguments(p)
    add_batch_arguments(p)
    p.set_defaults(func=_run_task(task))


_STAGES = {"simulate": ("write simulated sets with their truth", "add_simulate"),
           "train": ("train a model (needs the real training data folder)", "add_train"),
           "evaluate": ("benchmarks: our models and the peers on the same held-out data", "add_evaluate")}


def build_parser() -> argparse.ArgumentParser:
    """The whole command line, generated from the registered tasks (:mod:`astroclean.tasks`)."""
    from astroclean import __version__
    from astroclean.cli import models
    from astroclean.tasks import list_tasks

    parser = argparse.ArgumentParser(prog="astroclean", description=__doc__, formatter_class=_FORMAT)
    parser.add_argument("--version", action="version", version=f"astroclean {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    tasks = list_tasks()
    for task in tasks.values():
        custom = getattr(task, "add_command", None)  # a task whose command is not "many files" (clusters)
        custom(sub) if custom else _add_task_command(sub, task)
    models.add_parser(sub)
    for stage, (help_text, hook) in _STAGES.items():
        p = sub.add_parser(stage, help=help_text, description=help_text)
        stage_sub = p.add_subparsers(dest="task", required=True, metavar="TASK")
        for task in tasks.values():
            getattr(task, hook)(stage_sub)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Warnings on the command line read as one line for a user, not a source location."""
    print(printable(f"astroclean: warning: {message}"), file=sys.stderr)


def main(argv=None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 some inputs failed, 2 usage error, 130 Ctrl-C)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            return int(args.func(args) or 0)
        except KeyboardInterrupt as exc:  # a batch run says what it kept (BatchInterrupted); anything else: one line
            detail = str(exc) if isinstance(exc, AstrocleanError) and str(exc) else "interrupted"
            print(printable(f"astroclean: {detail}"), file=sys.stderr)
            return 130
        except AstrocleanError as exc:
            print(printable(f"astroclean: error: {exc}"), file=sys.stderr)
            return 2
        except BrokenPipeError:  # `astroclean models | head`: the reader left; not an error of ours
            sys.stderr.close()
            return 0


if __name__ == "__main__":
    sys.exit(main())
