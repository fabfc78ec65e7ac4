"""Pairing a device as a store's till (SPEC §8): one-time, short-lived codes traded for a
terminal key; listing and unpairing tills; the till's view of itself."""

import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from exchange import clock
from exchange.audit import AuditEvent
from exchange.extensions import limiter
from exchange.till.models import TillPairing
from tests.helpers import assert_problem


def _pair(api, merchant, label=None, store_id=None):
    r = api.post(f"/api/v1/stores/{store_id or merchant.store_id}/till-pairings", merchant.key,
                 json={"label": label} if label else {})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _exchange(api, code, **kw):
    return api.post("/api/v1/till-pairings/exchange", json={"code": code}, **kw)


def test_a_pairing_is_a_short_code_and_a_link_that_carries_it_in_the_fragment(api, merchant):
    pairing = _pair(api, merchant, label="收银台 1")
    code = pairing["code"]
    assert len(code) == 9 and code[4] == "-"
    assert pairing["url"] == f"http://exchange.test/till/#pair={code.replace('-', '')}"
    assert pairing["store_id"] == merchant.store_id and pairing["label"] == "收银台 1"
    expires = clock.parse_instant(pairing["expires_at"])
    assert timedelta(minutes=9) < expires - clock.now() <= timedelta(minutes=10)


def test_only_the_codes_hash_is_stored(api, merchant, session):
    pairing = _pair(api, merchant)
    row = session.scalar(select(TillPairing).where(TillPairing.id == pairing["id"]))
    plain = pairing["code"].replace("-", "")
    assert plain not in row.code_hash and len(row.code_hash) == 64


def test_the_code_is_traded_once_for_a_terminal_key_of_that_store(api, merchant, world):
    pairing = _pair(api, merchant, label="前台")
    r = _exchange(api, pairing["code"])
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["terminal_key"].startswith("tk_") and body["label"] == "前台"
    assert body["store"]["id"] == merchant.store_id and body["merchant"] == {"id": merchant.id, "name": merchant.name}
    me = api.get("/api/v1/till", body["terminal_key"])
    assert me.status_code == 200 and me.get_json()["store"]["id"] == merchant.store_id
    assert me.get_json()["till"]["id"] == body["till_id"]
    # The key is a terminal key like any other: verify works, merchant-admin routes do not.
    assert_problem(api.get("/api/v1/stores", body["terminal_key"]), 403, "wrong_key_kind")
    assert_problem(_exchange(api, pairing["code"]), 409, "pairing_code_used")


def test_typing_is_forgiving_lower_case_spaces_and_full_width(api, merchant):
    for typed in (lambda c: c.lower(), lambda c: " ".join(c), lambda c: c.translate(_FULL_WIDTH) + "\u3000"):
        pairing = _pair(api, merchant)
        r = _exchange(api, typed(pairing["code"]))
        assert r.status_code == 201, (typed(pairing["code"]), r.get_json())


