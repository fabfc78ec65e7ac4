"""Monthly settlement (SPEC §4.3–4.4, §5): close a month, net what partners owe each other,
statements both sides can check, disputes, late events in the next month."""

from __future__ import annotations

import subprocess
from collections import defaultdict

import pytest
from sqlalchemy import func, select, update

from exchange.redemptions.reconciliation import check_ledger
from exchange.settlement.models import Settlement, SettlementObligation
from tests.helpers import assert_problem, at, csv_rows, csv_table
from tests.pdfs import differing_pages, fonts


def test_an_october_close_nets_what_two_partners_owe_each_other(month, session):
    m = month
    # Maternity's till redeems two of the stroller shop's customers: maternity owes 5% of ¥220 each.
    m.redeem(m.maternity, m.stroller)
    m.redeem(m.maternity, m.stroller)
    # The stroller shop redeems one of maternity's customers: it owes maternity 5% of ¥220.
    m.redeem(m.stroller, m.maternity)
    at("2026-11-02T09:00:00+08:00")
    r = m.close("2026-10")
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["period"] == "2026-10" and r.get_json()["status"] == "closed"

    mine = m.obligation(m.stroller, m.maternity, "2026-10")
    assert mine["owed_to_you"]["commission"] == 2200 and mine["you_owe"]["commission"] == 1100
    assert mine["net"] == mine["payable"] == 1100 and mine["status"] == "awaiting_confirmation"
    theirs = m.obligation(m.maternity, m.stroller, "2026-10")
    assert theirs["payable"] == -1100 and theirs["digest"] == mine["digest"]
    statement = m.statement(m.stroller, "2026-10")
    assert statement["status"] == "closed" and statement["net_position"] == 1100
    assert statement["transfers"] == [{"currency": "CNY", "amount": 1100, "direction": "receive",
                                       "payer": {"id": m.maternity.id, "name": "暖暖孕婴坊"},
                                       "payee": {"id": m.stroller.id, "name": "贝贝童车馆"}}]
    assert statement["netting_summary"] == {"gross_obligations": {"count": 2, "amount": 3300},
                                            "transfers": {"count": 1, "amount": 1100}}
    assert check_ledger(session) == []


def test_net_positions_of_all_merchants_sum_to_zero_and_the_transfers_settle_them(month):
    m = month
    for owner, distributor in [(m.maternity, m.stroller), (m.stroller, m.toys), (m.toys, m.maternity),
                               (m.stroller, m.maternity), (m.toys, m.stroller)]:
        m.redeem(owner, distributor, amount=31000)
    at("2026-11-01T00:00:00+08:00")
    assert m.close("2026-10", netting="multilateral", min_transfer=0).status_code == 201
    everyone = m.statement(None, "2026-10")
    positions = {p["merchant"]["id"]: p["net_position"] for p in everyone["positions"]}
    assert sum(positions.values()) == 0 and len(positions) == 3
    after = defaultdict(int, positions)
    for t in everyone["transfers"]:
        after[t["payer"]["id"]] += t["amount"]
        after[t["payee"]["id"]] -= t["amount"]
    assert set(after.values()) == {0}
    assert len(everyone["transfers"]) <= 2
    for actor in (m.stroller, m.maternity, m.toys):
        assert m.statement(actor, "2026-10")["net_position"] == positions[actor.id]


def test_2359_beijing_time_on_31_october_belongs_to_october(month):
    m = month
    at("2026-10-31T23:59:00+08:00")  # 15:59 UTC
    m.redeem(m.maternity, m.stroller)
    at("2026-11-01T00:00:30+08:00")
    m.redeem(m.maternity, m.stroller)
    assert m.close("2026-10").status_code == 201
    assert m.obligation(m.stroller, m.maternity, "2026-10")["owed_to_you"]["commission"] == 1100
    assert m.obligation(m.stroller, m.maternity, "2026-11")["status"] == "provisional"


def test_a_second_close_returns_the_first_and_never_recomputes(month, session):
    m = month
    m.redeem(m.maternity, m.stroller)
    at("2026-11-03T12:00:00+08:00")
    first = m.close("2026-10")
    again = m.close("2026-10")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json() == first.get_json()
    assert_problem(m.close("2026-10", netting="multilateral"), 409, "period_closed")
    assert session.scalar(select(func.count()).select_from(Settlement)) == 1


