"""Print runs: a batch's sheets as parts, drawn by any worker, kept in the database, downloaded
one by one or as one ZIP; what is printed redeems."""

import io
import subprocess
import zipfile
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from exchange import clock
from exchange.coupons import batches, print_runs
from exchange.coupons.models import SheetPart
from tests.helpers import assert_problem, csv_rows
from tests.qr_scan import qr_texts

PER_PART = 12  # one A4 page a part, so that a test batch has several parts


@pytest.fixture(autouse=True)
def small_parts(monkeypatch):
    monkeypatch.setattr(print_runs, "PART_COUPONS", PER_PART)


def finished_batch(api, world, count: int) -> int:
    r = api.post(f"/api/v1/offers/{world.offer['id']}/coupon-batches", world.stroller.key, json={"count": count})
    batches.work("worker-a")
    return r.get_json()["id"]


def url(batch_id: int, rest: str = "") -> str:
    return f"/api/v1/coupon-batches/{batch_id}/{rest}"


def pdf_text(data: bytes, tmp_path, name="part.pdf") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout


def pdf_pages(data: bytes, tmp_path) -> int:
    path = tmp_path / "pages.pdf"
    path.write_bytes(data)
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def batch_codes(api, world, batch_id) -> list[str]:
    return [line["code"] for line in csv_rows(api.get(url(batch_id, "export.csv"), world.stroller.key).data)]


def test_a_batch_is_planned_in_parts_then_drawn_by_the_worker(api, world):
    batch_id = finished_batch(api, world, 30)
    first = api.get(url(batch_id, "sheets"), world.stroller.key)
    assert first.status_code == 200
    listing = first.get_json()
    assert listing["status"] == "preparing" and listing["coupons_per_part"] == PER_PART
    assert [(p["number"], p["coupons"], p["status"]) for p in listing["parts"]] == \
        [(1, 12, "pending"), (2, 12, "pending"), (3, 6, "pending")]
    waiting = api.get(url(batch_id, "sheets/2.pdf"), world.stroller.key)
    assert waiting.status_code == 202 and waiting.headers["Retry-After"]

    assert print_runs.draw_pending_sheets("worker-a") == 3
    ready = api.get(url(batch_id, "sheets"), world.stroller.key).get_json()
    assert ready["status"] == "ready" and ready["parts_ready"] == 3
    assert all(p["status"] == "ready" and p["pages"] == 1 and p["size"] > 10_000 for p in ready["parts"])
    assert ready["parts"][1]["url"] == url(batch_id, "sheets/2.pdf")
    assert ready["zip_url"] == url(batch_id, "sheets.zip")


def test_each_part_holds_its_own_coupons_in_order(api, world, tmp_path):
    batch_id = finished_batch(api, world, 30)
    api.get(url(batch_id, "sheets"), world.stroller.key)
    print_runs.draw_pending_sheets("worker-a")
    codes = batch_codes(api, world, batch_id)

    r = api.get(url(batch_id, "sheets/2.pdf"), world.stroller.key)
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert f'filename="coupon-batch-{batch_id}-part-002.pdf"' in r.headers["Content-Disposition"]
    text = pdf_text(r.data, tmp_path)
    assert [code for code in codes if code in text] == codes[12:24]
    assert_problem(api.get(url(batch_id, "sheets/4.pdf"), world.stroller.key), 404)


def test_the_zip_holds_every_part_as_a_pdf_and_every_coupon_once(api, world, tmp_path):
    batch_id = finished_batch(api, world, 30)
    early = api.get(url(batch_id, "sheets.zip"), world.stroller.key)
    assert early.status_code == 202 and early.get_json()["status"] == "preparing"
    print_runs.draw_pending_sheets("worker-a")

    r = api.get(url(batch_id, "sheets.zip"), world.stroller.key)
    assert r.status_code == 200 and r.mimetype == "application/zip" and r.is_streamed
    archive = zipfile.ZipFile(io.BytesIO(r.data))
    assert archive.testzip() is None
    names = archive.namelist()
    assert names == [f"coupon-batch-{batch_id}-part-{n:03d}.pdf" for n in (1, 2, 3)]
    printed = ""
    for name in names:
        data = archive.read(name)
        assert data.startswith(b"%PDF-") and pdf_pages(data, tmp_path) == 1
        printed += pdf_text(data, tmp_path, name)
    codes = batch_codes(api, world, batch_id)
    assert len(codes) == 30 and all(printed.count(code) == 1 for code in codes)


def test_sheet_pdf_of_a_batch_printed_in_parts_leads_to_the_zip(api, world, monkeypatch):
    from exchange.coupons import sheets

    monkeypatch.setattr(sheets, "INLINE_LIMIT", 10)
    batch_id = finished_batch(api, world, 30)
    assert api.get(url(batch_id, "sheet.pdf"), world.stroller.key).status_code == 202
    print_runs.draw_pending_sheets("worker-a")
    r = api.get(url(batch_id, "sheet.pdf"), world.stroller.key)
    assert r.status_code == 303 and r.headers["Location"].endswith(url(batch_id, "sheets.zip"))


