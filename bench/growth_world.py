"""The world the growth benchmark measures in: N coupons and N redemptions on PostgreSQL, built once.

Shape, at every size (the merchants grow with N, from 100 at 10 thousand to 2,000 at 10 million):
each merchant has one store and one terminal key; merchant i hands out the offers of merchants
i+1 … i+5 (five partnerships each, active, 5% commission); each owner has five ¥30-off offers,
the first of them two-use. Coupons are issued in id order from May to mid-November 2026, each
signed (EdDSA, the exchange's own token format) under the benchmark's own key, with a manual
code; a quarter are never redeemed (the spare coupons the benchmark redeems), a quarter are
two-use and redeemed twice, the rest redeemed once, one to fourteen days after issue. Each
redemption has its ledger transaction and two entries, and its audit event; the last 30 days'
redemptions keep their two events, and the last 48 hours' their idempotency records (what the
retention rules leave on a live server; event ids are time-ordered like the app's ULIDs, in hex).

The coupons are signed by two processes and loaded with COPY; the rows derived from them
(redemptions, ledger, audit, events) are written by INSERT … SELECT on the server. The big
tables' indexes and constraints are dropped for the load and re-created from their own
definitions afterwards, so the schema is exactly the migrations'.
"""

from __future__ import annotations

import base64
import hashlib
import json
import multiprocessing
import time
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

FORMAT = 1  # bump when the world's shape changes: reused databases of another format are rebuilt
KID = "1"
ISSUE_FROM = datetime(2026, 5, 1, tzinfo=UTC)
ISSUE_SPAN = timedelta(days=198)  # to mid-November
VALID_UNTIL = datetime(2027, 6, 30, 16, 0, tzinfo=UTC)
PARTNERS = 5      # per merchant, as distributor (and as many as owner)
OFFERS = 5        # per owner; offer 0 of each owner is two-use
BIG_TABLES = ("coupons", "redemptions", "ledger_transactions", "ledger_entries", "audit_events", "events",
              "idempotency_records")
CHUNK = 250_000


