from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base


class TillPairing(Base):
    """A one-time code that pairs a device as a store's till: exchanged once, within minutes,
    for a new terminal key (`api_key_id`). Only the code's hash is kept."""

    __tablename__ = "till_pairings"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), index=True)
    label: Mapped[str | None] = mapped_column(String(80))
    created_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"), unique=True)
