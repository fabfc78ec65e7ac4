"""The customer page in a real headless Chromium at a phone's size (Debian's chromium)."""

import os
import shutil
from pathlib import Path

import pytest

from tests.e2e.world import issue, stroller_and_maternity

pytestmark = pytest.mark.e2e
DOCS = Path(__file__).resolve().parents[2] / "docs"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True}


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()


def _fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_phone_shows_the_coupon_in_chinese(live_server, browser, tmp_path):
    stroller, _, offer = stroller_and_maternity(live_server)
    coupon = issue(live_server, stroller, offer)[0]
    context = browser.new_context(locale="zh-CN", **PHONE)
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    response = page.goto(coupon["landing_url"])
    assert response.status == 200
    text = page.inner_text("body")
    for expected in ("满200减30 孕婴好物", "立减 ¥30.00", "可使用", "暖暖孕婴坊 学院路店", coupon["code"]):
        assert expected in text, expected
    assert page.evaluate("document.querySelector('img.qr').naturalWidth") > 0
    assert _fits_the_phone(page)
    assert not errors, errors  # no CSP violations or failed loads
    page.screenshot(path=str(tmp_path / "coupon.png"), full_page=True)
    if os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1":
        page.screenshot(path=str(DOCS / "customer-page.png"), full_page=True)
    context.close()


def test_phone_in_english_and_a_forged_coupon(live_server, browser):
    stroller, _, offer = stroller_and_maternity(live_server)
    coupon = issue(live_server, stroller, offer)[0]
    context = browser.new_context(locale="en-US", extra_http_headers={"Accept-Language": "en-US,en"}, **PHONE)
    page = context.new_page()
    assert page.goto(coupon["landing_url"]).status == 200
    assert "¥30.00 off" in page.inner_text("body") and "Accepted at" in page.inner_text("body")
    forged = coupon["landing_url"][:-6] + "AAAAAA"
    response = page.goto(forged)
    assert response.status == 400
    assert "Not a valid coupon" in page.inner_text("body") and _fits_the_phone(page)
    context.close()


def test_phone_says_why_a_coupon_cannot_be_used_now(live_server, browser, tmp_path):
    stroller, maternity, offer = stroller_and_maternity(live_server)
    coupon = issue(live_server, stroller, offer)[0]
    status, _, _ = live_server.request("POST", f"/api/v1/offers/{offer['id']}/pause", None, maternity["key"])
    assert status == 200
    context = browser.new_context(locale="zh-CN", **PHONE)
    page = context.new_page()
    assert page.goto(coupon["landing_url"]).status == 200
    text = page.inner_text("body")
    assert "暂停使用" in text and "商家暂停了此优惠，请稍后再试" in text and "可使用" not in text
    assert page.evaluate("getComputedStyle(document.querySelector('.coupon')).borderLeftColor") == "rgb(224, 161, 0)"
    assert _fits_the_phone(page)
    page.screenshot(path=str(tmp_path / "paused.png"), full_page=True)
    if os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1":
        page.screenshot(path=str(DOCS / "customer-page-paused.png"), full_page=True)
    context.close()
