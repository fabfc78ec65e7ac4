"""The operator lists and exports the audit trail, by merchant and time, as a page of JSON or
as CSV and XLSX whose text cells are never formulas."""

import io
from datetime import timedelta
from urllib.parse import quote

import openpyxl

from exchange import clock
from tests.helpers import assert_problem, csv_rows

OPERATOR = "op_testing_only_operator_key"


def _events(api, **query):
    qs = "&".join(f"{k}={quote(str(v))}" for k, v in query.items())
    r = api.get(f"/api/v1/audit-events?{qs}", OPERATOR)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_only_the_operator_reads_the_audit_trail(api, merchant):
    for path in ("/api/v1/audit-events", "/api/v1/audit-events.csv", "/api/v1/audit-events.xlsx"):
        assert_problem(api.get(path), 401, "missing_key")
        assert_problem(api.get(path, merchant.key), 403, "wrong_key_kind")


def test_events_are_filtered_by_merchant_and_time_and_paged(api, merchant, other_merchant):
    api.patch("/api/v1/merchants/me", merchant.key, json={"city": "宁波"})
    start = clock.now()
    clock.advance(timedelta(hours=1))
    api.patch("/api/v1/merchants/me", merchant.key, json={"city": "温州"})
    api.patch("/api/v1/merchants/me", other_merchant.key, json={"city": "绍兴"})
    everything = _events(api, limit=500)["items"]
    mine = _events(api, merchant_id=merchant.id, limit=500)["items"]
    assert mine and {e["merchant_id"] for e in mine} == {merchant.id}
    assert len(mine) < len(everything)
    later = _events(api, merchant_id=merchant.id, **{"from": (start + timedelta(minutes=30)).isoformat()})["items"]
    assert later and all(e["at"] > start.isoformat() for e in later) and len(later) < len(mine)
    earlier = _events(api, merchant_id=merchant.id, to=(start + timedelta(minutes=30)).isoformat())["items"]
    assert len(earlier) + len(later) == len(mine)
    # Pages: `next_after` until it is null, every event once.
    seen, after = [], 0
    while True:
        page = _events(api, limit=2, after=after)
        seen += [e["id"] for e in page["items"]]
        if page["next_after"] is None:
            break
        after = page["next_after"]
    assert seen == [e["id"] for e in everything]


def test_bad_filters_are_422(api):
    for query in ("from=yesterday", "to=2026-01-01T00:00:00", "merchant_id=0", "limit=501", "who=me"):
        assert_problem(api.get(f"/api/v1/audit-events?{query}", OPERATOR), 422, "validation_failed")


def test_csv_and_xlsx_exports_neutralise_formulas(api, session):
    from exchange import audit
    from exchange.db.unit_of_work import unit_of_work

    hostile = api.register("=HYPERLINK(\"http://evil.example\",\"点我\")")
    with unit_of_work() as uow:  # text that reached an event from outside, at its worst
        audit.record(uow.session, actor="system", action="=cmd|' /C calc'!A0", subject_type="@SUM(1)",
                     subject_id="+1", from_state="-1+cmd", to_state="＝1", merchant_id=hostile.id)
    csv = api.get(f"/api/v1/audit-events.csv?merchant_id={hostile.id}", OPERATOR)
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert f"audit-events-merchant-{hostile.id}.csv" in csv.headers["Content-Disposition"]
    rows = csv_rows(csv.data)
    assert rows and {r["merchant_id"] for r in rows} == {str(hostile.id)}
    assert [int(r["id"]) for r in rows] == [e["id"] for e in _events(api, merchant_id=hostile.id)["items"]]
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@", "＝")), cell
    assert rows[-1]["action"].startswith("'=cmd") and rows[-1]["subject_id"] == "'+1"
    xlsx = api.get(f"/api/v1/audit-events.xlsx?merchant_id={hostile.id}", OPERATOR)
    assert xlsx.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data)).active
    header, *lines = list(sheet.iter_rows())
    assert len(lines) == len(rows) and header[0].value == "编号 id"
    # Text cells are strings, never formulas, whatever they start with.
    assert all(cell.data_type != "f" for line in lines for cell in line)
    assert lines[-1][4].value == "=cmd|' /C calc'!A0" and lines[-1][4].data_type == "s"