def test_a_november_refund_of_an_october_sale_lands_in_november_as_a_late_adjustment(month, api):
    m = month
    sale = m.redeem(m.maternity, m.stroller)  # commission 1100 owed to the stroller shop
    at("2026-11-02T10:00:00+08:00")
    assert m.close("2026-10").status_code == 201
    october = m.statement(m.stroller, "2026-10")
    at("2026-11-10T10:00:00+08:00")
    m.refund(m.maternity, sale, 11000)  # half refunded: 550 clawed back
    assert m.statement(m.stroller, "2026-10") == october  # the closed month is untouched
    at("2026-12-01T08:00:00+08:00")
    assert m.close("2026-11").status_code == 201
    november = m.obligation(m.stroller, m.maternity, "2026-11")
    assert november["owed_to_you"]["clawback"] == 550 and november["payable"] == -550
    lines = csv_rows(api.get("/api/v1/settlements/2026-11/statement.csv", m.stroller.key).data)
    refund = next(line for line in lines if line["type"] == "reversal")
    assert refund["redeemed_in"] == "2026-10" and refund["redemption_id"] == str(sale["id"])
    assert int(refund["amount"]) == -550


def test_csv_lines_reconcile_with_the_json_to_the_fen_on_both_sides(month, api):
    m = month
    a = m.redeem(m.maternity, m.stroller, 25000)
    m.redeem(m.stroller, m.maternity, 19999)
    m.redeem(m.toys, m.stroller, 12345)
    m.refund(m.maternity, a, 7)
    at("2026-11-01T00:00:00+08:00")
    assert m.close("2026-10", min_transfer=0).status_code == 201
    for actor in (m.stroller, m.maternity, m.toys):
        statement = m.statement(actor, "2026-10")
        response = api.get("/api/v1/settlements/2026-10/statement.csv", actor.key)
        assert response.status_code == 200 and response.mimetype == "text/csv"
        assert "attachment" in response.headers["Content-Disposition"]
        lines = csv_rows(response.data)
        per_partner = defaultdict(int)
        for line in lines:
            if line["type"] in ("redemption", "reversal", "adjustment", "carried_in", "carried_forward"):
                per_partner[int(line["partner_id"])] += int(line["amount"])
        totals = {int(line["partner_id"]): int(line["amount"]) for line in lines if line["type"] == "partner_total"}
        assert totals == dict(per_partner) == {o["partner"]["id"]: o["payable"] for o in statement["obligations"]}
        assert [int(line["amount"]) for line in lines if line["type"] == "total"] == [statement["net_position"]]
        # Partners' order numbers are not the distributor's business.
        assert all(line["order_ref"] == "" for line in lines if line["your_role"] == "distributor")


def test_a_small_net_is_carried_into_the_next_month_instead_of_paid(month):
    m = month
    m.redeem(m.maternity, m.stroller, 5000)  # ¥30 off ¥50: 5% of the ¥20 paid is owed
    commission = m.obligation(m.stroller, m.maternity, "2026-10")["net"]
    assert 0 < commission < 5000
    at("2026-11-01T00:00:00+08:00")
    assert m.close("2026-10", min_transfer=5000).status_code == 201
    october = m.obligation(m.stroller, m.maternity, "2026-10")
    assert october["payable"] == 0 and october["carried_forward"] == commission
    assert m.statement(m.stroller, "2026-10")["transfers"] == []
    at("2026-12-01T00:00:00+08:00")
    assert m.close("2026-11", min_transfer=0).status_code == 201
    november = m.obligation(m.stroller, m.maternity, "2026-11")
    assert november["carried_in"] == commission and november["payable"] == commission


