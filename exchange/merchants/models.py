from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..categories.models import Category
from ..db.base import Base

SCALES = ("micro", "small", "medium", "large")
MAX_CATEGORIES = 5
MERCHANT_STATUSES = ("active", "suspended")


class Merchant(Base):
    __tablename__ = "merchants"
    __table_args__ = (
        CheckConstraint("price_tier BETWEEN 1 AND 5", name="price_tier_range"),
        CheckConstraint("scale IN ('micro', 'small', 'medium', 'large')", name="scale_known"),
        CheckConstraint("status IN ('active', 'suspended')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    price_tier: Mapped[int]
    scale: Mapped[str] = mapped_column(String(10))
    city: Mapped[str] = mapped_column(String(60), index=True)
    status: Mapped[str] = mapped_column(String(10), default="active")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    stores: Mapped[list[Store]] = relationship(back_populates="merchant", order_by="Store.id")
    categories: Mapped[list[Category]] = relationship(secondary="merchant_categories",
                                                      order_by="Category.id")

    @property
    def category_ids(self) -> list[str]:
        return sorted(c.id for c in self.categories)


class Store(Base):
    __tablename__ = "stores"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(300))
    city: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime]

    merchant: Mapped[Merchant] = relationship(back_populates="stores")


class ApiKey(Base):
    """A merchant key (`mk_<id>_<secret>`) or a store's terminal key (`tk_<id>_<secret>`).

    Only a SHA-256 of the secret is stored: the secret has 256 random bits, so a slow hash adds
    nothing, and the lookup by id keeps the constant-time comparison to one row.
    """

    __tablename__ = "api_keys"
    __table_args__ = (
        CheckConstraint("kind IN ('merchant', 'terminal')", name="kind_known"),
        CheckConstraint("kind = 'merchant' OR store_id IS NOT NULL", name="terminal_has_store"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"), index=True)
    label: Mapped[str | None] = mapped_column(String(80))
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
