"""The till when the shop's network drops (issue 17), in Debian's Chromium through Playwright
with `context.set_offline(True)`, against one real gunicorn server on the database under test:
coupons checked offline against the cached keys and catalog, a queue that survives a reload and
syncs once with its own Idempotency-Keys, a double spend across two tills, a retired key, a limit."""

from __future__ import annotations

import json
import time

import pytest

from tests.databases import fresh_database
from tests.e2e.conftest import start_server, stop_server
from tests.e2e.till_browser import CHROMIUM, LAUNCH_ARGS, PHONE, demo_shop, ok, pair_by_typing, screenshot, watch
from tests.e2e.world import issue

pytestmark = pytest.mark.e2e

QUEUE = """() => new Promise((resolve) => {
    const open = indexedDB.open("till");
    open.onsuccess = () => { const get = open.result.transaction("device").objectStore("device").get("queue");
                             get.onsuccess = () => resolve(get.result ?? []); };
})"""


@pytest.fixture(scope="module")
def server(base_db_url, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("till-offline-server")
    with fresh_database(base_db_url, tmp) as url:
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
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


class Till:
    """One paired phone at the counter, its requests to the exchange's redemptions watched."""

    def __init__(self, browser, server, merchant):
        self.context = browser.new_context(**PHONE)
        self.watched = watch(self.context, server.url)
        self.page = self.watched.page
        self.posts: list[dict] = []   # redemptions and refunds, in the order sent
        self.refunds: list[dict] = []
        self.context.on("request", self._seen)
        pair_by_typing(self.page, server, merchant)
        self.wait_for_offline_data()
        # The service worker controls the page: a reload with no network still opens the till.
        self.page.wait_for_function("() => navigator.serviceWorker.controller !== null")

    def _seen(self, request):
        if request.method == "POST" and request.url.endswith("/api/v1/redemptions"):
            self.posts.append({"key": request.headers.get("idempotency-key"), "body": json.loads(request.post_data)})
        elif request.method == "POST" and request.url.endswith("/reversals"):
            self.refunds.append({"key": request.headers.get("idempotency-key"), "body": json.loads(request.post_data),
                                 "url": request.url})
            self.posts.append({"key": request.headers.get("idempotency-key"), "body": json.loads(request.post_data)})

    def wait_for_offline_data(self, after: str | None = None):
        self.page.wait_for_function("(after) => document.body.dataset.catalogAt && document.body.dataset.catalogAt "
                                    "!== after", arg=after)
        return self.page.evaluate("document.body.dataset.catalogAt")

    def offline(self, offline=True):
        self.context.set_offline(offline)
        self.page.wait_for_selector("#offline-banner:not([hidden])" if offline else "#offline-banner[hidden]",
                                    state="attached")
        assert self.page.is_hidden("#offline-badge") is not offline

    def check(self, coupon, amount="250"):
        page = self.page
        page.click("#tabs [data-view=sale]")
        page.fill("#coupon-input", coupon["landing_url"])
        page.fill("#amount-input", amount)
        page.click("#verify-button")
        page.wait_for_selector("#verdict:not([hidden])")
        return page.inner_text("#verdict")

    def take_offline(self, coupon, amount="250"):
        verdict = self.check(coupon, amount)
        assert "离线可用（未确认）" in verdict and "交易所尚未确认" in verdict, verdict
        self.page.click("#redeem-button")
        self.page.wait_for_selector("#view-receipt:not([hidden])")
        receipt = self.page.inner_text("#view-receipt")
        assert "已离线记录 · 待同步" in receipt and "核销成功" not in receipt and "待同步（未确认）" in receipt
        return receipt

    def refund_offline(self, amount: str):
        """From the receipt on screen: refund `amount` yuan with no network; kept, never confirmed."""
        page = self.page
        page.click("#receipt-refund")
        page.wait_for_selector("#view-refund:not([hidden])")
        page.fill("#refund-amount", amount)
        page.click("#view-refund [data-reason=reason_partial]")
        assert "离线退款" in page.inner_text("#refund-button")
        page.click("#refund-button")
        page.wait_for_selector("#refund-result:not([hidden])")
        result = page.inner_text("#refund-result")
        assert "退款已离线记录 · 待同步" in result and "退款成功" not in result, result
        return result

    def queue(self):
        return self.page.evaluate(QUEUE)

    def wait_for_queue(self, states: list[str], timeout: float = 20):
        """Until the device's queue holds items in these states (what IndexedDB keeps)."""
        deadline = time.monotonic() + timeout
        while [i["state"] for i in self.queue()] != states:
            assert time.monotonic() < deadline, self.queue()
            self.page.wait_for_timeout(200)

    def close(self, *expected_errors):
        assert self.watched.unexpected_errors(*expected_errors) == [] and self.watched.elsewhere() == []
        self.context.close()


def _owner_redemptions(server, shop):
    return ok(server.request("GET", "/api/v1/redemptions?role=owner&limit=500", key=shop["maternity"]["key"]),
              200)["items"]


def test_three_coupons_taken_offline_survive_a_reload_and_sync_once_with_their_keys(server, shop, browser,
                                                                                    tmp_path):
    coupons = issue(server, shop["stroller"], shop["offer"], count=3)
    till = Till(browser, server, shop["maternity"])
    page = till.page
    till.offline()
    assert "离线模式" in page.inner_text("#offline-banner")
    for n, coupon in enumerate(coupons):
        receipt = till.take_offline(coupon)
        assert "¥220.00" in receipt and "-¥30.00" in receipt
        if n == 0:
            screenshot(page, tmp_path, "12-offline-receipt")
            # However far the receipt is scrolled, the bar that stays on screen says offline.
            page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
            badge = page.locator("#offline-badge")
            assert badge.is_visible() and badge.inner_text() == "离线"
            box = badge.bounding_box()
            assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= page.viewport_size["height"]
        page.click("#receipt-next")
    assert "待同步 3 笔" in page.inner_text("#queue-status")
    kept = till.queue()
    assert [i["state"] for i in kept] == ["pending"] * 3 and len({i["key"] for i in kept}) == 3
    # The tab reloads with no network: the queue is still there, and nothing was sent.
    page.reload()
    page.wait_for_selector("#view-sale:not([hidden])")
    assert "待同步 3 笔" in page.inner_text("#queue-status")
    assert till.queue() == kept and till.posts == []
    page.click("#tabs [data-view=today]")
    page.wait_for_selector("#offline-list:not([hidden])")
    assert page.inner_text("#offline-items").count("待同步（未确认）") == 3
    screenshot(page, tmp_path, "13-offline-pending")
    # The network is back: all three go out, in order, each once, with the keys kept.
    till.offline(False)
    till.wait_for_queue(["synced"] * 3)
    assert [p["key"] for p in till.posts] == [i["key"] for i in kept]
    assert [p["body"]["offline_at"] for p in till.posts] == [i["offlineAt"] for i in kept]
    mine = {r["order_ref"]: r for r in _owner_redemptions(server, shop) if r["order_ref"] in
            {i["orderRef"] for i in kept}}
    assert len(mine) == 3 and all(r["offline_at"] and r["discount"] == 3000 for r in mine.values())
    assert {r["coupon_code"] for r in mine.values()} == {c["code"] for c in coupons}
    page.wait_for_selector("#queue-status", state="hidden")
    page.click("#tabs [data-view=sale]")
    page.click("#tabs [data-view=today]")
    assert page.inner_text("#offline-items").count("已同步，交易所已确认") == 3
    screenshot(page, tmp_path, "14-offline-synced")
    till.close()


def test_one_coupon_taken_offline_at_two_tills_is_accepted_once_and_the_other_is_a_conflict(server, shop,
                                                                                             browser, tmp_path):
    [coupon] = issue(server, shop["stroller"], shop["offer"])
    first, second = Till(browser, server, shop["maternity"]), Till(browser, server, shop["maternity"])
    first.offline()
    second.offline()
    first.take_offline(coupon, "250")
    second.take_offline(coupon, "300")
    # The second till also refunds part of it, offline: queued after it, sent only if it is accepted.
    second.refund_offline("20")
    second.page.click("#refund-done")
    late, refund = second.queue()
    assert refund["redemptionKey"] == late["key"]
    first.offline(False)
    first.wait_for_queue(["synced"])
    second.offline(False)
    second.wait_for_queue(["refused", "dropped"])
    assert second.refunds == [] and [p["key"] for p in second.posts] == [late["key"]]
    page = second.page
    page.wait_for_selector("#queue-status.is-refused")
    assert "1 笔离线核销被交易所拒绝" in page.inner_text("#queue-status")
    page.click("#queue-open")
    page.wait_for_selector("#view-today:not([hidden])")
    item = page.inner_text("#offline-items li[data-state=refused]")
    for expected in ("冲突", "重复使用", late["orderRef"], "¥270.00"):
        assert expected in item, (expected, item)
    dropped = page.inner_text("#offline-items li[data-kind=refund][data-state=dropped]")
    for expected in ("已作废", "所退的离线核销被交易所拒绝", late["orderRef"], "-¥20.00"):
        assert expected in dropped, (expected, dropped)
    screenshot(page, tmp_path, "15-offline-conflict")
    report = ok(server.request("GET", "/api/v1/offline-conflicts", key=shop["maternity"]["key"]), 200)["items"]
    mine = [c for c in report if c["idempotency_key"] == late["key"]]
    assert [(c["reason"], c["code"], c["order_ref"], c["order_amount"]) for c in mine] == \
        [("double_spend", "offline_double_spend", late["orderRef"], 30000)]
    assert len([r for r in _owner_redemptions(server, shop) if r["coupon_code"] == coupon["code"]]) == 1
    first.close()
    second.close("status of 409")


def test_a_risk_limit_reached_and_a_stale_catalog_are_refused_offline_with_the_reason(server, shop, browser):
    maternity = shop["maternity"]
    store = ok(server.request("POST", "/api/v1/stores", {"name": "暖暖孕婴坊 文二路店", "address": "文二路 8 号",
                                                         "city": "杭州"}, maternity["key"]))
    ok(server.request("PUT", f"/api/v1/stores/{store['id']}/risk-limits", {"max_offline_redemptions_per_day": 1},
                      maternity["key"]), 200)
    a, b = issue(server, shop["stroller"], shop["offer"], count=2)
    till = Till(browser, server, {**maternity, "store_id": store["id"]})
    till.offline()
    till.take_offline(a)
    till.page.click("#receipt-next")
    verdict = till.check(b)
    assert "离线核验不通过" in verdict and "每日离线核销笔数上限（1 笔）" in verdict, verdict
    assert [i["couponId"] for i in till.queue()] == [json.loads(_claims(a))["c"]]
    # A catalog older than the store's age limit (24 h by default) is flagged and refused.
    till.page.evaluate("""() => new Promise((resolve) => {
        const open = indexedDB.open("till");
        open.onsuccess = () => {
            const store = open.result.transaction("device", "readwrite").objectStore("device");
            store.get("catalog").onsuccess = (e) => {
                const old = new Date(Date.parse(e.target.result.generated_at) - 25 * 3600 * 1000).toISOString();
                store.put({ ...e.target.result, generated_at: old }, "catalog").onsuccess = () => resolve(true);
            };
        };
    })""")
    till.page.reload()
    till.page.wait_for_selector("#view-sale:not([hidden])")
    assert "离线资料已超过 24 小时" in till.page.inner_text("#offline-banner")
    verdict = till.check(b)
    assert "离线核验不通过" in verdict and "已超过 24 小时未更新" in verdict, verdict
    till.offline(False)
    till.close()


def _claims(coupon) -> str:
    import base64

    part = coupon["payload"].split(".")[1]
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode()


def _kid(coupon) -> str:
    import base64

    part = coupon["payload"].split(".")[0]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))["kid"]


