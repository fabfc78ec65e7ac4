"""Fixtures shared by the API tests: pytest finds them here, no test module imports another's."""

from __future__ import annotations

import pytest

from tests.helpers import Month, at, make_offer, partner_up


@pytest.fixture
def month(api, app) -> Month:
    """The three partners' October (used by the settlement, statement-file and suspension tests)."""
    at("2026-10-05T10:00:00+08:00")
    stroller = api.register("贝贝童车馆", categories=["stroller"])
    maternity = api.register("暖暖孕婴坊", categories=["maternity", "baby_care"])
    toys = api.register("乐乐玩具屋", categories=["toys"])
    partner_up(api, stroller, maternity, rate_bps=500)
    partner_up(api, toys, stroller, rate_bps=1000)
    partner_up(api, maternity, toys, rate_bps=800)
    until = "2027-06-30T23:59:59+08:00"
    offers = {m.id: make_offer(api, m, valid_until=until, min_spend=0, allow_free_order=True)
              for m in (stroller, maternity, toys)}
    return Month(api, app.config["OPERATOR_KEY"], stroller, maternity, toys, offers)
