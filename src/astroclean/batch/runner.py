"""``run_batch``: list the units of many files, skip the finished ones, run the rest, record everything.

Example
-------
See :mod:`astroclean.batch`.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from astroclean.errors import AstrocleanError, AstrocleanFileError, AstrocleanValueError
from astroclean.io.paths import printable
from astroclean.batch.executors import check_scheduler, make_executor
from astroclean.batch.lock import OutputLock
from astroclean.batch.manifest import Manifest, ManifestWriteError
from astroclean.batch.products import foreign_file, product_task, remove_temporaries
from astroclean.batch.progress import Progress
from astroclean.batch.tasks import file_sha256

MANIFEST_NAME = "astroclean-manifest.sqlite"


class BatchInterrupted(AstrocleanError, KeyboardInterrupt):
    """Ctrl-C during a run: the workers are stopped, the message says what was kept and how to go on."""


@dataclass(frozen=True)
class BatchReport:
    """What a run did: one row per unit (and per unreadable file), in input order.

    Each row has ``file``, ``hdu``, ``status`` (done, failed, skipped), ``outputs``,
    ``seconds``, ``error``, ``worker`` (host:pid), ``loaded`` (this unit loaded the
    model on its worker) and the task's summary fields under ``info``.
    """

    task: str
    rows: list = field(repr=False)
    n_done: int
    n_failed: int
    n_skipped: int
    seconds: float
    manifest: Path
    executor: str

    @property
    def ok(self) -> bool:
        return self.n_failed == 0

    @property
    def failures(self) -> list:
        return [r for r in self.rows if r["status"] == "failed"]


def _check_outdir(outdir) -> Path:
    outdir = Path(outdir)
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AstrocleanFileError(f"cannot create the output directory {outdir}: {exc}; choose another with -o") \
            from None
    if not os.access(outdir, os.W_OK | os.X_OK):
        raise AstrocleanFileError(f"output directory {outdir} is not writable; choose another with -o")
    return outdir


def _row(unit_or_path, *, status, outputs=(), error=None, seconds=None, worker=None, info=None, loaded=False):
    unit = None if isinstance(unit_or_path, (str, Path)) else unit_or_path
    path = str(unit_or_path) if unit is None else unit.path
    return {"file": printable(Path(path).name), "path": path, "hdu": "-" if unit is None else unit.hdu,
            "plane": None if unit is None else unit.plane, "key": path if unit is None else unit.key,
            "status": status, "outputs": [str(p) for p in outputs], "seconds": seconds, "error": error,
            "worker": worker, "loaded": loaded, "info": info or {}}


def run_batch(spec, files, *, outdir, workers: int | None = None, scheduler=None, resume: bool = False,
              overwrite: bool = False, manifest=None, progress: bool | None = None, threads: int | None = None,
              timeout: float = 3.0, on_result=None) -> BatchReport:
    """Run ``spec`` on every image of ``files`` as independent units; never raises for a unit's failure.

    Parameters
    ----------
    spec : TaskSpec
        The task and its parameters (a frozen dataclass, see :class:`~astroclean.batch.TaskSpec`).
    files : list of path
        Input files (the CLI expands globs and folders with ``expand_inputs``).
    outdir : path
        Output folder (created if missing; must be writable).
    workers : int, optional
        Start a local Dask cluster of this many single-threaded worker processes.
    scheduler : str or distributed.Client, optional
        Address of an existing Dask scheduler (``tcp://host:8786``), or a client.
        Neither ``workers`` nor ``scheduler``: run in this process, no server.
    resume : bool
        Skip units whose products are complete and valid (:meth:`TaskSpec.validate`);
        redo the others, replacing their invalid or stale products.
    overwrite : bool
        Replace existing products (without it a unit whose product exists fails).
    manifest : path, optional
        SQLite manifest (default ``outdir/astroclean-manifest.sqlite``).
    progress : bool or None
        Progress bar on stderr; None: only on a terminal.
    threads : int, optional
        Torch threads per worker; default 1 on Dask workers, unchanged in-process.
    timeout : float
        Seconds to wait for a scheduler to answer.
    on_result : callable, optional
        ``on_result(row)`` after each finished unit (driver side).

    Returns
    -------
    BatchReport

    Raises
    ------
    AstrocleanValueError, AstrocleanFileError
        No input, an unwritable output folder, a scheduler that does not answer:
        raised before any unit starts.
    """
    start = time.perf_counter()
    files = list(dict.fromkeys(Path(f) for f in files))
    if not files:
        raise AstrocleanValueError("no input files were given; pass FITS files, folders or a quoted glob")
    if workers is not None and scheduler is not None:
        raise AstrocleanValueError("give either workers (a local cluster) or scheduler (an existing one), not both")
    if isinstance(scheduler, str):
        check_scheduler(scheduler, timeout=timeout)  # a dead address fails here, before anything is made
    outdir = _check_outdir(outdir)
    manifest_path = Path(manifest) if manifest is not None else outdir / MANIFEST_NAME
    lock = OutputLock(outdir, task=spec.name)  # a second run into this folder: a clear error, nothing touched
    try:
        executor = make_executor(workers=workers, scheduler=scheduler, timeout=timeout)
    except BaseException:
        lock.release()
        raise
    remote = executor.description != "in-process"
    try:
        book = Manifest(manifest_path)
    except BaseException:
        executor.close()
        lock.release()
        raise
    rows, jobs, all_outputs, seen = {}, [], [], {}
    units_done = 0
    try:
        book.start_run(spec.name, executor=executor.description,
                       params={"spec": repr(spec), "resume": resume, "overwrite": overwrite, "n_files": len(files)})
        order = []
        listing = Progress(len(files), desc=f"{spec.name}: headers, checksums", enabled=progress, statuses=())
        for path in files:
            listing.update(None)
            task = product_task(path)
            # products are never inputs (-o equal to the input folder, a glob that saw them); simulations are:
            # they are images with a truth, made to be run on
            if task is not None and not str(task).startswith("simulate"):
                row = _row(path, status="skipped", error=f"an astroclean product (ACTASK={task}), not an input")
                rows[row["key"]] = row
                order.append(row["key"])
                continue
            try:
                units = spec.units(path, sha256=book.checksum(path, file_sha256) if path.is_file() else "")
            except (AstrocleanError, OSError) as exc:
                row = _row(path, status="failed", error=str(exc))
                rows[row["key"]] = row
                order.append(row["key"])
                book.record(spec.name, key=row["key"], input=str(path), status="failed", error=str(exc),
                            commit=False)
                continue
            for unit in units:
                outputs = tuple(Path(p) for p in spec.outputs(unit, outdir))
                order.append(unit.key)
                clash = [p for p in outputs if p in seen]
                if clash:
                    error = (f"{clash[0].name} is also the product of {seen[clash[0]]}; inputs with the same "
                             "name go to different output folders (run them separately)")
                    rows[unit.key] = _row(unit, status="failed", error=error)
                    book.record(spec.name, key=unit.key, input=unit.path, status="failed", error=error, commit=False)
                    continue
                seen.update((p, unit.label) for p in outputs)
                foreign = next((r for r in map(foreign_file, outputs) if r), None)
                if foreign:  # a file we did not write sits at a product's name: never touched, whatever the flags
                    rows[unit.key] = _row(unit, status="failed", error=foreign)
                    book.record(spec.name, key=unit.key, input=unit.path, status="failed", error=foreign,
                                commit=False)
                    continue
                all_outputs += outputs
                exists = any(p.exists() for p in outputs)
                if resume and exists and spec.validate(unit, outputs) is None:
                    rows[unit.key] = _row(unit, status="skipped", outputs=outputs)
                    book.record(spec.name, key=unit.key, input=unit.path, sha256=unit.sha256, hdu=unit.hdu,
                                plane=unit.plane, outputs=outputs, status="skipped", commit=False)
                    continue
                jobs.append((unit, outputs, overwrite or (resume and exists), not exists))
                book.record(spec.name, key=unit.key, input=unit.path, sha256=unit.sha256, hdu=unit.hdu,
                            plane=unit.plane, outputs=outputs, status="queued", commit=False)
        listing.close()
        book.commit()
        if resume:
            remove_temporaries(all_outputs)
        bar = Progress(len(order), desc=spec.name, enabled=progress)
        for row in rows.values():
            bar.update(row["status"])
        try:
            for (unit, outputs, *_), outcome in executor.run(spec, jobs, threads=1 if remote and threads is None
                                                              else threads):
                worker = f"{outcome.get('host')}:{outcome.get('pid')}" if outcome.get("pid") else None
                row = _row(unit, status=outcome["status"], outputs=outputs, error=outcome["error"],
                           seconds=outcome["seconds"], worker=worker, info=outcome["info"], loaded=outcome["loaded"])
                rows[unit.key] = row
                try:
                    book.record(spec.name, key=unit.key, input=unit.path, sha256=unit.sha256, hdu=unit.hdu,
                                plane=unit.plane, outputs=outputs, status=outcome["status"],
                                started=outcome["started"], seconds=outcome["seconds"], worker=worker,
                                error=outcome["error"])
                except ManifestWriteError as exc:  # a full disk: this unit failed, the others go on
                    row.update(status="failed", error=f"{exc} (its products may exist; rerun with --resume)")
                units_done += 1
                bar.update(row["status"])
                if on_result is not None:
                    on_result(row)
        except KeyboardInterrupt:
            raise BatchInterrupted(f"interrupted after {units_done} of {len(jobs)} unit(s); finished products "
                                   f"are kept and recorded in {manifest_path}; run the same command with --resume "
                                   "to do the rest") from None
        finally:
            bar.close()
        remove_temporaries(all_outputs)  # what a killed worker left; every unit has finished
        ordered = [rows[k] for k in order]
        counts = {s: sum(r["status"] == s for r in ordered) for s in ("done", "failed", "skipped")}
        try:
            book.finish_run(n_done=counts["done"], n_failed=counts["failed"], n_skipped=counts["skipped"])
        except ManifestWriteError:
            pass  # the units' rows say what happened; the run's totals could not be stored
    finally:
        try:
            book.close()
        finally:
            try:
                executor.close()
            finally:
                lock.release()
    return BatchReport(task=spec.name, rows=ordered, n_done=counts["done"], n_failed=counts["failed"],
                       n_skipped=counts["skipped"], seconds=time.perf_counter() - start, manifest=manifest_path,
                       executor=executor.description)
