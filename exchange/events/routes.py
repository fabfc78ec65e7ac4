from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ..http.auth import current_principal, requires
from . import feed
from .schemas import EventPageSchema, EventQuerySchema

blp = Blueprint("events", __name__, url_prefix="/api/v1",
                description="What happened to your coupons, partnerships and money (docs/webhooks.md)")


@blp.route("/events")
class Events(MethodView):
    @requires("merchant")
    @blp.arguments(EventQuerySchema, location="query")
    @blp.response(200, EventPageSchema)
    def get(self, query):
        """Your events, oldest first; `after` (the last id you saw) catches up after downtime. The
        same events your webhook endpoints are sent."""
        page = feed.list_events(current_principal(), query["after"], query["types"], query["limit"])
        return {"items": page,
                "next_after": page[-1].id if page else query["after"],
                "has_more": len(page) == query["limit"]}
