"""SQLite's single writer, queued in the open (one thread lock, one flock)."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class WriterLock:
    """SQLite's single writer, queued in the open instead of in SQLite's busy handler.

    SQLite lets one connection write at a time; a `BEGIN IMMEDIATE` that finds the lock taken
    sleeps in the busy handler and polls (1, 2, 5, … up to 100 ms between tries), so under many
    concurrent writers some wait far longer than the lock was held: the p99 tail. Here a writer
    first takes a thread lock (the writers of this process) and then an exclusive `flock` on a
    file beside the database (the other server processes), and is woken the moment the previous
    writer commits. This is only a queue in front of SQLite's own lock, which still guards the
    database against every other writer (the CLI, a migration). Reentrant within a thread.
    PostgreSQL needs none of this: `enabled` is false there.
    """

    def __init__(self, database: str | None, *, enabled: bool = False):
        self.enabled = enabled
        in_memory = not database or database == ":memory:" or database.startswith("file::memory:")
        self._path = None if in_memory else f"{database}.writer-lock"
        self._thread_lock = threading.RLock()
        self._depth = threading.local()
        self._file = None
        self._file_pid = None

    @contextmanager
    def held(self) -> Iterator[None]:
        if not self.enabled:
            yield
            return
        with self._thread_lock:
            depth = getattr(self._depth, "n", 0)
            self._depth.n = depth + 1
            locked_file = depth == 0 and self._path is not None
            try:
                if locked_file:
                    fcntl.flock(self._lock_file(), fcntl.LOCK_EX)
                yield
            finally:
                if locked_file:
                    fcntl.flock(self._file, fcntl.LOCK_UN)
                self._depth.n = depth

    def _lock_file(self):
        # A forked server process must not share its parent's open file (flock locks belong to
        # the open file, so parent and child would hold the lock together).
        if self._file is None or self._file_pid != os.getpid():
            self._file = open(self._path, "a")  # noqa: SIM115 - kept open: the flock lives on it
            self._file_pid = os.getpid()
        return self._file
