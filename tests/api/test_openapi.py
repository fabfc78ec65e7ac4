import re


def test_openapi_document_describes_every_route(api, app):
    spec = api.get("/openapi.json").get_json()
    assert spec["info"]["title"] == "Partner Coupon Exchange"
    documented = set(spec["paths"])
    undocumented = {"/openapi.json", "/docs", "/docs/static/<path:filename>", "/static/<path:filename>",
                    # The till app's HTML and static files (tests/api/test_till_app.py), not API.
                    "/till", "/till/", "/till/sw.js", "/till/<path:filename>"}
    for rule in app.url_map.iter_rules():
        if rule.rule in undocumented:
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        assert path in documented, path


def test_errors_are_documented_as_problem_json(api):
    spec = api.get("/openapi.json").get_json()
    default = spec["components"]["responses"]["DEFAULT_ERROR"]
    assert "application/problem+json" in default["content"]
    schema = spec["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "code"} <= set(schema["properties"])


def test_common_refusals_are_documented(api):
    spec = api.get("/openapi.json").get_json()
    store = spec["paths"]["/api/v1/stores/{store_id}"]["get"]
    assert "404" in store["responses"] and "401" in store["responses"]
    param = store["parameters"][0] if "parameters" in store else \
        spec["paths"]["/api/v1/stores/{store_id}"]["parameters"][0]
    assert param["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
    create = spec["paths"]["/api/v1/stores"]["post"]["responses"]
    assert {"400", "413", "415", "422"} <= set(create)
    assert "/healthz" in spec["paths"]


def test_authenticated_routes_declare_bearer_security(api):
    spec = api.get("/openapi.json").get_json()
    assert spec["paths"]["/api/v1/stores"]["get"]["security"] == [{"bearer": []}]
    assert spec["paths"]["/api/v1/merchants"]["post"]["security"] == []  # public, explicitly


def test_docs_ui_is_served_without_a_cdn(api):
    page = api.get("/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/docs/static/swagger-ui-bundle.js" in html
    assert api.get("/docs/static/swagger-ui-bundle.js").status_code == 200


# Found by the schemathesis run (tests/api/test_fuzz_openapi.py):

def test_problem_extension_members_are_documented_as_allowed(api, world):
    """RFC 9457 §3.2: a 409 carries `current_status`; the document must not forbid it."""
    schema = api.get("/openapi.json").get_json()["components"]["schemas"]["Problem"]
    assert schema.get("additionalProperties") is not False
    partnership = api.get("/api/v1/partnerships", world.stroller.key).get_json()["items"][0]
    r = api.post(f"/api/v1/partnerships/{partnership['id']}/accept", world.maternity.key)
    assert r.status_code == 409 and "current_status" in r.get_json()


def test_customer_page_documents_its_html_refusal(api):
    spec = api.get("/openapi.json").get_json()
    for path in ("/c/{token}", "/C/{token}"):
        content = spec["paths"][path]["get"]["responses"]["400"]["content"]
        assert {"text/html", "application/problem+json"} <= set(content), path
    assert api.get("/C/not-a-token").status_code == 400


def test_unknown_query_parameters_are_refused_as_documented(api, merchant):
    from tests.helpers import assert_problem

    for path in ("/api/v1/partnerships?stauts=active", "/api/v1/offers?rolee=distributor",
                 "/api/v1/redemptions?role=owner&form=2026-01-01"):
        body = assert_problem(api.get(path, merchant.key), 422, "validation_failed")
        assert body["errors"], path
    assert api.get("/api/v1/offers?role=distributor", merchant.key).status_code == 200


def test_each_argument_schema_is_built_once_and_shared_by_every_request(app):
    from concurrent.futures import ThreadPoolExecutor

    from flask_smorest import Blueprint

    from exchange.redemptions.schemas import RedeemSchema, ScanSchema

    get_schema = Blueprint.ARGUMENTS_PARSER._get_schema
    shared = get_schema(RedeemSchema, None)
    assert get_schema(RedeemSchema, None) is shared
    assert get_schema(ScanSchema, None) is not shared
    # The one instance keeps nothing from one load to the next, in any thread.
    bodies = [{"payload": f"p{n}", "order_amount": n + 1} for n in range(200)]
    with ThreadPoolExecutor(8) as pool:
        loaded = list(pool.map(shared.load, bodies))
    assert [(b["payload"], b["order_amount"]) for b in loaded] == [(b["payload"], b["order_amount"]) for b in bodies]
