"""Where units run: in this process (default), a local Dask cluster, or an existing Dask scheduler.

Every executor has ``run(spec, jobs, *, threads)`` yielding ``(job, outcome)`` as units
finish, where ``job = (unit, outputs, overwrite, absent)`` (``absent``: no output existed when
the unit was planned) and ``outcome`` is the dict of
:func:`~astroclean.batch.tasks.run_unit`, and ``close()``.

A worker process that dies (killed, out of memory) takes its running unit with it;
the Dask scheduler then reruns that unit on another worker, up to
``distributed.scheduler.allowed-failures`` times (default 3), after which the unit
is reported failed ("worker died ..."). A unit killed while writing leaves at most a
hidden temporary, never a product at its final name.

Example
-------
>>> ex = make_executor()            # in-process, no server
>>> ex.description
'in-process'
>>> ex.close()
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
import time
import uuid
import warnings
from urllib.parse import urlparse

from astroclean.errors import AstrocleanValueError
from astroclean.batch.tasks import run_unit

CONNECT_TIMEOUT = 3.0


class InProcessExecutor:
    """Runs units one after the other in this process; the state is loaded once and dropped at ``close()``."""

    description = "in-process"

    def __init__(self):
        self._cache: dict = {}

    def run(self, spec, jobs, *, threads: int | None = None):
        previous = None
        if threads is not None:
            from astroclean.inference.device import set_threads

            previous = set_threads(threads)
        try:
            for job in jobs:
                unit, outputs, overwrite, _ = job  # one try per unit here: no earlier try can have written
                yield job, run_unit(spec, unit, outputs, overwrite=overwrite, cache=self._cache)
        finally:
            if previous is not None:
                set_threads(previous)  # leave the caller's process as it was

    def close(self) -> None:
        self._cache.clear()


def check_scheduler(address: str, *, timeout: float = CONNECT_TIMEOUT) -> None:
    """Raise a clear error unless something accepts TCP connections at ``address`` within ``timeout`` s."""
    parsed = urlparse(address if "://" in address else f"tcp://{address}")
    if parsed.scheme not in ("tcp", "tls"):
        return  # other transports (inproc, ucx) are left to distributed
    try:
        host, port = parsed.hostname, parsed.port
    except ValueError:
        host = port = None
    if not host or not port:
        raise AstrocleanValueError(f"scheduler address must look like tcp://host:8786, got {address!r}")
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        raise AstrocleanValueError(f"no Dask scheduler answers at {address} ({exc}); start one with "
                                   "`dask scheduler` (and `dask worker ADDR` on each machine) or check the "
                                   "address; nothing was started") from None


class DaskExecutor:
    """Runs units on Dask workers: a new ``LocalCluster`` (``workers=N``) or the scheduler at ``scheduler``.

    ``scheduler`` may also be a ``distributed.Client`` the caller owns (it is not closed).
    Local workers are processes with one thread each; each sets torch to one thread.
    """

    def __init__(self, *, workers: int | None = None, scheduler=None, timeout: float = CONNECT_TIMEOUT):
        from distributed import Client, LocalCluster

        self._cluster = None
        self._own_client = True
        if scheduler is not None and not isinstance(scheduler, str):
            self.client, self._own_client = scheduler, False
            self.description = f"dask client {scheduler.scheduler.address}"
        elif scheduler is not None:
            check_scheduler(scheduler, timeout=timeout)
            try:
                self.client = Client(scheduler, timeout=f"{max(timeout, 1.0)}s")
            except Exception as exc:  # noqa: BLE001 - whatever answered is not a usable scheduler
                raise AstrocleanValueError(f"cannot connect to a Dask scheduler at {scheduler}: {exc}; "
                                           "check the address; nothing was started") from None
            self.description = f"dask scheduler {scheduler}"
        else:
            with _sigint_ignored(), warnings.catch_warnings():  # workers inherit SIG_IGN: Ctrl-C stops the driver,
                warnings.simplefilter("ignore")                   # which stops them quietly
                self._cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                             dashboard_address=None, silence_logs=logging.ERROR)
            self.client = Client(self._cluster)
            self.description = f"dask LocalCluster, {workers} worker(s)"

    def worker_pids(self) -> dict:
        """``{worker address: pid}`` of the current workers."""
        import os

        return self.client.run(os.getpid)

    def run(self, spec, jobs, *, threads: int | None = 1):
        from distributed import as_completed

        jobs = list(jobs)
        if not jobs:
            return
        run_id = uuid.uuid4().hex[:8]
        futures = {}
        for i, job in enumerate(jobs):
            unit, outputs, overwrite, absent = job
            future = self.client.submit(run_unit, spec, unit, [str(p) for p in outputs], overwrite=overwrite,
                                        threads=threads, absent_when_planned=absent,
                                        key=f"astroclean-{spec.name}-{run_id}-{i}", pure=False)
            futures[future] = job
        for future in as_completed(futures):
            job = futures.pop(future)
            started = time.time()
            try:
                outcome = future.result()
            except Exception as exc:  # noqa: BLE001 - KilledWorker, a lost connection, unpicklable input
                outcome = {"key": job[0].key, "status": "failed", "info": {}, "started": started, "seconds": 0.0,
                           "pid": None, "host": None, "loaded": False, "load_seconds": 0.0,
                           "error": _dask_error(exc)}
            future.release()
            yield job, outcome

    def close(self) -> None:
        with _quiet_logs():  # an interrupted run's shutdown must not print the workers' complaints
            if self._own_client:
                self.client.close()
            if self._cluster is not None:
                self._cluster.close()


@contextlib.contextmanager
def _sigint_ignored():
    """Ignore SIGINT while child processes are started (only possible from the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def _quiet_logs():
    loggers = [logging.getLogger(n) for n in ("distributed", "tornado", "asyncio")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def available_cores() -> int:
    """The CPU cores this process may use (its affinity mask, else ``os.cpu_count()``)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):
        return max(os.cpu_count() or 1, 1)


def _dask_error(exc) -> str:
    from distributed.scheduler import KilledWorker

    if isinstance(exc, KilledWorker):
        return ("worker died while running this unit on each of its tries (distributed.scheduler."
                "allowed-failures); it may need more memory than a worker has")
    if type(exc).__name__ in _LOST:  # the unit's result was on a worker that died before it was collected
        return (f"worker died or its connection was lost before this unit's result came back "
                f"({type(exc).__name__}: {exc}); rerun with --resume")
    return f"{type(exc).__name__}: {exc}"


_LOST = ("CancelledError", "FutureCancelledError", "CommClosedError", "StreamClosedError", "FutureLost")


def make_executor(*, workers: int | None = None, scheduler=None, timeout: float = CONNECT_TIMEOUT):
    """In-process when neither ``workers`` nor ``scheduler`` is given, else a :class:`DaskExecutor`."""
    if workers is not None and scheduler is not None:
        raise AstrocleanValueError("give either workers (a local cluster) or scheduler (an existing one), "
                                   "not both")
    if workers is not None and (isinstance(workers, bool) or int(workers) != workers or workers < 1):
        raise AstrocleanValueError(f"workers must be an integer >= 1, got {workers!r}")
    if workers is not None and workers > available_cores():
        cores = available_cores()
        warnings.warn(f"workers={int(workers)} is more than the {cores} CPU core(s) this machine gives the process; "
                      f"using {cores} worker(s) (more would only compete for the same cores)", stacklevel=2)
        workers = cores
    if workers is None and scheduler is None:
        return InProcessExecutor()
    return DaskExecutor(workers=None if workers is None else int(workers), scheduler=scheduler, timeout=timeout)
