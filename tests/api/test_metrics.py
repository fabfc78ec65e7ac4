"""`/metrics`: the operator's, in Prometheus' text format; requests counted by route template,
the money path by outcome code; nothing about a customer, a key or a token in any label.
(Counted across two gunicorn workers: tests/e2e/test_metrics.py.)"""

import re
import uuid
from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import assert_problem

OPERATOR = "op_testing_only_operator_key"


def scrape(api) -> dict:
    r = api.get("/metrics", OPERATOR)
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(r.get_data(as_text=True)) for s in family.samples}


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_need_the_operator_key(api, merchant):
    assert_problem(api.get("/metrics"), 401, "missing_key")
    assert_problem(api.get("/metrics", "op_wrong_key_guess"), 401, "invalid_key")
    assert_problem(api.get("/metrics", merchant.key), 403, "wrong_key_kind")
    assert_problem(api.get("/metrics", merchant.terminal_key), 403, "wrong_key_kind")


def _issue(api, world, **extra):
    r = api.post(f"/api/v1/offers/{world.offer['id']}/coupons", world.stroller.key, json={"count": 1, **extra})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["items"][0]


def _redeem(api, world, payload, idem=None, amount=25000):
    return api.post("/api/v1/redemptions", world.maternity.terminal_key,
                    json={"payload": payload, "order_amount": amount},
                    headers={"Idempotency-Key": idem or str(uuid.uuid4())})


def test_a_redemption_moves_the_counters_by_route_template_and_outcome(api, world):
    before = scrape(api)
    coupon = _issue(api, world)
    verify = {"payload": coupon["payload"], "order_amount": 100}
    verified = api.post("/api/v1/redemptions/verify", world.maternity.terminal_key, json=verify).get_json()
    assert verified["valid"] is False
    idem = str(uuid.uuid4())
    redeemed = _redeem(api, world, coupon["payload"], idem)
    assert redeemed.status_code == 201
    assert _redeem(api, world, coupon["payload"], idem).headers["Idempotent-Replayed"] == "true"
    assert _redeem(api, world, coupon["payload"]).status_code == 409  # used up
    r = api.post(f"/api/v1/redemptions/{redeemed.get_json()['id']}/reversals", world.maternity.key,
                 json={"refund_amount": 1000, "reason": "退货"}, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert r.status_code == 201
    after = scrape(api)

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("exchange_redemptions_total", outcome="redeemed") == 1
    assert moved("exchange_redemptions_total", outcome="replayed") == 1
    assert moved("exchange_redemptions_total", outcome="coupon_exhausted") == 1
    assert moved("exchange_verifies_total", outcome="below_min_spend") == 1
    assert moved("exchange_reversals_total", outcome="reversed") == 1
    assert moved("exchange_http_requests_total", method="POST", route="/api/v1/redemptions", status="201") == 2
    assert moved("exchange_http_requests_total", method="POST", route="/api/v1/redemptions", status="409") == 1
    assert moved("exchange_http_request_duration_seconds_count", method="POST", route="/api/v1/redemptions") == 3
    route = "/api/v1/redemptions/<id:redemption_id>/reversals"
    assert moved("exchange_http_requests_total", method="POST", route=route, status="201") == 1


def test_paths_are_labelled_by_their_template_never_as_sent(api, world):
    coupon = _issue(api, world, customer_ref="138-0013-8000")
    token = coupon["landing_url"].rsplit("/", 1)[1]
    assert api.get(f"/c/{token}").status_code == 200
    assert api.get(f"/api/v1/coupons/{coupon['code']}", world.stroller.key).status_code == 200
    api.get("/no/such/page/138-0013-8000")
    api.get("/api/v1/merchants/me", "mk_1_" + "x" * 43)  # a guessed key
    text = api.get("/metrics", OPERATOR).get_data(as_text=True)
    assert 'route="/c/<string:token>"' in text and 'route="(unmatched)"' in text
    for secret in (token, coupon["code"], "0013-8000", "13800138000", world.stroller.key, world.maternity.terminal_key,
                   "mk_1_", OPERATOR):
        assert secret not in text, secret
    from exchange.coupons.privacy import pseudonym

    assert pseudonym("138-0013-8000", "dev-only-pseudonym-key") not in text
    for labels in re.findall(r"^exchange_\w*\{([^}]*)\}", text, re.MULTILINE):
        for name, _ in re.findall(r'(\w+)="([^"]*)"', labels):
            assert name in {"method", "route", "status", "outcome", "le"}, labels


def test_queue_depths_pool_and_rate_limit_store_are_there(api, world):
    r = api.post(f"/api/v1/offers/{world.offer['id']}/coupon-batches", world.stroller.key, json={"count": 500})
    assert r.status_code == 202, r.get_json()
    samples = scrape(api)
    assert value(samples, "exchange_coupon_batches_queued", status="pending") >= 1
    assert value(samples, "exchange_coupons_queued") >= 500
    assert value(samples, "exchange_coupon_batch_oldest_queued_seconds") >= 0
    assert ("exchange_sheets_queued", ()) in samples
    assert value(samples, "exchange_webhook_deliveries_queued") == 0
    assert value(samples, "exchange_webhook_delivery_lag_seconds") == 0
    assert value(samples, "exchange_db_pool_connections_in_use") >= 1  # this request's own
    assert value(samples, "exchange_db_pool_capacity") >= 1
    assert value(samples, "exchange_rate_limits_degraded_workers") == 0


def test_check_ledger_writes_its_result_for_the_textfile_collector(app, api, world, tmp_path):
    coupon = _issue(api, world)
    assert _redeem(api, world, coupon["payload"]).status_code == 201
    path = tmp_path / "exchange_ledger.prom"
    result = app.test_cli_runner().invoke(args=["exchange", "check-ledger", "--metrics-file", str(path)])
    assert result.exit_code == 0, result.output
    samples = {s.name: s.value for f in text_string_to_metric_families(path.read_text()) for s in f.samples}
    assert samples["exchange_ledger_check_problems"] == 0
    assert samples["exchange_ledger_check_timestamp_seconds"] > 1.7e9


def test_a_pending_webhook_delivery_shows_in_the_queue_and_its_lag(api, app, world, monkeypatch):
    from exchange import clock
    from exchange.events.relay import relay
    from tests.api.test_events import redeem

    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", True)  # nothing listens there: it stays pending
    r = api.post("/api/v1/webhook-endpoints", world.maternity.key,
                 json={"url": "http://127.0.0.1:9/hooks", "event_types": ["coupon.redeemed"]})
    assert r.status_code == 201, r.get_json()
    redeem(api, world)
    relay()  # the event is numbered and its delivery queued; no worker sends it here
    clock.set_now(clock.now() + timedelta(minutes=10))
    samples = scrape(api)
    assert value(samples, "exchange_webhook_deliveries_queued") == 1
    assert 600 <= value(samples, "exchange_webhook_delivery_lag_seconds") < 700
