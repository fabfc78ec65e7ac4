"""The redemption path's SQL, all of it: a coupon loaded in context, a use taken, the budget spent,
the aggregate limits, the redemption written. Compiled once (`exchange.db.statements`); the
decisions are `checks` (pure); the transaction is the service's unit of work.

Aggregate limits are each taken by one guarded write the database serialises (SPEC §4.8).

A redemption locks only its own coupon's row, so two tills redeeming *different* coupons run
side by side; a limit over many coupons — a partnership's monthly commission cap, a customer's
uses of an offer — checked by reading a sum could let both through over the limit. Each limit is
therefore a counter row changed by `UPDATE … SET used = used + :n WHERE used + :n <= :limit`:
PostgreSQL makes the second writer wait for the first and re-evaluates the condition on the row
it committed; SQLite has one writer at a time. No matching row means the limit is reached.

A counter row is created on first use from what is already on the books (the month's
redemptions of the partnership, or the customer's redemptions of the offer), so a cap agreed in
the middle of a month still counts the month's earlier commission. Only limited offers and
capped partnerships keep counters: the others never touch a shared row.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, and_, bindparam, case, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..coupons.context import coupon_in_context
from ..coupons.models import Coupon, Pack
from ..db.statements import Compiled, insert_row
from ..merchants.models import Store
from ..offers.models import Offer
from .checks import Loaded, settlement_month
from .models import CustomerOfferUse, PartnershipMonth, Redemption

R, M, U = Redemption, PartnershipMonth, CustomerOfferUse


def load(session, reference: tuple[str, dict], *, at: datetime, zone: str, lock: bool = False) -> Loaded | None:
    """The coupon `reference` names, in context at `at` (locked on PostgreSQL with `lock`), with
    what its limits have counted so far: the customer's uses of the offer and the partnership's
    commission this month, each read only if the coupon is limited so. None if there is none."""
    by, params = reference
    c = coupon_in_context(by, lock).first(session, {**params, "now": at})
    if c is None:
        return None
    uses = month = None
    if c.per_customer_limit is not None and c.customer_pseudonym is not None:
        uses = customer_uses(session, offer_id=c.offer_id, pseudonym=c.customer_pseudonym)
    if c.monthly_cap is not None:
        month = commission_so_far(session, partnership_id=c.partnership_id, **settlement_month(at, zone))
    return Loaded(c, customer_uses=uses, month_commission=month)


def store_owner(session, store_id: int) -> int | None:
    return session.scalar(select(Store.merchant_id).where(Store.id == store_id))


def pack_part(session, pack_id: int, token: str, owner_id: int) -> int | None | bool:
    """The id of the pack's coupon redeemable at `owner_id`; None if there is no such pack,
    False if the pack holds none for that owner."""
    pack = session.get(Pack, pack_id)
    if pack is None or pack.token != token:
        return None
    return next((c.id for c in pack.coupons if c.offer.owner_id == owner_id), False)


def take_a_use(session, coupon_id: int) -> bool:
    """One use of the coupon, if one is left: exactly once, whatever the concurrency."""
    return bool(_TAKE_A_USE.count(session, {"coupon_id": coupon_id}))


def spend_budget(session, offer_id: int, discount: int) -> int | None:
    """The discount out of the offer's budget, if it fits: what is left of it then, or None."""
    return _SPEND_BUDGET.scalar(session, {"offer_id": offer_id, "discount": discount})


def insert_redemption(session, r: Redemption) -> int:
    """One INSERT of `r` (which never joins the session); its id."""
    return _INSERT_REDEMPTION.scalar(session, {column.key: getattr(r, column.key)
                                               for column in Redemption.__table__.columns if column.key != "id"})


def take_commission(session, *, partnership_id: int, period: str, starts_at, ends_at, commission: int,
                    cap: int) -> bool:
    """Count `commission` against the partnership's cap for `period`; False if it would pass it."""
    _START_MONTH.run(session, {"partnership_id": partnership_id, "period": period,
                               "starts_at": starts_at, "ends_at": ends_at})
    return bool(_TAKE_COMMISSION.count(session, {"partnership_id": partnership_id, "period": period,
                                                 "commission": commission, "cap": cap}))


def give_back_commission(session, *, partnership_id: int, period: str, clawback: int) -> None:
    """A refund's clawback frees that much of the month's cap (if the month keeps a count)."""
    if clawback:
        _GIVE_BACK_COMMISSION.run(session, {"partnership_id": partnership_id, "period": period,
                                            "clawback": clawback})


def commission_so_far(session, *, partnership_id: int, period: str, starts_at, ends_at) -> int:
    """The month's commission as the cap counts it (for `verify`, which writes nothing)."""
    counted = _MONTH_TOTAL.scalar(session, {"partnership_id": partnership_id, "period": period})
    if counted is not None:
        return counted
    return _MONTH_SUM.scalar(session, {"partnership_id": partnership_id, "starts_at": starts_at,
                                       "ends_at": ends_at})


