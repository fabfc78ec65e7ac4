"""Partnerships: proposal, the state machine, terms history, tenancy (issue: partners)."""

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from exchange import clock
from exchange.audit import AuditEvent
from exchange.partners.models import Partnership
from exchange.partners.services import terms_in_force
from tests.helpers import assert_problem

PERCENT = {"commission": {"type": "percent", "rate_bps": 500}, "currency": "CNY"}


@pytest.fixture
def stroller(api):
    return api.register("贝贝童车馆", categories=["stroller"])


@pytest.fixture
def maternity(api):
    return api.register("暖暖孕婴坊", categories=["maternity"])


def propose(api, by, to, **terms):
    return api.post("/api/v1/partnerships", by.key, json={"partner_id": to.id, **(terms or PERCENT)})


def move(api, who, pid, action):
    return api.post(f"/api/v1/partnerships/{pid}/{action}", who.key)


def test_full_cycle_propose_accept_pause_resume_terminate(api, stroller, maternity, session):
    r = propose(api, stroller, maternity)
    assert r.status_code == 201
    p = r.get_json()
    assert p["status"] == "proposed" and p["proposer_id"] == stroller.id
    assert p["terms"]["commission"] == {"type": "percent", "rate_bps": 500}
    pid = p["id"]
    assert move(api, maternity, pid, "accept").get_json()["status"] == "active"
    paused = move(api, stroller, pid, "pause").get_json()
    assert paused["status"] == "paused" and paused["paused_by_id"] == stroller.id
    assert move(api, stroller, pid, "resume").get_json()["status"] == "active"
    assert move(api, maternity, pid, "terminate").get_json()["status"] == "terminated"
    events = session.execute(select(AuditEvent.action, AuditEvent.from_state, AuditEvent.to_state)
                             .where(AuditEvent.subject_type == "partnership",
                                    AuditEvent.subject_id == str(pid))
                             .order_by(AuditEvent.id)).all()
    assert [tuple(e) for e in events] == [
        ("partnership.proposed", None, "proposed"), ("partnership.accept", "proposed", "active"),
        ("partnership.pause", "active", "paused"), ("partnership.resume", "paused", "active"),
        ("partnership.terminate", "active", "terminated")]


def test_accepting_your_own_proposal_is_forbidden(api, stroller, maternity):
    pid = propose(api, stroller, maternity).get_json()["id"]
    assert_problem(move(api, stroller, pid, "accept"), 403, "not_your_move")
    assert_problem(move(api, stroller, pid, "decline"), 403, "not_your_move")


def test_illegal_moves_are_409_with_the_current_state(api, stroller, maternity):
    pid = propose(api, stroller, maternity).get_json()["id"]
    body = assert_problem(move(api, maternity, pid, "pause"), 409, "illegal_transition")
    assert body["current_status"] == "proposed"
    move(api, maternity, pid, "decline")
    body = assert_problem(move(api, maternity, pid, "accept"), 409, "illegal_transition")
    assert body["current_status"] == "declined"
    assert_problem(move(api, stroller, pid, "terminate"), 409, "illegal_transition")


def test_only_the_side_that_paused_can_resume(api, stroller, maternity):
    pid = propose(api, stroller, maternity).get_json()["id"]
    move(api, maternity, pid, "accept")
    move(api, maternity, pid, "pause")
    assert_problem(move(api, stroller, pid, "resume"), 403, "not_your_move")
    assert move(api, maternity, pid, "resume").status_code == 200


def test_invited_side_declines_rather_than_terminates_a_proposal(api, stroller, maternity):
    pid = propose(api, stroller, maternity).get_json()["id"]
    assert_problem(move(api, maternity, pid, "terminate"), 403, "not_your_move")
    assert move(api, stroller, pid, "terminate").get_json()["status"] == "terminated"


def test_competitors_are_refused_at_proposal(api, stroller):
    rival = api.register("宝宝行童车", categories=["stroller", "toys"])
    assert_problem(propose(api, stroller, rival), 409, "competitor")
    hardware = api.register("五金", categories=["hardware"])
    materials = api.register("建材", categories=["building_materials"])
    assert_problem(propose(api, hardware, materials), 409, "competitor")


