"""Fresh, migrated databases for tests: a SQLite file, or a new PostgreSQL database."""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from exchange.cli import alembic_config


@contextmanager
def fresh_database(base_url: str | None, tmp_dir: Path, *, migrate: bool = True):
    """Yield the URL of a new, empty database (migrated to head unless `migrate=False`)."""
    if base_url is None:
        url = f"sqlite:///{tmp_dir / f'exchange-{uuid.uuid4().hex[:8]}.sqlite3'}"
        if migrate:
            command.upgrade(alembic_config(url), "head")
        yield url
        return
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    name = f"exchange_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(base_url).set(database=name).render_as_string(hide_password=False)
    try:
        if migrate:
            command.upgrade(alembic_config(url), "head")
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
