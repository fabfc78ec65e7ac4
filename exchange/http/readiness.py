"""`/readyz`: may this server take traffic? (`/healthz` stays the cheap liveness answer.)

Ready means every request could be served as designed: the database answers and takes a write,
its schema is the one this code was written for (Alembic at head), and coupons can be signed.
Redis is not a condition: without it limits are counted per process (SPEC §4.12, degrade,
don't fail), so an unreachable Redis makes the answer `degraded`, not a 503.

Unlike `/healthz` it asks instead of reading flags: a write that is rolled back (an UPDATE of
Alembic's own row, which every install has and no request reads), a ping to Redis. A
load balancer or an orchestrator polls it every few seconds; nothing on the money path does.
"""

from __future__ import annotations

import functools
import sqlite3

import marshmallow as ma
import psycopg
from alembic.script import ScriptDirectory
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import text

from ..db import outages
from ..extensions import db, limiter
from .problems import problem

blp = Blueprint("readiness", __name__, description="Service health")

NOT_READY = "not_ready"
_CHECKS = ("database", "migrations", "signing_key", "rate_limits")
_FAILING = {"database": ("unavailable", "not_writable"), "migrations": ("behind", "ahead"),
            "signing_key": ("missing",)}


class ReadinessSchema(ma.Schema):
    status = ma.fields.String(validate=ma.validate.OneOf(["ready", "degraded"]), metadata={
        "description": "`ready`: all as configured; `degraded`: ready, but limits are counted per "
                       "process because Redis is configured and unreachable"})
    database = ma.fields.String(metadata={"description": "`writable` (a rolled-back write succeeded); "
                                                         "a 503 says `unavailable` or `not_writable`"})
    migrations = ma.fields.String(metadata={"description": "`at_head`; a 503 says `behind` (run "
                                                           "`flask --app wsgi db upgrade`) or `ahead`"})
    signing_key = ma.fields.String(metadata={"description": "`loaded`; a 503 says `missing`"})
    rate_limits = ma.fields.String(validate=ma.validate.OneOf(["shared", "per_process", "fallback"]),
                                   metadata={"description": "as in `/healthz`, but Redis is pinged"})


@functools.cache
def _heads(url: str) -> frozenset[str]:
    from ..cli import alembic_config

    return frozenset(ScriptDirectory.from_config(alembic_config(url)).get_heads())


def _database() -> tuple[str, str]:
    """(database, migrations), from one short transaction that is rolled back."""
    try:
        with db.writer_lock.held():
            try:
                # The write first: a SQLite transaction that read before writing could find its
                # snapshot stale; this one takes the write lock at once (queued behind writers).
                db.session.execute(text("UPDATE alembic_version SET version_num = version_num"))
                found = set(db.session.execute(text("SELECT version_num FROM alembic_version")).scalars())
            finally:
                db.session.rollback()
    except Exception as error:
        kind = outages.database_outage(error)
        if kind is None:
            if _no_schema(error):
                return "reachable", "behind"  # an empty database: `flask --app wsgi db upgrade`
            raise
        outages.note_failure(kind, error)
        db.drop_connections()
        return ("not_writable" if kind == outages.NOT_WRITABLE else "unavailable"), "unknown"
    outages.note_committed()  # it took a write: clears a stale `not_writable` flag too
    heads = _heads(current_app.config["DATABASE_URL"])
    if found == heads:
        return "writable", "at_head"
    return "writable", "ahead" if found and not found <= _known(current_app.config["DATABASE_URL"]) else "behind"


def _no_schema(error: BaseException) -> bool:
    orig = getattr(error, "orig", error)
    return isinstance(orig, psycopg.errors.UndefinedTable) or (
        isinstance(orig, sqlite3.OperationalError) and "no such table" in str(orig))


@functools.cache
def _known(url: str) -> frozenset[str]:
    from ..cli import alembic_config

    return frozenset(rev.revision for rev in ScriptDirectory.from_config(alembic_config(url)).walk_revisions())


def _signing_key() -> str:
    try:
        current_app.extensions["keyring"].current()
    except Exception:  # noqa: BLE001 - no manifest, no current key, an unreadable file: cannot sign
        return "missing"
    return "loaded"


def _rate_limits() -> str:
    if not current_app.config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"]:
        return "per_process"
    try:
        reachable = limiter.storage.check()
    except Exception:  # noqa: BLE001 - any failure of the store's client means: not reachable
        reachable = False
    return "shared" if reachable and not limiter.degraded else "fallback"


def readiness() -> dict[str, str]:
    database, migrations = _database()
    return {"database": database, "migrations": migrations, "signing_key": _signing_key(),
            "rate_limits": _rate_limits()}


@blp.route("/readyz")
class Ready(MethodView):
    @blp.response(200, ReadinessSchema)
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE", description="not_ready: `checks` says why")
    def get(self):
        """Readiness: database reachable and writable, migrations at head, a signing key loaded,
        and whether rate limits are shared (Redis pinged)."""
        checks = readiness()
        failing = [name for name, bad in _FAILING.items() if checks[name] in bad]
        if failing:
            return problem(503, NOT_READY, "Service Unavailable",
                           "Not ready: " + ", ".join(f"{name} {checks[name]}" for name in failing) + ".",
                           retry_after=outages.RETRY_AFTER_SECONDS, checks=checks)
        return {"status": "degraded" if checks["rate_limits"] == "fallback" else "ready", **checks}
