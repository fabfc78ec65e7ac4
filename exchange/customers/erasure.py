"""A customer's right to erasure (PIPL art. 47; SPEC §4.5): forget the pseudonym everywhere.

The exchange never stored the reference, only its keyed pseudonym (`coupons/privacy.py`); the
pseudonym is recomputed from the reference given and removed from every table that holds it:
coupons, redemptions and the per-customer limit counters (`customer_offer_uses`). Packs and
tokens hold none. What stays is what money needs: every redemption, its amounts, commission and
ledger entries, so statements and `check-ledger` are unchanged; the customer's redemptions now
count as anonymous (partner reports count distinct customers by pseudonym).

A merchant erases among the coupons it handed out (and their redemptions); the operator
everywhere. A counter of an offer the merchant's coupons touched is removed and rebuilt from
the redemptions still naming the customer (another distributor's) when next needed
(`redemptions/store.py` starts a missing counter from the books). The audit event says that an
erasure happened and how much it changed, never whom it concerned. Erasing twice is harmless:
the second finds nothing.
"""

from __future__ import annotations

import uuid

from flask import current_app
from sqlalchemy import delete, select, update

from .. import audit
from ..coupons.models import Coupon
from ..coupons.privacy import pseudonym
from ..db.unit_of_work import unit_of_work
from ..http.auth import Principal
from ..offers.models import Offer
from ..redemptions.models import CustomerOfferUse, Redemption


def _every_offer():
    # The pseudonym is indexed only after the offer (`ix_…_offer_customer`): naming every offer
    # lets both databases use those indexes instead of scanning the coupons inside the write.
    return select(Offer.id).scalar_subquery()


def erase_customer(principal: Principal, customer_ref: str) -> dict:
    # Under the current key and every key used before a rotation (docs/operations.md).
    keys = [current_app.config["PSEUDONYM_KEY"], *current_app.config.get("PSEUDONYM_PREVIOUS_KEYS", [])]
    aliases = [pseudonym(customer_ref, key) for key in keys]
    own = principal.kind != "operator"
    with unit_of_work() as uow:
        session = uow.session
        coupons = (Coupon.offer_id.in_(_every_offer()), Coupon.customer_pseudonym.in_(aliases))
        redemptions = (Redemption.offer_id.in_(_every_offer()), Redemption.customer_pseudonym.in_(aliases))
        counters = [CustomerOfferUse.offer_id.in_(_every_offer()), CustomerOfferUse.customer_pseudonym.in_(aliases)]
        if own:
            coupons += (Coupon.distributor_id == principal.merchant_id,)
            redemptions += (Redemption.distributor_id == principal.merchant_id,)
            offers = set(session.scalars(select(Coupon.offer_id).where(*coupons).distinct()))
            offers |= set(session.scalars(select(Redemption.offer_id).where(*redemptions).distinct()))
            counters[0] = CustomerOfferUse.offer_id.in_(offers)
        erased = {
            "coupons": session.execute(update(Coupon).where(*coupons).values(customer_pseudonym=None)).rowcount,
            "redemptions": session.execute(
                update(Redemption).where(*redemptions).values(customer_pseudonym=None)).rowcount,
            "limit_counters": session.execute(delete(CustomerOfferUse).where(*counters)).rowcount,
        }
        scope = "issued_by_you" if own else "all"
        # Not the pseudonym, not the reference: the subject is the erasure itself.
        audit.record(session, actor=principal.actor, action="customer.erased", subject_type="customer_erasure",
                     subject_id=uuid.uuid4().hex, merchant_id=principal.merchant_id, scope=scope, **erased)
    return {"scope": scope, "erased": erased}
