"""The security matrix, enumerated from the OpenAPI document so that new routes are covered
without editing this file (SPEC §4.5 tenancy, §4.7 one error shape):

* another merchant's key on every route that names an object: the same answer as for an object
  that does not exist (404), and nothing written;
* a terminal key on every route it is not meant for: 403;
* mass-assignment fields in every body: refused (422, naming the field), never applied;
* SQL-injection strings and over-long strings in every text field of every body.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from exchange.db.base import Base
from exchange.extensions import db
from tests.helpers import assert_problem

# Path parameters that are not object ids: they are read in the caller's own scope.
CALLER_SCOPED = {"period"}
# What a store's terminal key may do (SPEC §2: verify, redeem, reverse at its store).
TERMINAL_ROUTES = {("post", "/api/v1/redemptions/verify"), ("post", "/api/v1/redemptions"),
                   ("get", "/api/v1/redemptions/{redemption_id}"),
                   ("post", "/api/v1/redemptions/{redemption_id}/reversals"),
                   # The till app's own view of itself, its day, and its unpair button.
                   ("get", "/api/v1/till"), ("delete", "/api/v1/till"), ("get", "/api/v1/till/day"),
                   ("get", "/api/v1/till/catalog")}
MASS_ASSIGNMENT = ("uses_left", "merchant_id", "owner_id", "distributor_id", "commission", "status",
                   "id", "kind", "revoked_at", "created_at", "secret_hash", "budget_spent")
INJECTIONS = ("' OR '1'='1", "'; DROP TABLE merchants; --", "1); DELETE FROM coupons; --",
              '" OR ""="', "\\'; SELECT pg_sleep(0); --", "%' AND 1=0 UNION SELECT NULL --")


def _spec(api):
    return api.get("/openapi.json").get_json()


def _operations(spec):
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in ("get", "post", "patch", "put", "delete"):
                yield method, path, op


def _resolve(spec, schema):
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _body_schema(spec, op):
    content = op.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return None
    return _resolve(spec, content["application/json"]["schema"])


def _table_counts():
    """Row counts of every table but the caller's own idempotency records (refusals are kept
    there by design, so a retry gets the same refusal)."""
    return {t.name: db.session.scalar(select(func.count()).select_from(t))
            for t in Base.metadata.sorted_tables if t.name != "idempotency_records"}


@pytest.fixture
def objects(api, app, world, monkeypatch):
    """Merchant A's objects of every kind (A = the maternity store, and its partner the
    stroller shop for what distributors own), keyed by path-parameter name."""
    coupons = api.post(f"/api/v1/offers/{world.offer['id']}/coupons", world.stroller.key,
                       json={"count": 2}).get_json()["items"]
    redemption = api.post("/api/v1/redemptions", world.maternity.terminal_key,
                          json={"payload": coupons[0]["payload"], "order_amount": 25000, "order_ref": "A-1"},
                          headers={"Idempotency-Key": "matrix-1"}).get_json()
    batch = api.post(f"/api/v1/offers/{world.offer['id']}/coupon-batches", world.stroller.key,
                     json={"count": 3}).get_json()
    partnership = api.get("/api/v1/partnerships", world.maternity.key).get_json()["items"][0]
    terms = api.post(f"/api/v1/partnerships/{partnership['id']}/terms", world.stroller.key,
                     json={"commission": {"type": "percent", "rate_bps": 600}, "currency": "CNY"})
    assert terms.status_code == 201, terms.get_json()
    # A closed month with the pair's obligation, and a dispute of it (the clock goes to next month
    # and back: the month is then closed ahead of the clock, as a sandbox close leaves it).
    from datetime import timedelta

    from exchange import clock
    from exchange.periods import Period

    this_month = Period.containing(clock.now(), app.config["SETTLEMENT_TZ"])
    clock.set_now(this_month.ends_at(app.config["SETTLEMENT_TZ"]) + timedelta(hours=1))
    closed = api.post("/api/v1/settlements", app.config["OPERATOR_KEY"], json={"period": str(this_month)})
    assert closed.status_code == 201, closed.get_json()
    dispute = api.post(f"/api/v1/settlements/{this_month}/disputes", world.maternity.key,
                       json={"partner_id": world.stroller.id, "reason": "核对中"})
    assert dispute.status_code == 201, dispute.get_json()
    clock.set_now(None)
    keys = api.get("/api/v1/merchants/me/api-keys", world.maternity.key).get_json()["items"]
    pairing = api.post(f"/api/v1/stores/{world.maternity.store_id}/till-pairings", world.maternity.key,
                       json={}).get_json()
    till = api.post("/api/v1/till-pairings/exchange", json={"code": pairing["code"]}).get_json()
    # A webhook endpoint (its name resolving to a public address) with one delivery, a ping's.
    from exchange.events.relay import relay

    monkeypatch.setitem(app.config, "WEBHOOK_RESOLVER", lambda host, port: ["93.184.215.14"])
    endpoint = api.post("/api/v1/webhook-endpoints", world.maternity.key,
                        json={"url": "https://hooks.example.com/a", "event_types": ["*"]}).get_json()
    assert api.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/test", world.maternity.key).status_code == 202
    relay()
    delivery = api.get(f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries",
                       world.maternity.key).get_json()["items"][0]
    return {
        "offer_id": world.offer["id"], "store_id": world.maternity.store_id,
        "partnership_id": partnership["id"], "version": terms.get_json()["version"],
        "batch_id": batch["id"], "redemption_id": redemption["id"], "code": coupons[1]["code"],
        "merchant_id": world.maternity.id, "key_id": keys[0]["id"],
        "token": coupons[1]["payload"], "period": str(this_month), "dispute_id": dispute.get_json()["id"],
        "till_id": till["till_id"], "endpoint_id": endpoint["id"], "delivery_id": delivery["id"],
        "number": 1,  # a part of the batch's printable sheets
    }


def _plausible_body(spec, op):
    """A body of the documented shape (not necessarily accepted: the point is who gets what)."""
    schema = _body_schema(spec, op)
    if schema is None:
        return None
    samples = {"count": 1, "refund_amount": 100, "reason": "退货", "label": "till",
               "commission": {"type": "percent", "rate_bps": 100}, "currency": "CNY",
               "payload": "ABCD-EFGH-JKMNP", "order_amount": 25000}
    return {name: samples[name] for name in schema.get("properties", {}) if name in samples}


def _operator_only(op) -> bool:
    return op.get("x-key-kinds") == ["operator"]


def _key_for(op, world, app):
    """A key the route accepts: none for public routes, the operator's for operator routes,
    else merchant A's."""
    if not op.get("security"):
        return None
    return app.config["OPERATOR_KEY"] if _operator_only(op) else world.maternity.key


