"""A merchant's webhook endpoints: create, change, delete, rotate the secret, ping."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from .. import audit, clock
from ..db.unit_of_work import unit_of_work
from ..errors import Conflict, NotFound, Unprocessable
from ..events import emit
from ..events.models import WebhookDelivery, WebhookEndpoint
from ..events.types import ALL
from ..extensions import db
from ..http.auth import Principal
from . import ssrf
from .signing import new_secret

MAX_ENDPOINTS = 16


def resolver() -> ssrf.Resolver:
    """DNS as the app is configured to ask it (tests stub it: `WEBHOOK_RESOLVER`)."""
    return current_app.config.get("WEBHOOK_RESOLVER") or ssrf.system_resolver


def check_url(url: str) -> None:
    """Refuse a URL no delivery may go to (422 `unsafe_webhook_url`, the reason in words)."""
    try:
        ssrf.safe_addresses(ssrf.parse(url, https_only=current_app.config["WEBHOOK_HTTPS_ONLY"]), resolver(),
                            allow_private=current_app.config["WEBHOOK_ALLOW_PRIVATE"])
    except ssrf.UnsafeTarget as error:
        raise Unprocessable(str(error), code="unsafe_webhook_url", errors={"url": [str(error)]}) from None


def create_endpoint(principal: Principal, *, url: str, event_types: list[str], description: str | None,
                    enabled: bool) -> WebhookEndpoint:
    check_url(url)
    with unit_of_work() as uow:
        session = uow.session
        count = session.scalar(select(func.count()).select_from(WebhookEndpoint)
                               .where(WebhookEndpoint.merchant_id == principal.merchant_id))
        if count >= MAX_ENDPOINTS:
            raise Conflict(f"A merchant has at most {MAX_ENDPOINTS} webhook endpoints.", code="too_many_endpoints")
        now = clock.now()
        endpoint = WebhookEndpoint(merchant_id=principal.merchant_id, url=url, description=description,
                                   event_types=_normal(event_types), enabled=enabled, secret=new_secret(),
                                   created_at=now, updated_at=now)
        session.add(endpoint)
        session.flush()
        audit.record(session, actor=principal.actor, merchant_id=principal.merchant_id,
                     action="webhook_endpoint.created", subject_type="webhook_endpoint", subject_id=endpoint.id)
    return endpoint


def list_endpoints(principal: Principal) -> list[WebhookEndpoint]:
    return list(db.session.scalars(select(WebhookEndpoint).where(
        WebhookEndpoint.merchant_id == principal.merchant_id).order_by(WebhookEndpoint.id)))


def own_endpoint(principal: Principal, endpoint_id: int, *, lock: bool = False) -> WebhookEndpoint:
    query = select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id,
                                          WebhookEndpoint.merchant_id == principal.merchant_id)
    endpoint = db.session.scalar(query.with_for_update() if lock else query)
    if endpoint is None:
        raise NotFound("No such webhook endpoint.")
    return endpoint


def update_endpoint(principal: Principal, endpoint_id: int, changes: dict) -> WebhookEndpoint:
    if "url" in changes:
        check_url(changes["url"])
    with unit_of_work() as uow:
        session = uow.session
        endpoint = own_endpoint(principal, endpoint_id, lock=True)
        if "event_types" in changes:
            changes["event_types"] = _normal(changes["event_types"])
        if changes.get("enabled") and not endpoint.enabled:
            # Switched back on by its merchant: its failing streak starts afresh.
            endpoint.failing_since, endpoint.disabled_reason = None, None
        for name, value in changes.items():
            setattr(endpoint, name, value)
        endpoint.updated_at = clock.now()
        audit.record(session, actor=principal.actor, merchant_id=principal.merchant_id,
                     action="webhook_endpoint.updated", subject_type="webhook_endpoint", subject_id=endpoint.id,
                     fields=sorted(changes))
    return endpoint


def delete_endpoint(principal: Principal, endpoint_id: int) -> None:
    """Gone with its pending deliveries (the events stay in the feed)."""
    with unit_of_work() as uow:
        session = uow.session
        endpoint = own_endpoint(principal, endpoint_id, lock=True)
        session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
        session.execute(delete(WebhookEndpoint).where(WebhookEndpoint.id == endpoint.id))
        audit.record(session, actor=principal.actor, merchant_id=principal.merchant_id,
                     action="webhook_endpoint.deleted", subject_type="webhook_endpoint", subject_id=endpoint_id)


def rotate_secret(principal: Principal, endpoint_id: int, overlap_seconds: int) -> WebhookEndpoint:
    """A new secret, shown once; for `overlap_seconds` the old one signs too (both signatures in
    webhook-signature), so the receiver can switch without losing a delivery."""
    with unit_of_work() as uow:
        session = uow.session
        endpoint = own_endpoint(principal, endpoint_id, lock=True)
        now = clock.now()
        endpoint.previous_secret = endpoint.secret if overlap_seconds else None
        endpoint.previous_secret_expires_at = now + timedelta(seconds=overlap_seconds) if overlap_seconds else None
        endpoint.secret, endpoint.updated_at = new_secret(), now
        audit.record(session, actor=principal.actor, merchant_id=principal.merchant_id,
                     action="webhook_endpoint.secret_rotated", subject_type="webhook_endpoint",
                     subject_id=endpoint.id, overlap_seconds=overlap_seconds)
    return endpoint


def ping(principal: Principal, endpoint_id: int) -> str:
    """A `webhook.test` event, sent to this endpoint only (also listed in the feed); its id."""
    with unit_of_work() as uow:
        session = uow.session
        endpoint = own_endpoint(principal, endpoint_id)
        return emit(session, principal.merchant_id, "webhook.test",
                    {"endpoint_id": endpoint.id, "url": endpoint.url,
                     "detail": "A test ping asked for by your API call."})


def signing_secrets(endpoint: WebhookEndpoint, at) -> list[str]:
    if endpoint.previous_secret and endpoint.previous_secret_expires_at and at < endpoint.previous_secret_expires_at:
        return [endpoint.secret, endpoint.previous_secret]
    return [endpoint.secret]


def _normal(event_types: list[str]) -> list[str]:
    if not event_types:
        raise Unprocessable("Name at least one event type (or \"*\" for all).", code="validation_failed",
                            errors={"event_types": ["At least one."]})
    return [ALL] if ALL in event_types else sorted(set(event_types))
