"""A customer's right to erasure: `POST /api/v1/customer-erasures {customer_ref}` removes the
customer's pseudonym from every table (the test reads every text column of every table), keeps
every redemption, amount and ledger entry (`check-ledger`), unlinks per-customer limits, audits
that an erasure happened and not whom, and may be repeated."""

import uuid

import pytest
from sqlalchemy import column, func, inspect, select, table, text

from exchange.audit import AuditEvent
from exchange.coupons.privacy import pseudonym
from exchange.redemptions.models import Redemption
from exchange.redemptions.reconciliation import check_ledger
from tests.helpers import assert_problem, make_offer, partner_up

OPERATOR = "op_testing_only_operator_key"
REF = "138 0013-8000"
ALIAS = pseudonym(REF, "dev-only-pseudonym-key")


def issue(api, key, offer, ref=REF, count=1):
    r = api.post(f"/api/v1/offers/{offer['id']}/coupons", key, json={"count": count, "customer_ref": ref})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["items"]


def redeem(api, till, payload):
    r = api.post("/api/v1/redemptions", till, json={"payload": payload, "order_amount": 25000},
                 headers={"Idempotency-Key": str(uuid.uuid4())})
    return r


def erase(api, key, ref=REF):
    return api.post("/api/v1/customer-erasures", key, json={"customer_ref": ref})


def places_holding(connection, needle: str) -> list[str]:
    """Every column of every table in the database (not only the models'), read as text."""
    found = []
    inspector = inspect(connection)
    for name in inspector.get_table_names():
        for col in inspector.get_columns(name):
            query = select(func.count()).select_from(table(name, column(col["name"]))).where(
                text(f'CAST("{col["name"]}" AS TEXT) LIKE :needle'))
            if connection.execute(query, {"needle": f"%{needle}%"}).scalar():
                found.append(f"{name}.{col['name']}")
    return sorted(found)


@pytest.fixture
def limited(api, world):
    return make_offer(api, world.maternity, uses_per_coupon=1, per_customer_limit=2)


def test_the_operator_erases_a_customer_from_every_table_and_the_ledger_stays_whole(
        api, world, limited, connection, session):
    till = world.maternity.terminal_key
    first, _second = issue(api, world.stroller.key, limited, count=2)
    assert redeem(api, till, first["payload"]).status_code == 201
    pack = api.post("/api/v1/packs", world.stroller.key,
                    json={"offer_ids": [world.offer["id"], limited["id"]], "customer_ref": "+86 " + REF})
    assert pack.status_code == 201, pack.get_json()
    other = issue(api, world.stroller.key, limited, ref="139 0000 0000")[0]
    assert redeem(api, till, other["payload"]).status_code == 201
    amounts = session.execute(select(Redemption.id, Redemption.paid_amount, Redemption.commission_amount)
                              .order_by(Redemption.id)).all()
    assert places_holding(connection, ALIAS) == ["coupons.customer_pseudonym", "customer_offer_uses.customer_pseudonym",
                                                 "redemptions.customer_pseudonym"]

    r = erase(api, OPERATOR, "1380013 8000")  # spacing does not matter
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == {"scope": "all", "erased": {"coupons": 2, "redemptions": 1, "limit_counters": 1}}
    assert places_holding(connection, ALIAS) == []
    assert erase(api, OPERATOR, "+86 " + REF).get_json()["erased"]["coupons"] == 2  # the pack's
    assert places_holding(connection, pseudonym("+86 " + REF, "dev-only-pseudonym-key")) == []
    # Money is untouched; the other customer is untouched.
    session.expire_all()
    assert session.execute(select(Redemption.id, Redemption.paid_amount, Redemption.commission_amount)
                           .order_by(Redemption.id)).all() == amounts
    assert check_ledger(session) == []
    assert places_holding(connection, pseudonym("139 0000 0000", "dev-only-pseudonym-key"))
    # The audit trail says an erasure happened and what it changed, never whom.
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "customer.erased")).all()
    assert len(events) == 2 and events[0].actor == "operator" and events[0].data["coupons"] == 2
    # The reference itself was never stored, in any spelling (a 4-digit piece of it would also be
    # found inside random hex hashes, so the whole number is searched for).
    assert places_holding(connection, REF) == [] and places_holding(connection, "13800138000") == []


def test_erasing_twice_is_harmless(api, world, limited):
    issue(api, world.stroller.key, limited)
    assert erase(api, OPERATOR).get_json()["erased"]["coupons"] == 1
    again = erase(api, OPERATOR)
    assert again.status_code == 200
    assert again.get_json()["erased"] == {"coupons": 0, "redemptions": 0, "limit_counters": 0}


