"""Delivery attempts: claim due deliveries under a lease, send them outside any transaction,
record what came back.

A claim moves the delivery's `next_attempt_at` to the end of its lease and counts the attempt,
in one short transaction (a first attempt is inserted that way by the worker's own relay, in the
same transaction: `take`): a worker that dies mid-send (kill -9, a lost machine) leaves a
delivery that simply falls due again when the lease lapses and is sent again, with the same
webhook-id, by whoever claims it next — at least once, never lost. Two workers never hold one
attempt: on PostgreSQL due rows are claimed `FOR UPDATE SKIP LOCKED` (a busy row is skipped,
not waited for); SQLite has one writer at a time. A result is recorded only by the worker whose
lease it still is.
"""

from __future__ import annotations

import json
import os
import random
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, func, select, update

from .. import clock
from ..db.statements import Compiled
from ..db.unit_of_work import unit_of_work
from ..events import emit
from ..events.models import ATTEMPT_ENDPOINT_COLUMNS, AttemptEndpoint, Event, WebhookDelivery, WebhookEndpoint
from ..events.relay import BATCH, Lease, any_pending, relay_in
from ..events.schemas import EventSchema
from ..extensions import db
from . import backoff, sender, ssrf
from .endpoints import resolver, signing_secrets
from .signing import headers

CLAIM = 64
PARALLEL = 8  # deliveries in flight at once
_EVENT = EventSchema()


@dataclass(frozen=True)
class Job:
    delivery_id: int
    attempt: int
    event_id: str
    body: str
    endpoint_id: int
    url: str
    enabled: bool
    secrets: list[str]
    failing: bool = False  # the endpoint's last answer was a failure (a success clears that)


class Sending:
    """What a worker keeps between passes: its HTTP client (its kept-alive connections and TLS
    sessions; making them costs more than a delivery)."""

    def __init__(self, timeout: float, ca_file: str | None = None) -> None:
        self.timeout = timeout
        self.http = sender.Client(timeout, PARALLEL, ca_file)

    def close(self) -> None:
        self.http.close()


_sending: dict[int, Sending] = {}
_sending_lock = threading.Lock()


def _sending_for(timeout: float) -> Sending:
    """This process's `Sending` (a forked worker builds its own: the parent's threads and
    sockets do not survive a fork)."""
    with _sending_lock:
        sending = _sending.get(os.getpid())
        if sending is None or sending.timeout != timeout:
            if sending is not None:
                sending.close()
            sending = _sending[os.getpid()] = Sending(timeout)
        return sending


def deliver_due(owner: str, *, limit: int = CLAIM) -> int:
    """Claim up to `limit` due deliveries, send them (several at once), record the answers;
    how many were attempted."""
    return send_and_record(owner, claim(owner, limit))


@dataclass(frozen=True)
class Pass:
    """What a worker's pass did: events numbered, deliveries attempted, and whether it took all a
    pass may (then more is probably waiting)."""

    relayed: int = 0
    attempted: int = 0
    full: bool = False

    @property
    def done(self) -> int:
        return self.relayed + self.attempted


def work_once(owner: str, *, limit: int = CLAIM) -> Pass:
    """A worker's pass: number new events and queue their deliveries, then attempt up to `limit`
    deliveries — the first attempts just queued and, beside them, what is due (retries, what an
    earlier pass left) — and record the answers."""
    relayed, jobs = take(owner, limit)
    return Pass(relayed, send_and_record(owner, jobs), full=len(jobs) >= limit or relayed >= BATCH)


def send_and_record(owner: str, jobs: list[Job]) -> int:
    if not jobs:
        return 0
    config = current_app.config
    settings = (resolver(), config["WEBHOOK_ALLOW_PRIVATE"], config["WEBHOOK_HTTPS_ONLY"])
    sending = _sending_for(config["WEBHOOK_TIMEOUT_SECONDS"])
    record_all(owner, list(zip(jobs, attempt_all(sending.http, jobs, *settings), strict=True)))
    return len(jobs)


def take(owner: str, limit: int) -> tuple[int, list[Job]]:
    """In one transaction: relay (the deliveries it queues leased to `owner`, up to `limit`),
    then claim what is due up to `limit` in all. How many events were numbered, and the jobs."""
    session = db.session
    # Reads first: when nothing is new or due (most passes) SQLite's one write lock is not taken.
    if not any_pending(session) and _ANY_DUE.scalar(session, {"now": clock.now()}) is None:
        session.rollback()
        return 0, []
    with unit_of_work() as uow:
        now, until = _lease_from_now()
        relayed, leased = relay_in(uow, lease=Lease(owner, limit, until))
        taken = [(d.delivery_id, 1, d.event_id, d.endpoint) for d in leased]
        if len(taken) < limit:
            taken += _claim_in(uow, owner, limit - len(taken), now, until)
        events = _events(uow.session, taken)
    return relayed, _jobs(taken, events, now)  # the bodies written out after the commit (SQLite's lock let go)