def test_a_refund_of_a_redemption_taken_offline_waits_for_it_and_both_sync_once_in_order(server, shop, browser):
    [coupon] = issue(server, shop["stroller"], shop["offer"])
    till = Till(browser, server, shop["maternity"])
    page = till.page
    till.offline()
    till.take_offline(coupon)          # ¥250 order, ¥30 off: the customer pays ¥220
    result = till.refund_offline("50")
    assert "待退 ¥50.00" in result
    page.click("#refund-done")
    page.wait_for_selector("#view-receipt:not([hidden])")
    # Never more than is left, counted here as the exchange counts it.
    page.click("#receipt-refund")
    page.wait_for_selector("#view-refund:not([hidden])")
    assert "¥170.00" in page.inner_text("#refund-left")
    page.fill("#refund-amount", "170.01")
    page.click("#view-refund [data-reason=reason_partial]")
    page.click("#refund-button")
    assert "最多可退 ¥170.00" in page.inner_text("#refund-amount-error")
    kept = till.queue()
    assert [(i.get("kind"), i["state"]) for i in kept] == [(None, "pending"), ("refund", "pending")]
    redemption, refund = kept
    assert refund["redemptionKey"] == redemption["key"] and refund["amount"] == 5000
    assert refund["key"] != redemption["key"] and refund["offlineAt"] >= redemption["offlineAt"]
    page.reload()
    page.wait_for_selector("#view-sale:not([hidden])")
    assert "待同步 2 笔" in page.inner_text("#queue-status")
    page.click("#tabs [data-view=today]")
    page.wait_for_selector("#offline-list:not([hidden])")
    pending = page.inner_text("#offline-items li[data-kind=refund]")
    assert "-¥50.00" in pending and "待同步（未确认）" in pending, pending
    assert till.queue() == kept and till.posts == []
    till.offline(False)
    till.wait_for_queue(["synced", "synced"])
    # In order, each once, with its own key and the till's time; the refund of the exchange's redemption.
    assert [p["key"] for p in till.posts] == [redemption["key"], refund["key"]]
    synced = till.queue()
    redemption_id = synced[0]["redemption"]["id"]
    [sent] = till.refunds
    assert sent["url"].endswith(f"/api/v1/redemptions/{redemption_id}/reversals")
    assert sent["body"] == {"refund_amount": 5000, "reason": "部分退货", "offline_at": refund["offlineAt"]}
    assert synced[1]["reversal"]["offline_at"] and synced[1]["reversal"]["refund_amount"] == 5000
    r = ok(server.request("GET", f"/api/v1/redemptions/{redemption_id}", key=shop["maternity"]["key"]), 200)
    assert r["refunded_amount"] == 5000 and r["status"] == "partially_reversed" and r["offline_at"]
    page.click("#tabs [data-view=sale]")
    page.click("#tabs [data-view=today]")
    page.wait_for_selector("#offline-items li[data-kind=refund][data-state=synced]")
    till.close()


