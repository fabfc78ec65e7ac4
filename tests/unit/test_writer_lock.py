"""SQLite's writers queue on `WriterLock`: one holder across threads and processes."""

import fcntl
import threading

import pytest

from exchange.db.writer_lock import WriterLock


def _free_for_another_process(path) -> bool:
    """Whether another open file (as another process would have) can take the lock now."""
    with open(path, "a") as other:
        try:
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(other, fcntl.LOCK_UN)
        return True


def test_a_writer_holds_the_file_lock_until_its_outermost_transaction_ends(tmp_path):
    db = tmp_path / "exchange.sqlite3"
    lock = WriterLock(str(db), enabled=True)
    with lock.held():
        assert not _free_for_another_process(f"{db}.writer-lock")
        with lock.held():  # reentrant: a nested unit of work in the same thread
            pass
        assert not _free_for_another_process(f"{db}.writer-lock")
    assert _free_for_another_process(f"{db}.writer-lock")


def test_a_second_thread_waits_for_the_first_writer(tmp_path):
    lock = WriterLock(str(tmp_path / "exchange.sqlite3"), enabled=True)
    inside, order = threading.Event(), []

    def second():
        inside.wait()
        with lock.held():
            order.append("second")

    thread = threading.Thread(target=second)
    thread.start()
    with lock.held():
        inside.set()
        thread.join(timeout=0.2)  # it cannot get in while the first writer holds the lock
        assert thread.is_alive()
        order.append("first")
    thread.join()
    assert order == ["first", "second"]


@pytest.mark.parametrize("database", [None, ":memory:"])
def test_an_in_memory_database_needs_only_the_thread_lock(database):
    with WriterLock(database, enabled=True).held():
        pass


def test_postgresql_takes_no_lock_here(tmp_path):
    lock = WriterLock(str(tmp_path / "db"), enabled=False)
    with lock.held():
        assert _free_for_another_process(tmp_path / "db.writer-lock")
