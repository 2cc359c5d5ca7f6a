"""The run manifest: one SQLite file recording every task of every run, written by the driver only.

Tables
------
``tasks``  one row per (task, unit): ``task, key, input, sha256, hdu, plane, status``
           (queued, done, failed, skipped), ``outputs`` (JSON list), ``started``,
           ``finished`` (UTC ISO), ``seconds``, ``worker``, ``error``, ``run``.
``files``  checksum cache: ``path, size, mtime_ns, sha256`` (a file whose size and
           mtime are unchanged is not hashed again on ``--resume``).
``runs``   one row per run: ``run, task, started, finished, executor, params,
           n_done, n_failed, n_skipped``.

SQLite commits each row as it arrives, so a driver killed mid-run leaves a manifest
that is correct up to its last result. Read it with any SQLite client, or as an
astropy Table with :meth:`Manifest.table` (``.write("m.ecsv")`` for ECSV).

Example
-------
>>> import tempfile, pathlib
>>> m = Manifest(pathlib.Path(tempfile.mkdtemp()) / "m.sqlite")
>>> run = m.start_run("demo", executor="in-process", params={})
>>> m.close()
"""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from astroclean.errors import AstrocleanFileError
from astroclean.io.paths import printable


class ManifestWriteError(AstrocleanFileError):
    """The manifest could not be written (a full disk, a lost file system); the message says which."""


def _guarded(method):
    """Turn an SQLite failure while writing into :class:`ManifestWriteError` with the cause in words."""
    import functools

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            try:
                self._db.rollback()
            except sqlite3.Error:
                pass
            full = "full" in str(exc).lower()
            hint = "free some space" if full else "check the file system"
            raise ManifestWriteError(f"cannot write the manifest {printable(self.path)} ({exc}); {hint}") from None
    return wrapper

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (task TEXT, key TEXT, input TEXT, sha256 TEXT, hdu TEXT, plane INTEGER,
    status TEXT, outputs TEXT, started TEXT, finished TEXT, seconds REAL, worker TEXT, error TEXT, run INTEGER,
    PRIMARY KEY (task, key));
CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, sha256 TEXT);
CREATE TABLE IF NOT EXISTS runs (run INTEGER PRIMARY KEY AUTOINCREMENT, task TEXT, started TEXT, finished TEXT,
    executor TEXT, params TEXT, n_done INTEGER, n_failed INTEGER, n_skipped INTEGER);
"""
_COLUMNS = ("task", "key", "input", "sha256", "hdu", "plane", "status", "outputs", "started", "finished",
            "seconds", "worker", "error", "run")


def utc_now(epoch: float | None = None) -> str:
    when = datetime.fromtimestamp(epoch, timezone.utc) if epoch is not None else datetime.now(timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


class Manifest:
    """An SQLite manifest at ``path`` (created if missing).

    Parameters
    ----------
    path : str or Path
        The database file; its folder must exist and be writable.
    """

    def __init__(self, path):
        self.path = Path(path)
        try:
            self._db = sqlite3.connect(self.path, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise AstrocleanFileError(f"cannot open the manifest {printable(self.path)}: {exc}; pass --manifest with a "
                                      "writable path, or remove a corrupt manifest") from exc
        self.run = None

    def close(self) -> None:
        self._db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @_guarded
    def start_run(self, task: str, *, executor: str, params: dict) -> int:
        cur = self._db.execute("INSERT INTO runs (task, started, executor, params) VALUES (?, ?, ?, ?)",
                               (task, utc_now(), executor, json.dumps(params, default=str)))
        self._db.commit()
        self.run = cur.lastrowid
        return self.run

    @_guarded
    def finish_run(self, *, n_done: int, n_failed: int, n_skipped: int) -> None:
        self._db.execute("UPDATE runs SET finished=?, n_done=?, n_failed=?, n_skipped=? WHERE run=?",
                         (utc_now(), n_done, n_failed, n_skipped, self.run))
        self._db.commit()

    @_guarded
    def checksum(self, path, compute) -> str:
        """The file's sha256 from the cache when its size and mtime are unchanged, else ``compute(path)``."""
        path = Path(path)
        st = os.stat(path)
        row = self._db.execute("SELECT size, mtime_ns, sha256 FROM files WHERE path=?", (printable(path),)).fetchone()
        if row and row[0] == st.st_size and row[1] == st.st_mtime_ns:
            return row[2]
        digest = compute(path)
        self._db.execute("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)",
                         (printable(path), st.st_size, st.st_mtime_ns, digest))
        self._db.commit()
        return digest

    @_guarded
    def record(self, task: str, *, key: str, input: str, status: str, sha256: str | None = None,  # noqa: A002
               hdu: str | None = None, plane: int | None = None, outputs=(), started: float | None = None,
               seconds: float | None = None, worker: str | None = None, error: str | None = None,
               commit: bool = True) -> None:
        """Insert or replace the row of one unit."""
        finished = utc_now() if status in ("done", "failed", "skipped") else None
        key, input, error = printable(key), printable(input), None if error is None else printable(error)  # noqa: A001
        row = (task, key, input, sha256, hdu, plane, status, json.dumps([printable(p) for p in outputs]),
               utc_now(started) if started is not None else None, finished, seconds, worker, error, self.run)
        self._db.execute(f"INSERT OR REPLACE INTO tasks VALUES ({', '.join('?' * len(_COLUMNS))})", row)
        if commit:
            self._db.commit()

    @_guarded
    def commit(self) -> None:
        self._db.commit()

    def rows(self, task: str | None = None) -> list[dict]:
        """Every task row (of ``task`` when given) as dicts."""
        query, args = "SELECT * FROM tasks", ()
        if task is not None:
            query, args = query + " WHERE task=?", (task,)
        return [dict(zip(_COLUMNS, r)) for r in self._db.execute(query + " ORDER BY input, key", args)]

    def table(self, task: str | None = None):
        """The task rows as an :class:`astropy.table.Table` (write it with ``.write("m.ecsv")``)."""
        from astropy.table import Table

        rows = self.rows(task)
        return Table(rows=[[r[c] if r[c] is not None else "" for c in _COLUMNS] for r in rows],
                     names=_COLUMNS) if rows else Table(names=_COLUMNS)
