"""How partner suggestions are scored, pure (documented in docs/partners.md).

SPEC §1: partners should have related or complementary products, similar positioning and price
tier, similar scale, and never compete. Competitors and non-complementary merchants are filtered
out before scoring; the score ranks what is left, out of 100:

    complementary categories   30 for the first, +15 if two or more      (max 45)
    price tier                 20 same, 10 one apart                     (max 20)
    city                       20 same city                              (max 20)
    scale                      15 same, 8 one step apart                 (max 15)

Ties are broken by the older merchant (lower id) first, so the order is stable.
"""

from __future__ import annotations

from dataclasses import dataclass

SCALE_RANK = {"micro": 0, "small": 1, "medium": 2, "large": 3}

COMPLEMENT_FIRST, COMPLEMENT_MORE = 30, 15
TIER_SAME, TIER_NEAR = 20, 10
CITY_SAME = 20
SCALE_SAME, SCALE_NEAR = 15, 8


@dataclass(frozen=True)
class Profile:
    price_tier: int
    scale: str
    city: str


def score(me: Profile, them: Profile, complementing: int) -> int:
    """Score of a candidate that complements `me` through `complementing` of its categories."""
    total = 0
    if complementing:
        total += COMPLEMENT_FIRST + (COMPLEMENT_MORE if complementing >= 2 else 0)
    tier_gap = abs(me.price_tier - them.price_tier)
    total += TIER_SAME if tier_gap == 0 else TIER_NEAR if tier_gap == 1 else 0
    total += CITY_SAME if me.city == them.city else 0
    scale_gap = abs(SCALE_RANK[me.scale] - SCALE_RANK[them.scale])
    total += SCALE_SAME if scale_gap == 0 else SCALE_NEAR if scale_gap == 1 else 0
    return total


def reasons(me: Profile, them: Profile, pairs: list[tuple[str, str]]) -> list[str]:
    """Human-readable reasons; `pairs` are (their category, my category it complements)."""
    out = [f"their category {theirs} complements your category {mine}" for theirs, mine in pairs]
    tier_gap = abs(me.price_tier - them.price_tier)
    if tier_gap == 0:
        out.append("same price tier")
    elif tier_gap == 1:
        out.append("similar price tier")
    if me.city == them.city:
        out.append("same city")
    scale_gap = abs(SCALE_RANK[me.scale] - SCALE_RANK[them.scale])
    if scale_gap == 0:
        out.append("same scale")
    elif scale_gap == 1:
        out.append("similar scale")
    return out
