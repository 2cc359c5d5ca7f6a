"""The task contract: what every science task (cosmic rays, compact sources, cirrus, clusters) provides.

A task lives in its own slice (``astroclean/<task>/``) and registers one :class:`Task` object
with :func:`register_task`. From it the package derives, with no per-task code elsewhere:

* the CLI subcommand ``astroclean <task.command> FILES -o OUT`` (its own options from
  :meth:`Task.add_arguments`, the shared batch options, and :meth:`Task.batch_spec` to run it
  through :mod:`astroclean.batch`);
* its ``astroclean simulate|train|evaluate <task.command>`` subcommands (:meth:`Task.add_simulate`,
  :meth:`Task.add_train`, :meth:`Task.add_evaluate`; ``None`` when the task has none);
* its benchmark, an object following the :class:`Benchmark` protocol.

A task's Python result is a frozen :class:`Result`: arrays, a table with units where it has
one, provenance, and ``write(path)``, which makes the same files as the CLI.

The floor never imports a slice directly: :data:`TASK_MODULES` names the modules that register
the tasks, imported on first use. A new task adds its module there (see ``docs/architecture.md``).

Example
-------
>>> from astroclean.tasks import list_tasks
>>> sorted(t.command for t in list_tasks().values())[:2]
['cosmic', 'sources']
"""

from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, Sequence, runtime_checkable

from astroclean.errors import AstrocleanKeyError, AstrocleanValueError
from astroclean.io.paths import register_product_suffix

#: Modules that register a task when imported (one per slice).
TASK_MODULES = ("astroclean.cosmicrays.task", "astroclean.sources.task", "astroclean.cirrus.task",
                "astroclean.clusters.task")

_TASKS: dict = {}


@dataclass(frozen=True)
class Result:
    """Base of every task's result: frozen; ``provenance`` (dict) is written into every product header.

    Subclasses are frozen dataclasses holding their arrays and tables, and implement
    :meth:`extensions`; :meth:`write` then makes the standard FITS product, atomically, never
    over an existing file unless ``overwrite=True``.
    """

    provenance: dict = field(default_factory=dict, kw_only=True)

    def extensions(self, header=None, **options) -> list:
        """The product's image extensions: ``[(EXTNAME, array, header), ...]`` (``header``: the input's)."""
        raise NotImplementedError

    def write(self, path, *, header=None, primary_header=None, overwrite: bool = False, **options) -> Path:
        """Write the standard FITS product to ``path`` (the same file the CLI writes); returns the path.

        ``header`` (the input image's, WCS included) goes on every extension;
        ``primary_header`` on HDU 0. Provenance cards (``AC*``) are added. ``options``
        go to :meth:`extensions` (e.g. ``probability=False``).
        """
        from astroclean.io import write_fits

        return write_fits(path, self.extensions(header, **options), primary_header=primary_header,
                          provenance=dict(self.provenance), overwrite=overwrite)

    def replace(self, **changes):
        """A copy with ``changes`` (the result itself is frozen)."""
        return dataclasses.replace(self, **changes)


@runtime_checkable
class Benchmark(Protocol):
    """What every task's benchmark provides, so that one harness habit serves them all.

    ``build_set`` makes the held-out cases (seeded, versioned, with truth); ``run_method`` runs
    one method (ours or a peer) on one case; ``summarise`` turns the per-case rows into the
    tables the docs quote; ``report`` writes tables and plots into a folder.
    """

    def build_set(self, **options) -> Sequence: ...

    def run_method(self, name: str, case) -> Any: ...

    def summarise(self, rows) -> Any: ...

    def report(self, summary, outdir, *, overwrite: bool = False) -> dict: ...


class Task:
    """Base class of a registered task; subclass it in the slice and decorate with :func:`register_task`.

    Class attributes: ``name`` (the code name, e.g. ``"cosmicrays"``), ``command`` (the CLI
    name, e.g. ``"cosmic"``), ``help`` (one line), ``cli`` and ``evaluate_cli`` (names of the
    slice's modules holding ``add_arguments(parser)``, ``batch_spec(args)``,
    ``add_simulate_parser(sub)``, ``add_train_parser(sub)`` and ``add_evaluate_parser(sub)``;
    a function that is absent means the task has no such command). Override the methods
    instead when that is simpler. A task whose main command is not "many files, one product
    each" defines ``add_command(subparsers)`` to build it itself. ``products`` lists the name
    endings of the files the task writes: input expansion never takes such a file as an input.
    """

    name = "task"
    command = "task"
    help = ""
    cli: str | None = None
    evaluate_cli: str | None = None
    products: tuple[str, ...] = ()

    def _hook(self, module, function):
        return getattr(importlib.import_module(module), function, None) if module else None

    @property
    def description(self) -> str:
        """The help text of the task's CLI subcommand: its CLI module's docstring."""
        return importlib.import_module(self.cli).__doc__ if self.cli else self.help

    def add_arguments(self, parser) -> None:
        """Add the task's own options to its CLI subcommand (inputs, -o and batch options are shared)."""
        hook = self._hook(self.cli, "add_arguments")
        if hook:
            hook(parser)

    def batch_spec(self, args):
        """The :class:`astroclean.batch.TaskSpec` that runs the task on many files, from parsed ``args``."""
        hook = self._hook(self.cli, "batch_spec")
        if hook is None:
            raise NotImplementedError(f"task {self.name!r} has no batch_spec")
        return hook(args)

    def add_simulate(self, subparsers):
        """Add ``astroclean simulate <command>`` (None: the task has no simulation command)."""
        hook = self._hook(self.cli, "add_simulate_parser")
        return hook(subparsers) if hook else None

    def add_train(self, subparsers):
        """Add ``astroclean train <command>``."""
        hook = self._hook(self.cli, "add_train_parser")
        return hook(subparsers) if hook else None

    def add_evaluate(self, subparsers):
        """Add ``astroclean evaluate <command>``."""
        hook = self._hook(self.evaluate_cli, "add_evaluate_parser")
        return hook(subparsers) if hook else None

    def benchmark(self) -> Benchmark:
        """The task's benchmark (an object following :class:`Benchmark`)."""
        raise NotImplementedError


def register_task(cls):
    """Class decorator: register one instance of the :class:`Task` subclass ``cls`` under ``cls.name``."""
    if not (isinstance(cls, type) and issubclass(cls, Task)):
        raise AstrocleanValueError(f"register_task takes a Task subclass, got {cls!r}")
    if cls.name in _TASKS and type(_TASKS[cls.name]) is not cls:
        raise AstrocleanValueError(f"a task named {cls.name!r} is already registered")
    _TASKS[cls.name] = cls()
    for suffix in cls.products:
        register_product_suffix(suffix)
    return cls


def list_tasks() -> dict:
    """Every registered task, ``{name: Task}``; imports :data:`TASK_MODULES` on first use (a broken import
    is an error, never a silently missing task)."""
    for module in TASK_MODULES:
        importlib.import_module(module)
    return dict(_TASKS)


def get_task(name: str) -> Task:
    """The task registered as ``name`` (code name or CLI command)."""
    tasks = list_tasks()
    for task in tasks.values():
        if name in (task.name, task.command):
            return task
    raise AstrocleanKeyError(f"unknown task {name!r}; known: {', '.join(sorted(tasks))}")
