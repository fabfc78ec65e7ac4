"""Two stateless servers behind nginx (the project's config/nginx/exchange.conf) against one
PostgreSQL database and one Redis (docs/scaling.md): whichever server a request reaches, a coupon
is redeemed exactly its uses, a limit is counted once, a batch a dead server was issuing is
finished by the other, a webhook is delivered once, a sheet is the same, and the per-address
limits see the client nginx saw (EXCHANGE_PROXY_HOPS=1), never an address the client wrote."""

import json
import subprocess
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest

from tests.databases import fresh_database
from tests.e2e.cluster import Cluster, LeaseWatcher, request_from
from tests.e2e.conftest import assert_ledger_whole
from tests.e2e.world import _ok, issue, stroller_and_maternity
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.e2e
REGISTRATIONS_PER_ADDRESS = 6
SETTINGS = {"EXCHANGE_REGISTRATION_RATE_LIMIT": f"{REGISTRATIONS_PER_ADDRESS} per hour",
            "EXCHANGE_WEBHOOK_ALLOW_PRIVATE": "1", "EXCHANGE_BATCH_LEASE_SECONDS": "3"}
NEW_MERCHANT = {"name": "限流", "categories": ["tea"], "price_tier": 1, "scale": "micro", "city": "杭州"}


@contextmanager
def _running_cluster(base_db_url, tmp_path):
    """A cluster on a new database; the servers' and nginx's logs printed if anything failed,
    and the ledger whole once it is stopped."""
    if base_db_url is None:
        pytest.skip("several servers share one PostgreSQL database; SQLite is one machine's embedded "
                    "database (docs/scaling.md): run with --db-url postgresql+psycopg://…")
    with fresh_database(base_db_url, tmp_path) as url:
        cluster = Cluster(url, tmp_path, **SETTINGS)
        try:
            yield cluster.start()
        except BaseException:
            print(cluster.logs())
            raise
        finally:
            cluster.stop()
        assert_ledger_whole(url)


@pytest.fixture(scope="module")
def cluster(base_db_url, tmp_path_factory):
    with _running_cluster(base_db_url, tmp_path_factory.mktemp("several-servers")) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def pair(cluster):
    """The stroller shop and the maternity store, registered through the proxy (from 127.0.0.1)."""
    return stroller_and_maternity(cluster.proxy)


