"""A SQLite unit of work turns the request's connection into the writer (see `orm._sqlite_writer`).

The shared test session runs inside an outer transaction (it is bound to a connection), so the
server's own path is exercised here on an engine of its own, as a gunicorn worker has it.
"""

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from exchange import audit, clock
from exchange.audit import AuditEvent
from exchange.extensions import make_engine
from exchange.orm import _sqlite_writer
from tests.databases import fresh_database


@pytest.fixture
def engine(tmp_path):
    with fresh_database(None, tmp_path) as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def _events(engine) -> int:
    with Session(engine) as other:
        return other.scalar(select(func.count()).select_from(AuditEvent))


def _record(session, action="test.event"):
    audit.record(session, actor="system", action=action, subject_type="test", subject_id=1)


def test_the_writer_reads_what_was_committed_after_the_requests_first_read(engine):
    session = Session(engine, expire_on_commit=False)
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0  # the request's read
    with Session(engine) as other, other.begin():
        _record(other, "meanwhile")  # another writer commits after that read began
    with _sqlite_writer(session):
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 1
        _record(session)
    assert _events(engine) == 2
    session.close()


def test_a_failed_unit_of_work_leaves_nothing_and_the_connection_usable(engine):
    session = Session(engine, expire_on_commit=False)
    with pytest.raises(RuntimeError), _sqlite_writer(session):
        _record(session)
        raise RuntimeError("refused half way")
    assert _events(engine) == 0
    with _sqlite_writer(session):
        _record(session)
    assert _events(engine) == 1
    session.close()


def test_objects_added_in_the_unit_of_work_are_written_inside_it(engine):
    session = Session(engine, expire_on_commit=False)
    session.commit = lambda: None  # what the session would flush after the driver's commit is lost
    with _sqlite_writer(session):
        session.add(AuditEvent(at=clock.now(), actor="system", action="orm.added", subject_type="test",
                               subject_id="2", data={}))
    assert _events(engine) == 1  # flushed and committed inside the unit of work
    session.close()
