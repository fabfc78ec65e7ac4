import re


def test_openapi_document_describes_every_route(api, app):
    spec = api.get("/openapi.json").get_json()
    assert spec["info"]["title"] == "Partner Coupon Exchange"
    documented = {path for path in spec["paths"]}
    undocumented = {"/openapi.json", "/docs", "/docs/static/<path:filename>", "/static/<path:filename>"}
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
    assert "security" not in spec["paths"]["/api/v1/merchants"]["post"]


def test_docs_ui_is_served_without_a_cdn(api):
    page = api.get("/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/docs/static/swagger-ui-bundle.js" in html
    assert api.get("/docs/static/swagger-ui-bundle.js").status_code == 200
