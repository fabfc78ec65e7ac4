"""Ids handed out in blocks, for rows whose id must be known before they are written (a coupon's
id is inside its signed token, so tokens are signed before the batch insert)."""

from __future__ import annotations

from sqlalchemy import String, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base


class IdBlock(Base):
    __tablename__ = "id_blocks"

    name: Mapped[str] = mapped_column(String(30), primary_key=True)
    next_id: Mapped[int]


def allocate(session: Session, name: str, count: int) -> range:
    """Reserve `count` consecutive ids; the row update serialises concurrent callers."""
    end = session.execute(update(IdBlock).where(IdBlock.name == name)
                          .values(next_id=IdBlock.next_id + count).returning(IdBlock.next_id)).scalar_one()
    return range(end - count, end)
