"""Each change's events, one per merchant it concerns, each in that merchant's API view (the
schemas the routes dump). One call per change, inside the change's own transaction."""

from __future__ import annotations

import functools

from sqlalchemy.orm import Session

from .outbox import emit


@functools.cache
def _schema(schema_class):
    """One instance per schema (building one costs more than the dump: a redemption dumps two)."""
    return schema_class()


def _dump(schema_class, obj):
    return _schema(schema_class).dump(obj)


# A route's action, as its event names what happened.
PAST_TENSE = {"accept": "accepted", "decline": "declined", "pause": "paused", "resume": "resumed",
              "terminate": "terminated", "end": "ended", "withdraw": "withdrawn"}


def coupon_redeemed(session: Session, r) -> dict:
    """The owner sees its till's data (order_ref, store); the distributor only the sale it brought
    and its commission (SPEC §9: never the owner's order references). Returns the owner's view."""
    from ..redemptions.schemas import DistributorRedemptionSchema, RedemptionSchema

    owners = _dump(RedemptionSchema, r)
    emit(session, r.owner_id, "coupon.redeemed", owners, at=r.redeemed_at)
    emit(session, r.distributor_id, "coupon.redeemed", _dump(DistributorRedemptionSchema, r), at=r.redeemed_at)
    return owners


def redemption_reversed(session: Session, r, reversal) -> None:
    from ..redemptions.schemas import DistributorRedemptionSchema, RedemptionSchema, ReversalSchema

    refund = _dump(ReversalSchema, reversal)
    emit(session, r.owner_id, "redemption.reversed", {"redemption": _dump(RedemptionSchema, r), "reversal": refund},
         at=reversal.reversed_at)
    emit(session, r.distributor_id, "redemption.reversed",
         {"redemption": _dump(DistributorRedemptionSchema, r), "reversal": refund}, at=reversal.reversed_at)


def partnership_moved(session: Session, p, type: str) -> None:
    from ..partners.schemas import PartnershipSchema

    view = _dump(PartnershipSchema, p)
    for merchant_id in (p.proposer_id, p.partner_id):
        emit(session, merchant_id, type, view)


def terms_moved(session: Session, p, terms, type: str) -> None:
    from ..partners.schemas import PartnershipSchema, TermsOutSchema

    view = {"partnership": _dump(PartnershipSchema, p), "terms": _dump(TermsOutSchema, terms)}
    for merchant_id in (p.proposer_id, p.partner_id):
        emit(session, merchant_id, type, view)


def offer_moved(session: Session, offer, type: str) -> None:
    from ..offers.schemas import OfferSchema

    emit(session, offer.owner_id, type, _dump(OfferSchema, offer))


def batch_done(session: Session, batch) -> None:
    from ..coupons.schemas import BatchSchema

    emit(session, batch.distributor_id, "batch.done", _dump(BatchSchema, batch))


def sheet_ready(session: Session, batch) -> None:
    from ..coupons.schemas import BatchSchema

    urls = f"/api/v1/coupon-batches/{batch.id}"
    emit(session, batch.distributor_id, "sheet.ready",
         {"batch": _dump(BatchSchema, batch), "sheet_url": f"{urls}/sheet.pdf", "sheets_url": f"{urls}/sheets",
          "zip_url": f"{urls}/sheets.zip"})


def settlement_closed(session: Session, statements: dict[int, dict]) -> None:
    """To every merchant of the month's obligations: its statement, as `GET /settlements/{period}`
    shows it once the close has committed (its pairs from its side, its net position)."""
    from ..settlement.schemas import StatementSchema

    for merchant_id, statement in sorted(statements.items()):
        emit(session, merchant_id, "settlement.closed", _dump(StatementSchema, statement))


def statement_confirmed(session: Session, period: str, views: dict[int, dict]) -> None:
    """To both sides of the pair: the obligation as each one's statement shows it now."""
    from ..settlement.schemas import ObligationSchema

    for merchant_id, view in sorted(views.items()):
        emit(session, merchant_id, "statement.confirmed",
             {"period": period, "obligation": _dump(ObligationSchema, view)})


def dispute_moved(session: Session, dispute, type: str) -> None:
    from ..settlement.schemas import DisputeSchema

    view = _dump(DisputeSchema, dispute)
    for merchant_id in (dispute.obligation.merchant_a_id, dispute.obligation.merchant_b_id):
        emit(session, merchant_id, type, view)


def api_key_moved(session: Session, key, type: str) -> None:
    from ..merchants.schemas import ApiKeySchema

    emit(session, key.merchant_id, type, _dump(ApiKeySchema, key))


def till_moved(session: Session, key, type: str, paired_at) -> None:
    from ..till.schemas import TillSchema

    emit(session, key.merchant_id, type, _dump(TillSchema, {
        "id": key.id, "label": key.label, "store_id": key.store_id, "paired_at": paired_at,
        "unpaired_at": key.revoked_at, "status": "unpaired" if key.revoked_at else "paired"}))


def offline_conflict(session: Session, conflict) -> None:
    """To the store's merchant only: the distributor's commission was never booked."""
    from ..offline.schemas import OfflineConflictSchema

    emit(session, conflict.merchant_id, "offline.conflict", _dump(OfflineConflictSchema, conflict),
         at=conflict.detected_at)
