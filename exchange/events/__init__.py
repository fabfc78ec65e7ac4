"""Events: the outbox every change writes to (`emit`), the feed, and the relay that orders them
and hands them to webhook deliveries."""

from .outbox import emit  # noqa: F401
