"""Partner suggestions: complementary, ranked explainably, never a competitor (SPEC §1)."""

from sqlalchemy import select

from exchange.merchants.models import Merchant
from exchange.partners import matching
from tests.helpers import assert_problem


def _suggest(api, actor, **query):
    r = api.get("/api/v1/partner-suggestions", actor.key, query_string=query)
    assert r.status_code == 200, r.get_json()
    return r.get_json()["items"]


def _names(items):
    return [i["merchant"]["name"] for i in items]


def _demo_world(api):
    return {
        "stroller": api.register("贝贝童车馆", categories=["stroller"]),
        "maternity": api.register("暖暖孕婴坊", categories=["maternity", "baby_care"]),
        "hardware": api.register("老周五金", categories=["hardware"], price_tier=2, scale="micro"),
        "decor": api.register("栖居家装", categories=["home_decoration"]),
        "toys": api.register("乐乐玩具屋", categories=["toys"], price_tier=2),
        "rival": api.register("宝宝行童车", categories=["stroller"]),
    }


def test_stroller_shop_is_offered_the_maternity_store_never_its_competitor(api):
    world = _demo_world(api)
    items = _suggest(api, world["stroller"])
    names = _names(items)
    assert names[0] == "暖暖孕婴坊"
    assert "乐乐玩具屋" in names
    assert "宝宝行童车" not in names and "贝贝童车馆" not in names
    assert "老周五金" not in names and "栖居家装" not in names


def test_hardware_shop_is_offered_home_decoration(api):
    world = _demo_world(api)
    assert _names(_suggest(api, world["hardware"])) == ["栖居家装"]


def test_reasons_explain_the_score(api):
    world = _demo_world(api)
    top = _suggest(api, world["stroller"])[0]
    assert top["score"] == 45 + 20 + 20 + 15
    assert top["reasons"] == [
        "their category baby_care complements your category stroller",
        "their category maternity complements your category stroller",
        "same price tier", "same city", "same scale"]


def test_competing_category_relation_excludes_a_merchant(api):
    hardware = api.register("五金店", categories=["hardware"])
    api.register("建材店", categories=["building_materials", "home_decoration"])
    api.register("家装店", categories=["home_decoration"])
    assert _names(_suggest(api, hardware)) == ["家装店"]


def test_ranking_on_hand_built_cases(api):
    me = api.register("我", categories=["stroller"], price_tier=3, scale="small", city="杭州")
    api.register("far-tier", categories=["toys"], price_tier=5, scale="small", city="杭州")        # 30+0+20+15=65
    api.register("two-cats", categories=["maternity", "toys"], price_tier=3, scale="large",
                 city="上海")                                                                    # 45+20+0+0=65
    api.register("exact", categories=["baby_formula"], price_tier=3, scale="small", city="杭州")  # 30+20+20+15=85
    api.register("near", categories=["kids_clothing"], price_tier=4, scale="medium", city="杭州")  # 30+10+20+8=68
    api.register("unrelated", categories=["gym"], price_tier=3, scale="small", city="杭州")
    items = _suggest(api, me)
    assert [(i["merchant"]["name"], i["score"]) for i in items] == [
        ("exact", 85), ("near", 68), ("far-tier", 65), ("two-cats", 65)]


def test_city_filter_and_limit(api):
    me = api.register("我", categories=["stroller"])
    for i in range(4):
        api.register(f"杭州 {i}", categories=["toys"], city="杭州")
    api.register("上海 1", categories=["toys"], city="上海")
    assert _names(_suggest(api, me, city="上海")) == ["上海 1"]
    assert len(_suggest(api, me, limit=2)) == 2
    assert_problem(api.get("/api/v1/partner-suggestions", me.key, query_string={"limit": 0}), 422)
    assert_problem(api.get("/api/v1/partner-suggestions", me.key, query_string={"limit": 51}), 422)
    assert_problem(api.get("/api/v1/partner-suggestions", me.key, query_string={"limit": "x"}), 422)