def _path(template, values):
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), template)


def _object_routes(spec):
    for method, path, op in _operations(spec):
        names = re.findall(r"\{(\w+)\}", path)
        if names and op.get("security") and not set(names) <= CALLER_SCOPED:
            yield method, path, op, names


def test_another_merchants_objects_are_indistinguishable_from_missing_ones(api, world, objects):
    spec = _spec(api)
    unknown = {name for _, _, _, names in _object_routes(spec) for name in names} - set(objects) - CALLER_SCOPED
    assert not unknown, f"add a real object for path parameters {unknown} to the `objects` fixture"
    missing = {**dict.fromkeys(objects, 999999), "code": "ZZZZ-ZZZZ-ZZZZZ", "period": "2020-01"}
    before = _table_counts()
    probed = 0
    for method, path, op, _ in _object_routes(spec):
        body = _plausible_body(spec, op)
        theirs = api.call(method.upper(), _path(path, objects), world.outsider.key, json=body,
                          headers={"Idempotency-Key": f"outsider-{probed}"})
        nothing = api.call(method.upper(), _path(path, missing), world.outsider.key, json=body,
                           headers={"Idempotency-Key": f"outsider-missing-{probed}"})
        what = f"{method.upper()} {path}"
        if _operator_only(op):
            assert_problem(theirs, 403, "wrong_key_kind")
        else:
            assert_problem(theirs, 404)
        assert (theirs.status_code, theirs.get_json()["code"]) == \
            (nothing.status_code, nothing.get_json()["code"]), what
        probed += 1
    assert probed >= 30
    assert _table_counts() == before


