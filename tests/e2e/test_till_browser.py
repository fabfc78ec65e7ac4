"""The till (/till/) in Debian's Chromium at a phone's size, driven by Playwright, against one
real gunicorn server on the database under test: pair, scan through a fake camera, redeem,
refund — and the ways it goes wrong at a real counter (SPEC §8, issue 13). The command-line
pairing and a code exchanged many times at once use the same server."""

from __future__ import annotations

import json
import re
from datetime import UTC

import pytest

from tests.databases import fresh_database
from tests.e2e.conftest import start_server, stop_server
from tests.e2e.fake_camera import write_y4m
from tests.e2e.till_browser import (
    CHROMIUM,
    LAUNCH_ARGS,
    PHONE,
    TABLET,
    demo_shop,
    new_pairing,
    ok,
    pair_by_typing,
    screenshot,
    watch,
)
from tests.e2e.world import issue

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(base_db_url, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("till-server")
    with fresh_database(base_db_url, tmp) as url:
        # Every till of these tests pairs from 127.0.0.1, within a minute: more than one shop's
        # address would (the limits themselves are tested in tests/api/test_till_pairings.py).
        proc, server = start_server(url, tmp, EXCHANGE_TILL_PAIRING_EXCHANGE_RATE_LIMIT="600 per minute",
                                    EXCHANGE_TILL_PAIRING_RATE_LIMIT="600 per hour")
        try:
            yield server
        finally:
            stop_server(proc)


@pytest.fixture(scope="module")
def shop(server):
    return demo_shop(server)


@pytest.fixture(scope="module")
def scanned_coupon(server, shop):
    """The coupon the fake camera shows: a real one, its QR as the exchange draws it."""
    return issue(server, shop["stroller"], shop["offer"])[0]


@pytest.fixture(scope="module")
def browser(server, scanned_coupon, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    tmp = tmp_path_factory.mktemp("camera")
    status, _, png = server.request("GET", f"/c/{scanned_coupon['payload']}/qr.png")
    assert status == 200
    (tmp / "coupon.png").write_bytes(png)
    video = write_y4m(tmp / "coupon.png", tmp / "coupon.y4m")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM,
                                    args=[*LAUNCH_ARGS, f"--use-file-for-fake-video-capture={video}"])
        yield browser
        browser.close()


def _phone(browser, server, *, camera=True, **extra):
    context = browser.new_context(**{**PHONE, **extra})
    if camera:
        context.grant_permissions(["camera"], origin=server.url)
    return context


def _redemptions(server, shop):
    return ok(server.request("GET", "/api/v1/redemptions?role=owner", key=shop["maternity"]["key"]), 200)["items"]


def _text(page, selector):
    return page.inner_text(selector)


def test_the_demos_pairing_link_then_scan_redeem_once_and_refund_part(server, shop, scanned_coupon, browser,
                                                                       tmp_path):
    """A newcomer's first sale after `make run`: the link the demo printed, a coupon through the
    camera, ¥250.00 → ¥30.00 off, ¥220.00 to pay, a double tap, the receipt, a partial refund."""
    context = _phone(browser, server)
    watched = watch(context, server.url)
    page = watched.page
    page.goto(shop["pairing_link"])
    # Paired: the sale screen, the store's name in the bar, and the code gone from the address.
    page.wait_for_selector("#view-sale:not([hidden])")
    assert _text(page, "#store-name") == "暖暖孕婴坊 学院路店"
    assert "pair=" not in page.url
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    # The fake camera shows the coupon's QR: the till reads it and asks for the amount.
    page.wait_for_function("() => document.getElementById('coupon-input').placeholder.length > 0", timeout=20000)
    assert page.get_attribute("#coupon-input", "placeholder") == "✓ 已扫描优惠券"
    assert "已扫描优惠券" in _text(page, "#camera-state")
    assert page.evaluate("document.activeElement.id") == "amount-input"
    screenshot(page, tmp_path, "2-scanned")
    page.fill("#amount-input", "250.00")
    page.click("#verify-button")
    page.wait_for_selector("#verdict-ok:not([hidden])")
    assert _text(page, "#verdict-discount") == "-¥30.00"
    assert _text(page, "#verdict-payable") == "¥220.00"
    assert _text(page, "#offer-title") == "满200减30 孕婴好物"
    assert page.input_value("#coupon-input") == scanned_coupon["code"]
    assert "¥220.00" in _text(page, "#redeem-button")
    assert page.evaluate("document.activeElement.id") == "redeem-button"
    page.wait_for_function("() => document.getElementById('announcer').textContent.includes('¥220.00')")
    screenshot(page, tmp_path, "3-verified")
    # A double tap (two clicks in one go, faster than any finger): one request, one redemption.
    posts = []
    page.on("request", lambda r: posts.append(r)
            if r.method == "POST" and r.url.endswith("/api/v1/redemptions") else None)
    page.evaluate("() => { const b = document.getElementById('redeem-button'); b.click(); b.click(); }")
    page.wait_for_selector("#view-receipt:not([hidden])")
    assert len(posts) == 1
    mine = [r for r in _redemptions(server, shop) if r["coupon_code"] == scanned_coupon["code"]]
    assert len(mine) == 1
    receipt = _text(page, "#view-receipt")
    for expected in ("核销成功", scanned_coupon["code"], "-¥30.00", "¥220.00", f"#{mine[0]['id']}", "¥250.00"):
        assert expected in receipt, expected
    assert re.search(r"\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}", _text(page, "#receipt-time"))
    assert page.evaluate("document.activeElement.id") == "receipt-title"
    screenshot(page, tmp_path, "4-receipt")
    # A partial refund: ¥50.00 of ¥220.00 claws back 50/220 of the ¥11.00 commission.
    page.click("#receipt-refund")
    page.wait_for_selector("#view-refund:not([hidden])")
    assert page.input_value("#refund-amount") == "220.00"
    page.fill("#refund-amount", "50")
    page.click("[data-reason=reason_return]")
    assert page.input_value("#refund-reason") == "退货"
    assert "¥50.00" in _text(page, "#refund-button")
    screenshot(page, tmp_path, "5-refund")
    page.click("#refund-button")
    page.wait_for_selector("#refund-result:not([hidden])")
    assert _text(page, "#refund-result-text") == "已退款 ¥50.00"
    assert _text(page, "#refund-clawback") == "追回佣金 ¥2.50"
    screenshot(page, tmp_path, "6-refunded")
    page.click("#refund-done")
    page.wait_for_selector("#view-receipt:not([hidden])")
    assert _text(page, "#receipt-refunded") == "¥50.00"
    # Today at this store: the sale and the refund, with totals.
    page.click("#tabs [data-view=today]")
    page.wait_for_selector("#today-redemptions li button")
    totals = _text(page, "#today-totals")
    for expected in ("核销笔数\n1", "实收\n¥220.00", "退款\n¥50.00", "净收入\n¥170.00"):
        assert expected in totals, (expected, totals)
    assert "部分退款" in _text(page, "#today-redemptions") and "退货" in _text(page, "#today-refunds")
    screenshot(page, tmp_path, "7-today")
    # English at a tap, and back.
    page.click("#lang-toggle")
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    assert "Today at this store" in _text(page, "#view-today")
    assert "Partly refunded" in _text(page, "#today-redemptions")
    screenshot(page, tmp_path, "7-today-english")
    page.click("#lang-toggle")
    # Next customer: the camera again, nothing left over from the last one.
    page.click("#tabs [data-view=sale]")
    page.wait_for_selector("#view-sale:not([hidden])")
    assert page.input_value("#amount-input") == "" and page.is_hidden("#verdict")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert watched.unexpected_errors() == []
    assert watched.elsewhere() == []
    context.close()


def test_camera_denied_the_code_field_takes_a_full_width_code(server, shop, browser, tmp_path):
    coupon = issue(server, shop["stroller"], shop["offer"])[0]
    context = _phone(browser, server, camera=False)
    watched = watch(context, server.url)
    page = watched.page
    page.goto(server.url + "/till")  # /till → /till/
    page.wait_for_selector("#view-pair:not([hidden])")
    assert page.evaluate("document.activeElement.id") == "pair-title"
    screenshot(page, tmp_path, "1-pair")
    pairing = new_pairing(server, shop["maternity"])
    page.fill("#pair-code", pairing["code"].lower().replace("-", " "))
    page.click("#pair-button")
    page.wait_for_selector("#view-sale:not([hidden])")
    page.wait_for_selector("#camera-hint:not([hidden])")
    assert "无法使用相机" in _text(page, "#camera-hint") and "输入券码" in _text(page, "#camera-hint")
    full_width = coupon["code"].translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789ABCDEFGHJKMNPQRSTVWXYZ-"})
    page.fill("#coupon-input", full_width)
    page.fill("#amount-input", "２５０")
    screenshot(page, tmp_path, "8-camera-denied")
    page.click("#verify-button")
    page.wait_for_selector("#verdict-ok:not([hidden])")
    assert page.input_value("#coupon-input") == coupon["code"]
    assert _text(page, "#verdict-payable") == "¥220.00"
    page.click("#redeem-button")
    page.wait_for_selector("#view-receipt:not([hidden])")
    assert coupon["code"] in _text(page, "#receipt-code")
    assert watched.unexpected_errors() == [] and watched.elsewhere() == []
    context.close()


def test_refusals_are_told_in_chinese(server, shop, browser, tmp_path):
    used, stroller_owned = issue(server, shop["stroller"], shop["offer"])[0], _stroller_coupon(server, shop)
    ok(server.request("POST", "/api/v1/redemptions", {"payload": used["payload"], "order_amount": 25000,
                      "store_id": shop["maternity"]["store_id"]}, shop["maternity"]["key"],
                      headers={"Idempotency-Key": f"used-{used['code']}"}))
    context = _phone(browser, server, camera=False)
    watched = watch(context, server.url)
    page = watched.page
    pair_by_typing(page, server, shop["maternity"])
    for code, amount, refusal in ((used["code"], "250", "这张券已经用过了。"),
                                  (stroller_owned["code"], "250", "这张券不能在本店使用。"),
                                  (issue(server, shop["stroller"], shop["offer"])[0]["code"], "150",
                                   "订单金额未达到最低消费 ¥200.00。")):
        page.fill("#coupon-input", code)
        page.fill("#amount-input", amount)
        page.click("#verify-button")
        page.wait_for_selector("#verdict-refused:not([hidden])")
        assert _text(page, "#refusal") == refusal
        assert page.evaluate("document.activeElement.id") == "verdict-next"
        page.wait_for_function(
            f"() => document.getElementById('announcer').textContent.includes({json.dumps(refusal)})")
        if refusal.startswith("这张券已经"):
            screenshot(page, tmp_path, "9-refused")
        page.click("#verdict-next")
    # Amounts the till will not send.
    for typed, message in (("0", "金额必须大于 0"), ("-250", "金额不能是负数"), ("10000000001", "金额过大"),
                           ("250.505", "最多两位小数"), ("二百五", "金额格式不对")):
        page.fill("#coupon-input", used["code"])
        page.fill("#amount-input", typed)
        page.click("#verify-button")
        assert message in _text(page, "#amount-error"), typed
        assert page.get_attribute("#amount-input", "aria-invalid") == "true"
    assert watched.unexpected_errors() == [] and watched.elsewhere() == []
    context.close()


def _stroller_coupon(server, shop):
    """A coupon redeemable at the stroller shop (its own offer), handed out by the maternity
    store: not accepted at the maternity store's till."""
    from datetime import datetime, timedelta

    now = datetime.now(UTC)
    offer = ok(server.request("POST", "/api/v1/offers", {
        "title": "满300减50 童车", "discount": {"type": "amount", "amount": 5000}, "min_spend": 30000,
        "currency": "CNY",
        "valid_from": (now - timedelta(days=1)).isoformat(), "valid_until": (now + timedelta(days=30)).isoformat()},
        shop["stroller"]["key"]))
    return issue(server, shop["maternity"], offer)[0]


def test_a_dropped_connection_is_retried_with_the_same_key_and_redeems_once(server, shop, browser):
    coupon = issue(server, shop["stroller"], shop["offer"])[0]
    # Playwright sees the page's own requests only while no service worker stands between.
    context = _phone(browser, server, camera=False, service_workers="block")
    watched = watch(context, server.url)
    page = watched.page
    pair_by_typing(page, server, shop["maternity"])
    page.fill("#coupon-input", coupon["code"])
    page.fill("#amount-input", "250")
    page.click("#verify-button")
    page.wait_for_selector("#verdict-ok:not([hidden])")
    keys = []

    def drop_the_first_answer(route):
        keys.append(route.request.headers["idempotency-key"])
        if len(keys) == 1:
            route.fetch()   # the exchange redeems it ...
            route.abort("connectionreset")   # ... and the answer is lost on the way back
        else:
            route.continue_()

    page.route("**/api/v1/redemptions", drop_the_first_answer)
    page.click("#redeem-button")
    page.wait_for_selector("#view-receipt:not([hidden])", timeout=15000)
    assert len(keys) == 2 and keys[0] == keys[1]
    mine = [r for r in _redemptions(server, shop) if r["coupon_code"] == coupon["code"]]
    assert len(mine) == 1 and _text(page, "#receipt-id") == f"#{mine[0]['id']}"
    assert watched.unexpected_errors("ERR_CONNECTION_RESET") == [] and watched.elsewhere() == []
    context.close()


def test_an_unpaired_till_is_refused_at_once_and_says_so(server, shop, browser, tmp_path):
    context = _phone(browser, server, camera=False)
    watched = watch(context, server.url)
    page = watched.page
    pair_by_typing(page, server, shop["maternity"])
    page.click("#tabs [data-view=settings]")
    page.wait_for_function("() => document.getElementById('settings-label').textContent === '收银台 1'")
    assert _text(page, "#settings-merchant") == "暖暖孕婴坊 Nuannuan Maternity"
    page.click("#unpair")
    assert page.is_visible("#unpair-confirm") and page.evaluate("document.activeElement.id") == "unpair-no"
    screenshot(page, tmp_path, "11-settings")
    page.click("#unpair-no")
    till_id = page.evaluate("""() => new Promise((resolve) => {
        const open = indexedDB.open("till");
        open.onsuccess = () => { const get = open.result.transaction("device").objectStore("device").get("pairing");
                                 get.onsuccess = () => resolve(get.result.tillId); };
    })""")
    assert page.evaluate("localStorage.length") == 0  # the key lives in IndexedDB only
    status, _, _ = server.request("DELETE", f"/api/v1/stores/{shop['maternity']['store_id']}/tills/{till_id}",
                                  key=shop["maternity"]["key"])
    assert status == 204
    page.click("#tabs [data-view=today]")
    page.wait_for_selector("#view-pair:not([hidden])")
    assert "已解除配对" in _text(page, "#pair-notice")
    # Pairing codes: used, unknown and malformed are each told apart.
    page.fill("#pair-code", "ZZZZ-ZZZZ")
    page.click("#pair-button")
    page.wait_for_function("() => document.getElementById('pair-error').textContent.includes('没有这个配对码')")
    page.fill("#pair-code", "12345")
    page.click("#pair-button")
    assert "8 位字母和数字" in _text(page, "#pair-error")
    assert watched.unexpected_errors("status of 401", "status of 404") == [] and watched.elsewhere() == []
    context.close()


def test_installed_till_opens_offline_and_fits_a_tablet(server, shop, browser, tmp_path):
    context = browser.new_context(**TABLET)
    context.grant_permissions(["camera"], origin=server.url)
    watched = watch(context, server.url)
    page = watched.page
    pair_by_typing(page, server, shop["maternity"])
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    manifest = page.evaluate("fetch('manifest.webmanifest').then((r) => r.json())")
    assert manifest["start_url"] == "/till/" and {i["sizes"] for i in manifest["icons"]} >= {"192x192", "512x512"}
    page.wait_for_selector("#view-sale:not([hidden])")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, tmp_path, "10-tablet")
    context.set_offline(True)
    page.reload()
    page.wait_for_selector("#offline-banner:not([hidden])")
    page.wait_for_selector("#view-sale:not([hidden])")
    assert "网络已断开" in _text(page, "#offline-banner")
    assert _text(page, "#store-name") == "暖暖孕婴坊 学院路店"
    context.set_offline(False)
    assert watched.unexpected_errors() == [] and watched.elsewhere() == []
    context.close()