def waited_seconds() -> float:
    """How long the oldest delivery that is due, or event not yet relayed, has been waiting (0: none)."""
    session, now = db.session, clock.now()
    oldest = [t for t in (_OLDEST_DUE.scalar(session, {"now": now}), _OLDEST_UNRELAYED.scalar(session)) if t]
    session.rollback()
    return max(((now - t).total_seconds() for t in oldest), default=0.0)


def claim(owner: str, limit: int) -> list[Job]:
    if _ANY_DUE.scalar(db.session, {"now": clock.now()}) is None:
        db.session.rollback()
        return []
    with unit_of_work() as uow:
        now, until = _lease_from_now()
        taken = _claim_in(uow, owner, limit, now, until)
        events = _events(uow.session, taken)
    return _jobs(taken, events, now)


def _lease_from_now() -> tuple[datetime, datetime]:
    """Now, and when a lease taken now ends."""
    now = clock.now()
    return now, now + timedelta(seconds=current_app.config["WEBHOOK_LEASE_SECONDS"])


def _claim_in(uow, owner: str, limit: int, now, until) -> list[tuple]:
    """Lease up to `limit` due deliveries to `owner` (their attempt counted): (delivery id,
    attempt, event id, endpoint row), oldest due first."""
    session = uow.session
    due = (select(WebhookDelivery.id)
           .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
           .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(limit))
    if uow.dialect == "postgresql":
        due = due.with_for_update(skip_locked=True)
    connection = session.connection()
    ids = list(connection.execute(due).scalars())
    if not ids:
        return []
    table = WebhookDelivery.__table__
    connection.execute(update(table).where(table.c.id.in_(ids)).values(
        attempts=table.c.attempts + 1, lease_owner=owner, next_attempt_at=until, last_attempt_at=now))
    rows = connection.execute(
        select(table.c.id, table.c.attempts, table.c.event_id, *ATTEMPT_ENDPOINT_COLUMNS)
        .join(WebhookEndpoint.__table__, WebhookEndpoint.id == table.c.endpoint_id).where(table.c.id.in_(ids))).all()
    by_id = {row[0]: row for row in rows}
    # Oldest due first, as they were chosen.
    return [(i, by_id[i][1], by_id[i][2], AttemptEndpoint(*by_id[i][3:])) for i in ids if i in by_id]


def _events(session, taken: list[tuple]) -> list:
    """The rows of the events the leased deliveries are for."""
    if not taken:
        return []
    events = Event.__table__
    return session.connection().execute(
        select(events.c.id, events.c.type, events.c.created, events.c.merchant_id, events.c.data)
        .where(events.c.id.in_({event_id for _, _, event_id, _ in taken}))).all()


def _jobs(taken: list[tuple], events: list, now) -> list[Job]:
    """The jobs for leased deliveries: each event's body written out once (an event several
    endpoints subscribe to is sent to each)."""
    bodies = {row.id: json.dumps(_EVENT.dump(row), ensure_ascii=False) for row in events}
    return [Job(delivery_id, attempts, event_id, bodies[event_id], endpoint.id, endpoint.url, endpoint.enabled,
                signing_secrets(endpoint, now), endpoint.failing_since is not None)
            for delivery_id, attempts, event_id, endpoint in taken]


def attempt(http: sender.Client, job: Job, resolve: ssrf.Resolver, allow_private: bool,
            https_only: bool) -> sender.Answer:
    return attempt_all(http, [job], resolve, allow_private, https_only)[0]


def attempt_all(http: sender.Client, jobs: list[Job], resolve: ssrf.Resolver, allow_private: bool,
                https_only: bool) -> list[sender.Answer]:
    """Each job's attempt, outside any transaction (a redemption never waits for a receiver),
    all sent at once. Each URL is checked again first: its name may resolve elsewhere by now (DNS
    rebinding)."""
    answers: list[sender.Answer | None] = [None] * len(jobs)
    sending = []
    for i, job in enumerate(jobs):
        if not job.enabled:
            answers[i] = sender.Answer(None, 0, None, "the endpoint is disabled")
            continue
        try:
            target = ssrf.parse(job.url, https_only=https_only)
            address = ssrf.safe_addresses(target, resolve, allow_private=allow_private)[0]
        except ssrf.UnsafeTarget as refused:
            answers[i] = sender.Answer(None, 0, None, f"refused: {refused}"[:200])
            continue
        signed = headers(job.event_id, clock.wall_now(), job.body, job.secrets)
        sending.append((i, sender.Request(target, address, signed, job.body.encode())))
    for (i, _), answer in zip(sending, http.post_all([r for _, r in sending]), strict=True):
        answers[i] = answer
    return answers