def test_terminal_keys_are_refused_on_every_merchant_admin_route(api, world, objects):
    spec = _spec(api)
    checked = 0
    for method, path, op in _operations(spec):
        if not op.get("security") or (method, path) in TERMINAL_ROUTES:
            continue
        r = api.call(method.upper(), _path(path, objects), world.maternity.terminal_key,
                     json=_plausible_body(spec, op))
        assert_problem(r, 403, "wrong_key_kind")
        checked += 1
    assert checked >= 40


def test_a_terminal_acts_only_at_its_own_store(api, world, objects, session):
    second = api.post("/api/v1/stores", world.maternity.key,
                      json={"name": "暖暖孕婴坊 二店", "address": "文二路 2 号", "city": "杭州"}).get_json()
    coupon = api.post(f"/api/v1/offers/{world.offer['id']}/coupons", world.stroller.key,
                      json={}).get_json()["items"][0]
    there = api.post("/api/v1/redemptions", world.maternity.key,
                     json={"payload": coupon["payload"], "order_amount": 25000, "store_id": second["id"]},
                     headers={"Idempotency-Key": "second-store-1"})
    assert there.status_code == 201, there.get_json()
    other = api.post(f"/api/v1/offers/{world.offer['id']}/coupons", world.stroller.key, json={}).get_json()
    before = _table_counts()
    till = world.maternity.terminal_key  # a till of the first store
    for r in (api.get(f"/api/v1/redemptions/{there.get_json()['id']}", till),
              api.post(f"/api/v1/redemptions/{there.get_json()['id']}/reversals", till,
                       json={"refund_amount": 100, "reason": "退货"}, headers={"Idempotency-Key": "t-1"})):
        assert r.status_code in (403, 404), r.get_json()
        assert_problem(r, r.status_code)
    r = api.post("/api/v1/redemptions/verify", till, json={"payload": other["items"][0]["payload"],
                                                          "order_amount": 25000, "store_id": second["id"]})
    assert r.status_code in (403, 404)
    outsider_till = world.outsider.terminal_key
    assert_problem(api.get(f"/api/v1/redemptions/{objects['redemption_id']}", outsider_till), 404)
    assert _table_counts() == before


def test_mass_assignment_fields_are_refused_in_every_body(api, app, world, objects, session):
    spec = _spec(api)
    before = _table_counts()
    probed = 0
    for method, path, op in _operations(spec):
        schema = _body_schema(spec, op)
        if schema is None:
            continue
        documented = set(schema.get("properties", {}))
        key = _key_for(op, world, app)
        for field in MASS_ASSIGNMENT:
            if field in documented:
                continue
            body = {**(_plausible_body(spec, op) or {}), field: 1}
            r = api.call(method.upper(), _path(path, objects), key, json=body,
                         headers={"Idempotency-Key": f"mass-{probed}"})
            problem = assert_problem(r, 422)
            assert field in problem.get("errors", {}), (method, path, field, problem)
            probed += 1
    assert probed >= 100
    assert _table_counts() == before
    me = api.get("/api/v1/merchants/me", world.maternity.key).get_json()
    assert me["status"] == "active"


def _text_fields(spec, schema, prefix=()):
    for name, prop in schema.get("properties", {}).items():
        prop = _resolve(spec, prop)
        if prop.get("readOnly"):
            continue
        if prop.get("type") == "string" and "enum" not in prop and "format" not in prop:
            yield prefix + (name,), prop


