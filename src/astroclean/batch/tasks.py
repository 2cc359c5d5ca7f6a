"""Work units, the task-spec interface, and the worker-side call that runs one unit.

A *task spec* is a small frozen dataclass holding a task's parameters (model name,
threshold, ...). It is pickled to the workers, so it must hold no loaded model; the
heavy state is built on the worker by :meth:`TaskSpec.load`, once per worker process,
and kept in a per-process cache keyed by the spec itself (see :func:`run_unit`).

Example
-------
>>> import numpy as np, tempfile, pathlib
>>> from astropy.io import fits
>>> path = pathlib.Path(tempfile.mkdtemp()) / "f.fits"
>>> fits.PrimaryHDU(np.zeros((3, 8, 8), "f4")).writeto(path)
>>> [u.label for u in image_units(path, sha256=file_sha256(path))]
['f.fits[0][p0]', 'f.fits[0][p1]', 'f.fits[0][p2]']
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from astroclean.errors import AstrocleanError
from astroclean.io.paths import file_sha256  # noqa: F401  (re-exported)

_STATE: dict = {}  # per worker process: spec -> loaded state; filled on first use, never at import
_THREADS: dict = {}  # per worker process: the torch thread count already applied
MAX_CACHED = 2  # loaded states kept per process (an external cluster may serve several tasks in turn)


@dataclass(frozen=True)
class WorkUnit:
    """One independent piece of work: one image (HDU or cube plane) of one file.

    Attributes
    ----------
    path : str
        Input file.
    sha256 : str
        Checksum of the input file (recorded in the products and the manifest).
    index : int
        HDU number in the file.
    hdu : str
        HDU label (EXTNAME, ``"SCI,2"`` or the number as text).
    plane : int or None
        Plane of a cube; None for a 2-D HDU.
    n_in_file : int
        Number of units of this file (products are tagged by HDU when it is > 1).
    """

    path: str
    sha256: str
    index: int
    hdu: str
    plane: int | None = None
    n_in_file: int = 1

    @property
    def key(self) -> str:
        """Unique key of the unit within a task: ``path[index]`` (+ ``[plane]``)."""
        return f"{self.path}[{self.index}]" + ("" if self.plane is None else f"[{self.plane}]")

    @property
    def label(self) -> str:
        """Short human label: ``name[HDU]`` (+ ``[pN]``)."""
        return f"{Path(self.path).name}[{self.hdu}]" + ("" if self.plane is None else f"[p{self.plane}]")


def image_units(path, *, sha256: str, hdu=None) -> list[WorkUnit]:
    """One :class:`WorkUnit` per science image of ``path`` (each image HDU, each cube plane).

    Reads headers only (:func:`astroclean.io.list_images`); raises the reader's clear
    errors for a missing, corrupt or HDU-less file.
    """
    from astroclean.io import list_images

    found = list_images(path, hdu=hdu)
    return [WorkUnit(path=str(path), sha256=sha256, index=i, hdu=label, plane=plane, n_in_file=len(found))
            for i, label, plane in found]


class TaskSpec:
    """Base class of a batch task; subclass it as a ``@dataclass(frozen=True)`` of parameters.

    Override :meth:`outputs`, :meth:`load`, :meth:`process` and :meth:`provenance`
    (and, when needed, :meth:`units`, :meth:`extnames` or :meth:`validate`).
    Class attributes: ``name`` (the task, recorded as ``ACTASK``), ``columns``
    (keys of the dict :meth:`process` returns, shown in the summary table), and
    optionally ``hdu`` (restrict to one HDU).
    """

    name = "task"
    columns: tuple = ()
    hdu = None

    def units(self, path, *, sha256: str) -> list[WorkUnit]:
        """The work units of one file (driver side); default: one per science image."""
        return image_units(path, sha256=sha256, hdu=self.hdu)

    def outputs(self, unit: WorkUnit, outdir: Path) -> tuple[Path, ...]:
        """The product paths of ``unit`` (driver side; deterministic)."""
        raise NotImplementedError

    def load(self):
        """Build the heavy state (a loaded model) on a worker; called once per worker process."""
        return None

    def process(self, state, unit: WorkUnit, outputs, *, overwrite: bool) -> dict:
        """Process one unit, writing every path of ``outputs`` atomically; returns summary fields."""
        raise NotImplementedError

    def provenance(self, unit: WorkUnit) -> dict:
        """Parameters written into every product header; :meth:`validate` checks them on ``--resume``."""
        return {"task": self.name, "input_sha256": unit.sha256}

    def extnames(self, unit: WorkUnit) -> tuple[str, ...]:
        """Extensions every product must hold to count as complete (default: no check)."""
        return ()

    def validate(self, unit: WorkUnit, outputs) -> str | None:
        """None when every output exists and is a complete product of this unit, else the reason."""
        from astroclean.batch.products import check_product

        for path in outputs:
            reason = check_product(path, provenance=self.provenance(unit), extnames=self.extnames(unit))
            if reason:
                return reason
        return None


def _loaded_state(spec, cache: dict, threads: int | None):
    """The spec's state from ``cache``, loading it on first use; returns (state, loaded_now)."""
    if threads is not None and _THREADS.get("torch") != threads:
        from astroclean.inference.device import set_threads

        set_threads(threads)  # an explicit call inside the worker: one core per worker process
        _THREADS["torch"] = threads
    if spec in cache:
        return cache[spec], False
    while len(cache) >= MAX_CACHED:  # a long-lived worker serving many runs keeps the latest specs only
        cache.pop(next(iter(cache)))
    cache[spec] = spec.load()
    return cache[spec], True


