"""Partner suggestions for one merchant among 100,000 registered merchants.

Goal (issue: partners): median under 50 ms on SQLite and PostgreSQL, through the whole request
path (auth, query, dump). `/healthz` through the same client in the same run is the baseline.
"""

from __future__ import annotations

import random
import sys

from sqlalchemy import insert, select

from bench.common import each_database, save, summary_ms, timed

MERCHANTS = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 100_000
PROBES = 200
CITIES = ["杭州", "上海", "苏州", "南京", "宁波", "温州", "合肥", "无锡", "绍兴", "嘉兴",
          "北京", "广州", "深圳", "成都", "武汉", "西安", "长沙", "郑州", "青岛", "厦门"]
SCALES = ["micro", "small", "medium", "large"]


def populate(session, rng: random.Random) -> list[str]:
    """Insert the merchants with 1–2 categories each; return plaintext keys of probe merchants."""
    from exchange import clock
    from exchange.http.auth import format_key, hash_secret
    from exchange.models import ApiKey, Category, Merchant, PartnerSearchEntry, merchant_categories
    from exchange.partners.search_index import entry

    categories = list(session.scalars(select(Category.id)))
    now = clock.now()
    batch = 10_000
    for start in range(0, MERCHANTS, batch):
        rows = [dict(id=i, name=f"商户 {i}", price_tier=rng.randint(1, 5), scale=rng.choice(SCALES),
                     city=rng.choice(CITIES), status="suspended" if rng.random() < 0.02 else "active",
                     created_at=now, updated_at=now)
                for i in range(start + 1, min(start + batch, MERCHANTS) + 1)]
        session.execute(insert(Merchant), rows)
        chosen = {r["id"]: rng.sample(categories, rng.choice((1, 1, 2))) for r in rows}
        session.execute(insert(merchant_categories), [
            dict(merchant_id=r["id"], category_id=c) for r in rows for c in chosen[r["id"]]])
        session.execute(insert(PartnerSearchEntry), [
            entry(r["id"], c, r["city"], r["price_tier"], r["scale"], r["status"], chosen[r["id"]])
            for r in rows for c in chosen[r["id"]]])
    probes = rng.sample(range(1, MERCHANTS + 1), PROBES)
    keys = []
    for n, merchant_id in enumerate(probes, start=1):
        secret = f"bench{n:038d}"
        session.execute(insert(ApiKey), [dict(id=n, kind="merchant", merchant_id=merchant_id,
                                              secret_hash=hash_secret(secret), created_at=now)])
        session.execute(Merchant.__table__.update().where(Merchant.id == merchant_id)
                        .values(status="active"))
        session.execute(PartnerSearchEntry.__table__.update()
                        .where(PartnerSearchEntry.merchant_id == merchant_id).values(active=True))
        keys.append(format_key("merchant", n, secret))
    session.commit()
    vacuum_analyze(session.get_bind())
    return keys


def vacuum_analyze(engine) -> None:
    """What autovacuum (PostgreSQL) or a periodic ANALYZE (SQLite) does after a bulk load."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE")


def run() -> dict:
    from exchange import create_app
    from exchange.extensions import db

    results = {}
    for label, url in each_database():
        app = create_app({"DATABASE_URL": url, "LOG_LEVEL": "WARNING"})
        with app.app_context():
            keys = populate(db.session(), random.Random(42))
            db.session.remove()
        client = app.test_client()
        sizes = []

        def suggest(key, client=client, sizes=sizes):
            response = client.get("/api/v1/partner-suggestions?limit=10",
                                  headers={"Authorization": f"Bearer {key}"})
            assert response.status_code == 200, response.get_json()
            sizes.append(len(response.get_json()["items"]))

        for key in keys[:20]:
            suggest(key)  # warm caches and the connection pool
        keys_iter = iter(keys * 2)
        samples = timed(lambda keys_iter=keys_iter: suggest(next(keys_iter)), len(keys))
        health = timed(lambda client=client: client.get("/healthz"), len(keys))
        results[label] = {"suggestions": summary_ms(samples), "healthz": summary_ms(health),
                          "ratio_to_healthz": round(sorted(samples)[len(samples) // 2]
                                                    / sorted(health)[len(health) // 2], 1),
                          "mean_items": round(sum(sizes) / len(sizes), 1)}
        db.engine.dispose()
        print(label, results[label], flush=True)
    return {"merchants": MERCHANTS, "goal": "median < 50 ms", "results": results}


if __name__ == "__main__":
    save("suggestions", run())