def test_every_text_field_is_bounded_and_injection_safe(api, app, world, objects, session):
    spec = _spec(api)
    fields = 0
    for method, path, op in _operations(spec):
        schema = _body_schema(spec, op)
        if schema is None:
            continue
        key = _key_for(op, world, app)
        for (name,), prop in _text_fields(spec, schema):
            what = f"{method.upper()} {path} {name}"
            assert prop.get("maxLength"), f"{what}: text without a documented maxLength"
            base = _plausible_body(spec, op) or {}
            r = api.call(method.upper(), _path(path, objects), key,
                         json={**base, name: "x" * (prop["maxLength"] + 1)},
                         headers={"Idempotency-Key": f"long-{fields}"})
            problem = assert_problem(r, 422)
            assert name in problem.get("errors", {}) or path.endswith("/redemptions"), (what, problem)
            for i, injection in enumerate(INJECTIONS):
                r = api.call(method.upper(), _path(path, objects), key, json={**base, name: injection},
                             headers={"Idempotency-Key": f"sqli-{fields}-{i}"})
                assert r.status_code < 500, (what, injection, r.get_data(as_text=True))
                if r.status_code >= 400:
                    assert_problem(r, r.status_code)
            fields += 1
    assert fields >= 10
    # The database is intact and the injected text, where stored, is stored verbatim.
    assert session.scalar(select(func.count()).select_from(Base.metadata.tables["merchants"])) >= 3


@pytest.mark.parametrize("field,length", [("name", 120), ("city", 60)])
def test_text_stored_verbatim_whatever_it_contains(api, field, length):
    for injection in INJECTIONS:
        body = {"name": "乐乐玩具屋", "categories": ["toys"], "price_tier": 2, "scale": "small", "city": "杭州",
                field: injection[:length]}
        r = api.post("/api/v1/merchants", json=body)
        assert r.status_code == 201, r.get_json()
        key = r.get_json()["api_key"]["key"]
        assert api.get("/api/v1/merchants/me", key).get_json()[field] == injection[:length]


def test_jwt_attacks_at_the_till_are_refused_and_write_nothing(api, app, world):
    """The customer page's forgery tests, at verify and redeem, plus the attacks they lack:
    a genuine signature on an expired token, an injected `kid`, and a token signed with the
    exchange's own key but with no coupon in it."""
    import base64
    import json as _json

    import jwt

    from exchange.coupons import tokens
    from exchange.coupons.signing import keyring

    coupon = api.post(f"/api/v1/offers/{world.offer['id']}/coupons", world.stroller.key,
                      json={}).get_json()["items"][0]
    header, payload, signature = coupon["payload"].split(".")
    claims = _json.loads(base64.urlsafe_b64decode(payload + "=="))

    def b64(obj):
        return base64.urlsafe_b64encode(_json.dumps(obj).encode()).decode().rstrip("=")

    with app.app_context():
        current = keyring().current()
        private, kid = current.private_key, current.kid

    def signed(body: dict, **headers):
        return tokens._JWS.encode(_json.dumps(body).encode(), private, algorithm="EdDSA",
                                  headers={"kid": kid, "typ": "cpn", **headers})

    # A genuine signature on an `exp` the exchange never issued for that coupon is unknown_coupon.
    REFUSED = ("invalid_signature", "malformed_payload", "coupon_expired", "unknown_coupon")
    attacks = {
        "alg none": (f"{b64({'alg': 'none', 'typ': 'cpn', 'kid': kid})}.{payload}.", 400),
        "HS256 with the public key": (jwt.encode(claims, current.public_key.public_bytes_raw(), algorithm="HS256",
                                                 headers={"kid": kid, "typ": "cpn"}), 400),
        "injected kid (path)": (f"{b64({'alg': 'EdDSA', 'typ': 'cpn', 'kid': '../../../dev/null'})}."
                                f"{payload}.{signature}", 400),
        "injected kid (SQL)": (f"{b64({'alg': 'EdDSA', 'typ': 'cpn', 'kid': kid + chr(39) + ' OR 1=1 --'})}."
                               f"{payload}.{signature}", 400),
        "kid as an object": (f"{b64({'alg': 'EdDSA', 'typ': 'cpn', 'kid': {'$ne': ''}})}.{payload}.{signature}", 400),
        "wrong typ, genuine signature": (signed(claims, typ="JWT"), 400),
        "expired, genuine signature": (signed({**claims, "exp": 1_000_000_000}), 410),
        "no coupon claim, genuine signature": (signed({"exp": claims["exp"]}), 400),
        "tampered coupon id": (f"{header}.{b64({**claims, 'c': claims['c'] + 1})}.{signature}", 400),
    }
    till = world.maternity.terminal_key
    for what, (token, _status) in attacks.items():
        r = api.post("/api/v1/redemptions/verify", till, json={"payload": token, "order_amount": 25000})
        assert r.status_code == 200 and r.get_json()["valid"] is False, (what, r.get_json())
        assert r.get_json()["code"] in REFUSED, (what, r.get_json())
        r = api.post("/api/v1/redemptions", till, json={"payload": token, "order_amount": 25000},
                     headers={"Idempotency-Key": f"jwt-{what}"})
        assert 400 <= r.status_code < 500, (what, r.get_json())
        assert assert_problem(r, r.status_code)["code"] in REFUSED, (what, r.get_json())
    assert api.get("/api/v1/redemptions?role=owner", world.maternity.key).get_json()["items"] == []
    # The genuine coupon still works after all that.
    r = api.post("/api/v1/redemptions", till, json={"payload": coupon["payload"], "order_amount": 25000},
                 headers={"Idempotency-Key": "jwt-genuine"})
    assert r.status_code == 201


