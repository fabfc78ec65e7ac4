"""The reverse proxy's configuration the project ships (config/nginx/exchange.conf), rendered with
ports, is one nginx accepts (`nginx -t`), names every server once and passes the client's address on."""

import re

import pytest

from config.nginx import render
from tests.e2e.reverse_proxy import check_config, standalone_config


def test_rendered_with_ports_nginx_accepts_it(tmp_path):
    config = standalone_config(tmp_path, render("127.0.0.1:18080", ["127.0.0.1:18001", "127.0.0.1:18002"]))
    checked = check_config(config, tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr


def test_every_server_once_behind_the_listening_address():
    text = render("8080", ["10.0.0.11:8000", "10.0.0.12:8000"])
    assert re.findall(r"^\s*server (\S+);", text, re.M) == ["10.0.0.11:8000", "10.0.0.12:8000"]
    assert re.findall(r"^\s*listen (\S+);", text, re.M) == ["8080"]
    assert "${" not in text


def test_the_client_address_is_appended_never_taken_from_the_client():
    text = render("80", ["10.0.0.11:8000"])
    # $proxy_add_x_forwarded_for appends the address nginx saw; EXCHANGE_PROXY_HOPS=1 takes that one.
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in text
    # Never retried elsewhere once sent: nginx's default for POST, not overridden with non_idempotent.
    assert "non_idempotent" not in text


@pytest.mark.parametrize("bad", ["", "80; include /etc/passwd", "10.0.0.1:80\n}"])
def test_what_is_not_an_address_is_refused(bad):
    with pytest.raises(ValueError):
        render(bad, ["10.0.0.11:8000"])
    with pytest.raises(ValueError):
        render("80", [bad])


def test_without_servers_there_is_nothing_to_render():
    with pytest.raises(ValueError):
        render("80", [])