def test_a_refund_of_a_confirmed_redemption_is_queued_offline_then_synced(server, shop, browser):
    [coupon] = issue(server, shop["stroller"], shop["offer"])
    till = Till(browser, server, shop["maternity"])
    page = till.page
    till.check(coupon)
    page.click("#redeem-button")
    page.wait_for_selector("#view-receipt:not([hidden])")
    assert "核销成功" in page.inner_text("#view-receipt")
    redemption_id = int(page.inner_text("#receipt-id").lstrip("#"))
    till.offline()
    till.refund_offline("220")       # all the customer paid
    [refund] = till.queue()
    assert (refund["kind"], refund["state"], refund["redemptionId"], refund["amount"]) == \
        ("refund", "pending", redemption_id, 22000)
    page.click("#refund-done")
    page.wait_for_selector("#view-receipt:not([hidden])")
    assert page.is_hidden("#receipt-refund")     # nothing left to refund, even before the sync
    before = len(till.refunds)
    till.offline(False)
    till.wait_for_queue(["synced"])
    assert [p["key"] for p in till.refunds[before:]] == [refund["key"]]
    assert till.refunds[-1]["body"]["offline_at"] == refund["offlineAt"]
    r = ok(server.request("GET", f"/api/v1/redemptions/{redemption_id}", key=shop["maternity"]["key"]), 200)
    assert r["refunded_amount"] == 22000 and r["status"] == "reversed" and r["offline_at"] is None
    till.close()


