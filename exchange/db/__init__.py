"""Persistence: the engine, the declarative base and types, the unit of work (`unit_of_work`),
idempotency records, compiled statements and id blocks. Migrations name `exchange.db.UTCDateTime`."""

from .base import NAMING, Base, UTCDateTime
from .ddl import append_only_ddl, drop_append_only_ddl

__all__ = ["NAMING", "Base", "UTCDateTime", "append_only_ddl", "drop_append_only_ddl"]
