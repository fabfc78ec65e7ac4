from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base

SECTORS = ("mother_baby", "home_building", "food", "beauty", "education", "pets", "sports", "auto",
           "electronics", "services")

merchant_categories = Table(
    "merchant_categories",
    Base.metadata,
    Column("merchant_id", ForeignKey("merchants.id"), primary_key=True),
    Column("category_id", ForeignKey("categories.id"), primary_key=True),
    # Suggestions start from "merchants in these categories".
    Index("ix_merchant_categories_category_merchant", "category_id", "merchant_id"),
)


class Category(Base):
    """A kind of shop. Shipped as data by a migration; slugs are stable ids."""

    __tablename__ = "categories"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    sector: Mapped[str] = mapped_column(String(20))
    name_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(60))


class CategoryRelation(Base):
    """`complements` or `competitors`, stored in both directions so lookups need one index."""

    __tablename__ = "category_relations"
    __table_args__ = (
        CheckConstraint("kind IN ('complements', 'competitors')", name="kind_known"),
        CheckConstraint("category_id <> related_id", name="not_self"),
    )

    category_id: Mapped[str] = mapped_column(ForeignKey("categories.id"), primary_key=True)
    related_id: Mapped[str] = mapped_column(ForeignKey("categories.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
