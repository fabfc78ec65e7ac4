"""Issuing coupons and packs: the checks an offer imposes, then signed coupons in bulk."""

from __future__ import annotations

from collections.abc import Iterator

from flask import current_app
from sqlalchemy import column as sa_column
from sqlalchemy import func, insert, select, update
from sqlalchemy import table as sa_table

from .. import audit, clock
from ..db.ids import allocate
from ..db.statements import bind_processor
from ..db.unit_of_work import unit_of_work
from ..errors import Conflict, Forbidden, Unprocessable
from ..extensions import db
from ..http.auth import Principal
from ..money import format_money
from ..offers.models import Offer
from ..offers.pricing import full_discount
from ..offers.services import visible_offer
from . import codes
from .models import Coupon, Pack
from .privacy import pseudonym
from .signing import Signer


def issuable_offer(principal: Principal, offer_id: int) -> Offer:
    """The offer, locked for this transaction, if the caller may hand out coupons of it right
    now; else a refusal. Locked before the checks, so the owner cannot end it in between."""
    offer = visible_offer(principal, offer_id)
    db.session.refresh(offer, with_for_update=True)
    if offer.owner_id == principal.merchant_id:
        raise Forbidden("Your partners hand out your offers; you redeem them.", code="not_a_distributor")
    if offer.status != "active":
        raise Conflict(f"This offer is {offer.status}: it issues no coupons.", code=f"offer_{offer.status}")
    if offer.valid_until <= clock.now():
        raise Conflict("This offer has expired: it issues no coupons.", code="offer_expired")
    refuse_unhonourable(offer)
    return offer


def refuse_unhonourable(offer: Offer) -> None:
    """No coupon is handed out that its owner's till would refuse on every order: not when the
    owner is suspended, nor when the budget cannot fund one more discount, nor when every coupon
    the offer may have is out (SPEC §4.10)."""
    if offer.owner.status != "active":
        raise Conflict("The offer's owner is suspended by the exchange: its tills take no coupons, so "
                       "none are issued.", code="owner_suspended")
    if offer.budget is not None:
        left, least = offer.budget - offer.budget_spent, full_discount(offer)
        if left < least:
            money = lambda fen: format_money(fen, offer.currency)  # noqa: E731
            raise Conflict(f"This offer's discount budget is used up: {money(left)} of {money(offer.budget)} "
                           f"is left, less than one coupon's {money(least)}.", code="budget_exhausted",
                           budget=offer.budget, budget_left=left)
    if offer.max_coupons is not None and offer.coupons_issued >= offer.max_coupons:
        raise Conflict(f"This offer has issued all of its {offer.max_coupons:,} coupons.",
                       code="max_coupons_reached", max_coupons=offer.max_coupons, coupons_left=0)


def reserve(session, offer: Offer, count: int) -> None:
    """Count `count` more coupons against `max_coupons`, atomically (concurrent issuers
    cannot together pass the limit: the guarded UPDATE matches no row once it is reached)."""
    guard = (Offer.max_coupons.is_(None)) | (Offer.coupons_issued + count <= Offer.max_coupons)
    done = session.execute(update(Offer).where(Offer.id == offer.id, guard)
                           .values(coupons_issued=Offer.coupons_issued + count)).rowcount
    if not done:
        left = max(0, offer.max_coupons - offer.coupons_issued)
        raise Conflict(f"Only {left:,} more coupons of this offer can be issued (of {offer.max_coupons:,}), "
                       f"not {count:,}.", code="max_coupons_reached", max_coupons=offer.max_coupons,
                       coupons_left=left)


def customer_pseudonym(session, offer: Offer, customer_ref: str | None, count: int) -> str | None:
    if customer_ref is None:
        return None
    alias = pseudonym(customer_ref, current_app.config["PSEUDONYM_KEY"])
    if offer.per_customer_limit is not None:
        held = session.scalar(select(func.count()).select_from(Coupon).where(
            Coupon.offer_id == offer.id, Coupon.customer_pseudonym == alias))
        if held + count > offer.per_customer_limit:
            raise Conflict("This customer already holds as many coupons of this offer as it allows.",
                           code="customer_limit_reached")
    return alias