def test_suspended_merchants_are_never_suggested(api, app):
    me = api.register("我", categories=["stroller"])
    other = api.register("暂停的孕婴店", categories=["maternity"])
    api.post(f"/api/v1/operator/merchants/{other.id}/suspend", app.config["OPERATOR_KEY"])
    assert "暂停的孕婴店" not in _names(_suggest(api, me))


def test_live_partners_are_not_suggested_but_former_ones_are(api):
    me = api.register("我", categories=["stroller"])
    other = api.register("孕婴店", categories=["maternity"])
    r = api.post("/api/v1/partnerships", me.key, json={
        "partner_id": other.id, "commission": {"type": "percent", "rate_bps": 500}, "currency": "CNY"})
    pid = r.get_json()["id"]
    assert "孕婴店" not in _names(_suggest(api, me))
    assert "我" not in _names(_suggest(api, other))
    api.post(f"/api/v1/partnerships/{pid}/accept", other.key)
    api.post(f"/api/v1/partnerships/{pid}/pause", other.key)
    assert "孕婴店" not in _names(_suggest(api, me))
    api.post(f"/api/v1/partnerships/{pid}/terminate", me.key)
    assert "孕婴店" in _names(_suggest(api, me))


def test_sql_ranking_agrees_with_the_pure_formula(api, session):
    me = api.register("我", categories=["stroller", "toys"], price_tier=3, scale="medium", city="杭州")
    combos = [(t, s, c) for t in (1, 3, 4) for s in ("micro", "medium", "large") for c in ("杭州", "苏州")]
    for n, (tier, scale, city) in enumerate(combos):
        cats = ["maternity", "kids_clothing"] if n % 2 else ["baby_formula"]
        api.register(f"候选 {n}", categories=cats, price_tier=tier, scale=scale, city=city)
    items = _suggest(api, me, limit=50)
    assert len(items) == len(combos)
    mine = matching.Profile(3, "medium", "杭州")
    for item in items:
        m = session.scalar(select(Merchant).where(Merchant.id == item["merchant"]["id"]))
        complementing = len(set(m.category_ids) & {"maternity", "kids_clothing", "baby_formula"})
        assert item["score"] == matching.score(mine, matching.Profile(m.price_tier, m.scale, m.city),
                                               complementing)
    scores = [i["score"] for i in items]
    assert scores == sorted(scores, reverse=True)


def test_terminal_keys_cannot_ask_for_suggestions(api, merchant):
    assert_problem(api.get("/api/v1/partner-suggestions", merchant.terminal_key), 403)


def test_profile_changes_reach_the_suggestions_at_once(api, app):
    me = api.register("我", categories=["stroller"], city="杭州")
    other = api.register("孕婴店", categories=["maternity"], city="杭州")
    assert _names(_suggest(api, me, city="杭州")) == ["孕婴店"]
    api.patch("/api/v1/merchants/me", other.key, json={"city": "上海"})
    assert _names(_suggest(api, me, city="杭州")) == []
    assert _names(_suggest(api, me, city="上海")) == ["孕婴店"]
    api.patch("/api/v1/merchants/me", other.key, json={"categories": ["maternity", "stroller"]})
    assert _names(_suggest(api, me)) == []
    api.patch("/api/v1/merchants/me", other.key, json={"categories": ["baby_formula"]})
    assert _names(_suggest(api, me)) == ["孕婴店"]
    api.post(f"/api/v1/operator/merchants/{other.id}/suspend", app.config["OPERATOR_KEY"])
    assert _names(_suggest(api, me)) == []
    api.post(f"/api/v1/operator/merchants/{other.id}/reinstate", app.config["OPERATOR_KEY"])
    assert _names(_suggest(api, me)) == ["孕婴店"]


def test_a_merchant_with_many_matching_categories_is_listed_once(api):
    me = api.register("我", categories=["stroller"])
    api.register("全能母婴", categories=["maternity", "baby_care", "baby_formula", "toys", "kids_clothing"])
    items = _suggest(api, me, limit=1)
    assert _names(items) == ["全能母婴"] and items[0]["score"] == 100
