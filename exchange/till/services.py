"""Pairing a phone or tablet as a store's till, and unpairing it (SPEC §8).

The merchant makes a one-time code for a store; the device trades it, once and within minutes,
for a terminal key of its own, which it keeps. Nobody types `tk_…`, and the key is never in a
URL: the pairing link carries only the code, in its fragment (which browsers do not send).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from .. import audit, clock
from ..db.unit_of_work import unit_of_work
from ..errors import Conflict, DomainError, Forbidden, NotFound
from ..events import views as events
from ..extensions import db
from ..http.auth import Principal
from ..merchants.models import ApiKey, Merchant, Store
from ..merchants.services import IssuedKey, issue_terminal_key, own_store
from . import codes
from .models import TillPairing

LIFETIME = timedelta(minutes=10)


@dataclass(frozen=True)
class NewPairing:
    pairing: TillPairing
    code: str  # shown once, like a key

    @property
    def url(self) -> str:
        # The code rides in the fragment: it never reaches a server log, not even this one's.
        return f"{current_app.config['PUBLIC_URL']}/till/#pair={self.code}"

    @property
    def qr_png_url(self) -> str:
        return (f"{current_app.config['PUBLIC_URL']}/api/v1/stores/{self.pairing.store_id}"
                f"/till-pairings/qr.png?code={self.code}")

    @property
    def display_code(self) -> str:
        return codes.display(self.code)


@dataclass(frozen=True)
class PairedTill:
    issued: IssuedKey
    store: Store
    merchant: Merchant


def create_pairing(principal: Principal, store_id: int, label: str | None) -> NewPairing:
    with unit_of_work() as uow:
        session = uow.session
        own_store(principal, store_id)
        code, at = codes.new_code(), clock.now()
        pairing = TillPairing(merchant_id=principal.merchant_id, store_id=store_id,
                              code_hash=codes.code_hash(code), label=label, created_by=principal.actor,
                              created_at=at, expires_at=at + LIFETIME)
        session.add(pairing)
        session.flush()
        audit.record(session, actor=principal.actor, merchant_id=principal.merchant_id,
                     action="till.pairing_created", subject_type="till_pairing", subject_id=pairing.id,
                     store_id=store_id, expires_at=pairing.expires_at.isoformat())
    return NewPairing(pairing, code)


def create_pairing_for_store(store_id: int, label: str | None = None) -> NewPairing:
    """A pairing made from the command line (`flask exchange pair-till`, the demo): the
    operator of the exchange acts for the store's merchant."""
    store = db.session.get(Store, store_id)
    if store is None:
        raise NotFound("No such store.")
    return create_pairing(Principal(kind="operator", merchant_id=store.merchant_id), store_id, label)


def pairing_qr(principal: Principal, store_id: int, text: str | None) -> bytes:
    """The QR of a live pairing's link; the code must be one of this store's, still usable."""
    own_store(principal, store_id)
    pairing = _live_pairing(text)
    if pairing.store_id != store_id:
        raise NotFound("No such pairing code.", code="pairing_code_unknown")
    return codes.qr_png(NewPairing(pairing, codes.normalize(text)).url)


def _find(text: str | None, *, lock: bool = False) -> TillPairing:
    code = codes.normalize(text) if text else None
    if code is None:
        raise DomainError("A pairing code is 8 letters and digits, like K7QM-4XPA.",
                          code="pairing_code_malformed", status=422)
    query = (select(TillPairing).where(TillPairing.code_hash == codes.code_hash(code))
             .order_by(TillPairing.id.desc()).limit(1))
    pairing = db.session.scalar(query.with_for_update() if lock else query)
    if pairing is None:
        raise NotFound("This pairing code is unknown; check it, or ask for a new one.",
                       code="pairing_code_unknown")
    return pairing


def _live_pairing(text: str | None, *, lock: bool = False) -> TillPairing:
    pairing = _find(text, lock=lock)
    if pairing.used_at is not None:
        raise Conflict("This pairing code has already been used; ask for a new one.",
                       code="pairing_code_used")
    if clock.now() >= pairing.expires_at:
        raise DomainError("This pairing code has expired (they last 10 minutes); ask for a new one.",
                          code="pairing_code_expired", status=410)
    return pairing