def write_coupons(session, offer: Offer, distributor_id: int, count: int, *, signer: Signer,
                  alias: str | None = None, batch_id: int | None = None,
                  pack_id: int | None = None) -> list[dict]:
    """Sign and insert `count` coupons in one statement; return their rows."""
    at, until = clock.now(), offer.valid_until
    rows = (dict(id=coupon_id, code=code, offer_id=offer.id, distributor_id=distributor_id,
                 batch_id=batch_id, pack_id=pack_id, customer_pseudonym=alias,
                 uses_total=offer.uses_per_coupon, uses_left=offer.uses_per_coupon, status="active",
                 token=signer.coupon(coupon_id, until), issued_at=at, expires_at=until,
                 first_viewed_at=None)
            for coupon_id, code in zip(allocate(session, "coupons", count), codes.new_codes(count), strict=True))
    return _insert_many(session.connection(), rows, constants={"issued_at": at, "expires_at": until})


_COUPONS = Coupon.__table__
# The same columns without types: values below are already in the database's form.
_RAW_COUPONS = sa_table("coupons", *[sa_column(name) for name in _COUPONS.c.keys()])  # noqa: SIM118


def _insert_many(connection, rows: Iterator[dict], constants: dict) -> list[dict]:
    """Insert rows whose datetime columns share `constants` (converted once, through the
    columns' own types, instead of once per row: a 100,000-coupon batch spends its time signing,
    not formatting the same two timestamps); the rows, as inserted."""
    bound = {name: bind_processor(_COUPONS.c[name].type, connection.dialect)(value)
             for name, value in constants.items()}
    if connection.dialect.name == "postgresql":
        return _copy_rows(connection, rows, bound)
    rows = list(rows)
    connection.execute(insert(_RAW_COUPONS), [{**row, **bound} for row in rows])
    return rows


def _copy_rows(connection, rows: Iterator[dict], bound: dict) -> list[dict]:
    """PostgreSQL's COPY, inside the session's transaction: several times faster than
    multi-row INSERTs for a batch's chunks. Each row goes out as soon as it is signed, so the
    server stores the chunk's first coupons while the next ones are being signed (instead of
    all of them after the last signature)."""
    from psycopg.copy import QueuedLibpqWriter

    names = list(_COUPONS.c.keys())
    cursor = connection.connection.driver_connection.cursor()
    written = []
    # A thread of psycopg's sends the rows while this one signs the next: with the default
    # writer, signing stopped whenever the connection's buffer was full until the server had
    # taken it in.
    writer = QueuedLibpqWriter(cursor)
    with cursor.copy(f"COPY coupons ({', '.join(names)}) FROM STDIN", writer=writer) as copy:
        for row in rows:
            written.append(row)
            values = {**row, **bound}
            copy.write_row([values[name] for name in names])
    return written


def issue_coupons(principal: Principal, offer_id: int, count: int, customer_ref: str | None) -> list[dict]:
    with unit_of_work() as uow:
        session = uow.session
        offer = issuable_offer(principal, offer_id)
        alias = customer_pseudonym(session, offer, customer_ref, count)
        reserve(session, offer, count)
        rows = write_coupons(session, offer, principal.merchant_id, count, signer=Signer(), alias=alias)
        audit.record(session, actor=principal.actor, merchant_id=principal.merchant_id,
                     action="coupons.issued", subject_type="offer", subject_id=offer.id, count=count)
    return rows


def issue_pack(principal: Principal, offer_ids: list[int], customer_ref: str | None) -> Pack:
    if len(set(offer_ids)) != len(offer_ids):
        raise Unprocessable("Each offer can appear in a pack once.", code="validation_failed",
                            errors={"offer_ids": ["Duplicate offer ids."]})
    with unit_of_work() as uow:
        session = uow.session
        offers = [issuable_offer(principal, i) for i in offer_ids]
        signer = Signer()
        pack_id = allocate(session, "packs", 1)[0]
        expires_at = max(o.valid_until for o in offers)
        pack = Pack(id=pack_id, distributor_id=principal.merchant_id, issued_at=clock.now(),
                    expires_at=expires_at, token=signer.pack(pack_id, expires_at))
        session.add(pack)
        session.flush()
        for offer in offers:
            alias = customer_pseudonym(session, offer, customer_ref, 1)
            reserve(session, offer, 1)
            write_coupons(session, offer, principal.merchant_id, 1, signer=signer, alias=alias,
                          pack_id=pack_id)
        audit.record(session, actor=principal.actor, merchant_id=principal.merchant_id,
                     action="pack.issued", subject_type="pack", subject_id=pack_id, offers=offer_ids)
    return pack