def test_a_disputed_pair_is_held_out_until_the_operator_resolves_it_with_an_adjustment(month, api, session):
    m = month
    m.redeem(m.maternity, m.stroller)
    m.redeem(m.toys, m.stroller)
    at("2026-11-02T00:00:00+08:00")
    assert m.close("2026-10", min_transfer=0).status_code == 201
    before = m.statement(m.stroller, "2026-10")
    assert len(before["transfers"]) == 2
    r = api.post("/api/v1/settlements/2026-10/disputes", m.maternity.key,
                 json={"partner_id": m.stroller.id, "reason": "订单 POS-7 已整单退货"})
    assert r.status_code == 201, r.get_json()
    dispute = r.get_json()
    assert dispute["status"] == "open"
    held = m.statement(m.stroller, "2026-10")
    assert [t["payer"]["id"] for t in held["transfers"]] == [m.toys.id]
    assert m.obligation(m.stroller, m.maternity, "2026-10")["status"] == "disputed"
    assert_problem(api.post("/api/v1/settlements/2026-10/confirm", m.stroller.key,
                            json={"partner_id": m.maternity.id}), 409, "disputed")
    assert_problem(api.post("/api/v1/settlements/2026-10/disputes", m.stroller.key,
                            json={"partner_id": m.maternity.id, "reason": "again"}), 409, "already_disputed")
    # Only the operator resolves.
    path = f"/api/v1/settlements/2026-10/disputes/{dispute['id']}/resolve"
    body = {"resolution": "退货属实，佣金退回", "adjustment": {"payer_id": m.stroller.id, "amount": 1100}}
    assert_problem(api.post(path, m.maternity.key, json=body), 403)
    resolved = api.post(path, m.operator, json=body)
    assert resolved.status_code == 200, resolved.get_json()
    assert resolved.get_json()["status"] == "resolved" and resolved.get_json()["adjustment_transaction_id"]
    retry = api.post(path, m.operator, json=body)  # a retry: the same answer, no second adjustment
    assert retry.status_code == 200 and retry.get_json() == resolved.get_json()
    assert_problem(api.post(path, m.operator, json={**body, "resolution": "另一种处理"}), 409, "already_resolved")
    # The closed month is not edited: the pair is back in its plan, the correction is November's.
    assert m.statement(m.stroller, "2026-10")["transfers"] == before["transfers"]
    assert m.obligation(m.stroller, m.maternity, "2026-10")["payable"] == 1100
    assert m.obligation(m.stroller, m.maternity, "2026-11")["you_owe"]["adjustment"] == 1100
    assert check_ledger(session) == []


def test_each_side_confirms_and_a_confirmed_pair_is_confirmed(month, api):
    m = month
    m.redeem(m.maternity, m.stroller)
    at("2026-11-02T00:00:00+08:00")
    m.close("2026-10")
    r = api.post("/api/v1/settlements/2026-10/confirm", m.stroller.key, json={"partner_id": m.maternity.id})
    assert r.status_code == 200 and r.get_json()["confirmed_by_you"]
    assert r.get_json()["status"] == "awaiting_confirmation"
    again = api.post("/api/v1/settlements/2026-10/confirm", m.stroller.key, json={"partner_id": m.maternity.id})
    assert again.get_json() == r.get_json()
    done = api.post("/api/v1/settlements/2026-10/confirm", m.maternity.key, json={"partner_id": m.stroller.id})
    assert done.get_json()["status"] == "confirmed" and done.get_json()["confirmed_by_partner"]
    assert_problem(api.post("/api/v1/settlements/2026-10/disputes", m.stroller.key,
                            json={"partner_id": m.maternity.id, "reason": "late"}), 409, "already_confirmed")


def test_tenancy_a_merchant_sees_only_its_own_pairs(month, api):
    m = month
    m.redeem(m.maternity, m.stroller)
    at("2026-11-02T00:00:00+08:00")
    m.close("2026-10")
    toys = m.statement(m.toys, "2026-10")
    assert toys["obligations"] == [] and toys["transfers"] == [] and toys["net_position"] == 0
    assert_problem(api.post("/api/v1/settlements/2026-10/disputes", m.toys.key,
                            json={"partner_id": m.stroller.id, "reason": "not mine"}), 404)
    assert_problem(api.post("/api/v1/settlements/2026-10/confirm", m.toys.key,
                            json={"partner_id": m.maternity.id}), 404)
    assert api.get("/api/v1/settlements/2026-10/disputes", m.toys.key).get_json() == {"items": []}
    csv_text = api.get("/api/v1/settlements/2026-10/statement.csv", m.toys.key).get_data(as_text=True)
    assert "贝贝童车馆" not in csv_text and "暖暖孕婴坊" not in csv_text
    assert_problem(api.get("/api/v1/settlements/2026-10", m.toys.terminal_key), 403)


@pytest.mark.parametrize("period", ["2026-13", "26-10", "2026-1", "2026/10", "", "2026-10-01", "１９９９-01"])
def test_a_malformed_period_is_refused(month, period):
    assert_problem(month.close(period), 422, None)


def test_a_month_that_has_not_ended_cannot_be_closed(month):
    at("2026-10-31T23:59:59+08:00")
    assert_problem(month.close("2026-10"), 422, "period_not_ended")
    assert_problem(month.close("2027-01"), 422, "period_not_ended")
    assert_problem(month.api.get("/api/v1/settlements/2027-01", month.stroller.key), 422, "period_not_started")


