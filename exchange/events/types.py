"""The event types a merchant can read in its feed and subscribe its webhook endpoints to (pure).

Dotted names, `subject.what_happened`, as Stripe's and Standard Webhooks' examples name them.
"""

from __future__ import annotations

EVENT_TYPES: dict[str, str] = {
    "coupon.redeemed": "a coupon was redeemed (the owner's view; the distributor's own view, "
                       "without the owner's order reference)",
    "redemption.reversed": "a redemption was (partly) refunded and its commission clawed back",
    "partnership.proposed": "a partnership was proposed (to both sides)",
    "partnership.accepted": "a partnership was accepted and its terms are in force",
    "partnership.declined": "a proposed partnership was declined",
    "partnership.paused": "a partnership was paused",
    "partnership.resumed": "a paused partnership was resumed",
    "partnership.terminated": "a partnership was terminated",
    "terms.proposed": "new terms were proposed for a partnership",
    "terms.accepted": "new terms were accepted and are in force",
    "terms.declined": "proposed terms were declined",
    "terms.withdrawn": "proposed terms were withdrawn by their proposer",
    "offer.paused": "an offer was paused by its owner",
    "offer.resumed": "a paused offer was resumed",
    "offer.ended": "an offer was ended by its owner",
    "offer.budget_exhausted": "an offer's budget is used up: its coupons are refused from now on",
    "batch.done": "a coupon batch finished issuing",
    "sheet.ready": "a batch's printable PDF sheet is ready to download",
    "settlement.closed": "a month was closed: this merchant's net position in it",
    "statement.confirmed": "a monthly statement was confirmed (by this merchant or its partner)",
    "dispute.opened": "a statement was disputed",
    "dispute.resolved": "a dispute was resolved by the operator",
    "api_key.created": "a merchant API key was created",
    "api_key.revoked": "a merchant API key was revoked",
    "till.paired": "a till was paired with one of this merchant's stores",
    "till.unpaired": "a till was unpaired",
    "offline.conflict": "a redemption a till accepted offline was refused when it synced (the coupon was "
                        "spent elsewhere meanwhile, or the store's offline limits were passed)",
    "webhook_endpoint.disabled": "a webhook endpoint failed for days and was disabled",
    "webhook.test": "a test ping asked for on one endpoint (sent to that endpoint only)",
}

# A subscription to every type, present and future.
ALL = "*"


def unknown_types(types: list[str]) -> list[str]:
    return [t for t in types if t != ALL and t not in EVENT_TYPES]


def subscribed(event_types: list[str], event_type: str) -> bool:
    """Whether an endpoint subscribed to `event_types` gets `event_type` (a test ping goes only to
    the endpoint it was asked for: see `relay`)."""
    if event_type == "webhook.test":
        return False
    return ALL in event_types or event_type in event_types
