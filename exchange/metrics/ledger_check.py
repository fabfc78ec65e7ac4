"""`check-ledger --metrics-file PATH`: its result for node_exporter's textfile collector, so a
failed or missing nightly check can be alerted on like any other metric (docs/operations.md).

Written as text, not through prometheus-client: a CLI run that inherited the server's
`PROMETHEUS_MULTIPROC_DIR` must not leave values of its own among the workers' files.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .. import clock


def write_ledger_check(path: str, problems: int) -> None:
    """Written to a temporary file beside PATH and renamed: never half a file."""
    text = ("# HELP exchange_ledger_check_problems Problems the last `check-ledger` found (0: balanced)\n"
            "# TYPE exchange_ledger_check_problems gauge\n"
            f"exchange_ledger_check_problems {problems}\n"
            "# HELP exchange_ledger_check_timestamp_seconds When the last `check-ledger` ran (Unix time)\n"
            "# TYPE exchange_ledger_check_timestamp_seconds gauge\n"
            f"exchange_ledger_check_timestamp_seconds {clock.now().timestamp():.3f}\n")
    target = Path(path)
    fd, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.replace(partial, target)
    finally:
        Path(partial).unlink(missing_ok=True)
