from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ..http.auth import current_principal, requires
from . import catalog, conflicts, limits
from .schemas import CatalogSchema, ConflictPageSchema, ConflictQuerySchema, RiskLimitsInSchema, RiskLimitsSchema

blp = Blueprint("offline", __name__, url_prefix="/api/v1",
                description="The till's offline mode: its catalog, the store's risk limits, conflicts at sync")


@blp.route("/till/catalog")
class TillCatalog(MethodView):
    @requires("terminal")
    @blp.response(200, CatalogSchema)
    def get(self):
        """What the till caches to verify coupons offline: offers redeemable at its store, the
        partnerships in force, usable coupon ids and the store's risk limits."""
        return catalog.catalog(current_principal())


@blp.route("/stores/<id:store_id>/risk-limits")
class RiskLimits(MethodView):
    @requires("merchant")
    @blp.response(200, RiskLimitsSchema)
    def get(self, store_id):
        """The store's offline risk limits (the defaults until set)."""
        return limits.get_limits(current_principal(), store_id)

    @requires("merchant")
    @blp.arguments(RiskLimitsInSchema)
    @blp.response(200, RiskLimitsSchema)
    def put(self, body, store_id):
        """Set the store's offline risk limits; a field left out keeps its value."""
        return limits.set_limits(current_principal(), store_id, body)

    @requires("merchant")
    @blp.response(204)
    def delete(self, store_id):
        """Back to the defaults."""
        limits.reset_limits(current_principal(), store_id)


@blp.route("/offline-conflicts")
class OfflineConflicts(MethodView):
    @requires("merchant")
    @blp.arguments(ConflictQuerySchema, location="query")
    @blp.response(200, ConflictPageSchema)
    def get(self, query):
        """Redemptions your tills accepted offline that the exchange refused at sync (a coupon
        spent twice, a limit passed), oldest first."""
        page = conflicts.list_conflicts(current_principal(), query["store_id"], query["after"], query["limit"])
        return {"items": page, "next_after": page[-1].id if len(page) == query["limit"] else None}
