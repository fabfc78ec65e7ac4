"""A suspended merchant (docs/settlement.md, "Suspended merchants"): customers holding coupons it
handed out are still served, but what it would receive waits until it is reinstated, as a
disputed pair waits for the operator; what it owes is still due. Its own tills are refused."""

import pytest

from exchange.redemptions.reconciliation import check_ledger
from tests.helpers import Month, assert_problem, at


def _suspend(m: Month, who, action="suspend"):
    r = m.api.post(f"/api/v1/operator/merchants/{who.id}/{action}", m.operator)
    assert r.status_code == 200, r.get_json()


def test_a_suspended_distributors_coupons_still_redeem_and_its_commission_accrues(month, session):
    m = month
    coupon = m.api.post(f"/api/v1/offers/{m.offers[m.maternity.id]['id']}/coupons", m.stroller.key,
                        json={"count": 1}).get_json()["items"][0]
    _suspend(m, m.stroller)
    r = m.api.post("/api/v1/redemptions", m.maternity.terminal_key, headers={"Idempotency-Key": "s-1"},
                   json={"payload": coupon["payload"], "order_amount": 25000})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["commission"]["amount"] == 1100
    assert check_ledger(session) == []


def test_a_suspended_owners_tills_are_refused(month):
    m = month
    coupon = m.api.post(f"/api/v1/offers/{m.offers[m.maternity.id]['id']}/coupons", m.stroller.key,
                        json={"count": 1}).get_json()["items"][0]
    _suspend(m, m.maternity)
    r = m.api.post("/api/v1/redemptions/verify", m.maternity.terminal_key,
                   json={"payload": coupon["payload"], "order_amount": 25000})
    assert_problem(r, 403, "merchant_suspended")


@pytest.mark.parametrize("netting", ["bilateral", "multilateral"])
def test_what_a_suspended_merchant_would_receive_is_held_until_it_is_reinstated(month, netting):
    m = month
    m.redeem(m.maternity, m.stroller)   # maternity owes the stroller shop ¥11
    m.redeem(m.maternity, m.stroller)   # ... ¥22 in all
    m.redeem(m.stroller, m.toys)        # the stroller shop owes the toy shop ¥22
    m.redeem(m.toys, m.maternity)       # the toy shop owes maternity 8% of ¥220
    at("2026-11-02T09:00:00+08:00")
    assert m.close("2026-10", netting=netting, min_transfer=0).status_code == 201
    before = m.statement(None, "2026-10")
    _suspend(m, m.stroller)

    # (The suspended shop's own keys are refused: its partners and the operator see the hold.)
    owed = m.obligation(m.maternity, m.stroller, "2026-10")
    assert owed["payable"] == -2200 and owed["status"] == "held"
    assert m.statement(m.maternity, "2026-10")["positions"][0]["held"] == -2200
    owes = m.obligation(m.toys, m.stroller, "2026-10")
    assert owes["payable"] == 2200 and owes["status"] == "awaiting_confirmation"
    # Nothing is paid to the stroller shop; what it owes the toy shop is still to be paid.
    everyone = m.statement(None, "2026-10")
    assert all(t["payee"]["id"] != m.stroller.id for t in everyone["transfers"])
    paid_by_stroller = sum(t["amount"] for t in everyone["transfers"] if t["payer"]["id"] == m.stroller.id)
    assert paid_by_stroller == 2200
    # The closed figures themselves do not change.
    assert everyone["digest"] == before["digest"]
    assert [o["digest"] for o in everyone["obligations"]] == [o["digest"] for o in before["obligations"]]

    _suspend(m, m.stroller, "reinstate")
    assert m.obligation(m.stroller, m.maternity, "2026-10")["status"] == "awaiting_confirmation"
    assert m.statement(m.stroller, "2026-10")["positions"][0]["held"] == 0
    assert m.statement(None, "2026-10")["transfers"] == before["transfers"]