def test_a_keyboard_wedge_scanner_types_the_link_anywhere(server, shop, browser):
    coupon = issue(server, shop["stroller"], shop["offer"])[0]
    context = _phone(browser, server, camera=False)
    watched = watch(context, server.url)
    page = watched.page
    pair_by_typing(page, server, shop["maternity"])
    page.click("#sale-title", force=True)  # nothing typed into yet: the scanner "types" into the page
    page.keyboard.type(coupon["landing_url"].replace("http://", "HTTP://").replace("/c/", "/C/"))
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "amount-input"
    page.keyboard.type("250")
    page.keyboard.press("Enter")
    page.wait_for_selector("#verdict-ok:not([hidden])")
    assert page.input_value("#coupon-input") == coupon["code"] and _text(page, "#verdict-payable") == "¥220.00"
    assert watched.unexpected_errors() == [] and watched.elsewhere() == []
    context.close()


def test_pair_till_on_the_command_line(server, shop):
    made = server.flask("exchange", "pair-till", "--store-id", str(shop["maternity"]["store_id"]))
    assert made.returncode == 0, made.stderr
    link = next(line.strip() for line in made.stdout.splitlines() if "/till/#pair=" in line)
    code = link.rsplit("=", 1)[1]
    till = ok(server.request("POST", "/api/v1/till-pairings/exchange", {"code": code}))
    assert till["store"]["id"] == shop["maternity"]["store_id"]
    missing = server.flask("exchange", "pair-till", "--store-id", "999999")
    assert missing.returncode != 0 and "not_found" in missing.stderr


def test_one_code_exchanged_ten_times_at_once_pairs_one_till(server, shop):
    """Single use under concurrency, through gunicorn's workers on the database under test."""
    from concurrent.futures import ThreadPoolExecutor

    pairing = new_pairing(server, shop["maternity"])
    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda _: server.request("POST", "/api/v1/till-pairings/exchange",
                                                          {"code": pairing["code"]}), range(10)))
    statuses = sorted(status for status, _, _ in answers)
    assert statuses == [201] + [409] * 9, statuses
    assert all(json.loads(body)["code"] == "pairing_code_used" for status, _, body in answers if status == 409)
