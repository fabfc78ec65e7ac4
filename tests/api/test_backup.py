"""`flask exchange backup PATH`: a whole, checked copy of the SQLite database or nothing at all;
never over an existing file; on PostgreSQL the procedure instead of a pretended backup. (Under a
redemption load, restored into a fresh server: tests/e2e/test_backup_restore.py.)"""

import sqlite3

import pytest

from exchange.db import backup as backup_module
from tests.databases import fresh_database


@pytest.fixture
def sqlite_url(app, tmp_path, monkeypatch):
    """The command pointed at a SQLite database of the test's own (on either test database)."""
    with fresh_database(None, tmp_path) as url:
        # A row still only in the write-ahead log (kept open, never checkpointed), as under a server.
        writer = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        writer.execute("PRAGMA journal_mode=WAL")
        writer.execute("PRAGMA wal_autocheckpoint=0")
        writer.execute("CREATE TABLE backup_probe (x TEXT)")
        writer.execute("INSERT INTO backup_probe VALUES ('甲')")
        monkeypatch.setitem(app.config, "DATABASE_URL", url)
        yield url
        writer.close()


def run(app, *args):
    return app.test_cli_runner().invoke(args=["exchange", "backup", *args])


def leftovers(directory):
    return [p.name for p in directory.iterdir() if p.name.endswith(".partial")]


def test_a_backup_is_a_whole_checked_copy(app, sqlite_url, tmp_path):
    target = tmp_path / "copies" / "exchange-backup.sqlite3"
    target.parent.mkdir()
    result = run(app, str(target))
    assert result.exit_code == 0, result.output
    assert "backup written" in result.output
    with sqlite3.connect(target) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("SELECT x FROM backup_probe").fetchall() == [("甲",)]
        assert copy.execute("SELECT version_num FROM alembic_version").fetchone()
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # stands alone
    assert leftovers(target.parent) == []


def test_an_existing_path_is_refused_and_left_alone(app, sqlite_url, tmp_path):
    target = tmp_path / "precious.sqlite3"
    target.write_bytes(b"yesterday's backup")
    result = run(app, str(target))
    assert result.exit_code == 1
    assert "exists already" in result.output
    assert target.read_bytes() == b"yesterday's backup"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("where", ["/proc/exchange-backup.sqlite3", "{tmp}/no/such/dir/b.sqlite3",
                                   "{tmp}/a-file/b.sqlite3"])
def test_a_path_that_cannot_be_written_is_a_clear_error(app, sqlite_url, tmp_path, where):
    (tmp_path / "a-file").write_text("not a directory")
    target = where.format(tmp=tmp_path)
    result = run(app, target)
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: ")
    assert "cannot write" in result.output or "not a directory" in result.output
    assert "Traceback" not in result.output
    assert leftovers(tmp_path) == []


def test_a_copy_that_fails_halfway_leaves_nothing_behind(app, sqlite_url, tmp_path, monkeypatch):
    def broken(source, partial):
        partial.write_bytes(b"half a database")
        raise backup_module.BackupError("the copy failed: disk I/O error")

    monkeypatch.setattr(backup_module, "_copy", broken)
    result = run(app, str(tmp_path / "b.sqlite3"))
    assert result.exit_code == 1 and "the copy failed" in result.output
    assert not (tmp_path / "b.sqlite3").exists() and leftovers(tmp_path) == []


def test_postgresql_gets_the_procedure_not_a_pretended_backup(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "DATABASE_URL", "postgresql+psycopg://exchange:s3cret@db.internal:5433/exchange")
    result = run(app, str(tmp_path / "b.sqlite3"))
    assert result.exit_code == 2
    assert "pg_dump --format=custom" in result.output and "pg_basebackup" in result.output
    assert "postgresql://exchange@db.internal:5433/exchange" in result.output
    assert "s3cret" not in result.output and "No backup was made" in result.output
    assert not (tmp_path / "b.sqlite3").exists()