def test_acceptance_is_refused_if_the_pair_has_come_to_compete(api, stroller, maternity):
    pid = propose(api, stroller, maternity).get_json()["id"]
    api.patch("/api/v1/merchants/me", maternity.key, json={"categories": ["maternity", "stroller"]})
    assert_problem(move(api, maternity, pid, "accept"), 409, "competitor")


def test_one_live_partnership_per_pair(api, stroller, maternity):
    first = propose(api, stroller, maternity).get_json()["id"]
    body = assert_problem(propose(api, maternity, stroller), 409, "partnership_exists")
    assert body["partnership_id"] == first
    move(api, maternity, first, "decline")
    assert propose(api, maternity, stroller).status_code == 201


def test_database_refuses_a_second_live_partnership_for_a_pair(api, stroller, maternity, session):
    propose(api, stroller, maternity)
    now = clock.now()
    session.add(Partnership(proposer_id=maternity.id, partner_id=stroller.id,
                            low_id=min(stroller.id, maternity.id), high_id=max(stroller.id, maternity.id),
                            status="active", created_at=now, updated_at=now))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_bad_proposals(api, stroller, maternity):
    base = {"partner_id": maternity.id, "currency": "CNY"}
    cases = [
        ({**base, "partner_id": 999999, **PERCENT}, 404, "not_found"),
        ({**PERCENT, "partner_id": stroller.id}, 422, "self_partnership"),
        ({**base, "commission": {"type": "percent", "rate_bps": 10001}}, 422, "validation_failed"),
        ({**base, "commission": {"type": "percent", "rate_bps": -1}}, 422, "validation_failed"),
        ({**base, "commission": {"type": "percent"}}, 422, "validation_failed"),
        ({**base, "commission": {"type": "percent", "rate_bps": 500, "amount": 5}}, 422, "validation_failed"),
        ({**base, "commission": {"type": "fixed", "amount": -100}}, 422, "validation_failed"),
        ({**base, "commission": {"type": "fixed", "amount": 10**13}}, 422, "validation_failed"),
        ({**base, "commission": {"type": "fixed", "amount": 1.5}}, 422, "validation_failed"),
        ({**base, "commission": {"type": "bribe", "amount": 1}}, 422, "validation_failed"),
        ({**base, **PERCENT, "currency": "XYZ"}, 422, "validation_failed"),
        ({**base, **PERCENT, "starts_at": "2027-02-01T00:00:00+08:00",
          "ends_at": "2027-01-01T00:00:00+08:00"}, 422, "validation_failed"),
        ({**base, **PERCENT, "starts_at": "2027-01-01"}, 422, "validation_failed"),
        ({**base, **PERCENT, "starts_at": "2027-01-01T00:00:00"}, 422, "validation_failed"),
        ({**base, **PERCENT, "ends_at": "2020-01-01T00:00:00+08:00"}, 422, "validation_failed"),
        ({**base, **PERCENT, "monthly_cap": 0}, 422, "validation_failed"),
        ({**base, **PERCENT, "status": "active"}, 422, "validation_failed"),
    ]
    for body, status, code in cases:
        assert_problem(api.post("/api/v1/partnerships", stroller.key, json=body), status, code)
    assert api.get("/api/v1/partnerships", stroller.key).get_json()["items"] == []


def test_fixed_commission_with_window_and_cap(api, stroller, maternity):
    r = api.post("/api/v1/partnerships", stroller.key, json={
        "partner_id": maternity.id, "commission": {"type": "fixed", "amount": 1500}, "currency": "CNY",
        "starts_at": "2027-01-01T00:00:00+08:00", "ends_at": "2027-12-31T23:59:59+08:00",
        "monthly_cap": 100000})
    assert r.status_code == 201
    terms = r.get_json()["terms"]
    assert terms["commission"] == {"type": "fixed", "amount": 1500}
    assert terms["starts_at"] == "2026-12-31T16:00:00+00:00" and terms["monthly_cap"] == 100000


def test_no_merchant_sees_or_touches_partnerships_it_is_not_part_of(api, stroller, maternity):
    outsider = api.register("外人", categories=["tea"])
    pid = propose(api, stroller, maternity).get_json()["id"]
    assert_problem(api.get(f"/api/v1/partnerships/{pid}", outsider.key), 404, "not_found")
    for action in ("accept", "decline", "pause", "resume", "terminate"):
        assert_problem(move(api, outsider, pid, action), 404, "not_found")
    assert_problem(api.post(f"/api/v1/partnerships/{pid}/terms", outsider.key, json=PERCENT), 404)
    assert api.get("/api/v1/partnerships", outsider.key).get_json()["items"] == []
    assert [p["id"] for p in api.get("/api/v1/partnerships", maternity.key).get_json()["items"]] == [pid]