def test_parts_are_planned_once_however_often_they_are_asked_for(api, world, session):
    batch_id = finished_batch(api, world, 30)
    for path in ("sheets", "sheets.zip", "sheets/1.pdf", "sheets"):
        api.get(url(batch_id, path), world.stroller.key)
    assert session.scalar(select(func.count()).select_from(SheetPart).where(SheetPart.batch_id == batch_id)) == 3


def test_an_unfinished_batch_has_no_sheets_yet(api, world):
    r = api.post(f"/api/v1/offers/{world.offer['id']}/coupon-batches", world.stroller.key, json={"count": 30})
    batch_id = r.get_json()["id"]
    for path in ("sheets", "sheets.zip", "sheets/1.pdf"):
        assert_problem(api.get(url(batch_id, path), world.stroller.key), 409, "batch_not_finished")


def test_another_merchant_can_neither_list_nor_fetch_the_parts(api, world, session):
    batch_id = finished_batch(api, world, 30)
    api.get(url(batch_id, "sheets"), world.stroller.key)
    print_runs.draw_pending_sheets("worker-a")
    for key in (world.maternity.key, world.outsider.key):
        for path in ("sheets", "sheets.zip", "sheets/1.pdf", "sheet.pdf"):
            assert_problem(api.get(url(batch_id, path), key), 404)
    # Nor can asking plan a stranger's print run.
    other = finished_batch(api, world, 5)
    assert_problem(api.get(url(other, "sheets"), world.outsider.key), 404)
    assert session.scalar(select(func.count()).select_from(SheetPart).where(SheetPart.batch_id == other)) == 0


def test_a_worker_killed_mid_part_is_taken_over_and_parts_already_drawn_stay(api, world):
    batch_id = finished_batch(api, world, 30)
    api.get(url(batch_id, "sheets"), world.stroller.key)
    assert print_runs.claim_part("worker-a") == (batch_id, 1)
    assert print_runs.store_part(batch_id, 1, *print_runs.draw_part(batch_id, 1))
    assert print_runs.claim_part("worker-a") == (batch_id, 2)  # then worker-a dies drawing part 2

    assert print_runs.draw_pending_sheets("worker-b") == 1  # part 3; part 2's lease still holds
    clock.advance(timedelta(seconds=61))
    assert print_runs.draw_pending_sheets("worker-b") == 1  # part 2, taken over; part 1 not drawn again
    assert not print_runs.store_part(batch_id, 2, b"%PDF-late", 1)  # stored already: not twice
    listing = api.get(url(batch_id, "sheets"), world.stroller.key).get_json()
    assert listing["status"] == "ready" and [p["status"] for p in listing["parts"]] == ["ready"] * 3
    assert api.get(url(batch_id, "sheets/2.pdf"), world.stroller.key).data.startswith(b"%PDF-1")


def test_a_part_slower_than_its_lease_is_still_kept_once_drawn(api, world):
    # Under load a part may take longer than the lease: the slow worker's part is kept, unless
    # another stored the same part first; two workers cannot take it from each other forever.
    batch_id = finished_batch(api, world, 12)
    api.get(url(batch_id, "sheets"), world.stroller.key)
    assert print_runs.claim_part("worker-a") == (batch_id, 1)
    drawn = print_runs.draw_part(batch_id, 1)
    clock.advance(timedelta(seconds=61))
    assert print_runs.claim_part("worker-b") == (batch_id, 1)  # the lease lapsed: b starts it too
    assert print_runs.store_part(batch_id, 1, *drawn)  # a finishes first
    assert print_runs.draw_pending_sheets("worker-b") == 0
    assert api.get(url(batch_id, "sheets"), world.stroller.key).get_json()["status"] == "ready"


def test_every_printed_qr_scans_to_a_link_the_till_accepts(api, world, tmp_path):
    batch_id = finished_batch(api, world, 24)
    api.get(url(batch_id, "sheets"), world.stroller.key)
    print_runs.draw_pending_sheets("worker-a")
    path = tmp_path / "part.pdf"
    path.write_bytes(api.get(url(batch_id, "sheets/2.pdf"), world.stroller.key).data)
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", str(path), str(tmp_path / "page")], check=True)
    links = qr_texts(Image.open(tmp_path / "page.png"))

    assert len(links) == 12
    codes = batch_codes(api, world, batch_id)[12:]
    for link in links:
        r = api.post("/api/v1/redemptions/verify", world.maternity.terminal_key,
                     json={"payload": link, "order_amount": 25000}).get_json()
        assert r["valid"] is True and r["discount"] == 3000
    # The scanned links are exactly this part's coupons (the landing page names each code).
    scanned = {api.get(link.replace("HTTP://EXCHANGE.TEST/C/", "/c/"), headers={"Accept": "application/json"})
               .get_json()["parts"][0]["code"] for link in links}
    assert scanned == set(codes)


def test_the_last_part_drawn_tells_the_distributor_once(api, world):
    from exchange.events.relay import relay

    batch_id = finished_batch(api, world, 30)
    api.get(url(batch_id, "sheets"), world.stroller.key)
    print_runs.draw_pending_sheets("worker-a")
    relay()
    events = api.get("/api/v1/events", world.stroller.key, query_string={"limit": 500}).get_json()["items"]
    [ready] = [e for e in events if e["type"] == "sheet.ready"]
    assert ready["data"]["batch"]["id"] == batch_id and ready["data"]["zip_url"] == url(batch_id, "sheets.zip")
