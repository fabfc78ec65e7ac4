"""`upgrade head` on an empty database gives exactly the models' schema."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from exchange.cli import alembic_config
from exchange.db.engine import make_engine
from exchange.models import Base
from tests.databases import fresh_database


def _differences(url):
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def test_upgrade_head_on_an_empty_database_matches_the_models(base_db_url, tmp_path):
    with fresh_database(base_db_url, tmp_path, migrate=False) as url:
        command.upgrade(alembic_config(url), "head")
        assert _differences(url) == []


def test_migrations_downgrade_to_nothing_and_upgrade_again(base_db_url, tmp_path):
    with fresh_database(base_db_url, tmp_path, migrate=False) as url:
        cfg = alembic_config(url)
        command.upgrade(cfg, "head")
        command.downgrade(cfg, "base")
        engine = make_engine(url)
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        engine.dispose()
        command.upgrade(cfg, "head")
        assert _differences(url) == []
