"""A print run: a batch's printable sheets drawn by two worker processes into PostgreSQL, at two
batch sizes, with each drawing process's peak resident memory.

Goal (issue 18, part 1): a 100,000-coupon batch's PDFs in ≤ 3 minutes on this 2-CPU machine, the
drawing process's peak resident set ≤ 300 MB and not growing with the batch. The batch is issued
first (not timed); the clock runs from asking for its sheets (planning the parts) until the last
part is stored. Two processes draw, as a server's two gunicorn workers do (each process's batch
worker calls `draw_pending_sheets`); each reports its own peak (VmHWM) and CPU time. Then, in a
process of its own, the whole run is downloaded as one ZIP through the app (streamed: that
process's peak is reported too) and checked: every part a PDF, every coupon once, and a page of
the first and the last part scanned with zbar, each link's token verifying to a coupon of the batch.

`python -m bench prints` runs 10,000 and 100,000 coupons; `--quick` 1,000 and 5,000;
`--sizes=20000,50000` any sizes.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import POSTGRES_URL, peak_rss_mb

DRAWING_PROCESSES = 2


def sizes(argv: list[str]) -> list[int]:
    for arg in argv:
        if arg.startswith("--sizes="):
            return [int(s) for s in arg.split("=", 1)[1].split(",")]
    return [1_000, 5_000] if "--quick" in argv else [10_000, 100_000]


def _app(url: str, keys: str):
    from exchange import create_app

    return create_app({"DATABASE_URL": url, "SIGNING_KEY_DIR": keys, "LOG_LEVEL": "WARNING",
                       "BATCH_WORKER": False, "WEBHOOK_WORKER": False})


def _issue(url: str, keys: str, count: int) -> tuple[int, str]:
    """A finished batch of `count` coupons; (its id, the distributor's API key)."""
    from exchange import clock
    from exchange.coupons import batches
    from exchange.extensions import db
    from exchange.http.auth import Principal
    from exchange.merchants.services import create_store, register_merchant
    from exchange.offers.services import create_offer
    from exchange.partners.services import move_partnership, propose_partnership

    app = _app(url, keys)
    with app.app_context():
        owner, owner_key = register_merchant(name="暖暖孕婴坊", categories=["maternity"], price_tier=3,
                                             scale="small", city="上海")
        dist, dist_key = register_merchant(name="贝贝童车馆", categories=["stroller"], price_tier=3,
                                           scale="small", city="上海")
        as_owner = Principal("merchant", owner.id, None, owner_key.key.id)
        as_dist = Principal("merchant", dist.id, None, dist_key.key.id)
        for name, address in (("人民路店", "上海市黄浦区人民路 188 号"), ("徐汇店", "上海市徐汇区漕溪北路 88 号")):
            create_store(as_owner, name=f"暖暖孕婴坊 {name}", address=address, city="上海")
        p = propose_partnership(as_dist, owner.id, {"commission": {"type": "percent", "rate_bps": 500},
                                                    "currency": "CNY"})
        move_partnership(as_owner, p.id, "accept")
        now = clock.now()
        offer = create_offer(as_owner, {"title": "暖暖孕婴坊 满200减30", "discount": {"type": "amount", "amount": 3000},
                                        "min_spend": 20000, "currency": "CNY", "valid_from": now,
                                        "valid_until": now + timedelta(days=60), "uses_per_coupon": 1,
                                        "max_coupons": None, "budget": None, "per_customer_limit": None,
                                        "description": None, "distributors": [], "allow_free_order": False})
        batch = batches.create_batch(as_dist, offer.id, count)
        batches.work("bench")
        batch_id, key = batch.id, dist_key.plaintext
        db.session.remove()
    db.engine.dispose()
    return batch_id, key


def _ask(app, batch_id: int) -> int:
    """Ask for the sheets (what the first GET …/sheets does): the parts are planned; how many."""
    from exchange.coupons import sheets
    from exchange.coupons.models import CouponBatch
    from exchange.extensions import db

    with app.app_context():
        parts = len(sheets.sheets_of(db.session.get(CouponBatch, batch_id)).parts)
        db.session.remove()
    db.engine.dispose()
    return parts


def _last_part_stored_at(app, batch_id: int) -> datetime:
    from sqlalchemy import func, select

    from exchange.coupons.models import SheetPart
    from exchange.extensions import db

    with app.app_context():
        at = db.session.scalar(select(func.max(SheetPart.drawn_at)).where(SheetPart.batch_id == batch_id))
        db.session.remove()
    return at


def _draw(url: str, keys: str) -> dict:
    """In a process of its own: draw parts until none is left, as a server's batch worker does.
    Started before the clock (a server's workers are running when its sheets are asked for): it
    says `ready` once the app is made, and starts on `go`."""
    from exchange.coupons.print_runs import draw_pending_sheets
    from exchange.extensions import db

    app = _app(url, keys)
    print("ready", flush=True)
    assert sys.stdin.readline().strip() == "go"
    with app.app_context():
        start = time.perf_counter()
        parts = draw_pending_sheets(f"bench-{os.getpid()}")
        seconds = time.perf_counter() - start
        db.session.remove()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"parts": parts, "seconds": round(seconds, 1), "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
            "peak_rss_mb": peak_rss_mb()}


