"""Ranked partner suggestions: complementary, never competing, never already partnered.

The database ranks rows of the partner search index with `matching.score` in one index-only
scan of the complementary categories and keeps the best; only those merchants are loaded.
A merchant complementing through several categories has a row for each, all with the same
score, so `limit × MAX_CATEGORIES` rows always hold `limit` different merchants.
"""

from __future__ import annotations

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import selectinload

from ..categories.models import CategoryRelation
from ..categories.services import blocked_categories, categories_of
from ..extensions import db
from ..merchants.models import MAX_CATEGORIES, Merchant
from . import matching
from .models import LIVE_STATUSES, Partnership
from .search_index import PartnerSearchEntry as E


def suggest_partners(merchant_id: int, *, limit: int, city: str | None = None) -> list[dict]:
    session = db.session
    me = session.get(Merchant, merchant_id)
    mine = categories_of(merchant_id)
    blocked = blocked_categories(mine)
    complement_pairs = session.execute(
        select(CategoryRelation.related_id, CategoryRelation.category_id)
        .where(CategoryRelation.category_id.in_(mine), CategoryRelation.kind == "complements")
    ).all()
    wanted = sorted({theirs for theirs, _ in complement_pairs} - blocked)
    if not wanted:
        return []

    score = _score_sql(me, wanted).label("score")
    competing = select(E.merchant_id).where(E.category_id.in_(blocked))
    partnered = (select(case((Partnership.low_id == merchant_id, Partnership.high_id),
                             else_=Partnership.low_id))
                 .where(or_(Partnership.low_id == merchant_id, Partnership.high_id == merchant_id),
                        Partnership.status.in_(LIVE_STATUSES)))
    query = (select(E.merchant_id, score)
             .where(E.category_id.in_(wanted), E.active, E.merchant_id != merchant_id,
                    E.merchant_id.not_in(competing), E.merchant_id.not_in(partnered))
             .order_by(score.desc(), E.merchant_id).limit(limit * MAX_CATEGORIES))
    if city:
        query = query.where(E.city == city)
    ranked = list(dict.fromkeys(row.merchant_id for row in session.execute(query)))[:limit]
    merchants = {m.id: m for m in session.scalars(
        select(Merchant).where(Merchant.id.in_(ranked)).options(selectinload(Merchant.categories)))}
    return [_suggestion(me, merchants[i], complement_pairs, set(wanted)) for i in ranked]


def _score_sql(me: Merchant, wanted: list[str]):
    """matching.score() as SQL over one index row (tested equal to the pure one)."""
    several = or_(*[and_(E.category_id != w, E.categories.contains(f",{w},", autoescape=True))
                    for w in wanted])
    tier_gap = func.abs(E.price_tier - me.price_tier)
    scale_gap = func.abs(E.scale_rank - matching.SCALE_RANK[me.scale])
    return (
        case((several, matching.COMPLEMENT_FIRST + matching.COMPLEMENT_MORE),
             else_=matching.COMPLEMENT_FIRST)
        + case((tier_gap == 0, matching.TIER_SAME), (tier_gap == 1, matching.TIER_NEAR), else_=0)
        + case((E.city == me.city, matching.CITY_SAME), else_=0)
        + case((scale_gap == 0, matching.SCALE_SAME), (scale_gap == 1, matching.SCALE_NEAR), else_=0)
    )


def _profile(m: Merchant) -> matching.Profile:
    return matching.Profile(price_tier=m.price_tier, scale=m.scale, city=m.city)


def _suggestion(me: Merchant, them: Merchant, complement_pairs, wanted: set[str]) -> dict:
    theirs = set(them.category_ids)
    pairs = sorted((t, m) for t, m in complement_pairs if t in theirs)
    return {
        "merchant": them,
        "score": matching.score(_profile(me), _profile(them), len(theirs & wanted)),
        "reasons": matching.reasons(_profile(me), _profile(them), pairs),
    }