def record(owner: str, job: Job, answer: sender.Answer) -> None:
    record_all(owner, [(job, answer)])


def record_all(owner: str, results: list[tuple[Job, sender.Answer]]) -> None:
    """Every answer of one pass in one transaction (on SQLite, one turn of the write lock)."""
    succeeded = [(job, answer) for job, answer in results if answer.ok]
    with unit_of_work() as uow:
        session = uow.session
        now = clock.now()
        if succeeded:
            # The common case, in one statement whatever the count (a guarded UPDATE per row:
            # a delivery whose lease went to another worker is left to that worker).
            _SUCCEEDED.run_many(session, [
                {"b_id": job.delivery_id, "b_owner": owner, "b_n": job.attempt, "b_at": now,
                 "b_code": answer.status_code, "b_ms": answer.latency_ms, "b_excerpt": answer.excerpt}
                for job, answer in succeeded])
            if recovered := {job.endpoint_id for job, _ in succeeded if job.failing}:
                session.execute(update(WebhookEndpoint.__table__).where(
                    WebhookEndpoint.id.in_(recovered), WebhookEndpoint.failing_since.is_not(None))
                    .values(failing_since=None))
        for job, answer in results:
            if not answer.ok:
                _record(session, owner, job, answer, now)


def _record(session, owner: str, job: Job, answer: sender.Answer, now) -> None:
    d = session.scalar(select(WebhookDelivery).where(
        WebhookDelivery.id == job.delivery_id, WebhookDelivery.lease_owner == owner,
        WebhookDelivery.attempts == job.attempt).with_for_update())
    if d is None:
        return  # the lease lapsed and another worker took the delivery over: its answer counts
    d.lease_owner = None
    d.last_status_code, d.last_latency_ms = answer.status_code, answer.latency_ms
    d.last_excerpt, d.last_error = answer.excerpt, answer.error
    endpoint = session.get(WebhookEndpoint, job.endpoint_id, with_for_update=True)
    if answer.ok:
        d.status, d.delivered_at, endpoint.failing_since = "succeeded", now, None
        return
    if not job.enabled:
        d.status = "failed"  # not the receiver's failure: redeliver once switched back on
        return
    upcoming = backoff.next_attempt(d.attempts, d.retry_window_from, now, random.random())
    if upcoming is None:
        d.status = "failed"
    else:
        d.next_attempt_at = upcoming
    _note_failure(session, endpoint, now)


def _note_failure(session, endpoint: WebhookEndpoint, now) -> None:
    if endpoint.failing_since is None:
        endpoint.failing_since = now
    elif endpoint.enabled and now - endpoint.failing_since >= backoff.DISABLE_AFTER:
        from .schemas import EndpointSchema

        endpoint.enabled, endpoint.updated_at = False, now
        endpoint.disabled_reason = (f"Every delivery failed since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC; "
                                    "fix the receiver, then switch the endpoint back on (PATCH enabled: true).")
        emit(session, endpoint.merchant_id, "webhook_endpoint.disabled", EndpointSchema().dump(endpoint))


_ANY_DUE = Compiled(select(WebhookDelivery.id).where(
    WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= bindparam("now")).limit(1))
_D = WebhookDelivery.__table__.c
_OLDEST_DUE = Compiled(select(func.min(_D.next_attempt_at).label("oldest")).where(
    _D.status == "pending", _D.next_attempt_at <= bindparam("now")))
_OLDEST_UNRELAYED = Compiled(select(func.min(Event.__table__.c.created).label("oldest"))
                             .where(Event.__table__.c.seq.is_(None)))
_SUCCEEDED = Compiled(update(WebhookDelivery.__table__).where(
    _D.id == bindparam("b_id"), _D.lease_owner == bindparam("b_owner"), _D.attempts == bindparam("b_n")).values(
    status="succeeded", delivered_at=bindparam("b_at"), lease_owner=None, last_error=None,
    last_status_code=bindparam("b_code"), last_latency_ms=bindparam("b_ms"), last_excerpt=bindparam("b_excerpt")))
