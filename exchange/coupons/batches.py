"""Large issues in the background: up to 100,000 coupons, exactly as many as asked.

The batch reserves its count against the offer's `max_coupons` when it is created. A worker
takes a lease on it, then issues chunk after chunk; each chunk's coupons and the batch's
`issued` counter are written in one transaction, so a crash (even `kill -9`) loses at most an
uncommitted chunk, which the next worker redoes once the lease lapses. Nothing is issued twice.
"""

from __future__ import annotations

import os
import socket
from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select, update

from .. import audit, clock
from ..db.unit_of_work import unit_of_work
from ..errors import NotFound
from ..events import views as events
from ..extensions import db
from ..http.auth import Principal
from ..offers.models import Offer
from .issuing import issuable_offer, reserve, write_coupons
from .models import CouponBatch
from .signing import Signer

CHUNK = 1000


def lease() -> timedelta:
    """How long a silent worker keeps a batch before another may take it over."""
    return timedelta(seconds=current_app.config["BATCH_LEASE_SECONDS"])


def expected_seconds(count: int) -> int:
    """How long a batch of `count` takes, roughly: a worker looks for work every second and
    issues about 10,000 coupons a second (docs/benchmarks.md)."""
    return 1 + count // 10_000


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def create_batch(principal: Principal, offer_id: int, count: int) -> CouponBatch:
    with unit_of_work() as uow:
        session = uow.session
        offer = issuable_offer(principal, offer_id)
        reserve(session, offer, count)
        batch = CouponBatch(offer_id=offer.id, distributor_id=principal.merchant_id, requested=count,
                            issued=0, status="pending", created_at=clock.now())
        session.add(batch)
        session.flush()
        audit.record(session, actor=principal.actor, merchant_id=principal.merchant_id,
                     action="batch.created", subject_type="coupon_batch", subject_id=batch.id,
                     to_state="pending", count=count)
    return batch


def own_batch(principal: Principal, batch_id: int) -> CouponBatch:
    batch = db.session.get(CouponBatch, batch_id)
    if batch is None or batch.distributor_id != principal.merchant_id:
        raise NotFound("No such batch.")
    return batch


def claim_batch(owner: str) -> int | None:
    """Take the lease of the oldest unfinished batch nobody holds; None if there is none."""
    now = clock.now()
    free = or_(CouponBatch.lease_until.is_(None), CouponBatch.lease_until < now)
    unfinished = select(CouponBatch.id).where(CouponBatch.status.in_(("pending", "running")), free)
    # A plain read first: an idle worker must not take the write lock every second.
    found = db.session.scalar(unfinished.limit(1))
    db.session.rollback()
    if found is None:
        return None
    with unit_of_work() as uow:
        session = uow.session
        for batch_id in session.scalars(unfinished.order_by(CouponBatch.id).limit(5)):
            # The lease condition is checked again by the UPDATE itself: two workers can pick the
            # same candidate, only one of them updates it.
            taken = session.execute(update(CouponBatch).where(CouponBatch.id == batch_id, free).values(
                lease_owner=owner, lease_until=now + lease(), status="running")).rowcount
            if taken:
                return batch_id
    return None


def issue_next_chunk(batch_id: int, owner: str, chunk: int = CHUNK) -> bool:
    """Issue one chunk under the lease; False once the batch is finished or no longer ours."""
    with unit_of_work() as uow:
        session = uow.session
        batch = session.get(CouponBatch, batch_id, with_for_update=True)
        if batch.lease_owner != owner or batch.status != "running":
            return False
        offer = session.get(Offer, batch.offer_id)
        if offer.status == "ended":
            _cancel(session, batch, offer)
            return False
        count = min(chunk, batch.requested - batch.issued)
        write_coupons(session, offer, batch.distributor_id, count, signer=Signer(), batch_id=batch.id)
        batch.issued += count
        batch.lease_until = clock.now() + lease()
        if batch.issued == batch.requested:
            batch.status, batch.finished_at, batch.lease_owner = "done", clock.now(), None
            events.batch_done(session, batch)
            return False
    return True


def _cancel(session, batch: CouponBatch, offer: Offer) -> None:
    """The owner ended the offer mid-batch: stop, and give back the coupons not issued."""
    offer.coupons_issued -= batch.requested - batch.issued
    batch.status, batch.finished_at, batch.lease_owner = "cancelled", clock.now(), None
    batch.detail = "The offer was ended by its owner before the batch finished."


def work(owner: str | None = None, *, max_batches: int | None = None) -> int:
    """Finish every batch that needs a worker; return how many were worked on."""
    owner = owner or worker_name()
    done = 0
    while max_batches is None or done < max_batches:
        batch_id = claim_batch(owner)
        if batch_id is None:
            break
        while issue_next_chunk(batch_id, owner):
            pass
        done += 1
    return done
