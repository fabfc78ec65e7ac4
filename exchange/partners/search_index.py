"""A denormalized search index for partner suggestions: one row per (merchant, category) with
what the score needs, so ranking 100,000 merchants is an index-only scan (docs/partners.md).

Kept current by `refresh_merchant`, which the merchant services call whenever a merchant's
categories, city, price tier, scale or status change.
"""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Index, String, delete, insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..db.base import Base
from ..merchants.signals import merchant_changed
from .matching import SCALE_RANK


class PartnerSearchEntry(Base):
    __tablename__ = "partner_search_index"
    __table_args__ = (
        # Covers the suggestion query: an index-only scan of the complementary categories.
        Index("ix_partner_search_category", "category_id", "active", "merchant_id", "city",
              "price_tier", "scale_rank", "categories"),
    )

    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), primary_key=True)
    category_id: Mapped[str] = mapped_column(ForeignKey("categories.id"), primary_key=True)
    city: Mapped[str] = mapped_column(String(60))
    price_tier: Mapped[int]
    scale_rank: Mapped[int]
    active: Mapped[bool] = mapped_column(Boolean)
    # All the merchant's categories as ",a,b,": lets one row tell whether the merchant complements
    # through several categories, without grouping rows.
    categories: Mapped[str] = mapped_column(String(250))


def entry(merchant_id: int, category_id: str, city: str, price_tier: int, scale: str, status: str,
          categories: list[str]) -> dict:
    return dict(merchant_id=merchant_id, category_id=category_id, city=city, price_tier=price_tier,
                scale_rank=SCALE_RANK[scale], active=status == "active",
                categories="," + ",".join(sorted(categories)) + ",")


def refresh_merchant(session: Session, merchant) -> None:
    session.flush()
    session.execute(delete(PartnerSearchEntry).where(PartnerSearchEntry.merchant_id == merchant.id))
    rows = [entry(merchant.id, c.id, merchant.city, merchant.price_tier, merchant.scale,
                  merchant.status, [c.id for c in merchant.categories])
            for c in merchant.categories]
    if rows:
        session.execute(insert(PartnerSearchEntry), rows)


@merchant_changed.connect
def _merchant_changed(merchant, *, session: Session) -> None:
    refresh_merchant(session, merchant)
