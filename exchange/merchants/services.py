"""Merchants, their stores, and the keys they and their cashiers use."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from .. import audit, clock
from ..categories.services import known_categories
from ..db.unit_of_work import unit_of_work
from ..errors import Conflict, NotFound
from ..events import views as events
from ..extensions import db
from ..http.auth import Principal, format_key, new_secret
from .models import ApiKey, Merchant, Store
from .signals import merchant_changed


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    plaintext: str


def _issue_key(session, merchant_id: int, kind: str, label: str | None,
               store_id: int | None = None) -> IssuedKey:
    secret, digest = new_secret()
    key = ApiKey(kind=kind, merchant_id=merchant_id, store_id=store_id, label=label,
                 secret_hash=digest, created_at=clock.now())
    session.add(key)
    session.flush()
    return IssuedKey(key, format_key(kind, key.id, secret))


def issue_terminal_key(session, merchant_id: int, store_id: int, label: str | None) -> IssuedKey:
    """A new terminal key for a store, inside the caller's transaction (a till being paired)."""
    return _issue_key(session, merchant_id, "terminal", label, store_id=store_id)


def register_merchant(*, name: str, categories: list[str], price_tier: int, scale: str,
                      city: str) -> tuple[Merchant, IssuedKey]:
    with unit_of_work() as uow:
        session = uow.session
        at = clock.now()
        merchant = Merchant(name=name, price_tier=price_tier, scale=scale, city=city,
                            status="active", created_at=at, updated_at=at,
                            categories=known_categories(categories))
        session.add(merchant)
        session.flush()
        merchant_changed.send(merchant, session=session)
        issued = _issue_key(session, merchant.id, "merchant", "registration")
        audit.record(session, actor=f"merchant:{merchant.id}", merchant_id=merchant.id,
                     action="merchant.registered", subject_type="merchant",
                     subject_id=merchant.id, to_state="active")
    return merchant, issued


def get_merchant(merchant_id: int) -> Merchant:
    merchant = db.session.get(Merchant, merchant_id)
    if merchant is None:
        raise NotFound("No such merchant.")
    return merchant


def update_merchant(principal: Principal, changes: dict) -> Merchant:
    if not changes:
        return get_merchant(principal.merchant_id)
    with unit_of_work() as uow:
        session = uow.session
        merchant = session.get(Merchant, principal.merchant_id)
        for field, value in changes.items():
            if field == "categories":
                value = known_categories(value)
            setattr(merchant, field, value)
        merchant.updated_at = clock.now()
        merchant_changed.send(merchant, session=session)
        audit.record(session, actor=principal.actor, merchant_id=merchant.id,
                     action="merchant.updated", subject_type="merchant", subject_id=merchant.id,
                     fields=sorted(changes))
    return merchant


def set_merchant_status(principal: Principal, merchant_id: int, status: str) -> Merchant:
    with unit_of_work() as uow:
        session = uow.session
        merchant = session.get(Merchant, merchant_id)
        if merchant is None:
            raise NotFound("No such merchant.")
        before = merchant.status
        merchant.status = status
        merchant.updated_at = clock.now()
        merchant_changed.send(merchant, session=session)
        audit.record(session, actor=principal.actor, merchant_id=merchant.id,
                     action=f"merchant.{status}", subject_type="merchant",
                     subject_id=merchant.id, from_state=before, to_state=status)
    return merchant


def create_merchant_key(principal: Principal, label: str | None) -> IssuedKey:
    with unit_of_work() as uow:
        session = uow.session
        issued = _issue_key(session, principal.merchant_id, "merchant", label)
        audit.record(session, actor=principal.actor, merchant_id=principal.merchant_id,
                     action="api_key.created", subject_type="api_key", subject_id=issued.key.id)
        events.api_key_moved(session, issued.key, "api_key.created")
    return issued


def list_merchant_keys(principal: Principal) -> list[ApiKey]:
    return list(db.session.scalars(
        select(ApiKey).where(ApiKey.merchant_id == principal.merchant_id, ApiKey.kind == "merchant")
        .order_by(ApiKey.id)
    ))


def revoke_merchant_key(principal: Principal, key_id: int) -> None:
    with unit_of_work() as uow:
        session = uow.session
        key = session.scalar(select(ApiKey).where(
            ApiKey.id == key_id, ApiKey.merchant_id == principal.merchant_id,
            ApiKey.kind == "merchant"))
        if key is None:
            raise NotFound("No such API key.")
        if key.revoked_at is not None:
            return
        live = session.scalar(select(func.count()).select_from(ApiKey).where(
            ApiKey.merchant_id == principal.merchant_id, ApiKey.kind == "merchant",
            ApiKey.revoked_at.is_(None)))
        if live <= 1:
            raise Conflict("This is your last active key; create a new one before revoking it.",
                           code="last_key")
        key.revoked_at = clock.now()
        audit.record(session, actor=principal.actor, merchant_id=principal.merchant_id,
                     action="api_key.revoked", subject_type="api_key", subject_id=key.id)
        events.api_key_moved(session, key, "api_key.revoked")


def create_store(principal: Principal, *, name: str, address: str, city: str) -> Store:
    with unit_of_work() as uow:
        session = uow.session
        store = Store(merchant_id=principal.merchant_id, name=name, address=address, city=city,
                      created_at=clock.now())
        session.add(store)
        session.flush()
        audit.record(session, actor=principal.actor, merchant_id=principal.merchant_id,
                     action="store.created", subject_type="store", subject_id=store.id)
    return store


def list_stores(principal: Principal) -> list[Store]:
    return list(db.session.scalars(
        select(Store).where(Store.merchant_id == principal.merchant_id).order_by(Store.id)))


def own_store(principal: Principal, store_id: int) -> Store:
    store = db.session.get(Store, store_id)
    if store is None or store.merchant_id != principal.merchant_id:
        raise NotFound("No such store.")
    return store


def create_terminal_key(principal: Principal, store_id: int, label: str | None) -> IssuedKey:
    with unit_of_work() as uow:
        session = uow.session
        own_store(principal, store_id)
        issued = _issue_key(session, principal.merchant_id, "terminal", label, store_id=store_id)
        audit.record(session, actor=principal.actor, merchant_id=principal.merchant_id,
                     action="terminal_key.created", subject_type="api_key",
                     subject_id=issued.key.id, store_id=store_id)
    return issued


def list_terminal_keys(principal: Principal, store_id: int) -> list[ApiKey]:
    own_store(principal, store_id)
    return list(db.session.scalars(
        select(ApiKey).where(ApiKey.store_id == store_id, ApiKey.kind == "terminal")
        .order_by(ApiKey.id)))


def revoke_terminal_key(principal: Principal, store_id: int, key_id: int) -> None:
    with unit_of_work() as uow:
        session = uow.session
        own_store(principal, store_id)
        key = session.scalar(select(ApiKey).where(
            ApiKey.id == key_id, ApiKey.store_id == store_id, ApiKey.kind == "terminal"))
        if key is None:
            raise NotFound("No such terminal key.")
        if key.revoked_at is None:
            key.revoked_at = clock.now()
            audit.record(session, actor=principal.actor, merchant_id=principal.merchant_id,
                         action="terminal_key.revoked", subject_type="api_key", subject_id=key.id)