# Beyond the integer range of either database (PostgreSQL int4, SQLite int64) and of JSON's exact
# integers: found by probing, a validly signed token naming such an id was a 500.
OUT_OF_RANGE = (2**31, 2**32 + 1, 2**63, 2**64 + 7, 10**30)


def test_out_of_range_ids_in_signed_tokens_are_refused_not_a_server_error(api, app, world):
    import json as _json

    from exchange.coupons import tokens
    from exchange.coupons.signing import keyring

    with app.app_context():
        current = keyring().current()
    till = world.maternity.terminal_key
    for typ, claim in (("cpn", "c"), ("cpk", "p")):
        for big in OUT_OF_RANGE:
            token = tokens._JWS.encode(_json.dumps({claim: big, "exp": 4_000_000_000}).encode(),
                                       current.private_key, algorithm="EdDSA",
                                       headers={"kid": current.kid, "typ": typ})
            verify = api.post("/api/v1/redemptions/verify", till, json={"payload": token, "order_amount": 25000})
            assert verify.status_code == 200 and verify.get_json()["code"] == "unknown_coupon", verify.get_json()
            redeem = api.post("/api/v1/redemptions", till, json={"payload": token, "order_amount": 25000},
                              headers={"Idempotency-Key": f"big-{typ}-{big}"})
            assert_problem(redeem, 404, "unknown_coupon")
            assert_problem(api.get(f"/c/{token}", headers={"Accept": "application/json"}), 404, "unknown_coupon")
            assert 400 <= api.get(f"/c/{token}").status_code < 500  # the "not a valid coupon" page
            assert_problem(api.get(f"/c/{token}/qr.png"), 404, "unknown_coupon")


def test_out_of_range_ids_in_paths_queries_and_bodies_are_refused(api, app, world, objects):
    spec = _spec(api)
    checked = {"path": set(), "query": set(), "body": set()}
    for method, path, op in _operations(spec):
        key = _key_for(op, world, app)
        id_params = [n for n in re.findall(r"\{(\w+)\}", path) if n.endswith("_id")]
        for name in id_params:
            for big in OUT_OF_RANGE:
                r = api.call(method.upper(), _path(path, {**objects, name: big}), key,
                             json=_plausible_body(spec, op), headers={"Idempotency-Key": f"p-{big}"})
                assert_problem(r, 404)
                checked["path"].add(name)
        concrete = _path(path, objects)
        for param in op.get("parameters", []):
            if param.get("in") == "query" and param.get("schema", {}).get("type") == "integer":
                for big in OUT_OF_RANGE:
                    r = api.call(method.upper(), f"{concrete}?{param['name']}={big}", key)
                    assert_problem(r, 422)
                    checked["query"].add(param["name"])
        schema = _body_schema(spec, op)
        for name, prop in (schema or {}).get("properties", {}).items():
            prop = _resolve(spec, prop)
            is_id = name.endswith("_id") and prop.get("type") == "integer"
            is_ids = name.endswith("_ids") and prop.get("type") == "array"
            for big in OUT_OF_RANGE if is_id or is_ids else ():
                body = {**(_plausible_body(spec, op) or {}), name: [big, 1] if is_ids else big}
                r = api.call(method.upper(), concrete, key, json=body, headers={"Idempotency-Key": f"b-{big}"})
                assert r.status_code < 500, (method, path, name, r.get_data(as_text=True))
                if r.status_code != 403:  # a route this key may not use refuses before it reads the body
                    body = assert_problem(r, 422)
                    assert name in body.get("errors", {}), (method, path, body)
                    checked["body"].add(name)
    assert {"offer_id", "redemption_id", "store_id", "merchant_id"} <= checked["path"], checked
    assert {"after", "offer_id"} <= checked["query"], checked
    assert {"partner_id", "store_id", "offer_ids"} <= checked["body"], checked