def _download_and_check(url: str, keys: str, batch_id: int, key: str, count: int) -> dict:
    """In a process of its own: GET sheets.zip through the app, streamed to a file; then check it."""
    from PIL import Image
    from sqlalchemy import select

    from exchange.coupons.models import Coupon
    from exchange.coupons.signing import read_token
    from exchange.extensions import db
    from tests.qr_scan import qr_texts

    app = _app(url, keys)
    tmp = Path(tempfile.mkdtemp())
    path = tmp / "sheets.zip"
    start = time.perf_counter()
    with app.test_client() as client, path.open("wb") as out:
        r = client.get(f"/api/v1/coupon-batches/{batch_id}/sheets.zip", headers={"Authorization": f"Bearer {key}"},
                       buffered=False)
        assert r.status_code == 200, r.status_code
        for chunk in r.response:
            out.write(chunk)
        r.close()
    seconds = time.perf_counter() - start
    zip_peak = peak_rss_mb()
    archive = zipfile.ZipFile(path)
    names = archive.namelist()
    pages = 0
    for name in names:
        data = archive.read(name)
        assert data.startswith(b"%PDF-"), name
        pages += data.count(b"/Type /Page\n")
    scanned = []
    for name in (names[0], names[-1]):
        (tmp / "part.pdf").write_bytes(archive.read(name))
        subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", "-singlefile", str(tmp / "part.pdf"),
                        str(tmp / "page")], check=True)
        scanned += qr_texts(Image.open(tmp / "page.png"))
    with app.app_context():
        for link in scanned:
            token = link.rsplit("/", 1)[-1]
            _, claims = read_token(token)
            stored = db.session.scalar(select(Coupon.token).where(Coupon.id == claims["c"],
                                                                  Coupon.batch_id == batch_id))
            assert stored == token, link
        db.session.remove()
    return {"zip_mb": round(path.stat().st_size / 2**20, 1), "zip_parts": len(names), "zip_pages": pages,
            "zip_seconds": round(seconds, 1), "zip_process_peak_rss_mb": zip_peak,
            "scanned_and_verified": len(scanned), "all_coupons_printed": pages == -(-count // 12)}


def _child(*args: str) -> dict:
    env = {**os.environ, "EXCHANGE_LOG_LEVEL": "WARNING"}
    out = subprocess.run([sys.executable, "-m", "bench.prints", *args], capture_output=True, text=True,
                         check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _run_size(count: int) -> dict:
    from tests.databases import fresh_database

    keys = tempfile.mkdtemp()
    with fresh_database(POSTGRES_URL, Path(tempfile.mkdtemp())) as url:
        batch_id, key = _issue(url, keys, count)
        env = {**os.environ, "EXCHANGE_LOG_LEVEL": "WARNING"}
        drawers = [subprocess.Popen([sys.executable, "-m", "bench.prints", "--draw", url, keys], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, text=True, env=env) for _ in range(DRAWING_PROCESSES)]
        for p in drawers:
            assert p.stdout.readline().strip() == "ready"
        app = _app(url, keys)
        load_before = os.getloadavg()
        asked_at, start = datetime.now(UTC), time.perf_counter()
        parts = _ask(app, batch_id)
        for p in drawers:
            p.stdin.write("go\n")
            p.stdin.flush()
        drawn = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in drawers]
        until_exit = time.perf_counter() - start
        load_after = os.getloadavg()
        seconds = (_last_part_stored_at(app, batch_id) - asked_at).total_seconds()
        assert all(p.returncode == 0 for p in drawers)
        assert sum(d["parts"] for d in drawn) == parts, (drawn, parts)
        check = _child("--zip", url, keys, str(batch_id), key, str(count))
    return {"coupons": count, "parts": parts, "seconds": round(seconds, 1),
            "until_processes_exit_s": round(until_exit, 1),
            "coupons_per_s": round(count / seconds), "drawing_processes": drawn,
            "drawing_peak_rss_mb": max(d["peak_rss_mb"] for d in drawn),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in load_after], **check}


def run() -> dict:
    results = {}
    for count in sizes(sys.argv[1:]):
        results[str(count)] = _run_size(count)
        print(count, results[str(count)], flush=True)
    return {"database": "PostgreSQL", "drawing_processes": DRAWING_PROCESSES, "results": results,
            "goal": "100,000 coupons in <= 180 s, each drawing process <= 300 MB peak, not growing with the batch"}


if __name__ == "__main__":
    if sys.argv[1] == "--draw":
        print(json.dumps(_draw(sys.argv[2], sys.argv[3])))
    elif sys.argv[1] == "--zip":
        print(json.dumps(_download_and_check(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5],
                                             int(sys.argv[6]))))
    else:
        from bench.common import save

        save("prints", run())
