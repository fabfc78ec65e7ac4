"""Offers: created by their owner, handed out by the owner's active partners."""

from __future__ import annotations

from sqlalchemy import select

from .. import audit, clock
from ..db.unit_of_work import unit_of_work
from ..errors import Conflict, NotFound, Unprocessable
from ..events import views as events
from ..extensions import db
from ..http.auth import Principal
from ..merchants.models import Merchant
from ..money import format_money
from ..partners.services import active_partner_ids, active_partnership
from .models import Offer

MOVES = {"pause": ({"active"}, "paused"), "resume": ({"paused"}, "active"),
         "end": ({"active", "paused"}, "ended")}


def create_offer(principal: Principal, data: dict) -> Offer:
    if data["valid_until"] <= clock.now():
        raise Unprocessable("The offer would already have ended.", code="validation_failed",
                            errors={"valid_until": ["Must be in the future."]})
    distributor_ids = list(dict.fromkeys(data.pop("distributors")))
    discount = data.pop("discount")
    free = _free_order(discount, data["min_spend"], data["currency"])
    if data.pop("allow_free_order") is False and free:
        raise Unprocessable(free, code="free_order", errors={"discount": [
            "Would pay for whole orders: send allow_free_order: true if that is meant."]})
    with unit_of_work() as uow:
        session = uow.session
        partners = active_partner_ids(principal.merchant_id)
        strangers = [i for i in distributor_ids if i not in partners]
        if strangers:
            raise Unprocessable("Only merchants you have an active partnership with can hand out "
                                "your offers.", code="not_a_partner", merchant_ids=strangers)
        at = clock.now()
        offer = Offer(owner_id=principal.merchant_id, status="active", coupons_issued=0,
                      budget_spent=0, created_at=at, updated_at=at,
                      discount_type=discount["type"], discount_amount=discount.get("amount"),
                      discount_rate_bps=discount.get("rate_bps"), max_discount=discount.get("max_amount"),
                      distributors=[session.get(Merchant, i) for i in distributor_ids], **data)
        session.add(offer)
        session.flush()
        audit.record(session, actor=principal.actor, merchant_id=principal.merchant_id,
                     action="offer.created", subject_type="offer", subject_id=offer.id, to_state="active")
    return offer


def _free_order(discount: dict, min_spend: int, currency: str) -> str | None:
    """Why an offer would give orders away for nothing (a typo of ¥300 for ¥30, or ¥30 off from
    ¥0), or None. An owner who means it says so (`allow_free_order`)."""
    if discount["type"] == "amount" and discount["amount"] >= min_spend:
        return (f"A fixed discount of {format_money(discount['amount'], currency)} on orders from "
                f"{format_money(min_spend, currency)} makes some orders free.")
    if discount["type"] == "percent" and discount["rate_bps"] == 10_000:
        return "100% off makes every order free (up to max_amount)."
    return None


def may_distribute(offer: Offer, merchant_id: int) -> bool:
    if offer.distributors and merchant_id not in offer.distributor_ids:
        return False
    return active_partnership(offer.owner_id, merchant_id, clock.now()) is not None


def list_offers(principal: Principal, role: str) -> list[Offer]:
    me = principal.merchant_id
    if role == "owner":
        return list(db.session.scalars(select(Offer).where(Offer.owner_id == me).order_by(Offer.id)))
    owners = active_partner_ids(me)
    candidates = db.session.scalars(select(Offer).where(
        Offer.owner_id.in_(owners), Offer.status != "ended", Offer.valid_until > clock.now())
        .order_by(Offer.id))
    return [o for o in candidates if may_distribute(o, me)]


def visible_offer(principal: Principal, offer_id: int) -> Offer:
    """An offer its owner, or a merchant allowed to distribute it, may see; else 404."""
    offer = db.session.get(Offer, offer_id)
    if offer is None or (offer.owner_id != principal.merchant_id
                         and not may_distribute(offer, principal.merchant_id)):
        raise NotFound("No such offer.")
    return offer


def move_offer(principal: Principal, offer_id: int, action: str) -> Offer:
    with unit_of_work() as uow:
        session = uow.session
        offer = session.get(Offer, offer_id, with_for_update=True)
        if offer is None or offer.owner_id != principal.merchant_id:
            raise NotFound("No such offer.")
        starts, to = MOVES[action]
        if offer.status not in starts:
            raise Conflict(f"Cannot {action} an offer that is {offer.status}.", code="illegal_transition",
                           current_status=offer.status)
        before, offer.status, offer.updated_at = offer.status, to, clock.now()
        audit.record(session, actor=principal.actor, merchant_id=principal.merchant_id,
                     action=f"offer.{action}", subject_type="offer", subject_id=offer.id,
                     from_state=before, to_state=to)
        events.offer_moved(session, offer, f"offer.{events.PAST_TENSE[action]}")
    return offer