def test_the_till_pairing_routes_are_in_the_matrix(api):
    """Making a pairing is a merchant's (a till cannot pair more tills); the exchange of a code
    is public, so it is held to the body rules above and rate limited per address."""
    spec = _spec(api)
    pairing = spec["paths"]["/api/v1/stores/{store_id}/till-pairings"]["post"]
    assert pairing["x-key-kinds"] == ["merchant"] and ("post", "/api/v1/stores/{store_id}/till-pairings") \
        in {(m, p) for m, p, _, _ in _object_routes(spec)}
    exchange = spec["paths"]["/api/v1/till-pairings/exchange"]["post"]
    assert not exchange.get("security") and "429" in exchange["responses"]
    assert _body_schema(spec, exchange)["additionalProperties"] is False


# Failed authentication is throttled per client address (docs/operations.md), at the default
# limit of a real server, not the testing one.
ATTACKER, CASHIER = {"REMOTE_ADDR": "10.66.0.1"}, {"REMOTE_ADDR": "10.77.0.2"}


@pytest.fixture
def default_auth_failure_limit(app, monkeypatch):
    from config import load_config
    from exchange.extensions import limiter

    value = load_config({})["AUTH_FAILURE_RATE_LIMIT"]
    monkeypatch.setitem(app.config, "AUTH_FAILURE_RATE_LIMIT", value)
    limiter.reset()
    yield int(value.split()[0])
    limiter.reset()


def _throttled(responses, allowed: int):
    """The first `allowed` failures are 401s; every later one is refused before its key is checked."""
    assert [r.status_code for r in responses[:allowed]] == [401] * allowed
    for r in responses[allowed:]:
        assert_problem(r, 429, "authentication_throttled")
        assert 0 < int(r.headers["Retry-After"]) <= 60
        assert "WWW-Authenticate" not in r.headers


def test_300_wrong_operator_keys_are_throttled(api, app, world, default_auth_failure_limit):
    suspend = f"/api/v1/operator/merchants/{world.outsider.id}/suspend"
    guesses = [api.post(suspend, f"op_guess_{i:04d}_operator_key_xx", environ_base=ATTACKER) for i in range(300)]
    _throttled(guesses, default_auth_failure_limit)
    # Throttled, the address gets nothing for the right key either: guessing from it gains nothing.
    assert_problem(api.post(suspend, app.config["OPERATOR_KEY"], environ_base=ATTACKER), 429,
                   "authentication_throttled")
    assert api.get("/api/v1/merchants/me", world.outsider.key).get_json()["status"] == "active"
    # The operator's own address is not affected.
    assert api.post(suspend, app.config["OPERATOR_KEY"], environ_base=CASHIER).status_code == 200


def test_300_wrong_merchant_keys_are_throttled_without_locking_the_real_key_out(
        api, world, default_auth_failure_limit):
    till = world.maternity.terminal_key
    real_id = till.split("_")[1]
    wrong = ([f"tk_{real_id}_{'A' * 43}", f"mk_{real_id}_{'B' * 43}", "mk_999999_" + "C" * 43,
              "not-a-key", "mk_1_short"] * 60)
    guesses = [api.get("/api/v1/merchants/me", key, environ_base=ATTACKER) for key in wrong]
    _throttled(guesses, default_auth_failure_limit)
    assert_problem(api.get("/api/v1/merchants/me", world.maternity.key, environ_base=ATTACKER), 429,
                   "authentication_throttled")
    # Nothing was counted against the key whose id the guesses named: the till, elsewhere, works.
    coupon = api.post(f"/api/v1/offers/{world.offer['id']}/coupons", world.stroller.key,
                      json={}).get_json()["items"][0]
    r = api.post("/api/v1/redemptions", till, json={"payload": coupon["payload"], "order_amount": 25000},
                 headers={"Idempotency-Key": "after-the-guessing"}, environ_base=CASHIER)
    assert r.status_code == 201, r.get_json()
    assert api.get("/api/v1/merchants/me", world.maternity.key, environ_base=CASHIER).status_code == 200


