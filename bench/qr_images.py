"""A QR PNG request ÷ the bare `qrcode` render of the same link, in the same run; and a repeated
request (served from the worker's cache, or 304 with the ETag).

Goal (issue: coupons): a first request costs ≤ 1.5× the bare render; a repeat is much cheaper.
"""

from __future__ import annotations

import io
import statistics
import time

import qrcode

from bench.common import save

N = 60


def run() -> dict:
    import tempfile
    from pathlib import Path

    from exchange import create_app
    from tests.databases import fresh_database

    tmp = Path(tempfile.mkdtemp())
    with fresh_database(None, tmp) as url:
        app = create_app({"DATABASE_URL": url, "SIGNING_KEY_DIR": str(tmp / "keys"),
                          "LOG_LEVEL": "WARNING", "PUBLIC_URL": "http://127.0.0.1:8000"})
        client = app.test_client()
        tokens = _coupon_tokens(app, N)
        links = [f"http://127.0.0.1:8000/c/{t}" for t in tokens]

        def bare(link):
            out = io.BytesIO()
            qrcode.make(link).save(out)

        bare_s = _each(bare, links)
        first_s = _each(lambda t: _ok(client.get(f"/c/{t}/qr.png")), tokens)
        repeat_s = _each(lambda t: _ok(client.get(f"/c/{t}/qr.png")), tokens)
        etag = client.get(f"/c/{tokens[0]}/qr.png").headers["ETag"]
        revalidate_s = _each(lambda t: client.get(f"/c/{tokens[0]}/qr.png", headers={"If-None-Match": etag}),
                             tokens)
    med = statistics.median
    result = {"bare_ms": round(med(bare_s) * 1000, 2), "first_request_ms": round(med(first_s) * 1000, 2),
              "repeat_request_ms": round(med(repeat_s) * 1000, 2),
              "revalidate_304_ms": round(med(revalidate_s) * 1000, 2),
              "ratio_first": round(med(first_s) / med(bare_s), 2),
              "ratio_repeat": round(med(repeat_s) / med(bare_s), 3)}
    print(result, flush=True)
    return {"requests": N, "goal": "first request ≤ 1.5× bare render", "results": result}


def _ok(response):
    assert response.status_code in (200, 304), response.status_code
    return response


def _each(fn, items) -> list[float]:
    out = []
    for item in items:
        start = time.perf_counter()
        fn(item)
        out.append(time.perf_counter() - start)
    return out


def _coupon_tokens(app, n: int) -> list[str]:
    from datetime import timedelta

    from exchange import clock
    from exchange.coupons.issuing import write_coupons
    from exchange.coupons.signing import Signer
    from exchange.db.unit_of_work import unit_of_work
    from exchange.extensions import db
    from exchange.merchants.services import register_merchant
    from exchange.models import Offer

    with app.app_context():
        owner, _ = register_merchant(name="孕婴店", categories=["maternity"], price_tier=3, scale="small", city="杭州")
        with unit_of_work() as uow:
            session = uow.session
            now = clock.now()
            offer = Offer(owner_id=owner.id, title="满200减30", discount_type="amount", discount_amount=3000,
                          min_spend=0, currency="CNY", valid_from=now, valid_until=now + timedelta(days=30),
                          uses_per_coupon=1, status="active", coupons_issued=0, budget_spent=0,
                          created_at=now, updated_at=now)
            session.add(offer)
            session.flush()
            rows = write_coupons(session, offer, owner.id, n, signer=Signer())
        db.session.remove()
    return [r["token"] for r in rows]


if __name__ == "__main__":
    save("qr_images", run())