def take_customer_use(session, *, offer_id: int, pseudonym: str, limit: int) -> bool:
    """Count one more redemption of the offer by this customer; False if it would pass the limit."""
    params = {"offer_id": offer_id, "pseudonym": pseudonym}
    _START_CUSTOMER.run(session, params)
    return bool(_TAKE_CUSTOMER_USE.count(session, {**params, "limit": limit}))


def give_back_customer_use(session, *, offer_id: int, pseudonym: str) -> None:
    """A fully refunded redemption no longer counts against the customer's limit."""
    _GIVE_BACK_CUSTOMER_USE.run(session, {"offer_id": offer_id, "pseudonym": pseudonym})


def customer_uses(session, *, offer_id: int, pseudonym: str) -> int:
    params = {"offer_id": offer_id, "pseudonym": pseudonym}
    counted = _CUSTOMER_TOTAL.scalar(session, params)
    return counted if counted is not None else _CUSTOMER_COUNT.scalar(session, params)


def _insert_if_missing(table, columns: list[str], source, keys: list[str]) -> Compiled:
    """`INSERT … SELECT … ON CONFLICT DO NOTHING`, in each dialect's own words."""
    return Compiled.per_dialect({
        dialect.dialect.name: dialect.insert(table).from_select(columns, source)
        .on_conflict_do_nothing(index_elements=keys)
        for dialect in (postgresql, sqlite)})


_in_month = and_(R.partnership_id == bindparam("partnership_id"), R.redeemed_at >= bindparam("starts_at"),
                 R.redeemed_at < bindparam("ends_at"))
_month_sum = func.coalesce(func.sum(R.commission_amount - R.commission_clawed_back), 0).label("commission")
_of_customer = and_(R.offer_id == bindparam("offer_id"), R.customer_pseudonym == bindparam("pseudonym"),
                    R.refunded_amount < R.paid_amount)

_START_MONTH = _insert_if_missing(
    M.__table__, ["partnership_id", "period", "commission"],
    select(bindparam("partnership_id", type_=Integer), bindparam("period", type_=String), _month_sum)
    .where(_in_month),
    ["partnership_id", "period"])
_TAKE_COMMISSION = Compiled(
    update(M).where(M.partnership_id == bindparam("partnership_id"), M.period == bindparam("period"),
                    M.commission + bindparam("commission", type_=BigInteger) <= bindparam("cap", type_=BigInteger))
    .values(commission=M.commission + bindparam("commission", type_=BigInteger)))
_GIVE_BACK_COMMISSION = Compiled(
    update(M).where(M.partnership_id == bindparam("partnership_id"), M.period == bindparam("period"))
    # Never below zero: a month whose count began after some of its redemptions (a cap agreed
    # mid-month, with tills in flight) may see a clawback of commission it never counted.
    .values(commission=case((M.commission > bindparam("clawback"), M.commission - bindparam("clawback")),
                            else_=literal(0))))
_MONTH_TOTAL = Compiled(select(M.commission).where(M.partnership_id == bindparam("partnership_id"),
                                                   M.period == bindparam("period")))
_MONTH_SUM = Compiled(select(_month_sum).where(_in_month))

_START_CUSTOMER = _insert_if_missing(
    U.__table__, ["offer_id", "customer_pseudonym", "redemptions"],
    select(bindparam("offer_id", type_=Integer), bindparam("pseudonym", type_=String),
           func.count(R.id).label("redemptions"))
    .where(_of_customer),
    ["offer_id", "customer_pseudonym"])
_TAKE_CUSTOMER_USE = Compiled(
    update(U).where(U.offer_id == bindparam("offer_id"), U.customer_pseudonym == bindparam("pseudonym"),
                    U.redemptions + 1 <= bindparam("limit"))
    .values(redemptions=U.redemptions + 1))
_GIVE_BACK_CUSTOMER_USE = Compiled(
    update(U).where(U.offer_id == bindparam("offer_id"), U.customer_pseudonym == bindparam("pseudonym"),
                    U.redemptions > 0)
    .values(redemptions=U.redemptions - 1))
_CUSTOMER_TOTAL = Compiled(select(U.redemptions).where(U.offer_id == bindparam("offer_id"),
                                                       U.customer_pseudonym == bindparam("pseudonym")))
_CUSTOMER_COUNT = Compiled(select(func.count(R.id).label("redemptions")).where(_of_customer))

_TAKE_A_USE = Compiled(update(Coupon.__table__).where(Coupon.id == bindparam("coupon_id"), Coupon.uses_left > 0)
                       .values(uses_left=Coupon.uses_left - 1))
_SPEND_BUDGET = Compiled(update(Offer.__table__)
                         .where(Offer.id == bindparam("offer_id"),
                                Offer.budget_spent + bindparam("discount") <= Offer.budget)
                         .values(budget_spent=Offer.budget_spent + bindparam("discount"))
                         .returning((Offer.budget - Offer.budget_spent).label("budget_left")))
_INSERT_REDEMPTION = insert_row(Redemption.__table__)
