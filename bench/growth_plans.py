"""Every statement verify, redeem and the customer page send, and PostgreSQL's plan of each.

The money path runs its statements on the driver's cursor (`exchange.db.statements`), past
SQLAlchemy's `before_cursor_execute` event, so the statements are collected one level lower:
each new connection of the app's engine gets a psycopg cursor class that notes what it runs.
Then each statement is run again under `EXPLAIN (ANALYZE, BUFFERS)`, in one transaction that is
rolled back, in the order the request sent them.
"""

from __future__ import annotations

import json
import uuid
from contextlib import contextmanager

import psycopg
from sqlalchemy import event

from bench.growth_world import BIG_TABLES

_SKIP = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "SET ", "SHOW ", "SELECT 1", "SELECT PG_CATALOG")
_QUERIES = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")


class _Notes:
    def __init__(self):
        self.statements: list[tuple[str, object]] = []
        self.on = False


def _recording_cursor(notes: _Notes):
    class RecordingCursor(psycopg.Cursor):
        def execute(self, query, params=None, **kwargs):
            if notes.on:
                notes.statements.append((query if isinstance(query, str) else query.as_string(self), params))
            return super().execute(query, params, **kwargs)

        def executemany(self, query, params_seq, **kwargs):
            params_seq = list(params_seq)
            if notes.on and params_seq:  # planned with its first row of parameters
                notes.statements.append((query if isinstance(query, str) else query.as_string(self), params_seq[0]))
            return super().executemany(query, params_seq, **kwargs)

    return RecordingCursor


@contextmanager
def recording(engine):
    """Note every statement the engine's connections run while `notes.on` is set."""
    notes = _Notes()
    cursor_class = _recording_cursor(notes)

    def connected(dbapi_connection, _record):
        dbapi_connection.cursor_factory = cursor_class

    event.listen(engine, "connect", connected)
    engine.dispose()  # pooled connections predate the listener
    try:
        yield notes
    finally:
        event.remove(engine, "connect", connected)
        engine.dispose()


def paths_statements(app, requests: dict) -> dict[str, list[tuple[str, object]]]:
    """For each named request (method, path, body, headers): the statements it sent."""
    from exchange.extensions import db

    out = {}
    with app.app_context(), recording(db.engine) as notes:
        client = app.test_client()
        for name, (method, path, body, headers) in requests.items():
            notes.statements.clear()
            notes.on = True
            response = client.open(path, method=method, data=body, headers=headers)
            notes.on = False
            assert response.status_code < 300, (name, response.status_code, response.get_data(as_text=True)[:300])
            out[name] = [s for s in notes.statements if not s[0].lstrip().upper().startswith(_SKIP)]
    return out


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def explain(dsn: str, statements: list[tuple[str, object]]) -> list[dict]:
    """Each statement's plan as it ran (ANALYZE, BUFFERS), all in one rolled-back transaction."""
    out = []
    with psycopg.connect(dsn) as conn:
        with conn.cursor() as cur:
            for sql, params in statements:
                if not sql.lstrip().upper().startswith(_QUERIES):
                    out.append({"statement": " ".join(sql.split())[:160], "scans": [], "seq_scans_on_big_tables": [],
                                "shared_hit": 0, "shared_read": 0, "execution_ms": None, "analyzed": False,
                                "plan": None})
                    continue
                analyze = "ANALYZE, BUFFERS, "
                try:
                    with conn.transaction():  # a savepoint
                        cur.execute(f"EXPLAIN ({analyze}FORMAT JSON) " + sql, params)
                except psycopg.errors.UniqueViolation:
                    # Run again, an INSERT of a key the request itself wrote (an event id): planned only.
                    analyze = ""
                    cur.execute("EXPLAIN (FORMAT JSON) " + sql, params)
                doc = cur.fetchone()[0]
                plan = (doc if isinstance(doc, list) else json.loads(doc))[0]
                nodes = list(_nodes(plan["Plan"]))
                scans = [f"{n['Node Type']} on {n['Relation Name']}" + (f" using {n['Index Name']}"
                                                                        if "Index Name" in n else "")
                         for n in nodes if "Relation Name" in n]
                out.append({
                    "statement": " ".join(sql.split())[:160],
                    "scans": scans,
                    "seq_scans_on_big_tables": [n["Relation Name"] for n in nodes
                                                if n["Node Type"] == "Seq Scan" and n["Relation Name"] in BIG_TABLES],
                    "shared_hit": plan["Plan"].get("Shared Hit Blocks", 0),
                    "shared_read": plan["Plan"].get("Shared Read Blocks", 0),
                    "execution_ms": round(plan["Execution Time"], 3) if analyze else None,
                    "analyzed": bool(analyze), "plan": plan["Plan"],
                })
        conn.rollback()
    return out


def plans_at(app, dsn: str, requests: dict) -> dict[str, list[dict]]:
    return {name: explain(dsn, statements) for name, statements in paths_statements(app, requests).items()}


def fresh_key() -> str:
    return str(uuid.uuid4())
