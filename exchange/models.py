"""Every table, imported in one place for the app, Alembic and the tests."""

from .audit import AuditEvent  # noqa: F401
from .merchants.models import ApiKey, Merchant, Store  # noqa: F401
from .orm import Base  # noqa: F401
