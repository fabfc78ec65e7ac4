"""Month end on the demo world, through gunicorn and the CLI, with the sandbox clock (issue:
monthly settlement): October's trade, a close from two processes at once, statements that agree
on both sides in JSON, CSV and PDF, a late refund that lands in November, and a close killed
halfway that leaves the month open and retryable."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest

from exchange.money import format_money
from tests.e2e.conftest import BIN, ROOT, start_server, stop_server
from tests.e2e.world import _ok
from tests.helpers import csv_rows

pytestmark = pytest.mark.e2e

OPERATOR = "op_dev_only_operator_key"


def demo_world(server) -> dict:
    keys = server.env["EXCHANGE_SIGNING_KEY_DIR"] + "/../demo-keys.env"
    result = server.flask("exchange", "demo", "--keys-file", keys)
    assert result.returncode == 0, result.stderr
    with open(keys) as f:
        values = dict(line.removeprefix("export ").split("=", 1) for line in f.read().splitlines())
    return {name: {"id": int(values[f"{name}_ID"]), "key": values[f"{name}_KEY"],
                   "till": values[f"{name}_TERMINAL_KEY"]} for name in ("STROLLER", "MATERNITY", "TOYS")}


def trade(server, owner, distributor, offer, amount):
    coupon = _ok(server.request("POST", f"/api/v1/offers/{offer}/coupons", {"count": 1}, distributor["key"]))
    return _ok(server.request("POST", "/api/v1/redemptions",
                              {"payload": coupon["items"][0]["landing_url"], "order_amount": amount},
                              owner["till"], {"Idempotency-Key": str(uuid.uuid4())}))


def at(server_env, instant, tmp_path, db_url):
    return start_server(db_url, tmp_path, EXCHANGE_NOW=instant,
                        EXCHANGE_SIGNING_KEY_DIR=server_env["EXCHANGE_SIGNING_KEY_DIR"])


def settle(env, period, *extra):
    return subprocess.Popen([str(BIN / "flask"), "--app", "wsgi", "exchange", "settle", "--period", period, *extra],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def statement(server, who, period):
    return _ok(server.request("GET", f"/api/v1/settlements/{period}", None, who["key"]), 200)


def test_the_demo_world_lives_through_october_and_closes_it(fresh_db_url, tmp_path):
    proc, server = start_server(fresh_db_url, tmp_path, EXCHANGE_NOW="2026-10-08T10:00:00+08:00")
    try:
        w = demo_world(server)
        stroller, maternity, toys = w["STROLLER"], w["MATERNITY"], w["TOYS"]
        for proposer, partner, bps in ((stroller, maternity, 500), (toys, stroller, 800), (maternity, toys, 600)):
            p = _ok(server.request("POST", "/api/v1/partnerships", {
                "partner_id": partner["id"], "commission": {"type": "percent", "rate_bps": bps},
                "currency": "CNY"}, proposer["key"]))
            _ok(server.request("POST", f"/api/v1/partnerships/{p['id']}/accept", None, partner["key"]), 200)
        offers = {m["id"]: _ok(server.request("POST", "/api/v1/offers", {
            "title": "伙伴专享 立减20", "discount": {"type": "amount", "amount": 2000}, "currency": "CNY",
            "valid_from": "2026-10-01T00:00:00+08:00", "valid_until": "2027-03-31T00:00:00+08:00",
            "allow_free_order": True}, m["key"]))["id"]
            for m in (stroller, maternity, toys)}
        october_sale = trade(server, maternity, stroller, offers[maternity["id"]], 32000)
        trade(server, maternity, stroller, offers[maternity["id"]], 18800)
        trade(server, stroller, maternity, offers[stroller["id"]], 129900)
        trade(server, stroller, toys, offers[stroller["id"]], 99900)
        trade(server, toys, maternity, offers[toys["id"]], 15600)
    finally:
        stop_server(proc)

    # November 2nd: the operator closes October — twice at once, from two processes.
    proc, server = at(server.env, "2026-11-02T09:00:00+08:00", tmp_path, fresh_db_url)
    try:
        env = {**server.env, "EXCHANGE_MIN_TRANSFER": "0"}
        closers = [settle(env, "2026-10"), settle(env, "2026-10")]
        outputs = [c.communicate(timeout=120) for c in closers]
        assert [c.returncode for c in closers] == [0, 0], outputs
        said = sorted(out.split(":")[0] for out, _ in outputs)
        assert said == ["2026-10 closed", "2026-10 was already closed"], outputs
        assert len({out.rsplit("digest ", 1)[1] for out, _ in outputs}) == 1

        everyone = _ok(server.request("GET", "/api/v1/settlements/2026-10", None, OPERATOR), 200)
        assert sum(p["net_position"] for p in everyone["positions"]) == 0
        statements = {name: statement(server, w[name], "2026-10") for name in ("STROLLER", "MATERNITY", "TOYS")}
        for name, doc in statements.items():
            me = w[name]
            status, headers, body = server.request("GET", "/api/v1/settlements/2026-10/statement.csv", None, me["key"])
            assert status == 200
            lines = csv_rows(body)
            assert [int(line["amount"]) for line in lines if line["type"] == "total"] == [doc["net_position"]]
            assert sum(int(line["amount"]) for line in lines if line["type"] in ("redemption", "reversal")) \
                == doc["net_position"]
            status, headers, pdf = server.request("GET", "/api/v1/settlements/2026-10/statement.pdf", None, me["key"])
            assert status == 200 and pdf.startswith(b"%PDF")
            path = tmp_path / f"{name}.pdf"
            path.write_bytes(pdf)
            text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
            assert doc["digest"] in text.replace("\n", "") and doc["merchant"]["name"].split()[0] in text
            for o in doc["obligations"]:  # the PDF's payable per partner is the JSON's
                assert format_money(o["payable"], "CNY") in text
            # Each pair agrees with the partner's statement, to the fen and by digest.
            for o in doc["obligations"]:
                partner = next(n for n in w if w[n]["id"] == o["partner"]["id"])
                theirs = next(x for x in statements[partner]["obligations"] if x["partner"]["id"] == me["id"])
                assert (theirs["payable"], theirs["digest"]) == (-o["payable"], o["digest"])

        # A refund on 10 November of an October sale: October stays as it was.
        stop_server(proc)
        proc, server = at(server.env, "2026-11-10T15:00:00+08:00", tmp_path, fresh_db_url)
        _ok(server.request("POST", f"/api/v1/redemptions/{october_sale['id']}/reversals",
                           {"refund_amount": october_sale["paid_amount"], "reason": "整单退货"},
                           maternity["till"], {"Idempotency-Key": str(uuid.uuid4())}))
        assert statement(server, stroller, "2026-10") == statements["STROLLER"]
    finally:
        stop_server(proc)

    # December 1st: November closes with the late refund in it, as a clawback that names October.
    proc, server = at(server.env, "2026-12-01T08:00:00+08:00", tmp_path, fresh_db_url)
    try:
        _ok(server.request("POST", "/api/v1/settlements", {"period": "2026-11", "min_transfer": 0}, OPERATOR))
        november = statement(server, stroller, "2026-11")
        pair = next(o for o in november["obligations"] if o["partner"]["id"] == maternity["id"])
        assert pair["owed_to_you"]["clawback"] == october_sale["commission"]["amount"]
        _, _, body = server.request("GET", "/api/v1/settlements/2026-11/statement.csv", None, stroller["key"])
        late = [line for line in csv_rows(body) if line["type"] == "reversal"]
        assert [(line["redemption_id"], line["redeemed_in"]) for line in late] == [(str(october_sale["id"]), "2026-10")]
        assert server.flask("exchange", "check-ledger").returncode == 0
    finally:
        stop_server(proc)


KILL_DURING_CLOSE = """
import os, signal, sys
from exchange.settlement import closing
def die(*args, **kwargs):  # the obligations are written, the transaction is not committed
    os.kill(os.getpid(), signal.SIGKILL)
