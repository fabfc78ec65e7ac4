"""The outbox (events), webhook endpoints and their deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base


class Event(Base):
    """Written in the transaction of the change it reports; never changed afterwards except
    for `seq`, which the relay sets once the event is committed (see `relay`)."""

    __tablename__ = "events"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # evt_<26 letters>
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    type: Mapped[str] = mapped_column(String(60))
    created: Mapped[datetime]
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The feed's order: assigned by the relay in the order events became visible (committed).
    seq: Mapped[int | None] = mapped_column(Integer, unique=True)

    __table_args__ = (Index("ix_events_merchant_id_seq", "merchant_id", "seq"),)


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str | None] = mapped_column(String(200))
    event_types: Mapped[list[str]] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(Boolean)
    # Signing needs the secret itself (an HMAC key), not a hash of it.
    secret: Mapped[str] = mapped_column(String(80))
    previous_secret: Mapped[str | None] = mapped_column(String(80))
    previous_secret_expires_at: Mapped[datetime | None]
    # Set at the first failure after a success; an endpoint failing for DISABLE_AFTER is disabled.
    failing_since: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class WebhookDelivery(Base):
    """One event to one endpoint: one webhook-id (the event's id) for all its attempts."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"))
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True)
    # pending (waiting for its next attempt, or leased: see `attempts`), succeeded, failed (gave up)
    status: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int]
    next_attempt_at: Mapped[datetime]
    # Who holds the attempt in flight; a lapsed lease (next_attempt_at passed) is taken over.
    lease_owner: Mapped[str | None] = mapped_column(String(80))
    retry_window_from: Mapped[datetime]
    last_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None]
    last_latency_ms: Mapped[int | None]
    last_excerpt: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(String(200))
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("event_id", "endpoint_id"),
                      Index("ix_webhook_deliveries_due", "status", "next_attempt_at"))


class AttemptEndpoint(NamedTuple):
    """What an attempt needs of its endpoint, read with the delivery it is for (the relay's and
    the claim's selects list `ATTEMPT_ENDPOINT_COLUMNS`)."""

    id: int
    url: str
    enabled: bool
    secret: str
    previous_secret: str | None
    previous_secret_expires_at: datetime | None
    failing_since: datetime | None


ATTEMPT_ENDPOINT_COLUMNS = tuple(WebhookEndpoint.__table__.c[name] for name in AttemptEndpoint._fields)