def merchants_for(n: int) -> int:
    return max(100, n // 5000)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def terminal_secret(merchant_id: int) -> str:
    """The terminal key of merchant `merchant_id`'s store: deterministic, so a reused database's
    keys are known to the benchmark (43 characters, as the key format wants)."""
    return b64(hashlib.sha256(f"bench-growth-terminal-{merchant_id}".encode()).digest())


def terminal_key(merchant_id: int) -> str:
    return f"tk_{merchant_id}_{terminal_secret(merchant_id)}"


def new_signing_pem() -> str:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


def coupon_shape(n: int, merchants: int) -> tuple[int, int, int]:
    """Coupon `n`'s (distributor, owner, offer index): spread over every merchant and partnership."""
    d = (n * 7919) % merchants + 1
    k = (n // merchants) % PARTNERS + 1
    owner = (d - 1 + k) % merchants + 1
    # n % 4 == 1: a two-use coupon (offer 0); otherwise a single-use one of the other four offers.
    j = 0 if n % 4 == 1 else (n // 4) % (OFFERS - 1) + 1
    return d, owner, j


def _sign_chunk(args: tuple) -> int:
    """Sign and COPY coupons [start, end) in a process of its own; how many."""
    import psycopg

    dsn, pem, start, end, total, merchants = args
    key = serialization.load_pem_private_key(pem.encode(), None)
    header = b64(json.dumps({"alg": "EdDSA", "kid": KID, "typ": "cpn"}, separators=(",", ":")).encode())
    exp = int(VALID_UNTIL.timestamp())
    expires = VALID_UNTIL.isoformat()
    codes = base64.b32encode(hashlib.shake_256(f"codes-{start}".encode()).digest(10 * (end - start)))
    codes = codes.translate(bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
                                            b"0123456789ABCDEFGHJKMNPQRSTVWXYZ")).decode()
    step = ISSUE_SPAN / total
    lines = []
    for i, n in enumerate(range(start, end)):
        d, owner, j = coupon_shape(n, merchants)
        uses = 2 if j == 0 else 1
        left = uses if n % 4 == 0 else 0
        body = b64(f'{{"c":{n},"exp":{exp}}}'.encode())
        signing_input = f"{header}.{body}"
        token = f"{signing_input}.{b64(key.sign(signing_input.encode()))}"
        issued = (ISSUE_FROM + step * n).isoformat()
        pseudonym = hashlib.sha256(b"c%d" % n).hexdigest() if n % 5 == 0 else "\\N"
        viewed = issued if n % 3 == 0 else "\\N"
        offer = (owner - 1) * OFFERS + j + 1
        code = codes[16 * i:16 * i + 13]
        lines.append(f"{n}\t{code}\t{offer}\t{d}\t\\N\t\\N\t{pseudonym}\t{uses}\t{left}\tactive\t{token}\t"
                     f"{issued}\t{expires}\t{viewed}\n")
    with psycopg.connect(dsn) as conn, conn.cursor() as cur, cur.copy(
            "COPY coupons (id, code, offer_id, distributor_id, batch_id, pack_id, customer_pseudonym, uses_total, "
            "uses_left, status, token, issued_at, expires_at, first_viewed_at) FROM STDIN") as copy:
        copy.write("".join(lines))
    return end - start


def _ddl_of_big_tables(cur) -> tuple[list[str], list[str], list[str]]:
    """(drop, create) statements for the big tables' constraints and indexes, and the FKs into them."""
    tables = list(BIG_TABLES)
    cur.execute("""SELECT c.conname, c.conrelid::regclass::text, pg_get_constraintdef(c.oid), c.contype
                   FROM pg_constraint c
                   WHERE c.contype IN ('p', 'u', 'f')
                     AND (c.conrelid::regclass::text = ANY(%s) OR c.confrelid::regclass::text = ANY(%s))""",
                (tables, tables))
    constraints = cur.fetchall()
    cur.execute("""SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = ANY(%s)
                   AND indexname NOT IN (SELECT conname FROM pg_constraint)""", (tables,))
    indexes = cur.fetchall()
    fks = [c for c in constraints if c[3] == "f"]
    keys = [c for c in constraints if c[3] != "f"]
    drop = ([f'ALTER TABLE {t} DROP CONSTRAINT "{name}"' for name, t, _, _ in fks]
            + [f'ALTER TABLE {t} DROP CONSTRAINT "{name}"' for name, t, _, _ in keys]
            + [f'DROP INDEX "{name}"' for name, _ in indexes])
    create_keys = [f'ALTER TABLE {t} ADD CONSTRAINT "{name}" {d}' for name, t, d, _ in keys] + [d for _, d in indexes]
    create_fks = [f'ALTER TABLE {t} ADD CONSTRAINT "{name}" {d}' for name, t, d, _ in fks]
    return drop, create_keys, create_fks


def _base_world(cur, merchants: int) -> None:
    m = merchants
    cur.execute(f"""INSERT INTO merchants (id, name, price_tier, scale, city, status, created_at, updated_at)
                    SELECT i, '商户 ' || i, 1 + i % 5, 'small', (ARRAY['杭州', '上海', '南京', '苏州'])[1 + i % 4],
                           'active', '2026-01-05', '2026-01-05' FROM generate_series(1, {m}) i""")
    cur.execute(f"""INSERT INTO stores (id, merchant_id, name, address, city, created_at)
                    SELECT i, i, '商户 ' || i || ' 一号店', '杭州市西湖区文二路 ' || i || ' 号', '杭州', '2026-01-05'
                    FROM generate_series(1, {m}) i""")
    keys = [(i, "terminal", i, i, "till", hashlib.sha256(terminal_secret(i).encode()).hexdigest())
            for i in range(1, m + 1)]
    cur.executemany("INSERT INTO api_keys (id, kind, merchant_id, store_id, label, secret_hash, created_at) "
                    "VALUES (%s, %s, %s, %s, %s, %s, '2026-01-05')", keys)
    # Partnership (d, k) of distributor d and owner d + k: id (d - 1) * PARTNERS + k, its terms the same id.
    cur.execute(f"""INSERT INTO partnerships (id, proposer_id, partner_id, low_id, high_id, status, created_at,
                                              updated_at)
                    SELECT (d - 1) * {PARTNERS} + k, d, o, least(d, o), greatest(d, o), 'active',
                           '2026-01-10', '2026-01-10'
                    FROM generate_series(1, {m}) d, generate_series(1, {PARTNERS}) k,
                         LATERAL (SELECT (d - 1 + k) % {m} + 1 AS o) owner""")
    cur.execute("""INSERT INTO partnership_terms (id, partnership_id, version, status, proposed_by_id,
                        commission_type, rate_bps, currency, proposed_at, decided_at, effective_from)
                    SELECT id, id, 1, 'accepted', proposer_id, 'percent', 500, 'CNY', '2026-01-10', '2026-01-11',
                           '2026-01-11' FROM partnerships""")
    cur.execute(f"""INSERT INTO offers (id, owner_id, title, description, discount_type, discount_amount, min_spend,
                        currency, valid_from, valid_until, uses_per_coupon, distributor_share_bps,
                        restore_use_on_refund, status, coupons_issued, budget_spent, created_at, updated_at)
                    SELECT (o - 1) * {OFFERS} + j + 1, o, '满200减30 好物 ' || j, '合作伙伴专享', 'amount', 3000,
                           20000, 'CNY', '2026-04-01', %s, CASE WHEN j = 0 THEN 2 ELSE 1 END, 0, 'full_refund',
                           'active', 0, 0, '2026-04-01', '2026-04-01'
                    FROM generate_series(1, {m}) o, generate_series(0, {OFFERS - 1}) j""", (VALID_UNTIL,))
    cur.execute("UPDATE id_blocks SET next_id = (SELECT max(id) + 1 FROM offers) WHERE name = 'packs'")


_REDEMPTIONS = f"""
INSERT INTO redemptions (id, coupon_id, offer_id, owner_id, distributor_id, store_id, partnership_id, terms_id,
    currency, order_amount, discount, paid_amount, commission_amount, refunded_amount, commission_clawed_back,
    cofunding_amount, cofunding_returned, order_ref, customer_pseudonym, redeemed_at)
SELECT row_number() OVER (ORDER BY at, coupon_id), coupon_id, offer_id, owner_id, distributor_id, owner_id,
       partnership_id, partnership_id, 'CNY', amount, 3000, amount - 3000, ((amount - 3000) * 500 + 5000) / 10000,
       0, 0, 0, 0, 'POS-' || coupon_id || '-' || k, customer_pseudonym, at
FROM (SELECT c.id::bigint AS coupon_id, c.offer_id, o.owner_id, c.distributor_id, c.customer_pseudonym, k,
             (c.distributor_id - 1) * {PARTNERS} + (o.owner_id - c.distributor_id + :m) % :m AS partnership_id,
             20000 + (c.id::bigint * 7919 + k * 104729) % 60000 AS amount,
             c.issued_at + ((c.id::bigint * 31 + k * 86400 * 5) % (14 * 86400) + 3600) * INTERVAL '1 second' AS at
      FROM coupons c JOIN offers o ON o.id = c.offer_id,
           LATERAL generate_series(1, c.uses_total - c.uses_left) k) s
"""


def _derived(cur) -> None:
    cur.execute("""INSERT INTO ledger_transactions (id, kind, redemption_id, currency, posted_at, description)
                   SELECT id, 'redemption', id, 'CNY', redeemed_at,
                          'commission (and co-funding) on redemption ' || id FROM redemptions""")
    cur.execute("""INSERT INTO ledger_entries (id, transaction_id, merchant_id, counterparty_id, account, amount,
                                               currency)
                   SELECT 2 * id - 1, id, distributor_id, owner_id, 'commission_receivable', commission_amount, 'CNY'
                   FROM redemptions UNION ALL
                   SELECT 2 * id, id, owner_id, distributor_id, 'commission_payable', -commission_amount, 'CNY'
                   FROM redemptions""")
    cur.execute("""INSERT INTO audit_events (id, at, actor, merchant_id, action, subject_type, subject_id, data)
                   SELECT id, redeemed_at, 'terminal:' || owner_id, owner_id, 'coupon.redeemed', 'redemption',
                          id::text, json_build_object('coupon_id', coupon_id, 'store_id', store_id)
                   FROM redemptions""")
    # Events live 30 days (retention), idempotency records 48 hours.
    cur.execute("""INSERT INTO events (id, merchant_id, type, created, data, seq)
                   SELECT 'evt_' || lpad(to_hex((extract(epoch FROM redeemed_at) * 1000)::bigint), 12, '0')
                              || substr(md5(id || '-' || side), 1, 14),
                          CASE side WHEN 0 THEN owner_id ELSE distributor_id END, 'coupon.redeemed', redeemed_at,
                          json_build_object('id', id, 'coupon_id', coupon_id, 'offer_id', offer_id,
                                            'order_amount', order_amount, 'discount', discount,
                                            'paid_amount', paid_amount, 'currency', currency,
                                            'commission', json_build_object('amount', commission_amount),
                                            'redeemed_at', redeemed_at),
                          row_number() OVER (ORDER BY redeemed_at, id, side)
                   FROM redemptions, generate_series(0, 1) side
                   WHERE redeemed_at > (SELECT max(redeemed_at) FROM redemptions) - INTERVAL '30 days'""")
    cur.execute("""INSERT INTO idempotency_records (id, merchant_id, key, request_hash, status, response_status,
                                                    response_body, locked_at, created_at)
                   SELECT id, owner_id, md5('key' || id)::uuid::text, md5('body' || id) || md5('b' || id), 'done',
                          201, json_build_object('id', id, 'coupon_id', coupon_id, 'order_amount', order_amount,
                                                 'discount', discount, 'paid_amount', paid_amount)::text,
                          now() - (id % 172800) * INTERVAL '1 second', now() - (id % 172800) * INTERVAL '1 second'
                   FROM redemptions ORDER BY id DESC LIMIT (SELECT count(*) / 130 FROM redemptions)""")


def build(dsn: str, n: int, log=print) -> dict:
    """Fill the freshly migrated database `dsn` (a psycopg URL) with N coupons and about N redemptions."""
    import psycopg

    merchants = merchants_for(n)
    pem = new_signing_pem()
    timings, began = {}, time.monotonic()

    def step(name):
        timings[name] = round(time.monotonic() - began - sum(timings.values()), 1)
        log(f"  built {name} in {timings[name]} s", flush=True)

    with psycopg.connect(dsn, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '512MB'")
        cur.execute("SET synchronous_commit = off")
        _base_world(cur, merchants)
        drop, create_keys, create_fks = _ddl_of_big_tables(cur)
        for statement in drop:
            cur.execute(statement)
        step("merchants, stores, keys, partnerships, offers")
        chunks = [(dsn, pem, s, min(s + CHUNK, n + 1), n, merchants) for s in range(1, n + 1, CHUNK)]
        with multiprocessing.get_context("fork").Pool(2) as pool:
            done = sum(pool.imap_unordered(_sign_chunk, chunks))
        assert done == n, done
        cur.execute("UPDATE id_blocks SET next_id = %s WHERE name = 'coupons'", (n + 1,))
        cur.execute("UPDATE offers o SET coupons_issued = s.count FROM "
                    "(SELECT offer_id, count(*) FROM coupons GROUP BY offer_id) s WHERE s.offer_id = o.id")
        step("coupons (signed, COPY)")
        cur.execute(_REDEMPTIONS.replace(":m", str(merchants)))
        step("redemptions")
        _derived(cur)
        step("ledger, audit events, events, idempotency records")
        for statement in create_keys:
            cur.execute(statement)
        step("primary keys and indexes")
        for statement in create_fks:
            cur.execute(statement)
        step("foreign keys")
        for table in ("api_keys", "audit_events", "idempotency_records", "ledger_entries", "ledger_transactions",
                      "merchants", "offers", "partnership_terms", "partnerships", "redemptions", "stores"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        cur.execute("VACUUM (ANALYZE)")
        step("vacuum and analyze")
        cur.execute("SELECT count(*) FROM redemptions")
        redemptions = cur.fetchone()[0]
    return {"coupons": n, "redemptions": redemptions, "merchants": merchants, "partnerships": merchants * PARTNERS,
            "offers": merchants * OFFERS, "pem": pem, "kid": KID, "format": FORMAT,
            "build_seconds": round(time.monotonic() - began, 1), "build_steps": timings}
