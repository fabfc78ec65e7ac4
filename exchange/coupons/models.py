from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db.base import Base


class Coupon(Base):
    """One printed or sent coupon of an offer, handed out by one distributor.

    Its id comes from `id_blocks` (it is signed into the token before the row is written).
    `uses_left` never goes below zero: the database refuses it (SPEC §4.1's backstop).
    """

    __tablename__ = "coupons"
    __table_args__ = (
        CheckConstraint("uses_left >= 0 AND uses_left <= uses_total", name="uses_in_range"),
        CheckConstraint("status IN ('active', 'revoked')", name="status_known"),
        Index("ix_coupons_offer_customer", "offer_id", "customer_pseudonym"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    code: Mapped[str] = mapped_column(String(13), unique=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"))
    distributor_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("coupon_batches.id"), index=True)
    pack_id: Mapped[int | None] = mapped_column(ForeignKey("packs.id"), index=True)
    customer_pseudonym: Mapped[str | None] = mapped_column(String(64))
    uses_total: Mapped[int]
    uses_left: Mapped[int]
    status: Mapped[str] = mapped_column(String(8))
    token: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    first_viewed_at: Mapped[datetime | None]

    offer: Mapped[Offer] = relationship()  # noqa: F821


class CouponBatch(Base):
    """A large issue done in the background. `issued` moves only in the same transaction as the
    coupons it counts, so a crash can neither lose nor double a chunk; a worker holds the batch
    through a lease that another worker may take over once it lapses."""

    __tablename__ = "coupon_batches"
    __table_args__ = (
        CheckConstraint("issued >= 0 AND issued <= requested", name="issued_in_range"),
        CheckConstraint("status IN ('pending', 'running', 'done', 'cancelled')", name="status_known"),
        CheckConstraint("sheet_status IN ('none', 'pending', 'rendering', 'ready')", name="sheet_status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"), index=True)
    distributor_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    requested: Mapped[int]
    issued: Mapped[int]
    status: Mapped[str] = mapped_column(String(10), index=True)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    detail: Mapped[str | None] = mapped_column(String(200))
    # Its printable sheets, asked for once the batch is done: none → pending (its parts planned,
    # being drawn: SheetPart) → ready (every part drawn). ('rendering' is no longer used.)
    sheet_status: Mapped[str] = mapped_column(String(10), default="none")


class SheetPart(Base):
    """One PDF of a batch's printable sheets: `coupons` coupons in id order from `first_coupon_id`.
    Drawn by any server's worker under a lease (a worker killed mid-part leaves it pending, and
    another draws it once the lease lapses) and kept here, so every server serves every part."""

    __tablename__ = "sheet_parts"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'ready')", name="status_known"),
        Index("ix_sheet_parts_status", "status"),
    )

    batch_id: Mapped[int] = mapped_column(ForeignKey("coupon_batches.id"), primary_key=True)
    number: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # 1, 2, …
    first_coupon_id: Mapped[int]
    coupons: Mapped[int]
    status: Mapped[str] = mapped_column(String(8))
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    pages: Mapped[int | None]
    size: Mapped[int | None]  # bytes of the PDF
    drawn_at: Mapped[datetime | None]
    # Loaded only when asked for: listing a batch's parts must not read 150 MB of PDFs.
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)


class Pack(Base):
    """One QR holding coupons of several partners' offers (the article's pooled promotion)."""

    __tablename__ = "packs"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    distributor_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    token: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]

    coupons: Mapped[list[Coupon]] = relationship(order_by="Coupon.id")