closing.audit.record = die
from flask.cli import main
sys.argv = ["flask", "--app", "wsgi", "exchange", "settle", "--period", "2026-10"]
main()
"""


def test_a_close_killed_halfway_leaves_the_month_open_and_a_retry_closes_it(fresh_db_url, tmp_path):
    proc, server = start_server(fresh_db_url, tmp_path, EXCHANGE_NOW="2026-10-20T10:00:00+08:00")
    try:
        w = demo_world(server)
        stroller, maternity = w["STROLLER"], w["MATERNITY"]
        p = _ok(server.request("POST", "/api/v1/partnerships", {
            "partner_id": maternity["id"], "commission": {"type": "fixed", "amount": 1500},
            "currency": "CNY"}, stroller["key"]))
        _ok(server.request("POST", f"/api/v1/partnerships/{p['id']}/accept", None, maternity["key"]), 200)
        offer = _ok(server.request("POST", "/api/v1/offers", {
            "title": "立减10", "discount": {"type": "amount", "amount": 1000}, "currency": "CNY",
            "valid_from": "2026-10-01T00:00:00+08:00", "valid_until": "2027-01-01T00:00:00+08:00",
            "allow_free_order": True}, maternity["key"]))
        trade(server, maternity, stroller, offer["id"], 20000)
    finally:
        stop_server(proc)
    proc, server = at(server.env, "2026-11-01T10:00:00+08:00", tmp_path, fresh_db_url)
    try:
        killed = subprocess.run([sys.executable, "-c", KILL_DURING_CLOSE], cwd=ROOT, env=server.env,
                                capture_output=True, text=True, timeout=120)
        assert killed.returncode == -9, killed.stderr
        assert statement(server, stroller, "2026-10")["status"] == "open"
        closed = settle(server.env, "2026-10")
        out, err = closed.communicate(timeout=120)
        assert closed.returncode == 0 and out.startswith("2026-10 closed"), err
        doc = statement(server, stroller, "2026-10")
        assert doc["status"] == "closed" and doc["net_position"] == 1500
        listed = json.loads(server.request("GET", "/api/v1/settlements", None, OPERATOR)[2])
        assert [s["period"] for s in listed["items"]] == ["2026-10"]
    finally:
        stop_server(proc)