def run_unit(spec: TaskSpec, unit: WorkUnit, outputs, *, overwrite: bool = False, threads: int | None = None,
             cache: dict | None = None, absent_when_planned: bool = False) -> dict:
    """Run one unit where it is called (a worker process, or in-process); never raises for a task error.

    ``absent_when_planned``: none of ``outputs`` existed when the driver planned this unit while holding
    the folder's lock, so a product of this task found at one of their names now was written by an
    earlier try of this same unit (a Dask worker that died after writing it, before its result came
    back, and the scheduler ran the unit again): it is replaced by the same product instead of failing
    with "exists". A file that is not ours is never replaced.

    The spec's state is loaded once per process (``cache`` defaults to a per-process
    dict) and ``threads`` sets torch's thread count once. Returns a dict with
    ``key``, ``status`` ("done" or "failed"), ``error``, ``info`` (the task's summary
    fields), ``started`` (epoch s), ``seconds`` (processing, without loading the state),
    ``pid``, ``host``, ``loaded`` (True when the state was loaded by this call) and
    ``load_seconds``.
    """
    started = time.time()
    clock = time.perf_counter()
    out = {"key": unit.key, "status": "done", "error": None, "info": {}, "started": started,
           "pid": os.getpid(), "host": socket.gethostname(), "loaded": False, "load_seconds": 0.0}
    try:
        state, out["loaded"] = _loaded_state(spec, _STATE if cache is None else cache, threads)
        out["load_seconds"] = time.perf_counter() - clock
        clock = time.perf_counter()
        paths = [Path(p) for p in outputs]
        if absent_when_planned and not overwrite:
            overwrite = _written_by_earlier_try(spec, paths)
        out["info"] = dict(spec.process(state, unit, paths, overwrite=overwrite) or {})
    except AstrocleanError as exc:
        out.update(status="failed", error=str(exc))
    except Exception as exc:  # noqa: BLE001 - one task's bug or bad input must not stop the others
        out.update(status="failed", error=f"{type(exc).__name__}: {exc}")
    out["seconds"] = time.perf_counter() - clock
    return out


def _written_by_earlier_try(spec, outputs) -> bool:
    """True when some of ``outputs`` exist and every one that exists is a product of ``spec``'s task."""
    from astroclean.batch.products import product_task

    existing = [p for p in outputs if p.exists()]
    return bool(existing) and all(product_task(p) == spec.name for p in existing)
