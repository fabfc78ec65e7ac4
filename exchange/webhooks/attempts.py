"""Delivery attempts: claim due deliveries under a lease, send them outside any transaction,
record what came back.

A claim moves the delivery's `next_attempt_at` to the end of its lease and counts the attempt,
in one short transaction: a worker that dies mid-send (kill -9, a lost machine) leaves a
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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, select, update

from .. import clock
from ..db.statements import Compiled
from ..db.unit_of_work import unit_of_work
from ..events import emit
from ..events.models import Event, WebhookDelivery, WebhookEndpoint
from ..events.schemas import EventSchema
from ..extensions import db
from . import backoff, sender, ssrf
from .endpoints import resolver, signing_secrets
from .signing import headers

CLAIM = 64
PARALLEL = 8
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


class Sending:
    """What a worker keeps between passes: its connection pools (their TLS context and
    kept-alive connections; building them costs more than a delivery) and a few threads to send
    with."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.http = sender.client(timeout, PARALLEL)
        self.pool = ThreadPoolExecutor(PARALLEL, thread_name_prefix="webhook-send")

    def close(self) -> None:
        self.pool.shutdown()
        self.http.clear()


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
    jobs = claim(owner, limit)
    if not jobs:
        return 0
    config = current_app.config
    settings = (resolver(), config["WEBHOOK_ALLOW_PRIVATE"], config["WEBHOOK_HTTPS_ONLY"])
    sending = _sending_for(config["WEBHOOK_TIMEOUT_SECONDS"])
    answers = list(sending.pool.map(lambda job: attempt(sending.http, job, *settings), jobs))
    record_all(owner, list(zip(jobs, answers, strict=True)))
    return len(jobs)


def claim(owner: str, limit: int) -> list[Job]:
    # A read first: when nothing is due (most passes) SQLite's one write lock is not taken.
    if _ANY_DUE.scalar(db.session, {"now": clock.now()}) is None:
        db.session.rollback()
        return []
    with unit_of_work() as uow:
        session = uow.session
        now = clock.now()
        due = (select(WebhookDelivery.id)
               .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
               .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(limit))
        if session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        ids = list(session.scalars(due))
        if not ids:
            return []
        lease = timedelta(seconds=current_app.config["WEBHOOK_LEASE_SECONDS"])
        session.execute(update(WebhookDelivery).where(WebhookDelivery.id.in_(ids)).values(
            attempts=WebhookDelivery.attempts + 1, lease_owner=owner, next_attempt_at=now + lease,
            last_attempt_at=now))
        rows = session.execute(
            select(WebhookDelivery.id, WebhookDelivery.attempts, Event, WebhookEndpoint)
            .join(Event, Event.id == WebhookDelivery.event_id)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(WebhookDelivery.id.in_(ids)).order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)).all()
        # An event several endpoints subscribe to is written out once.
        bodies = {}
        for _, _, event, _ in rows:
            if event.id not in bodies:
                bodies[event.id] = json.dumps(_EVENT.dump(event), ensure_ascii=False)
        return [Job(delivery_id, attempts, event.id, bodies[event.id], endpoint.id, endpoint.url, endpoint.enabled,
                    signing_secrets(endpoint, now))
                for delivery_id, attempts, event, endpoint in rows]


def attempt(http, job: Job, resolve: ssrf.Resolver, allow_private: bool, https_only: bool) -> sender.Answer:
    """One attempt, outside any transaction (a redemption never waits for a receiver). The URL is
    checked again first: its name may resolve elsewhere by now (DNS rebinding)."""
    if not job.enabled:
        return sender.Answer(None, 0, None, "the endpoint is disabled")
    try:
        target = ssrf.parse(job.url, https_only=https_only)
        address = ssrf.safe_addresses(target, resolve, allow_private=allow_private)[0]
    except ssrf.UnsafeTarget as refused:
        return sender.Answer(None, 0, None, f"refused: {refused}"[:200])
    signed = headers(job.event_id, clock.wall_now(), job.body, job.secrets)
    return sender.post(http, target, address, signed, job.body.encode())


def record(owner: str, job: Job, answer: sender.Answer) -> None:
    record_all(owner, [(job, answer)])


def record_all(owner: str, results: list[tuple[Job, sender.Answer]]) -> None:
    """Every answer of one pass in one transaction (on SQLite, one turn of the write lock)."""
    succeeded = [(job, answer) for job, answer in results if answer.ok]
    with unit_of_work() as uow:
        session = uow.session
        now = clock.now()
        if succeeded:
            # The common case, in two statements whatever the count (a guarded UPDATE per row:
            # a delivery whose lease went to another worker is left to that worker).
            table = WebhookDelivery.__table__
            session.execute(update(table).where(
                table.c.id == bindparam("b_id"), table.c.lease_owner == owner, table.c.attempts == bindparam("b_n"))
                .values(status="succeeded", delivered_at=now, lease_owner=None, last_error=None,
                        last_status_code=bindparam("b_code"), last_latency_ms=bindparam("b_ms"),
                        last_excerpt=bindparam("b_excerpt")),
                [{"b_id": job.delivery_id, "b_n": job.attempt, "b_code": answer.status_code,
                  "b_ms": answer.latency_ms, "b_excerpt": answer.excerpt} for job, answer in succeeded])
            session.execute(update(WebhookEndpoint.__table__).where(
                WebhookEndpoint.id.in_({job.endpoint_id for job, _ in succeeded}),
                WebhookEndpoint.failing_since.is_not(None)).values(failing_since=None))
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
