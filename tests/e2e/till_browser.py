"""What the till's browser tests share: one server, the shop, a phone, a watched page."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True, "locale": "zh-CN"}
TABLET = {"viewport": {"width": 1180, "height": 820}, "device_scale_factor": 1, "is_mobile": True,
          "has_touch": True, "locale": "zh-CN"}
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--use-fake-device-for-media-stream"]


def ok(result, status=201):
    code, _, body = result
    assert code == status, (code, body[:500])
    return json.loads(body) if body else None


def screenshot(page, tmp_path: Path, name: str) -> None:
    """Every screen to the test's folder; to docs/ with UPDATE_DOCS_SCREENSHOTS=1."""
    page.screenshot(path=str(tmp_path / f"{name}.png"))
    if os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1":
        (DOCS / "till").mkdir(exist_ok=True)
        page.screenshot(path=str(DOCS / "till" / f"{name}.png"))


@dataclass
class Watched:
    """A page whose console errors and requests are kept, to show none went wrong or elsewhere."""

    page: object
    origin: str
    errors: list = field(default_factory=list)
    requests: list = field(default_factory=list)

    def elsewhere(self) -> list:
        return [url for url in self.requests
                if not (url.startswith(self.origin + "/") or url.startswith(("data:", "blob:")))]

    def unexpected_errors(self, *expected: str) -> list:
        return [e for e in self.errors if not any(x in e for x in expected)]


def watch(context, origin: str) -> Watched:
    page = context.new_page()
    watched = Watched(page, origin)
    page.on("console", lambda m: watched.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: watched.errors.append(f"page error: {e}"))
    page.on("request", lambda r: watched.requests.append(r.url))
    return watched


def new_pairing(server, maternity, label="收银台 1"):
    return ok(server.request("POST", f"/api/v1/stores/{maternity['store_id']}/till-pairings",
                             {"label": label}, maternity["key"]))


def pair_by_typing(page, server, maternity, typed=lambda code: code):
    """Open /till and type the pairing code, as a cashier would without the link."""
    pairing = new_pairing(server, maternity)
    page.goto(server.url + "/till/")
    page.wait_for_selector("#view-pair:not([hidden])")
    page.fill("#pair-code", typed(pairing["code"]))
    page.click("#pair-button")
    page.wait_for_selector("#view-sale:not([hidden])")
    return pairing


def demo_shop(server) -> dict:
    """What a newcomer has after `make run` and the README's walk-through: the demo world (its
    keys, and the pairing link it printed for the maternity store's till), the stroller shop
    and the maternity store partnered, and the maternity store's ¥30-off offer."""
    from datetime import datetime, timedelta

    demo = server.flask("exchange", "demo", "--if-empty")
    assert demo.returncode == 0, demo.stderr
    env = dict(line.split("=", 1) for line in demo.stdout.splitlines()
               if "=" in line and not line.startswith((" ", "#")))
    link = next(line.strip() for line in demo.stdout.splitlines() if "/till/#pair=" in line)
    stroller = {"id": int(env["STROLLER_ID"]), "key": env["STROLLER_KEY"], "store_id": int(env["STROLLER_STORE_ID"])}
    maternity = {"id": int(env["MATERNITY_ID"]), "key": env["MATERNITY_KEY"],
                 "store_id": int(env["MATERNITY_STORE_ID"])}
    partnership = ok(server.request("POST", "/api/v1/partnerships", {
        "partner_id": maternity["id"], "commission": {"type": "percent", "rate_bps": 500}, "currency": "CNY"},
        stroller["key"]))
    ok(server.request("POST", f"/api/v1/partnerships/{partnership['id']}/accept", None, maternity["key"]), 200)
    now = datetime.now(UTC)
    offer = ok(server.request("POST", "/api/v1/offers", {
        "title": "满200减30 孕婴好物", "discount": {"type": "amount", "amount": 3000}, "min_spend": 20000,
        "currency": "CNY", "valid_from": now.isoformat(), "valid_until": (now + timedelta(days=30)).isoformat()},
        maternity["key"]))
    return {"stroller": stroller, "maternity": maternity, "offer": offer, "pairing_link": link}