def test_requests_without_a_key_and_correct_keys_are_not_counted(api, world, default_auth_failure_limit):
    for _ in range(default_auth_failure_limit + 10):
        assert_problem(api.get("/api/v1/merchants/me", environ_base=ATTACKER), 401, "missing_key")
        assert api.get("/api/v1/merchants/me", world.maternity.key, environ_base=ATTACKER).status_code == 200
    # Still below the limit: one wrong key is an ordinary 401.
    assert_problem(api.get("/api/v1/merchants/me", "mk_1_" + "x" * 43, environ_base=ATTACKER), 401, "invalid_key")


def test_the_throttle_can_be_switched_off(api, app, world, default_auth_failure_limit, monkeypatch):
    monkeypatch.setitem(app.config, "AUTH_FAILURE_RATE_LIMIT", "off")
    statuses = {api.get("/api/v1/merchants/me", "not-a-key", environ_base=ATTACKER).status_code
                for _ in range(default_auth_failure_limit + 5)}
    assert statuses == {401}


def test_a_throttled_address_is_told_its_own_wait_not_the_routes_limit(api, app, world, default_auth_failure_limit,
                                                                       monkeypatch):
    # Verify has limits of its own (an hour's window here); the wait that matters is the throttle's.
    monkeypatch.setitem(app.config, "REDEMPTION_RATE_LIMIT", "1000 per hour")
    monkeypatch.setitem(app.config, "REDEMPTION_IP_RATE_LIMIT", "off")
    scan = {"payload": "ABCD-EFGH-JKMNP", "order_amount": 25000}
    for _ in range(default_auth_failure_limit):
        api.post("/api/v1/redemptions/verify", "not-a-key", json=scan, environ_base=ATTACKER)
    r = api.post("/api/v1/redemptions/verify", world.maternity.terminal_key, json=scan, environ_base=ATTACKER)
    assert_problem(r, 429, "authentication_throttled")
    assert 0 < int(r.headers["Retry-After"]) <= 60


def test_each_merchant_reads_only_its_own_events_and_a_distributor_never_the_owners_order_ref(
        api, world, objects):
    """SPEC §9: A's feed never holds B's events; the distributor's view of a redemption (the
    `objects` fixture redeems with order_ref "A-1") carries no order reference of the owner."""
    from exchange.events.relay import relay

    relay()
    feeds = {actor.id: api.get("/api/v1/events", actor.key, query_string={"limit": 500}).get_json()["items"]
             for actor in (world.maternity, world.stroller, world.outsider)}
    for merchant_id, events in feeds.items():
        assert {e["merchant_id"] for e in events} <= {merchant_id}
    ids = [{e["id"] for e in events} for events in feeds.values()]
    assert not (ids[0] & ids[1]) and not ids[2]
    owner = [e for e in feeds[world.maternity.id] if e["type"] == "coupon.redeemed"]
    distributor = [e for e in feeds[world.stroller.id] if e["type"] == "coupon.redeemed"]
    assert owner[0]["data"]["order_ref"] == "A-1" and distributor
    assert "A-1" not in str([e["data"] for e in feeds[world.stroller.id]])
    assert all("order_ref" not in e["data"] and "store_id" not in e["data"] for e in distributor)
    # Another merchant's event id is no cursor: the same answer as a made-up one.
    theirs = api.get("/api/v1/events", world.outsider.key, query_string={"after": owner[0]["id"]})
    made_up = api.get("/api/v1/events", world.outsider.key, query_string={"after": "evt_" + "0" * 26})
    assert (theirs.status_code, theirs.get_json()) == (made_up.status_code, made_up.get_json())
