"""`check-ledger --metrics-file PATH`: its result for node_exporter's textfile collector, so a
failed or missing nightly check can be alerted on like any other metric (docs/operations.md)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge, write_to_textfile

from .. import clock


def write_ledger_check(path: str, problems: int) -> None:
    """Written to a temporary file and renamed (prometheus-client's own), never half a file."""
    registry = CollectorRegistry()
    Gauge("exchange_ledger_check_problems", "Problems the last `check-ledger` found (0: balanced)",
          registry=registry).set(problems)
    Gauge("exchange_ledger_check_timestamp_seconds", "When the last `check-ledger` ran (Unix time)",
          registry=registry).set(clock.now().timestamp())
    write_to_textfile(path, registry)
