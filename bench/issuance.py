"""Issuing a 100,000-coupon batch ÷ bare PyJWT EdDSA signing, measured in the same run.

Goal (issue: coupons): the batch (signing, manual codes, inserts, progress, leases) runs at
≥ 50% of the rate at which PyJWT alone signs the same tokens.
"""

from __future__ import annotations

import sys
import time
from datetime import timedelta

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.common import each_database, save

COUNT = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 100_000


def bare_signing_rate(n: int) -> float:
    key = Ed25519PrivateKey.generate()
    start = time.perf_counter()
    for i in range(1, n + 1):
        jwt.encode({"c": i, "exp": 1_830_297_600}, key, algorithm="EdDSA", headers={"kid": "1", "typ": "cpn"})
    return n / (time.perf_counter() - start)


def batch_rate(url: str, tmp_keys: str) -> float:
    from exchange import clock, create_app
    from exchange.coupons import batches
    from exchange.extensions import db
    from exchange.http.auth import Principal
    from exchange.merchants.services import register_merchant
    from exchange.offers.services import create_offer
    from exchange.partners.services import move_partnership, propose_partnership

    app = create_app({"DATABASE_URL": url, "SIGNING_KEY_DIR": tmp_keys, "LOG_LEVEL": "WARNING"})
    with app.app_context():
        owner, owner_key = register_merchant(name="孕婴店", categories=["maternity"], price_tier=3,
                                             scale="small", city="杭州")
        dist, dist_key = register_merchant(name="童车店", categories=["stroller"], price_tier=3,
                                           scale="small", city="杭州")
        as_owner = Principal("merchant", owner.id, None, owner_key.key.id)
        as_dist = Principal("merchant", dist.id, None, dist_key.key.id)
        p = propose_partnership(as_dist, owner.id, {"commission": {"type": "percent", "rate_bps": 500},
                                                    "currency": "CNY"})
        move_partnership(as_owner, p.id, "accept")
        now = clock.now()
        offer = create_offer(as_owner, {"title": "满200减30", "discount": {"type": "amount", "amount": 3000},
                                        "min_spend": 20000, "currency": "CNY", "valid_from": now,
                                        "valid_until": now + timedelta(days=60), "uses_per_coupon": 1,
                                        "max_coupons": None, "budget": None, "per_customer_limit": None,
                                        "description": None, "distributors": [], "allow_free_order": False})
        batch = batches.create_batch(as_dist, offer.id, COUNT)
        start = time.perf_counter()
        batches.work("bench")
        elapsed = time.perf_counter() - start
        db.session.refresh(batch)
        assert batch.status == "done" and batch.issued == COUNT, (batch.status, batch.issued)
        db.session.remove()
    db.engine.dispose()
    return COUNT / elapsed


def run() -> dict:
    import tempfile

    results = {}
    for label, url in each_database():
        bare = bare_signing_rate(COUNT)
        batch = batch_rate(url, tempfile.mkdtemp())
        results[label] = {"bare_signs_per_s": round(bare), "batch_coupons_per_s": round(batch),
                          "ratio": round(batch / bare, 3)}
        print(label, results[label], flush=True)
    return {"coupons": COUNT, "goal": "ratio >= 0.5", "results": results}


if __name__ == "__main__":
    save("issuance", run())
