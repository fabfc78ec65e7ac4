"""What the exchange checks when a till syncs a redemption it accepted offline (issue 17): its
time within the window, the coupon not spent meanwhile elsewhere (a double spend has its own
code), the store's offline limits for that day; a refusal of either kind is an offline conflict."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

from .. import clock
from ..errors import DomainError
from ..merchants.models import Store
from ..redemptions.models import Redemption
from .conflicts import REASONS, record_conflict
from .limits import limits_of
from .rules import check_offline_at


def check_time(offline_at: datetime | None, what: str = "redemption") -> None:
    """The one check of a synced offline redemption's or refund's `offline_at` (see `rules`)."""
    if offline_at is not None:
        check_offline_at(offline_at, clock.now(), window=current_app.config["OFFLINE_WINDOW"],
                         skew=current_app.config["OFFLINE_CLOCK_SKEW"], what=what)


def double_spend() -> DomainError:
    return DomainError("This coupon was already redeemed elsewhere while this till was offline: the "
                       "exchange refuses this offline redemption (a double spend).",
                       code="offline_double_spend", status=409)


@contextmanager
def as_offline(offline_at: datetime | None):
    """Inside a redemption's unit of work: an offline redemption of a coupon already used is a
    double spend, not the ordinary `coupon_exhausted` a cashier online would see."""
    try:
        yield
    except DomainError as error:
        if offline_at is not None and error.code == "coupon_exhausted":
            raise double_spend() from None
        raise


def take_offline_allowance(session, store_id: int, offline_at: datetime, discount: int, zone: str) -> None:
    """The store's offline limits for the day of `offline_at` (where the shop is), counted over
    every till of the store. The store's row is locked first (PostgreSQL), so two tills syncing
    at once are counted one after the other."""
    session.execute(select(Store.id).where(Store.id == store_id).with_for_update())
    limits = limits_of(session, store_id)
    day = offline_at.astimezone(ZoneInfo(zone)).date()
    start = datetime.combine(day, time(0), ZoneInfo(zone))
    count, given = session.execute(select(func.count(), func.coalesce(func.sum(Redemption.discount), 0)).where(
        Redemption.store_id == store_id, Redemption.offline_at >= start,
        Redemption.offline_at < start + timedelta(days=1))).one()
    if count + 1 > limits["max_offline_redemptions_per_day"] or \
            given + discount > limits["max_offline_discount_per_day"]:
        raise DomainError("This store's offline limits for that day were already reached: the exchange "
                          "refuses this offline redemption.", code="offline_limit_reached", status=422,
                          max_offline_redemptions_per_day=limits["max_offline_redemptions_per_day"],
                          max_offline_discount_per_day=limits["max_offline_discount_per_day"])


def note_conflict(principal, error: DomainError, *, store_id: int, coupon_id: int | None, order_ref: str | None,
                  order_amount: int, idempotency_key: str, offline_at: datetime | None) -> None:
    """After an offline redemption was refused: a double spend or a passed limit is kept."""
    if offline_at is not None and error.code in REASONS:
        record_conflict(principal, store_id=store_id, code=error.code, coupon_id=coupon_id, order_ref=order_ref,
                        order_amount=order_amount, idempotency_key=idempotency_key, offline_at=offline_at)