_FULL_WIDTH = {ord(ch): ord(ch) + 0xFEE0 for ch in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-"}


def test_an_expired_code_is_refused_and_says_so(api, merchant):
    pairing = _pair(api, merchant)
    clock.advance(timedelta(minutes=10, seconds=1))
    problem = assert_problem(_exchange(api, pairing["code"]), 410, "pairing_code_expired")
    assert "expired" in problem["detail"]


def test_unknown_and_malformed_codes_each_have_their_own_problem(api, merchant):
    assert_problem(_exchange(api, "ZZZZ-ZZZZ"), 404, "pairing_code_unknown")
    for malformed in ("ABC", "ABCD-EFGH-J", "ÄÖÜ!-????", "tk_1_" + "a" * 30):
        assert_problem(_exchange(api, malformed), 422, "pairing_code_malformed")
    assert_problem(api.post("/api/v1/till-pairings/exchange", json={}), 422, "validation_failed")
    assert_problem(api.post("/api/v1/till-pairings/exchange", json={"code": "x" * 41}), 422, "validation_failed")


def test_two_exchanges_of_one_code_make_one_till(api, merchant, session):
    pairing = _pair(api, merchant)
    answers = [_exchange(api, pairing["code"]).status_code for _ in range(3)]
    assert answers == [201, 409, 409]
    tills = api.get(f"/api/v1/stores/{merchant.store_id}/tills", merchant.key).get_json()["items"]
    assert len(tills) == 1 and tills[0]["status"] == "paired"


def test_unpairing_revokes_the_tills_key_at_once(api, merchant):
    till = _exchange(api, _pair(api, merchant, label="平板")["code"]).get_json()
    listed = api.get(f"/api/v1/stores/{merchant.store_id}/tills", merchant.key).get_json()["items"]
    assert [(t["id"], t["label"], t["status"]) for t in listed] == [(till["till_id"], "平板", "paired")]
    r = api.delete(f"/api/v1/stores/{merchant.store_id}/tills/{till['till_id']}", merchant.key)
    assert r.status_code == 204
    assert_problem(api.get("/api/v1/till", till["terminal_key"]), 401, "invalid_key")
    assert_problem(api.post("/api/v1/redemptions/verify", till["terminal_key"],
                            json={"payload": "ABCD-EFGH-JKMNP", "order_amount": 100}), 401, "invalid_key")
    listed = api.get(f"/api/v1/stores/{merchant.store_id}/tills", merchant.key).get_json()["items"]
    assert listed[0]["status"] == "unpaired" and listed[0]["unpaired_at"]
    # Again: nothing more to do.
    assert api.delete(f"/api/v1/stores/{merchant.store_id}/tills/{till['till_id']}", merchant.key).status_code == 204


def test_a_till_can_unpair_itself(api, merchant):
    till = _exchange(api, _pair(api, merchant)["code"]).get_json()
    assert api.delete("/api/v1/till", till["terminal_key"]).status_code == 204
    assert_problem(api.get("/api/v1/till", till["terminal_key"]), 401, "invalid_key")


def test_terminal_keys_made_by_hand_are_not_tills_to_unpair(api, merchant):
    key_id = api.get(f"/api/v1/stores/{merchant.store_id}/terminal-keys", merchant.key).get_json()["items"][0]["id"]
    assert_problem(api.delete(f"/api/v1/stores/{merchant.store_id}/tills/{key_id}", merchant.key), 404)


def test_pairings_and_tills_are_the_store_owners_alone(api, merchant, other_merchant):
    theirs = _pair(api, other_merchant)
    assert_problem(api.post(f"/api/v1/stores/{other_merchant.store_id}/till-pairings", merchant.key, json={}), 404)
    assert_problem(api.get(f"/api/v1/stores/{other_merchant.store_id}/tills", merchant.key), 404)
    assert_problem(api.get(f"/api/v1/stores/{other_merchant.store_id}/till-pairings/qr.png?code={theirs['code']}",
                           merchant.key), 404)
    # Its own store, another's code: no such pairing here.
    assert_problem(api.get(f"/api/v1/stores/{merchant.store_id}/till-pairings/qr.png?code={theirs['code']}",
                           merchant.key), 404, "pairing_code_unknown")
    till = _exchange(api, theirs["code"]).get_json()
    assert_problem(api.delete(f"/api/v1/stores/{other_merchant.store_id}/tills/{till['till_id']}", merchant.key), 404)
    assert_problem(api.delete(f"/api/v1/stores/{merchant.store_id}/tills/{till['till_id']}", merchant.key), 404)
    assert api.get("/api/v1/till", till["terminal_key"]).status_code == 200


def test_the_pairing_qr_draws_the_link(api, merchant):
    from tests.qr_scan import qr_texts

    pairing = _pair(api, merchant)
    r = api.get(f"/api/v1/stores/{merchant.store_id}/till-pairings/qr.png?code={pairing['code']}", merchant.key)
    assert r.status_code == 200 and r.mimetype == "image/png"
    assert qr_texts(Image.open(io.BytesIO(r.data))) == [pairing["url"]]
    qr_url = pairing["qr_png_url"].removeprefix("http://exchange.test")
    assert api.get(qr_url, merchant.key).status_code == 200
    _exchange(api, pairing["code"])
    assert_problem(api.get(qr_url, merchant.key), 409, "pairing_code_used")


def test_a_suspended_merchants_code_pairs_nothing(api, app, merchant):
    pairing = _pair(api, merchant)
    api.post(f"/api/v1/operator/merchants/{merchant.id}/suspend", app.config["OPERATOR_KEY"])
    assert_problem(_exchange(api, pairing["code"]), 403, "merchant_suspended")


def test_pairing_and_unpairing_are_audited(api, merchant, session):
    pairing = _pair(api, merchant)
    till = _exchange(api, pairing["code"]).get_json()
    api.delete(f"/api/v1/stores/{merchant.store_id}/tills/{till['till_id']}", merchant.key)
    events = session.scalars(select(AuditEvent).where(AuditEvent.action.like("till.%"))
                             .order_by(AuditEvent.id)).all()
    assert [(e.action, e.merchant_id) for e in events] == [
        ("till.pairing_created", merchant.id), ("till.paired", merchant.id), ("till.unpaired", merchant.id)]
    assert events[1].subject_id == str(till["till_id"]) and events[1].data["store_id"] == merchant.store_id
    assert events[2].actor.startswith("merchant:") and events[2].to_state == "unpaired"
    text = repr([(e.data, e.actor) for e in events])
    assert pairing["code"].replace("-", "") not in text and till["terminal_key"] not in text


@pytest.fixture
def limits(app, monkeypatch):
    def set_limits(per_key="off", per_address="off"):
        monkeypatch.setitem(app.config, "TILL_PAIRING_RATE_LIMIT", per_key)
        monkeypatch.setitem(app.config, "TILL_PAIRING_EXCHANGE_RATE_LIMIT", per_address)
        limiter.reset()

    yield set_limits
    limiter.reset()


def test_making_pairings_is_rate_limited_per_key(api, merchant, limits):
    limits(per_key="2 per hour")
    assert [api.post(f"/api/v1/stores/{merchant.store_id}/till-pairings", merchant.key, json={}).status_code
            for _ in range(3)] == [201, 201, 429]
    r = api.post(f"/api/v1/stores/{merchant.store_id}/till-pairings", merchant.key, json={})
    assert_problem(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) > 0


def test_guessing_codes_is_rate_limited_per_address(api, merchant, limits):
    pairing = _pair(api, merchant)
    limits(per_address="3 per minute")
    for _ in range(3):
        assert_problem(_exchange(api, "ZZZZ-ZZZZ"), 404, "pairing_code_unknown")
    assert_problem(_exchange(api, pairing["code"]), 429, "rate_limited")
    # Another address (the shop's phone) is not held up by the guesser.
    assert _exchange(api, pairing["code"], environ_base={"REMOTE_ADDR": "10.7.7.7"}).status_code == 201


def test_the_key_and_the_code_never_reach_the_log(api, merchant, caplog):
    import logging

    caplog.set_level(logging.INFO, logger="exchange")
    pairing = _pair(api, merchant)
    api.get(pairing["qr_png_url"].removeprefix("http://exchange.test"), merchant.key)
    till = _exchange(api, pairing["code"]).get_json()
    api.get("/api/v1/till", till["terminal_key"], headers={"X-Request-Id": till["terminal_key"][:60]})
    api.get("/api/v1/till/day", till["terminal_key"])
    api.get(f"/api/v1/{till['terminal_key']}")
    text = repr([(r.getMessage(), r.__dict__) for r in caplog.records])
    assert len([r for r in caplog.records if r.getMessage() == "request"]) >= 6
    secret = till["terminal_key"].split("_", 2)[2]
    assert secret[:16] not in text
    assert pairing["code"].replace("-", "") not in text and pairing["code"] not in text
