"""Prometheus metrics (docs/operations.md lists each): what every worker counts, what is read
from the database when asked, and `/metrics` that adds them up across gunicorn's workers."""
