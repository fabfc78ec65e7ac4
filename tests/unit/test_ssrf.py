"""Where a webhook may go (exchange/webhooks/ssrf.py), without a database or DNS."""

from __future__ import annotations

import ipaddress

import pytest

from exchange.webhooks import ssrf


@pytest.mark.parametrize("address,why", [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:10.0.0.1", "private"), ("10.0.0.1", "private"), ("fd12::1", "private"),
    ("169.254.169.254", "metadata"), ("fd00:ec2::254", "metadata"), ("100.100.100.200", "metadata"),
    ("169.254.1.1", "link-local"), ("fe80::1", "link-local"), ("239.1.1.1", "multicast"),
    ("ff02::1", "multicast"), ("0.0.0.0", "unspecified"), ("::", "unspecified"),
    ("100.64.1.1", "non-public"), ("240.0.0.1", "private"),
])
def test_non_public_addresses_are_refused(address, why):
    assert why in ssrf.refusal(ipaddress.ip_address(address), allow_private=False)


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:220:1::1", "1.1.1.1"])
def test_public_addresses_are_allowed(address):
    assert ssrf.refusal(ipaddress.ip_address(address), allow_private=False) is None


def test_allowing_private_targets_still_refuses_metadata_multicast_and_unspecified():
    allowed = [a for a in ("127.0.0.1", "10.0.0.1", "::1", "192.168.0.1")
               if ssrf.refusal(ipaddress.ip_address(a), allow_private=True) is None]
    assert allowed == ["127.0.0.1", "10.0.0.1", "::1", "192.168.0.1"]
    for address in ("169.254.169.254", "224.0.0.1", "0.0.0.0"):
        assert ssrf.refusal(ipaddress.ip_address(address), allow_private=True)


def test_a_name_is_refused_when_any_of_its_addresses_is():
    target = ssrf.parse("https://hooks.example.com/x?a=1", https_only=True)
    assert (target.host, target.port, target.path, target.netloc) == ("hooks.example.com", 443, "/x?a=1",
                                                                       "hooks.example.com")
    with pytest.raises(ssrf.UnsafeTarget, match="private"):
        ssrf.safe_addresses(target, lambda host, port: ["93.184.215.14", "10.0.0.1"], allow_private=False)
    assert ssrf.safe_addresses(target, lambda host, port: ["93.184.215.14"], allow_private=False) == [
        ipaddress.ip_address("93.184.215.14")]


@pytest.mark.parametrize("url,why", [
    ("ftp://example.com/", "http"), ("http://example.com/", "https"), ("https://u:p@example.com/", "credentials"),
    ("https:///path", "host"), ("https://example.com:99999/", "port"),
])
def test_urls_that_are_not_plain_https_are_refused(url, why):
    with pytest.raises(ssrf.UnsafeTarget, match=why):
        ssrf.parse(url, https_only=True)
