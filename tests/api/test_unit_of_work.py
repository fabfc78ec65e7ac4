"""The unit of work on SQLite: the request's connection becomes the writer (`BEGIN IMMEDIATE`
under the writer lock), reads what was committed before it, and commits or leaves nothing.

The suite's own database sessions are bound to each test's connection (every unit of work a
SAVEPOINT of it); here a `Database` of its own is opened on a fresh file, as a gunicorn worker
has it, and the same `unit_of_work` runs on it.
"""

import sqlite3

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from exchange import audit, clock
from exchange.audit import AuditEvent
from exchange.db.database import Database
from exchange.db.unit_of_work import unit_of_work
from tests.databases import fresh_database


@pytest.fixture
def database(tmp_path):
    with fresh_database(None, tmp_path) as url:
        database = Database()
        database.open(url)
        yield database
        database.end_session()
        database.engine.dispose()


def _events(database) -> int:
    with Session(database.engine) as other:
        return other.scalar(select(func.count()).select_from(AuditEvent))


def _record(session, action="test.event"):
    audit.record(session, actor="system", action=action, subject_type="test", subject_id=1)


def test_the_writer_reads_what_was_committed_after_the_requests_first_read(database):
    session = database.session()
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0  # the request's read
    with Session(database.engine) as other, other.begin():
        _record(other, "meanwhile")  # another writer commits after that read began
    with unit_of_work(database=database) as uow:
        assert uow.session is session
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 1
        _record(session)
    assert _events(database) == 2


def test_the_write_lock_is_taken_at_begin_and_the_connection_stays_the_requests(database):
    session = database.session()
    connection = session.get_bind()
    session.scalar(select(func.count()).select_from(AuditEvent))
    with unit_of_work(database=database):
        other = sqlite3.connect(database.engine.url.database, timeout=0, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")  # SQLite's write lock is this unit's from its BEGIN
        other.close()
    assert session.get_bind() is connection  # ending the read transaction kept the connection
    other = sqlite3.connect(database.engine.url.database, timeout=0, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # and committing released the lock
    other.execute("ROLLBACK")
    other.close()


def test_a_failed_unit_of_work_leaves_nothing_and_the_connection_usable(database):
    with pytest.raises(RuntimeError), unit_of_work(database=database) as uow:
        _record(uow.session)
        raise RuntimeError("refused half way")
    assert _events(database) == 0
    with unit_of_work(database=database) as uow:
        _record(uow.session)
    assert _events(database) == 1


def test_objects_added_in_the_unit_of_work_are_written_before_its_compiled_statements(database):
    with unit_of_work(database=database) as uow:
        uow.session.add(AuditEvent(at=clock.now(), actor="system", action="orm.added", subject_type="test",
                                   subject_id="2", data={}))
        _record(uow.session)  # a compiled INSERT: the ORM's pending row is flushed first
        ids = uow.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert ids == ["orm.added", "test.event"]
    assert _events(database) == 2


def test_units_of_work_do_not_nest(database):
    with unit_of_work(database=database) as uow:
        _record(uow.session)
        with pytest.raises(RuntimeError, match="do not nest"), unit_of_work(database=database):
            pass
    assert _events(database) == 1


def test_before_commit_hooks_write_inside_the_transaction(database):
    with pytest.raises(RuntimeError), unit_of_work(database=database) as uow:
        uow.before_commit(lambda u: _record(u.session, "from the hook"))
        raise RuntimeError("the hook's write goes with the unit's")
    assert _events(database) == 0
    with unit_of_work(database=database) as uow:
        uow.before_commit(lambda u: _record(u.session, "from the hook"))
    assert _events(database) == 1


def test_the_tests_units_of_work_are_savepoints_of_the_tests_transaction(connection):
    from exchange.extensions import db

    with unit_of_work() as uow:
        _record(uow.session, "kept")
    with pytest.raises(RuntimeError), unit_of_work() as uow:
        _record(uow.session, "rolled back")
        raise RuntimeError
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.subject_type == "test")).all()
    assert actions == ["kept"]
    assert connection.in_transaction()  # the test's outer transaction, rolled back afterwards