def test_the_customers_old_coupons_no_longer_count_against_the_limit(api, world, limited):
    till = world.maternity.terminal_key
    first, second = issue(api, world.stroller.key, limited, count=2)
    assert redeem(api, till, first["payload"]).status_code == 201
    assert_problem(api.post(f"/api/v1/offers/{limited['id']}/coupons", world.stroller.key,
                            json={"count": 1, "customer_ref": REF}), 409, "customer_limit_reached")
    erase(api, OPERATOR)
    # The remaining coupon is anonymous now; a coupon issued after is the customer's first again.
    assert redeem(api, till, second["payload"]).status_code == 201
    assert len(issue(api, world.stroller.key, limited, count=2)) == 2


def test_a_merchant_erases_among_the_coupons_it_handed_out(api, world, limited, connection, session):
    """The maternity store's offer is handed out by two partners; one of them erases."""
    till = world.maternity.terminal_key
    toy = api.register("小熊玩具", categories=["toys"])
    partner_up(api, toy, world.maternity)
    offer = make_offer(api, world.maternity, uses_per_coupon=1, per_customer_limit=2,
                       distributors=[world.stroller.id, toy.id])
    mine = issue(api, world.stroller.key, offer)[0]
    theirs = issue(api, toy.key, offer)[0]
    assert redeem(api, till, mine["payload"]).status_code == 201
    assert redeem(api, till, theirs["payload"]).status_code == 201

    r = erase(api, world.stroller.key)
    assert r.get_json() == {"scope": "issued_by_you", "erased": {"coupons": 1, "redemptions": 1, "limit_counters": 1}}
    left = session.execute(text("SELECT distributor_id FROM coupons WHERE customer_pseudonym = :a"), {"a": ALIAS}).all()
    assert [row[0] for row in left] == [toy.id]
    # The other partner's redemption still counts for the limit: counted again from the books.
    from exchange.redemptions.store import customer_uses

    assert customer_uses(session, offer_id=offer["id"], pseudonym=ALIAS) == 1
    issue(api, toy.key, offer)
    assert_problem(api.post(f"/api/v1/offers/{offer['id']}/coupons", toy.key,
                            json={"count": 1, "customer_ref": REF}), 409, "customer_limit_reached")
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "customer.erased")).one()
    assert event.actor.startswith("merchant:") and event.merchant_id == world.stroller.id
    assert check_ledger(session) == []


@pytest.mark.parametrize("ref", ["", "   ", "x" * 10_240, None, 13800138000])
def test_bad_references_are_422(api, ref):
    assert_problem(api.post("/api/v1/customer-erasures", OPERATOR, json={"customer_ref": ref}), 422,
                   "validation_failed")


def test_only_the_operator_and_merchants_may_erase(api, world):
    assert_problem(erase(api, None), 401, "missing_key")
    assert_problem(erase(api, world.maternity.terminal_key), 403, "wrong_key_kind")
    assert_problem(api.post("/api/v1/customer-erasures", OPERATOR, json={}), 422, "validation_failed")


def test_after_a_key_rotation_erasure_finds_the_pseudonyms_of_the_previous_key(api, app, world, limited,
                                                                              connection, monkeypatch):
    issue(api, world.stroller.key, limited)  # under the old key
    monkeypatch.setitem(app.config, "PSEUDONYM_KEY", "the-new-pseudonym-key")
    monkeypatch.setitem(app.config, "PSEUDONYM_PREVIOUS_KEYS", ["dev-only-pseudonym-key"])
    issue(api, world.stroller.key, limited)  # under the new one
    assert erase(api, OPERATOR).get_json()["erased"]["coupons"] == 2
    assert places_holding(connection, ALIAS) == []
    assert places_holding(connection, pseudonym(REF, "the-new-pseudonym-key")) == []


def test_reports_count_the_erased_customers_redemptions_as_anonymous(api, world, limited):
    from zoneinfo import ZoneInfo

    from exchange import clock

    period = clock.now().astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    payload = issue(api, world.stroller.key, limited)[0]["payload"]
    assert redeem(api, world.maternity.terminal_key, payload).status_code == 201

    def sales():
        report = api.get(f"/api/v1/reports/partnerships?period={period}", world.stroller.key).get_json()
        row = next(p for p in report["partners"] if p["partner"]["id"] == world.maternity.id)
        return row["you_sent"]["sales"][0]

    before = sales()
    assert before["customers"] == 1 and before["redemptions"] == 1
    erase(api, world.stroller.key)
    assert sales() == {**before, "customers": 0}  # the same sale, now of nobody in particular
