"""Ranked partner suggestions: complementary, never competing, never already partnered."""

from __future__ import annotations

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import selectinload

from ..categories.models import CategoryRelation, merchant_categories
from ..categories.services import blocked_categories, categories_of
from ..extensions import db
from ..merchants.models import Merchant
from . import matching
from .models import LIVE_STATUSES, Partnership


def suggest_partners(merchant_id: int, *, limit: int, city: str | None = None) -> list[dict]:
    session = db.session
    me = session.get(Merchant, merchant_id)
    mine = categories_of(merchant_id)
    blocked = blocked_categories(mine)
    complement_pairs = session.execute(
        select(CategoryRelation.related_id, CategoryRelation.category_id)
        .where(CategoryRelation.category_id.in_(mine), CategoryRelation.kind == "complements")
    ).all()
    wanted = {theirs for theirs, _ in complement_pairs} - blocked
    if not wanted:
        return []

    mc = merchant_categories
    complementing = (select(mc.c.merchant_id, func.count().label("n"))
                     .where(mc.c.category_id.in_(wanted)).group_by(mc.c.merchant_id).subquery())
    competing = select(mc.c.merchant_id).where(mc.c.category_id.in_(blocked))
    partnered = (select(case((Partnership.low_id == merchant_id, Partnership.high_id),
                             else_=Partnership.low_id))
                 .where(or_(Partnership.low_id == merchant_id, Partnership.high_id == merchant_id),
                        Partnership.status.in_(LIVE_STATUSES)))
    score = _score_sql(me, complementing.c.n).label("score")
    query = (
        select(Merchant, complementing.c.n, score)
        .join(complementing, complementing.c.merchant_id == Merchant.id)
        .where(Merchant.id != merchant_id, Merchant.status == "active",
               Merchant.id.not_in(competing), Merchant.id.not_in(partnered))
        .order_by(score.desc(), Merchant.id)
        .limit(limit)
        .options(selectinload(Merchant.categories))
    )
    if city:
        query = query.where(Merchant.city == city)
    rows = session.execute(query).all()
    return [_suggestion(me, row.Merchant, row.n, complement_pairs) for row in rows]


def _score_sql(me: Merchant, n):
    """matching.score() as SQL, so the database ranks and limits (tested equal to the pure one)."""
    tier_gap = func.abs(Merchant.price_tier - me.price_tier)
    scale_gap = func.abs(case(matching.SCALE_RANK, value=Merchant.scale, else_=0)
                         - matching.SCALE_RANK[me.scale])
    return (
        case((n >= 2, matching.COMPLEMENT_FIRST + matching.COMPLEMENT_MORE),
             else_=matching.COMPLEMENT_FIRST)
        + case((tier_gap == 0, matching.TIER_SAME), (tier_gap == 1, matching.TIER_NEAR), else_=0)
        + case((Merchant.city == me.city, matching.CITY_SAME), else_=0)
        + case((scale_gap == 0, matching.SCALE_SAME), (scale_gap == 1, matching.SCALE_NEAR), else_=0)
    )


def _profile(m: Merchant) -> matching.Profile:
    return matching.Profile(price_tier=m.price_tier, scale=m.scale, city=m.city)


def _suggestion(me: Merchant, them: Merchant, n: int, complement_pairs) -> dict:
    theirs = set(them.category_ids)
    pairs = sorted((t, m) for t, m in complement_pairs if t in theirs)
    return {
        "merchant": them,
        "score": matching.score(_profile(me), _profile(them), n),
        "reasons": matching.reasons(_profile(me), _profile(them), pairs),
    }