def _at_once(n, call):
    """`n` calls released at the same instant from `n` threads."""
    gate = threading.Barrier(n)

    def one(i):
        gate.wait()
        return call(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def test_100_concurrent_redemptions_over_both_servers_redeem_exactly_the_uses(cluster, pair):
    stroller, maternity, _ = pair
    offer = _ok(cluster.proxy.request("POST", "/api/v1/offers", {
        "title": "3 次券", "discount": {"type": "amount", "amount": 1000}, "currency": "CNY",
        "valid_from": "2020-01-01T00:00:00+08:00", "valid_until": "2099-01-01T00:00:00+08:00",
        "uses_per_coupon": 3, "allow_free_order": True}, maternity["key"]))
    payload = issue(cluster.proxy, stroller, offer)[0]["payload"]
    till = _ok(cluster.proxy.request("POST", f"/api/v1/stores/{maternity['store_id']}/terminal-keys", {},
                                     maternity["key"]))["key"]
    ids = [f"storm-{uuid.uuid4().hex[:12]}" for _ in range(100)]

    def redeem(i):
        status, _, body = cluster.proxy.request("POST", "/api/v1/redemptions", {
            "payload": payload, "order_amount": 25000}, till,
            headers={"Idempotency-Key": str(uuid.uuid4()), "X-Request-Id": ids[i]})
        return status, json.loads(body).get("code") if status >= 400 else None

    tally = Counter(_at_once(100, redeem))
    assert tally == {(201, None): 3, (409, "coupon_exhausted"): 97}, tally
    served = cluster.answered_by(set(ids))
    assert served["A"] > 0 and served["B"] > 0 and served.total() == 100, served
    [(redeemed,)] = cluster.query("SELECT count(*) FROM redemptions WHERE coupon_id = "
                                    "(SELECT id FROM coupons WHERE offer_id = :offer)", offer=offer["id"])
    assert redeemed == 3


def test_a_limit_is_counted_once_over_both_servers(cluster):
    ids = [f"burst-{uuid.uuid4().hex[:12]}" for _ in range(2 * REGISTRATIONS_PER_ADDRESS)]
    answers = _at_once(len(ids), lambda i: request_from(
        "127.0.0.4", cluster.proxy.url, "POST", "/api/v1/merchants", NEW_MERCHANT, {"X-Request-Id": ids[i]}))
    tally = Counter(status for status, _, _ in answers)
    assert tally == {201: REGISTRATIONS_PER_ADDRESS, 429: REGISTRATIONS_PER_ADDRESS}, tally
    refused = next(a for a in answers if a[0] == 429)
    assert json.loads(refused[2])["code"] == "rate_limited" and int(refused[1]["Retry-After"]) > 0
    served = cluster.answered_by(set(ids))
    assert served["A"] > 0 and served["B"] > 0, served
    assert cluster.redis.keys("LIMIT*"), "no counters in Redis"


def test_per_address_limits_count_the_client_nginx_saw_never_a_forwarded_for_it_wrote(cluster):
    def register_from(source, **headers):
        return request_from(source, cluster.proxy.url, "POST", "/api/v1/merchants", NEW_MERCHANT, headers)[0]

    assert [register_from("127.0.0.2") for _ in range(REGISTRATIONS_PER_ADDRESS)] == \
        [201] * REGISTRATIONS_PER_ADDRESS
    assert register_from("127.0.0.2") == 429
    # Claiming another client's address does not help: nginx appends the one it saw, and only
    # that last entry is trusted.
    assert register_from("127.0.0.2", **{"X-Forwarded-For": "127.0.0.3"}) == 429
    assert register_from("127.0.0.2", **{"X-Forwarded-For": "198.51.100.9"}) == 429
    # Another client behind the same proxy has its own count.
    assert register_from("127.0.0.3") == 201


def test_webhooks_are_delivered_once_with_both_servers_delivering(cluster):
    stroller, maternity, offer = stroller_and_maternity(cluster.proxy)
    coupons = issue(cluster.proxy, stroller, offer, count=60)
    with Receiver() as receiver:
        # Each answer takes a moment, so that deliveries are in flight on both servers at once.
        receiver.answers = [(200, "ok", 0.2)] * len(coupons)
        endpoint = _ok(cluster.proxy.request("POST", "/api/v1/webhook-endpoints", {
            "url": receiver.url, "event_types": ["coupon.redeemed"]}, maternity["key"]))
        redemptions = []
        with LeaseWatcher(cluster, "SELECT DISTINCT lease_owner FROM webhook_deliveries WHERE endpoint_id = :e",
                          e=endpoint["id"]) as leases:
            for some in (coupons[:20], coupons[20:40], coupons[40:]):  # until both are seen delivering
                for coupon in some:
                    redemptions.append(_ok(cluster.proxy.request("POST", "/api/v1/redemptions", {
                        "payload": coupon["payload"], "order_amount": 25000, "store_id": maternity["store_id"]},
                        maternity["key"], headers={"Idempotency-Key": str(uuid.uuid4())})))
                    time.sleep(0.05)
                receiver.wait_for(len(redemptions), 30)
                if leases.servers() == {"A", "B"}:
                    break
        assert leases.servers() == {"A", "B"}, leases.owners
        pending = "SELECT id FROM webhook_deliveries WHERE endpoint_id = :e AND status <> 'succeeded'"
        deadline = time.monotonic() + 30
        while cluster.query(pending, e=endpoint["id"]) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.5)  # three more passes of every idle delivery worker: nothing may come again
        got = Counter(r.webhook_id for r in receiver.received)
        assert len(got) == len(redemptions) and set(got.values()) == {1}, got.most_common(3)
        assert {r.verified(endpoint["secret"])["data"]["id"] for r in receiver.received} == \
            {r["id"] for r in redemptions}
        attempts = cluster.query("SELECT status, attempts FROM webhook_deliveries WHERE endpoint_id = :e",
                                 e=endpoint["id"])
        assert Counter(attempts) == {("succeeded", 1): len(redemptions)}


