"""What each party sees of a coupon: its distributor, its offer's owner, and the customer."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import or_, select, update

from .. import clock
from ..db.unit_of_work import unit_of_work
from ..errors import NotFound
from ..extensions import db
from ..http.auth import Principal
from ..merchants.models import Store
from ..money import format_money
from ..offers.models import Offer
from ..offers.pricing import describe
from . import codes
from .context import coupon_row
from .models import Coupon, Pack
from .signing import read_token
from .state import coupon_state


def links(token: str) -> dict:
    base = current_app.config["PUBLIC_URL"]
    return {"landing_url": f"{base}/c/{token}", "qr_png_url": f"{base}/c/{token}/qr.png",
            "qr_svg_url": f"{base}/c/{token}/qr.svg"}


def coupon_status(coupon: Coupon, offer: Offer) -> str:
    if coupon.status == "revoked" or offer.status == "ended":
        return "revoked"
    if coupon.uses_left == 0:
        return "used"
    if clock.now() >= coupon.expires_at:
        return "expired"
    return "valid"


def visible_coupon(principal: Principal, code: str) -> Coupon:
    """A coupon its distributor or its offer's owner may see; else 404 for everybody."""
    normalized = codes.normalize(code)
    coupon = normalized and db.session.scalar(select(Coupon).where(Coupon.code == normalized))
    if not coupon or principal.merchant_id not in (coupon.distributor_id, coupon.offer.owner_id):
        raise NotFound("No such coupon.")
    return coupon


def merchant_view(principal: Principal, coupon: Coupon) -> dict:
    # The customer pseudonym is never part of any view (SPEC §4.5).
    return {"code": codes.display(coupon.code), "offer_id": coupon.offer_id,
            "distributor_id": coupon.distributor_id, "status": coupon_status(coupon, coupon.offer),
            "uses_total": coupon.uses_total, "uses_left": coupon.uses_left,
            "issued_at": coupon.issued_at, "expires_at": coupon.expires_at,
            "payload": coupon.token, **links(coupon.token)}


def list_coupons(principal: Principal, offer_id: int | None, after: int, limit: int) -> list[Coupon]:
    me = principal.merchant_id
    query = (select(Coupon).join(Offer, Offer.id == Coupon.offer_id)
             .where(or_(Coupon.distributor_id == me, Offer.owner_id == me), Coupon.id > after)
             .order_by(Coupon.id).limit(limit))
    if offer_id is not None:
        query = query.where(Coupon.offer_id == offer_id)
    return list(db.session.scalars(query))


# The customer's page ----------------------------------------------------------------------------

def token_subject(token: str):
    """The coupon or pack a genuine token names (expired tokens still show their page)."""
    typ, claims = read_token(token, allow_expired=True)
    if typ == "cpn":
        coupon = db.session.get(Coupon, claims["c"])
        if coupon is None or coupon.token != token:
            raise NotFound("No such coupon.", code="unknown_coupon")
        return coupon
    pack = db.session.get(Pack, claims["p"])
    if pack is None or pack.token != token:
        raise NotFound("No such coupon.", code="unknown_coupon")
    return pack


def note_viewed(coupons: list[Coupon]) -> None:
    """First view of the customer page: the funnel's 'viewed' step (one write, ever)."""
    ids = [c.id for c in coupons if c.first_viewed_at is None]
    if ids:
        with unit_of_work() as uow:
            session = uow.session
            session.execute(update(Coupon).where(Coupon.id.in_(ids), Coupon.first_viewed_at.is_(None))
                            .values(first_viewed_at=clock.now()))


def customer_view(subject, lang: str) -> dict:
    coupons = subject.coupons if isinstance(subject, Pack) else [subject]
    tz = ZoneInfo(current_app.config["SETTLEMENT_TZ"])
    now = clock.now()
    parts = [_part(c, tz, lang, now) for c in coupons]
    return {"kind": "pack" if isinstance(subject, Pack) else "coupon", "lang": lang, "parts": parts}


def _part(coupon: Coupon, tz: ZoneInfo, lang: str, now) -> dict:
    offer = coupon.offer
    # What the till would decide for an order above the minimum spend (SPEC §4.10).
    state = coupon_state(coupon_row(db.session, coupon.id, now), now, owner_active=offer.owner.status == "active")
    stores = db.session.scalars(select(Store).where(Store.merchant_id == offer.owner_id).order_by(Store.id))
    local = lambda at: at.astimezone(tz).strftime("%Y-%m-%d %H:%M")  # noqa: E731
    return {
        "code": codes.display(coupon.code),
        "title": offer.title,
        "description": offer.description,
        "merchant": offer.owner.name,
        # Machine-readable, as the API has them (integer fen), beside the display strings.
        "discount": offer.discount,
        "min_spend": offer.min_spend,
        "currency": offer.currency,
        "value": describe(offer.discount_type, offer.discount_amount, offer.discount_rate_bps,
                          offer.max_discount, 0, offer.currency, lang),
        "min_spend_text": format_money(offer.min_spend, offer.currency) if offer.min_spend else None,
        "valid_from": offer.valid_from.astimezone(tz).isoformat(),
        "expires_at": coupon.expires_at.astimezone(tz).isoformat(),
        "valid_until": local(coupon.expires_at),
        "timezone": str(tz),
        "uses_left": coupon.uses_left,
        "uses_total": coupon.uses_total,
        "status": state.status,
        "usable": state.usable,
        "refusal": state.refusal[1] if state.refusal else None,
        "usable_from": state.usable_from.astimezone(tz).isoformat() if state.usable_from else None,
        "usable_from_text": local(state.usable_from) if state.usable_from else None,
        "stores": [{"name": s.name, "address": s.address, "city": s.city} for s in stores],
    }
