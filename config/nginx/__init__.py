"""The reverse proxy's configuration: `exchange.conf` (nginx) with the listening address and
the servers filled in. `python -m config.nginx --listen 80 HOST:PORT HOST:PORT ...` prints it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

TEMPLATE = Path(__file__).with_name("exchange.conf")
_ADDRESS = re.compile(r"^[A-Za-z0-9.:\[\]-]+$")


def render(listen: str, servers: Sequence[str]) -> str:
    """`exchange.conf` for nginx listening on `listen` (a port, or address:port) in front of
    `servers` (each host:port of one exchange server)."""
    if not servers:
        raise ValueError("at least one server is needed")
    for value in (listen, *servers):
        if not _ADDRESS.match(value):
            raise ValueError(f"not an address: {value!r}")
    upstreams = "\n".join(f"    server {server};" for server in servers)
    return TEMPLATE.read_text().replace("${EXCHANGE_SERVERS}", upstreams).replace("${EXCHANGE_LISTEN}", listen)