def _finished_batch(cluster, stroller, offer, count):
    batch = _ok(cluster.proxy.request("POST", f"/api/v1/offers/{offer['id']}/coupon-batches", {"count": count},
                                      stroller["key"]), 202)
    deadline = time.monotonic() + 60
    while batch["status"] != "done" and time.monotonic() < deadline:
        time.sleep(0.1)
        batch = _ok(cluster.proxy.request("GET", f"/api/v1/coupon-batches/{batch['id']}", key=stroller["key"]), 200)
    assert batch["status"] == "done", batch
    return batch


def _pdf_text(pdf: bytes) -> str:
    result = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, timeout=60,
                            check=True)
    return result.stdout.decode()


def test_a_sheet_is_served_by_either_server(cluster, pair):
    stroller, _, offer = pair
    batch = _finished_batch(cluster, stroller, offer, 24)
    status, _, csv = cluster.proxy.request("GET", f"/api/v1/coupon-batches/{batch['id']}/export.csv",
                                           key=stroller["key"])
    assert status == 200
    codes = [line.split(",")[0].replace("-", "") for line in csv.decode("utf-8-sig").strip().splitlines()[1:]]
    assert len(codes) == 24
    texts = {}
    for name, server in cluster.servers.items():
        status, headers, pdf = server.request("GET", f"/api/v1/coupon-batches/{batch['id']}/sheet.pdf",
                                              key=stroller["key"])
        assert status == 200 and headers["Content-Type"] == "application/pdf" and pdf.startswith(b"%PDF"), name
        texts[name] = _pdf_text(pdf).replace("-", "")
    for name, printed in texts.items():
        assert [code for code in codes if code not in printed] == [], f"server {name}'s sheet lacks coupons"
    assert texts["A"].count("\f") == texts["B"].count("\f") > 0  # as many pages


@pytest.fixture
def own_cluster(base_db_url, tmp_path):
    """A cluster of the test's own: it kills one of the servers."""
    with _running_cluster(base_db_url, tmp_path) as cluster:
        yield cluster


def test_a_batch_whose_server_is_killed_is_finished_by_the_other(own_cluster):
    cluster, count = own_cluster, 10_000
    stroller, _, offer = stroller_and_maternity(cluster.proxy, max_coupons=count)
    batch = _ok(cluster.proxy.request("POST", f"/api/v1/offers/{offer['id']}/coupon-batches", {"count": count},
                                      stroller["key"]), 202)
    in_progress = "SELECT lease_owner, issued FROM coupon_batches WHERE id = :id"
    deadline = time.monotonic() + 60
    while not ((row := cluster.query(in_progress, id=batch["id"])[0]).lease_owner and row.issued) \
            and time.monotonic() < deadline:
        time.sleep(0.02)
    assert row.lease_owner and row.issued, "no worker took the batch up"
    issuing = cluster.server_of(row.lease_owner)
    cluster.kill(issuing)  # kill -9: its master and both workers, mid-chunk
    [(killed_at,)] = cluster.query("SELECT issued FROM coupon_batches WHERE id = :id", id=batch["id"])
    assert 0 < killed_at < count, killed_at

    other = {"A": "B", "B": "A"}[issuing]
    owners, deadline = set(), time.monotonic() + 120
    while time.monotonic() < deadline:
        # Through the proxy: nginx finds the dead server refusing and asks the other.
        status, _, body = cluster.proxy.request("GET", f"/api/v1/coupon-batches/{batch['id']}", key=stroller["key"])
        assert status == 200, body
        if (state := json.loads(body))["status"] == "done":
            break
        owners.update(owner for owner, _ in cluster.query(in_progress, id=batch["id"]) if owner)
        time.sleep(0.1)
    assert state["status"] == "done" and state["issued"] == count, state
    assert {cluster.server_of(owner) for owner in owners - {row.lease_owner}} == {other}, owners
    status, _, csv = cluster.proxy.request("GET", f"/api/v1/coupon-batches/{batch['id']}/export.csv",
                                           key=stroller["key"])
    codes = [line.split(",")[0] for line in csv.decode("utf-8-sig").strip().splitlines()[1:]]
    assert len(codes) == len(set(codes)) == count
