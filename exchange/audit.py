"""Audit trail: every state change records who did it, when, and from what to what."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from . import clock
from .db.base import Base
from .db.statements import insert_row


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    # "merchant:12", "terminal:7", "operator", "system"
    actor: Mapped[str] = mapped_column(String(40))
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id"), index=True)
    action: Mapped[str] = mapped_column(String(60))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(30))
    to_state: Mapped[str | None] = mapped_column(String(30))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


def record(session: Session, *, actor: str, action: str, subject_type: str, subject_id,
           merchant_id: int | None = None, from_state: str | None = None,
           to_state: str | None = None, **data) -> None:
    """Append an audit event to the caller's transaction (a prepared INSERT: every
    redemption writes one), after flushing whatever the caller's unit of work still holds."""
    session.flush()
    _INSERT.run(session, dict(
        at=clock.now(), actor=actor, merchant_id=merchant_id, action=action,
        subject_type=subject_type, subject_id=str(subject_id), from_state=from_state,
        to_state=to_state, data=data,
    ))


_INSERT = insert_row(AuditEvent.__table__)
