from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ..http.auth import current_principal, requires
from ..http.routing import add_view
from . import services
from .schemas import OfferCreateSchema, OfferListSchema, OfferQuerySchema, OfferSchema

blp = Blueprint("offers", __name__, url_prefix="/api/v1", description="Offers partners hand out")


@blp.route("/offers")
class Offers(MethodView):
    @requires("merchant")
    @blp.arguments(OfferQuerySchema, location="query")
    @blp.response(200, OfferListSchema)
    def get(self, query):
        """Offers you own (`role=owner`), or offers your partners let you hand out
        (`role=distributor`)."""
        return {"items": services.list_offers(current_principal(), query["role"])}

    @requires("merchant")
    @blp.arguments(OfferCreateSchema)
    @blp.response(201, OfferSchema)
    def post(self, body):
        """Create an offer redeemable at your stores, for your partners to hand out."""
        return services.create_offer(current_principal(), body)


@blp.route("/offers/<id:offer_id>")
class OfferView(MethodView):
    @requires("merchant")
    @blp.response(200, OfferSchema)
    def get(self, offer_id):
        """An offer you own or may hand out."""
        return services.visible_offer(current_principal(), offer_id)


def _move_route(action: str, summary: str) -> None:
    @requires("merchant")
    @blp.response(200, OfferSchema)
    def post(self, offer_id):
        return services.move_offer(current_principal(), offer_id, action)

    add_view(blp, f"/offers/<id:offer_id>/{action}", f"Offer{action.title()}", post, summary)


_move_route("pause", "Owner: stop issuing and redeeming this offer for now.")
_move_route("resume", "Owner: resume a paused offer.")
_move_route("end", "Owner: end the offer for good; it issues nothing more.")
