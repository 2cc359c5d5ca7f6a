"""One run at a time per output folder: an advisory lock on ``OUTDIR/.astroclean.lock``.

Two runs writing into one folder would race on the same products and the same manifest rows. The
second run is refused before it starts, with the first run's process id and start time. The lock is
an OS file lock (``fcntl.flock``), released when the run ends or its process dies, so a crashed
run never leaves a stale lock behind; a run that ends removes the lock file.

Example
-------
>>> import tempfile
>>> folder = tempfile.mkdtemp()
>>> lock = OutputLock(folder, task="demo")
>>> OutputLock(folder, task="demo")          # doctest: +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
AstrocleanFileError: another astroclean run ...
>>> lock.release()
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timezone
from pathlib import Path

from astroclean.errors import AstrocleanFileError

LOCK_NAME = ".astroclean.lock"

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock, runs are not protected from each other
    fcntl = None


class OutputLock:
    """Hold the lock of ``outdir`` until :meth:`release`; raises at once when another run holds it."""

    def __init__(self, outdir, *, task: str):
        self.path = Path(outdir) / LOCK_NAME
        self._fh = None
        if fcntl is None:
            return
        for _ in range(10):
            try:
                fh = open(self.path, "a+")
            except OSError:
                return  # a read-only folder fails later with its own clear error
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                fh.seek(0)
                holder = fh.read().strip() or "unknown"
                fh.close()
                break
            try:
                same = os.stat(self.path).st_ino == os.fstat(fh.fileno()).st_ino
            except FileNotFoundError:
                same = False
            if same:  # not a lock file that its holder removed between our open and our flock
                self._take(fh, task)
                return
            fh.close()
        else:
            return
        raise AstrocleanFileError(f"another astroclean run is writing into {Path(outdir)} ({holder}); wait for it "
                                  "to finish, or write this run to another folder (-o)")

    def _take(self, fh, task):
        fh.seek(0)
        fh.truncate()
        when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        fh.write(f"task {task}, pid {os.getpid()} on {socket.gethostname()}, started {when}\n")
        fh.flush()
        self._fh = fh

    def release(self) -> None:
        """Remove the lock file and release the lock (the folder is left as the run found it)."""
        if self._fh is not None:
            try:
                try:
                    os.unlink(self.path)
                except OSError:
                    pass
                fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            finally:
                self._fh.close()
                self._fh = None
