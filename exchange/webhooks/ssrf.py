"""Where a webhook may go (pure: the resolver is passed in, so tests stub DNS).

An endpoint's URL is the merchant's to choose, and the exchange then makes requests to it from
inside its own network: pointed at 127.0.0.1, 10.x or the cloud's metadata service it would
read or poke what no merchant may reach (server-side request forgery). So every address the
name resolves to must be a public unicast one — checked when the endpoint is saved and again
before every attempt (a name can be made to resolve elsewhere later: DNS rebinding), and the
request then goes to the very address that was checked.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

# Cloud metadata services, refused even where private targets are allowed: AWS, GCP, Azure
# (169.254.169.254, also IPv6 on AWS), ECS task metadata, Alibaba Cloud, Tencent Cloud, Oracle.
METADATA = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "fd00:ec2::254", "169.254.170.2", "100.100.100.200", "169.254.0.23",
    "192.0.0.192"))


class UnsafeTarget(ValueError):
    """The URL may not be called; `str()` says why, in words for the merchant."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str          # as written (a name, or an address without brackets)
    port: int
    path: str          # path and query, at least "/"

    @property
    def netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = {"http": 80, "https": 443}[self.scheme]
        return host if self.port == default else f"{host}:{self.port}"


def parse(url: str, *, https_only: bool) -> Target:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeTarget("Webhook URLs are http:// or https:// only.")
    if https_only and scheme != "https":
        raise UnsafeTarget("Webhook URLs must be https:// here.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget("Webhook URLs may not carry credentials; verify the signature instead.")
    try:
        port = parts.port or {"http": 80, "https": 443}[scheme]
    except ValueError:
        raise UnsafeTarget("The URL's port is not a port number.") from None
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeTarget("The URL names no host.")
    path = parts.path or "/"
    return Target(scheme, host, port, f"{path}?{parts.query}" if parts.query else path)


def refusal(address: Address, *, allow_private: bool) -> str | None:
    """Why `address` may not be called, or None."""
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    if address in METADATA:
        return "a cloud metadata address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_unspecified:
        return "an unspecified address"
    if allow_private:
        return None
    for name, flag in (("a loopback", address.is_loopback), ("a link-local", address.is_link_local),
                       ("a private", address.is_private), ("a reserved", address.is_reserved)):
        if flag:
            return f"{name} address"
    if not address.is_global:
        return "a non-public address"
    return None


def system_resolver(host: str, port: int) -> list[str]:
    return sorted({info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


def safe_addresses(target: Target, resolver: Resolver, *, allow_private: bool) -> list[Address]:
    """Every address `target` resolves to, if all of them may be called (one refused address
    refuses the name: which one a connection would use is not ours to choose)."""
    try:
        addresses = [ipaddress.ip_address(target.host)]
    except ValueError:
        try:
            addresses = [ipaddress.ip_address(a.split("%")[0]) for a in resolver(target.host, target.port)]
        except (OSError, UnicodeError) as error:
            raise UnsafeTarget(f"{target.host} does not resolve ({error.__class__.__name__}).") from None
    if not addresses:
        raise UnsafeTarget(f"{target.host} does not resolve.")
    for address in addresses:
        why = refusal(address, allow_private=allow_private)
        if why:
            raise UnsafeTarget(f"{target.host} resolves to {why} ({address}): webhooks go to public "
                               "addresses only.")
    return addresses
