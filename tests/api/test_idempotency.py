"""Idempotency-Keys: stored with the effect, replayed, and purged after their retention."""

import uuid
from datetime import timedelta

import jwt
from sqlalchemy import func, select

from exchange import clock
from exchange.db.idempotency import RETENTION, IdempotencyRecord, purge_expired
from exchange.redemptions.models import Redemption
from tests.helpers import assert_problem


def _issue(api, world):
    r = api.post(f"/api/v1/offers/{world.offer['id']}/coupons", world.stroller.key, json={"count": 1})
    return r.get_json()["items"][0]


def _redeem(api, world, payload, key):
    return api.post("/api/v1/redemptions", world.maternity.terminal_key,
                    json={"payload": payload, "order_amount": 25000}, headers={"Idempotency-Key": key})


def _keys(session):
    return session.scalar(select(func.count()).select_from(IdempotencyRecord))


def test_a_redemption_and_its_stored_response_commit_together(api, world, session):
    first = _redeem(api, world, _issue(api, world)["payload"], "till-1-order-1")
    assert first.status_code == 201
    record = session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.key == "till-1-order-1"))
    assert (record.status, record.response_status) == ("done", 201)
    assert record.response_body and first.get_json()["id"] == session.scalar(select(func.max(Redemption.id)))


def test_a_refused_redemption_stores_its_refusal_and_no_effect(api, world, session):
    coupon = _issue(api, world)
    assert _redeem(api, world, coupon["payload"], str(uuid.uuid4())).status_code == 201
    refused = _redeem(api, world, coupon["payload"], "till-1-order-2")
    assert_problem(refused, 409, "coupon_exhausted")
    again = _redeem(api, world, coupon["payload"], "till-1-order-2")
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (again.status_code, again.get_json()) == (refused.status_code, refused.get_json())
    assert session.scalar(select(func.count()).select_from(Redemption)) == 1


def test_a_different_body_under_a_used_key_is_refused_and_not_stored(api, world, session):
    first, second = _issue(api, world), _issue(api, world)
    assert _redeem(api, world, first["payload"], "till-1-order-3").status_code == 201
    stored = _keys(session)
    assert_problem(_redeem(api, world, second["payload"], "till-1-order-3"), 422, "idempotency_conflict")
    assert _keys(session) == stored


def test_a_retry_is_answered_from_its_key_even_after_the_coupons_signing_key_is_retired(api, app, world):
    """The token is checked before the redemption's transaction, but a refusal of it must not
    pre-empt the stored answer: a till that retries gets its 201 back, whatever changed since."""
    coupon = _issue(api, world)
    first = _redeem(api, world, coupon["payload"], "till-1-order-4")
    assert first.status_code == 201
    runner = app.test_cli_runner()
    assert runner.invoke(args=["exchange", "rotate-keys"]).exit_code == 0
    old_kid = jwt.get_unverified_header(coupon["payload"])["kid"]
    assert runner.invoke(args=["exchange", "retire-key", old_kid]).exit_code == 0
    again = _redeem(api, world, coupon["payload"], "till-1-order-4")
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (again.status_code, again.get_json()) == (201, first.get_json())
    assert_problem(_redeem(api, world, coupon["payload"], "till-1-order-5"), 400, "invalid_signature")


def test_keys_past_their_retention_are_purged_and_younger_ones_kept(api, world, session):
    assert timedelta(hours=24) <= RETENTION
    _redeem(api, world, _issue(api, world)["payload"], "old-key")
    clock.advance(RETENTION - timedelta(hours=1))
    _redeem(api, world, _issue(api, world)["payload"], "young-key")
    clock.advance(timedelta(hours=2))

    assert purge_expired() == 1
    left = session.scalars(select(IdempotencyRecord.key)).all()
    assert left == ["young-key"]
    assert purge_expired() == 0


def test_the_purge_command_reports_what_it_deleted(app, api, world):
    _redeem(api, world, _issue(api, world)["payload"], "old-key")
    clock.advance(RETENTION + timedelta(minutes=1))
    result = app.test_cli_runner().invoke(args=["exchange", "purge-idempotency-keys"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("deleted: 1")