def test_listing_filters_by_status(api, stroller, maternity):
    toys = api.register("玩具", categories=["toys"])
    a = propose(api, stroller, maternity).get_json()["id"]
    propose(api, stroller, toys)
    move(api, maternity, a, "accept")
    items = api.get("/api/v1/partnerships", stroller.key, query_string={"status": "active"}).get_json()["items"]
    assert [p["id"] for p in items] == [a]
    assert_problem(api.get("/api/v1/partnerships", stroller.key, query_string={"status": "nope"}), 422)


def test_new_terms_replace_old_on_acceptance_and_history_prices_by_time(api, stroller, maternity, session):
    pid = propose(api, stroller, maternity).get_json()["id"]
    move(api, maternity, pid, "accept")
    before_change = clock.now()
    clock.advance(timedelta(seconds=1))
    r = api.post(f"/api/v1/partnerships/{pid}/terms", maternity.key,
                 json={"commission": {"type": "percent", "rate_bps": 800}, "currency": "CNY"})
    assert r.status_code == 201 and r.get_json()["version"] == 2
    assert_problem(api.post(f"/api/v1/partnerships/{pid}/terms", stroller.key, json=PERCENT), 409, "terms_pending")
    assert_problem(api.post(f"/api/v1/partnerships/{pid}/terms/2/accept", maternity.key), 403, "not_your_move")
    still = api.get(f"/api/v1/partnerships/{pid}", stroller.key).get_json()
    assert still["terms"]["commission"]["rate_bps"] == 500
    clock.advance(timedelta(seconds=1))
    assert api.post(f"/api/v1/partnerships/{pid}/terms/2/accept", stroller.key).status_code == 200
    after_change = clock.now()
    body = api.get(f"/api/v1/partnerships/{pid}", stroller.key).get_json()
    assert body["terms"]["commission"]["rate_bps"] == 800
    assert [t["status"] for t in body["terms_history"]] == ["superseded", "accepted"]
    p = session.get(Partnership, pid)
    assert terms_in_force(p, before_change).rate_bps == 500
    assert terms_in_force(p, after_change).rate_bps == 800


def test_terms_can_be_declined_or_withdrawn(api, stroller, maternity):
    pid = propose(api, stroller, maternity).get_json()["id"]
    move(api, maternity, pid, "accept")
    api.post(f"/api/v1/partnerships/{pid}/terms", stroller.key, json=PERCENT)
    assert api.post(f"/api/v1/partnerships/{pid}/terms/2/decline", maternity.key).get_json()["status"] == "declined"
    api.post(f"/api/v1/partnerships/{pid}/terms", stroller.key, json=PERCENT)
    assert_problem(api.post(f"/api/v1/partnerships/{pid}/terms/3/withdraw", maternity.key), 403)
    assert api.post(f"/api/v1/partnerships/{pid}/terms/3/withdraw", stroller.key).get_json()["status"] == "withdrawn"
    assert_problem(api.post(f"/api/v1/partnerships/{pid}/terms/3/accept", maternity.key), 409)
    assert_problem(api.post(f"/api/v1/partnerships/{pid}/terms/9/accept", maternity.key), 404)
    assert_problem(api.post(f"/api/v1/partnerships/{pid}/terms/1/accept", maternity.key), 404)


def test_new_terms_only_for_live_partnerships(api, stroller, maternity):
    pid = propose(api, stroller, maternity).get_json()["id"]
    assert_problem(api.post(f"/api/v1/partnerships/{pid}/terms", stroller.key, json=PERCENT),
                   409, "illegal_transition")


def test_terminating_ends_the_terms_in_force(api, stroller, maternity, session):
    pid = propose(api, stroller, maternity).get_json()["id"]
    move(api, maternity, pid, "accept")
    clock.advance(timedelta(seconds=1))
    move(api, stroller, pid, "terminate")
    history = api.get(f"/api/v1/partnerships/{pid}", stroller.key).get_json()["terms_history"]
    assert history[0]["effective_until"] is not None
    assert terms_in_force(session.get(Partnership, pid), clock.now()) is None
