"""Batches: up to 100,000 coupons in the background, exactly as many as asked, restart-safe."""

import io
from datetime import timedelta

import openpyxl
from sqlalchemy import func, select

from exchange import clock
from exchange.coupons import batches
from exchange.coupons.models import Coupon, CouponBatch
from exchange.offers.models import Offer
from tests.helpers import assert_problem, csv_rows, csv_table, make_offer

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def create(api, world, count, offer_id=None):
    return api.post(f"/api/v1/offers/{offer_id or world.offer['id']}/coupon-batches",
                    world.stroller.key, json={"count": count})


def test_batch_is_accepted_then_finished_by_a_worker(api, world, session):
    r = create(api, world, 2500)
    assert r.status_code == 202
    batch = r.get_json()
    # Where to poll, and when to come back (RFC 9110 §15.3.3).
    assert r.headers["Location"] == f"/api/v1/coupon-batches/{batch['id']}"
    assert int(r.headers["Retry-After"]) >= 1
    assert batch["status"] == "pending" and batch["issued"] == 0 and batch["progress"] == 0
    assert batches.work("worker-a") == 1
    done = api.get(f"/api/v1/coupon-batches/{batch['id']}", world.stroller.key).get_json()
    assert done["status"] == "done" and done["issued"] == 2500 and done["progress"] == 1
    codes = session.scalars(select(Coupon.code).where(Coupon.batch_id == batch["id"])).all()
    assert len(codes) == len(set(codes)) == 2500


def test_count_is_1_to_100000(api, world):
    assert_problem(create(api, world, 0), 422)
    assert_problem(create(api, world, 100_001), 422)


def test_batch_reserves_max_coupons_up_front(api, world):
    offer = make_offer(api, world.maternity, max_coupons=1000)
    assert create(api, world, 800, offer["id"]).status_code == 202
    assert_problem(create(api, world, 201, offer["id"]), 409, "max_coupons_reached")
    assert_problem(api.post(f"/api/v1/offers/{offer['id']}/coupons", world.stroller.key, json={"count": 201}),
                   409, "max_coupons_reached")


def test_a_crashed_worker_is_taken_over_and_nothing_is_doubled(api, world, session):
    batch_id = create(api, world, 2500).get_json()["id"]
    assert batches.claim_batch("worker-a") == batch_id
    assert batches.issue_next_chunk(batch_id, "worker-a")  # one chunk, then worker-a dies
    assert batches.claim_batch("worker-b") is None  # its lease still holds
    clock.advance(timedelta(seconds=61))
    assert batches.work("worker-b") == 1
    assert not batches.issue_next_chunk(batch_id, "worker-a")  # the old owner cannot continue
    b = session.get(CouponBatch, batch_id)
    session.refresh(b)
    count = session.scalar(select(func.count()).select_from(Coupon).where(Coupon.batch_id == batch_id))
    assert b.status == "done" and b.issued == count == 2500


def test_ending_the_offer_cancels_the_rest_of_a_batch(api, world, session):
    batch_id = create(api, world, 2500).get_json()["id"]
    batches.claim_batch("worker-a")
    batches.issue_next_chunk(batch_id, "worker-a")
    api.post(f"/api/v1/offers/{world.offer['id']}/end", world.maternity.key)
    assert not batches.issue_next_chunk(batch_id, "worker-a")
    body = api.get(f"/api/v1/coupon-batches/{batch_id}", world.stroller.key).get_json()
    assert body["status"] == "cancelled" and body["issued"] == 1000 and "ended" in body["detail"]
    assert session.get(Offer, world.offer["id"]).coupons_issued == 1000


def test_csv_export_lists_every_coupon(api, world):
    batch_id = create(api, world, 1234).get_json()["id"]
    batches.work("worker-a")
    r = api.get(f"/api/v1/coupon-batches/{batch_id}/export.csv", world.stroller.key)
    assert r.mimetype == "text/csv" and "attachment" in r.headers["Content-Disposition"]
    lines = csv_table(r.data)
    assert lines[0] == ["code", "link", "expires_at", "uses"] and len(lines) == 1235
    assert lines[1][1].startswith("http://exchange.test/c/ey")
    assert lines[1][2].endswith("+08:00") and lines[1][3] == "1"  # expiry in the settlement timezone


def test_xlsx_export_holds_the_same_coupons_with_expiry_as_a_date(api, world):
    batch_id = create(api, world, 30).get_json()["id"]
    batches.work("worker-a")
    lines = csv_rows(api.get(f"/api/v1/coupon-batches/{batch_id}/export.csv", world.stroller.key).data)
    r = api.get(f"/api/v1/coupon-batches/{batch_id}/export.xlsx", world.stroller.key)
    assert r.status_code == 200 and r.mimetype == XLSX and "attachment" in r.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(r.data)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]
    assert [row[0] for row in rows] == [line["code"] for line in lines]
    assert [row[1] for row in rows] == [line["link"] for line in lines]
    assert all(row[2].isoformat()[:19] == line["expires_at"][:19] for row, line in zip(rows, lines, strict=True))
    assert sheet["C2"].is_date and sheet["D2"].value == 1


def test_only_the_distributor_sees_its_batch(api, world):
    batch_id = create(api, world, 10).get_json()["id"]
    for key in (world.maternity.key, world.outsider.key):
        assert_problem(api.get(f"/api/v1/coupon-batches/{batch_id}", key), 404)
        assert_problem(api.get(f"/api/v1/coupon-batches/{batch_id}/export.csv", key), 404)
        assert_problem(api.get(f"/api/v1/coupon-batches/{batch_id}/export.xlsx", key), 404)
        assert_problem(api.get(f"/api/v1/coupon-batches/{batch_id}/sheet.pdf", key), 404)


def _pdf_pages(data: bytes, tmp_path) -> int:
    import subprocess

    path = tmp_path / "sheet.pdf"
    path.write_bytes(data)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def test_a_small_batch_prints_at_once(api, world, tmp_path):
    batch_id = create(api, world, 13).get_json()["id"]
    assert_problem(api.get(f"/api/v1/coupon-batches/{batch_id}/sheet.pdf", world.stroller.key), 409,
                   "batch_not_finished")
    batches.work("worker-a")
    r = api.get(f"/api/v1/coupon-batches/{batch_id}/sheet.pdf", world.stroller.key)
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert _pdf_pages(r.data, tmp_path) == 2


def test_a_large_batch_is_drawn_in_the_background(api, world, tmp_path, monkeypatch):
    from exchange.coupons import print_runs, sheets

    monkeypatch.setattr(sheets, "INLINE_LIMIT", 10)
    batch_id = create(api, world, 25).get_json()["id"]
    batches.work("worker-a")
    first = api.get(f"/api/v1/coupon-batches/{batch_id}/sheet.pdf", world.stroller.key)
    assert first.status_code == 202 and first.headers["Retry-After"] and first.get_json()["status"] == "preparing"
    assert print_runs.draw_pending_sheets("worker-a") == 1  # one part
    ready = api.get(f"/api/v1/coupon-batches/{batch_id}/sheet.pdf", world.stroller.key)
    assert ready.status_code == 200 and _pdf_pages(ready.data, tmp_path) == 3