def test_only_the_operator_closes(month):
    r = month.api.post("/api/v1/settlements", month.stroller.key, json={"period": "2026-09"})
    assert_problem(r, 403, "wrong_key_kind")
    assert_problem(month.api.post("/api/v1/settlements", None, json={"period": "2026-09"}), 401)


def test_a_month_without_activity_has_an_empty_but_valid_statement(month, api):
    at("2026-11-02T00:00:00+08:00")
    assert month.close("2026-10").status_code == 201
    statement = month.statement(month.stroller, "2026-10")
    assert statement["obligations"] == [] and statement["net_position"] == 0 and statement["transfers"] == []
    lines = csv_table(api.get("/api/v1/settlements/2026-10/statement.csv", month.stroller.key).data)
    assert lines[0][:2] == ["row", "period"] and len(lines) == 1
    pdf = api.get("/api/v1/settlements/2026-10/statement.pdf", month.stroller.key)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_an_earlier_month_with_activity_must_be_closed_first(month):
    m = month
    m.redeem(m.maternity, m.stroller)
    at("2026-12-02T00:00:00+08:00")
    body = assert_problem(m.close("2026-11"), 409, "earlier_period_open")
    assert body["earliest_open_period"] == "2026-10"
    assert m.close("2026-10").status_code == 201
    assert m.close("2026-11").status_code == 201
    assert_problem(m.close("2026-09"), 409, "later_period_closed")


def test_closed_figures_cannot_be_edited_even_in_the_database(month, session):
    m = month
    m.redeem(m.maternity, m.stroller)
    at("2026-11-02T00:00:00+08:00")
    m.close("2026-10")
    for statement in (update(SettlementObligation).values(payable=0),
                      update(Settlement).values(netting="multilateral")):
        with pytest.raises(Exception, match="append-only"), session.begin_nested():
            session.execute(statement)


def test_a_close_that_fails_halfway_leaves_the_month_open_and_retryable(month, session, monkeypatch):
    from exchange.settlement import closing

    m = month
    m.redeem(m.maternity, m.stroller)
    at("2026-11-02T00:00:00+08:00")

    def crash(*args, **kwargs):
        raise RuntimeError("power cut during the close")

    monkeypatch.setattr(closing.audit, "record", crash)  # after the obligations are written
    with pytest.raises(RuntimeError):
        closing.close("2026-10", actor="operator")
    assert session.scalar(select(func.count()).select_from(Settlement)) == 0
    assert session.scalar(select(func.count()).select_from(SettlementObligation)) == 0
    monkeypatch.undo()
    assert m.close("2026-10").status_code == 201
    assert m.obligation(m.stroller, m.maternity, "2026-10")["payable"] == 1100


def test_a_statement_pdf_reads_in_chinese_and_carries_the_statements_digest(month, api, tmp_path):
    m = month
    m.redeem(m.maternity, m.stroller)
    m.redeem(m.stroller, m.maternity, 50000)
    at("2026-11-02T00:00:00+08:00")
    m.close("2026-10")
    statement = m.statement(m.stroller, "2026-10")
    r = api.get("/api/v1/settlements/2026-10/statement.pdf", m.stroller.key)
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    path = tmp_path / "statement.pdf"
    path.write_bytes(r.data)
    text_ = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "贝贝童车馆" in text_ and "暖暖孕婴坊" in text_ and "月度结算单" in text_
    assert statement["digest"] in text_.replace("\n", "")
    assert "¥11.00" in text_  # commission earned on one ¥220 sale at 5%
    # Latin text is set with the embedded font's own widths: no gaps inside words.
    assert "Monthly statement" in text_ and "Summary per partner" in text_ and "Net position" in text_


def test_a_statement_pdf_embeds_its_fonts_and_looks_the_same_without_chinese_fonts(month, api, tmp_path):
    m = month
    m.redeem(m.maternity, m.stroller)
    m.redeem(m.stroller, m.maternity, 50000)
    at("2026-11-02T00:00:00+08:00")
    m.close("2026-10")
    path = tmp_path / "statement.pdf"
    path.write_bytes(api.get("/api/v1/settlements/2026-10/statement.pdf", m.stroller.key).data)
    used = fonts(path)
    assert used and all(font["emb"] for font in used), used
    assert differing_pages(path, tmp_path) == []