def pair_till(text: str) -> PairedTill:
    """Trade a pairing code for a new terminal key of its store: once, before it expires."""
    with unit_of_work() as uow:
        session = uow.session
        pairing = _live_pairing(text, lock=True)
        merchant = session.get(Merchant, pairing.merchant_id)
        if merchant.status != "active":
            raise Forbidden("This merchant is suspended; contact the exchange operator.",
                            code="merchant_suspended")
        store = session.get(Store, pairing.store_id)
        issued = issue_terminal_key(session, pairing.merchant_id, pairing.store_id, pairing.label or "till")
        # Single use whatever the concurrency: only one exchange finds the code still unused.
        taken = session.execute(update(TillPairing).where(
            TillPairing.id == pairing.id, TillPairing.used_at.is_(None))
            .values(used_at=clock.now(), api_key_id=issued.key.id)).rowcount
        if not taken:
            raise Conflict("This pairing code has already been used; ask for a new one.",
                           code="pairing_code_used")
        audit.record(session, actor=f"till_pairing:{pairing.id}", merchant_id=pairing.merchant_id,
                     action="till.paired", subject_type="api_key", subject_id=issued.key.id,
                     to_state="paired", store_id=pairing.store_id, pairing_id=pairing.id)
        events.till_moved(session, issued.key, "till.paired", paired_at=clock.now())
    return PairedTill(issued, store, merchant)


def list_tills(principal: Principal, store_id: int) -> list[dict]:
    own_store(principal, store_id)
    rows = db.session.execute(
        select(ApiKey, TillPairing.used_at).join(TillPairing, TillPairing.api_key_id == ApiKey.id)
        .where(ApiKey.store_id == store_id, ApiKey.kind == "terminal").order_by(ApiKey.id))
    return [{"id": key.id, "label": key.label, "store_id": key.store_id, "paired_at": paired_at,
             "unpaired_at": key.revoked_at, "status": "unpaired" if key.revoked_at else "paired"}
            for key, paired_at in rows]


def unpair_till(principal: Principal, store_id: int, till_id: int) -> None:
    """Revoke a paired till's key: its next request is refused (401) and it says so."""
    with unit_of_work() as uow:
        session = uow.session
        own_store(principal, store_id)
        key = session.scalar(select(ApiKey).join(TillPairing, TillPairing.api_key_id == ApiKey.id).where(
            ApiKey.id == till_id, ApiKey.store_id == store_id, ApiKey.kind == "terminal"))
        if key is None:
            raise NotFound("No such till.")
        _revoke(session, principal, key)


def unpair_self(principal: Principal) -> None:
    """The till's own "unpair" button (a device handed back, or sold)."""
    with unit_of_work() as uow:
        session = uow.session
        _revoke(session, principal, session.get(ApiKey, principal.key_id))


def _revoke(session, principal: Principal, key: ApiKey) -> None:
    if key.revoked_at is not None:
        return
    key.revoked_at = clock.now()
    audit.record(session, actor=principal.actor, merchant_id=key.merchant_id, action="till.unpaired",
                 subject_type="api_key", subject_id=key.id, from_state="paired", to_state="unpaired",
                 store_id=key.store_id)
    paired_at = session.scalar(select(TillPairing.used_at).where(TillPairing.api_key_id == key.id))
    events.till_moved(session, key, "till.unpaired", paired_at=paired_at or key.created_at)


def whoami(principal: Principal) -> dict:
    key = db.session.get(ApiKey, principal.key_id)
    store = db.session.get(Store, principal.store_id)
    paired_at = db.session.scalar(select(TillPairing.used_at).where(TillPairing.api_key_id == key.id))
    return {"till": {"id": key.id, "label": key.label, "paired_at": paired_at or key.created_at},
            "store": store, "merchant": store.merchant}