def test_a_coupon_of_a_retired_key_is_refused_offline_after_the_jwks_refresh(server, shop, browser):
    """Last in the module: it retires the key every coupon so far was signed with."""
    [old] = issue(server, shop["stroller"], shop["offer"])
    till = Till(browser, server, shop["maternity"])
    till.offline()
    assert "离线可用（未确认）" in till.check(old)   # the cached keys still hold the old one
    till.offline(False)
    kid = _kid(old)
    assert server.flask("exchange", "rotate-keys").returncode == 0
    retired = server.flask("exchange", "retire-key", kid)
    assert retired.returncode == 0, retired.stderr
    # Every worker notices the new key ring within a few seconds.
    deadline = time.monotonic() + 15
    while any(k["kid"] == kid for k in ok(server.request("GET", "/.well-known/jwks.json"), 200)["keys"]):
        assert time.monotonic() < deadline, "the retired key is still published"
        time.sleep(0.2)
    [new] = issue(server, shop["stroller"], shop["offer"])
    before = till.page.evaluate("document.body.dataset.catalogAt")
    till.page.reload()
    till.wait_for_offline_data(after=before)
    jwks = till.page.evaluate(QUEUE.replace('get("queue")', 'get("jwks")'))
    assert kid not in [k["kid"] for k in jwks["keys"]] and jwks["keys"]
    till.offline()
    verdict = till.check(old)
    assert "离线核验不通过" in verdict and "这张券的签名不对" in verdict, verdict
    assert "离线可用（未确认）" in till.check(new)
    till.offline(False)
    till.close()
