"""`flask --app wsgi exchange backup PATH`: a consistent copy of the SQLite database while the
server keeps serving, through SQLite's online backup API.

The copy is made in one step: in WAL mode it reads one snapshot (as any reader does) while
writers go on, where a copy in small steps would start over each time a redemption commits and
might never finish under load. It is written to a temporary file beside PATH, checked
(`PRAGMA quick_check`), flushed to disk and only then linked to PATH — which must not exist —
so PATH is either the whole copy or absent. PostgreSQL is backed up with its own tools
(docs/operations.md): the command says so instead of pretending.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(RuntimeError):
    """The backup was not made; the message says why, and nothing was left behind."""


POSTGRESQL_PROCEDURE = """\
This database is PostgreSQL: back it up with PostgreSQL's own tools (docs/operations.md).
  small installs, a consistent dump while serving:
    pg_dump --format=custom --file=exchange-$(date +%Y%m%d%H%M).dump {target}
  restore into an empty database:
    pg_restore --dbname={target} --no-owner exchange-YYYYMMDDHHMM.dump
  point-in-time recovery: continuous WAL archiving (archive_mode = on, archive_command) and a
  base backup (pg_basebackup --pgdata=… --wal-method=stream --checkpoint=fast); restore the base
  backup with recovery_target_time and restore_command.
No backup was made."""


def database_path(url: str) -> Path | None:
    """The SQLite file of `url`, or None for another database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(parsed.database)


def postgresql_target(url: str) -> str:
    """The database named for pg_dump, without its password."""
    parsed = make_url(url)
    return f"postgresql://{parsed.username or ''}{'@' if parsed.username else ''}{parsed.host or ''}" \
           f"{f':{parsed.port}' if parsed.port else ''}/{parsed.database or ''}"


def backup_sqlite(source: Path, target: Path) -> int:
    """Copy `source` to `target` (which must not exist); the copy's size in bytes."""
    target = Path(os.path.abspath(target))
    if target.exists() or target.is_symlink():
        raise BackupError(f"{target} exists already: choose a new path (a backup never overwrites)")
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent} is not a directory")
    if not source.exists():
        raise BackupError(f"the database {source} does not exist")
    try:
        fd, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    except OSError as error:
        raise BackupError(f"cannot write in {target.parent}: {error.strerror}") from None
    os.close(fd)
    try:
        _copy(source, Path(partial))
        try:
            os.link(partial, target)  # never replaces: a file that appeared meanwhile stays
        except FileExistsError:
            raise BackupError(f"{target} exists already: choose a new path (a backup never overwrites)") from None
        except OSError as error:
            raise BackupError(f"cannot write {target}: {error.strerror}") from None
        _sync_directory(target.parent)
        return target.stat().st_size
    finally:
        Path(partial).unlink(missing_ok=True)


def _copy(source: Path, partial: Path) -> None:
    src = sqlite3.connect(source, timeout=30)  # only read: SELECTs under one snapshot
    dst = sqlite3.connect(partial)
    try:
        src.backup(dst)  # one step: one snapshot, writers not held up (WAL)
        # The copy stands alone: no -wal file of its own, the journal mode recorded in it.
        dst.execute("PRAGMA journal_mode=DELETE")
        if (check := dst.execute("PRAGMA quick_check").fetchone()[0]) != "ok":
            raise BackupError(f"the copy failed its check ({check}); nothing was written")
    except sqlite3.Error as error:
        raise BackupError(f"the copy failed: {error}") from None
    finally:
        dst.close()
        src.close()
    with open(partial, "rb+") as f:
        os.fsync(f.fileno())


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
