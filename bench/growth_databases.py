"""The growth benchmark's two databases: built once, kept, and reused while their build still fits.

A database is reused when its recorded build (a JSON comment on the database) is of the current
world format and size; it is then upgraded to the migrations' head in place, as a production
database would be. `--rebuild` (or another format or size) builds it anew. The signing key its
coupons were signed with travels in the same comment, so a reused database needs nothing else.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.common import POSTGRES_URL
from bench.growth_world import FORMAT, build
from exchange.cli import alembic_config


def name_for(n: int) -> str:
    return "exchange_bench_" + (f"{n // 1_000_000}m" if n % 1_000_000 == 0 else f"{n // 1000}k")


def _admin():
    return create_engine(make_url(POSTGRES_URL).set(database="postgres"), isolation_level="AUTOCOMMIT")


def recorded(name: str) -> dict | None:
    engine = _admin()
    try:
        with engine.connect() as conn:
            comment = conn.scalar(text("SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                                       "WHERE datname = :name"), {"name": name})
    finally:
        engine.dispose()
    try:
        meta = json.loads(comment) if comment else None
    except ValueError:
        return None
    return meta if isinstance(meta, dict) and meta.get("bench") == "growth" else None


def ensure(n: int, *, rebuild: bool = False, log=print) -> tuple[str, dict]:
    """The URL of the N-coupon database (built now if it must be) and its recorded build."""
    name = name_for(n)
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    meta = recorded(name)
    if not rebuild and meta and meta["format"] == FORMAT and meta["coupons"] == n:
        command.upgrade(alembic_config(url), "head")
        log(f"  reusing {name} (built {meta['built_at']} in {meta['build_seconds']} s)", flush=True)
        return url, meta
    log(f"  building {name}: {n:,} coupons", flush=True)
    engine = _admin()
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        command.upgrade(alembic_config(url), "head")
        meta = {"bench": "growth", **build(make_url(url).set(drivername="postgresql").render_as_string(
            hide_password=False), n, log=log), "built_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
        with engine.connect() as conn:
            conn.execute(text(f"COMMENT ON DATABASE \"{name}\" IS '{json.dumps(meta).replace(chr(39), chr(39) * 2)}'"))
    finally:
        engine.dispose()
    return url, meta


def size_of(url: str) -> dict:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            total = conn.scalar(text("SELECT pg_database_size(current_database())"))
            tables = conn.execute(text(
                "SELECT relname, pg_total_relation_size(oid), reltuples::bigint FROM pg_class "
                "WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace ORDER BY 2 DESC LIMIT 8")).all()
    finally:
        engine.dispose()
    return {"database_gb": round(total / 2**30, 2),
            "tables": {t: {"gb": round(b / 2**30, 2), "rows": rows} for t, b, rows in tables}}


def key_dir(meta: dict, directory: Path) -> Path:
    """A signing-key directory holding the key the database's coupons were signed with."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(directory / f"{meta['kid']}.pem", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(meta["pem"])
    (directory / "keyring.json").write_text(json.dumps(
        {"keys": [{"kid": meta["kid"], "status": "current", "created_at": int(time.time())}]}))
    return directory
