"""Issuing a 100,000-coupon batch ÷ bare PyJWT EdDSA signing, measured in the same run.

Goal (issues: coupons, 18): the batch (signing, manual codes, inserts, progress, leases) runs
at ≥ 50% of the rate at which PyJWT alone signs the same tokens. Bare signing and a batch take
turns, ROUNDS times, and the rates are of the totals (on a shared machine the CPU available
drifts over tens of seconds). Also the CPU time of each, the batch's including its PostgreSQL
backend's (the COPY's work happens there): a figure other programs on the machine move less.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import timedelta
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.common import each_database, save

COUNT = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 100_000
ROUNDS = 2


def _cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bare_signing(n: int) -> tuple[float, float]:
    """(seconds, CPU seconds) for PyJWT alone to sign `n` coupon tokens."""
    key = Ed25519PrivateKey.generate()
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(1, n + 1):
        jwt.encode({"c": i, "exp": 1_830_297_600}, key, algorithm="EdDSA", headers={"kid": "1", "typ": "cpn"})
    return time.perf_counter() - start, time.process_time() - cpu


class Issuer:
    """An app on the database with an accepted partnership and an offer to issue batches of."""

    def __init__(self, url: str, tmp_keys: str) -> None:
        from exchange import clock, create_app
        from exchange.http.auth import Principal
        from exchange.merchants.services import register_merchant
        from exchange.offers.services import create_offer
        from exchange.partners.services import move_partnership, propose_partnership

        self.app = create_app({"DATABASE_URL": url, "SIGNING_KEY_DIR": tmp_keys, "LOG_LEVEL": "WARNING"})
        with self.app.app_context():
            owner, owner_key = register_merchant(name="孕婴店", categories=["maternity"], price_tier=3,
                                                 scale="small", city="杭州")
            dist, dist_key = register_merchant(name="童车店", categories=["stroller"], price_tier=3,
                                               scale="small", city="杭州")
            as_owner = Principal("merchant", owner.id, None, owner_key.key.id)
            self.as_dist = Principal("merchant", dist.id, None, dist_key.key.id)
            p = propose_partnership(self.as_dist, owner.id, {"commission": {"type": "percent", "rate_bps": 500},
                                                             "currency": "CNY"})
            move_partnership(as_owner, p.id, "accept")
            now = clock.now()
            self.offer_id = create_offer(as_owner, {
                "title": "满200减30", "discount": {"type": "amount", "amount": 3000}, "min_spend": 20000,
                "currency": "CNY", "valid_from": now, "valid_until": now + timedelta(days=60), "uses_per_coupon": 1,
                "max_coupons": None, "budget": None, "per_customer_limit": None, "description": None,
                "distributors": [], "allow_free_order": False}).id

    def batch(self, count: int) -> tuple[float, float]:
        """(seconds, CPU seconds of this process and its database backend) to issue a batch."""
        from sqlalchemy import text

        from exchange.coupons import batches
        from exchange.extensions import db

        with self.app.app_context():
            batch = batches.create_batch(self.as_dist, self.offer_id, count)
            backend = (db.session.scalar(text("SELECT pg_backend_pid()"))
                       if db.engine.dialect.name == "postgresql" else None)
            db.session.rollback()
            backend_cpu = _cpu_of(backend) if backend else 0.0
            start, cpu = time.perf_counter(), time.process_time()
            batches.work("bench")
            elapsed, used = time.perf_counter() - start, time.process_time() - cpu
            if backend:
                used += _cpu_of(backend) - backend_cpu
            db.session.refresh(batch)
            assert batch.status == "done" and batch.issued == count, (batch.status, batch.issued)
            db.session.remove()
        return elapsed, used

    def close(self) -> None:
        from exchange.extensions import db

        with self.app.app_context():
            db.engine.dispose()


def run() -> dict:
    import tempfile

    results = {}
    for label, url in each_database():
        issuer = Issuer(url, tempfile.mkdtemp())
        bare, batch = [], []
        try:
            for _ in range(ROUNDS):
                bare.append(bare_signing(COUNT))
                batch.append(issuer.batch(COUNT))
        finally:
            issuer.close()
        rate = lambda runs, i: ROUNDS * COUNT / sum(r[i] for r in runs)  # noqa: E731
        results[label] = {"bare_signs_per_s": round(rate(bare, 0)), "batch_coupons_per_s": round(rate(batch, 0)),
                          "ratio": round(rate(batch, 0) / rate(bare, 0), 3),
                          "round_ratios": [round(b[0] / c[0], 3) for b, c in zip(bare, batch, strict=True)],
                          "bare_cpu_us_per_sign": round(1e6 / rate(bare, 1), 1),
                          "batch_cpu_us_per_coupon": round(1e6 / rate(batch, 1), 1),
                          "cpu_ratio": round(rate(batch, 1) / rate(bare, 1), 3)}
        print(label, results[label], flush=True)
    return {"coupons": COUNT, "rounds": ROUNDS, "goal": "ratio >= 0.5", "results": results}


if __name__ == "__main__":
    save("issuance", run())