def test_the_partnership_report_shows_the_funnel_and_both_directions(month, api, session):

    m = month
    m.redeem(m.maternity, m.stroller)
    sale = m.redeem(m.maternity, m.stroller)
    m.refund(m.maternity, sale, 22000)
    m.redeem(m.stroller, m.maternity, 40000)
    r = api.post(f"/api/v1/offers/{m.offers[m.maternity.id]['id']}/coupons", m.stroller.key,
                 json={"count": 2, "customer_ref": "13800000000"})
    assert r.status_code == 201
    viewed = r.get_json()["items"][0]
    assert api.get(f"/c/{viewed['payload']}").status_code == 200
    report = api.get("/api/v1/reports/partnerships?period=2026-10", m.stroller.key)
    assert report.status_code == 200, report.get_json()
    row = next(p for p in report.get_json()["partners"] if p["partner"]["id"] == m.maternity.id)
    assert row["partnership_status"] == "active"
    sent = row["you_sent"]
    assert (sent["issued"], sent["viewed"], sent["redeemed"], sent["reversed"]) == (4, 1, 2, 1)
    assert sent["conversion_bps"] == 5000
    assert sent["sales"] == [{"currency": "CNY", "redemptions": 2, "sales_amount": 44000, "refunded_amount": 22000,
                              "commission": 2200, "commission_clawed_back": 1100, "customers": 0}]
    assert row["they_sent"]["sales"][0]["sales_amount"] == 37000
    assert "13800000000" not in report.get_data(as_text=True)
    assert_problem(api.get("/api/v1/reports/partnerships?period=2026-13", m.stroller.key), 422)


# --- found by a newcomer following the README --------------------------------------------------

def test_the_last_representable_month_is_refused_not_a_server_error(month, api):
    assert_problem(month.close("9999-12"), 422, "invalid_period")
    assert_problem(api.get("/api/v1/reports/partnerships?period=9999-12", month.stroller.key), 422, "invalid_period")
    assert_problem(api.get("/api/v1/reports/partnerships?period=2099-01", month.stroller.key), 422,
                   "period_not_started")


def test_a_month_closed_ahead_by_a_sandbox_clock_still_answers_a_second_close_with_the_first(month):
    m = month
    m.redeem(m.maternity, m.stroller)
    at("2026-11-02T00:00:00+08:00")
    first = m.close("2026-10")
    at("2026-10-20T00:00:00+08:00")  # a server still living in October
    again = m.close("2026-10")
    assert again.status_code == 200 and again.get_json() == first.get_json()
    assert_problem(m.close("2026-10", netting="multilateral"), 409, "period_closed")
    # Its next month can be looked at already: late events land there.
    assert m.statement(m.stroller, "2026-11")["status"] == "open"


def test_confirming_does_not_change_the_statements_digest_of_its_figures(month, api):
    m = month
    m.redeem(m.maternity, m.stroller)
    at("2026-11-02T00:00:00+08:00")
    m.close("2026-10")
    before = m.statement(m.stroller, "2026-10")["digest"]
    api.post("/api/v1/settlements/2026-10/confirm", m.maternity.key, json={"partner_id": m.stroller.id})
    assert m.statement(m.stroller, "2026-10")["digest"] == before


def test_a_resolved_dispute_stays_visible_on_the_obligation(month, api):
    m = month
    m.redeem(m.maternity, m.stroller)
    at("2026-11-02T00:00:00+08:00")
    m.close("2026-10")
    dispute = api.post("/api/v1/settlements/2026-10/disputes", m.maternity.key,
                       json={"partner_id": m.stroller.id, "reason": "金额有误"}).get_json()
    api.post(f"/api/v1/settlements/2026-10/disputes/{dispute['id']}/resolve", m.operator,
             json={"resolution": "核对无误，维持原额"})
    shown = m.obligation(m.stroller, m.maternity, "2026-10")["dispute"]
    assert shown["status"] == "resolved" and shown["resolution"] == "核对无误，维持原额"
    assert shown["adjustment_amount"] == 0


def test_a_month_skipped_because_it_had_no_activity_says_so(month):
    at("2026-12-02T00:00:00+08:00")
    assert month.close("2026-11").status_code == 201
    assert month.statement(month.stroller, "2026-10")["status"] == "skipped"
    assert_problem(month.api.post("/api/v1/settlements/2026-10/confirm", month.stroller.key,
                                  json={"partner_id": month.maternity.id}), 409, "period_skipped")


def test_statement_csv_prints_coupon_codes_as_the_api_does(month, api):
    m = month
    sale = m.redeem(m.maternity, m.stroller)
    lines = csv_rows(api.get("/api/v1/settlements/2026-10/statement.csv", m.stroller.key).data)
    assert [line["coupon_code"] for line in lines if line["type"] == "redemption"] == [sale["coupon_code"]]
