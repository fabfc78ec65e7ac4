from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ..http.auth import current_principal, requires
from ..http.routing import add_view
from . import services
from .schemas import (
    PartnershipListSchema,
    PartnershipQuerySchema,
    PartnershipSchema,
    ProposalSchema,
    SuggestionListSchema,
    SuggestionQuerySchema,
    TermsOutSchema,
    TermsSchema,
)
from .suggestions import suggest_partners

blp = Blueprint("partners", __name__, url_prefix="/api/v1",
                description="Partner suggestions and CPS partnerships")


@blp.route("/partner-suggestions")
class Suggestions(MethodView):
    @requires("merchant")
    @blp.arguments(SuggestionQuerySchema, location="query")
    @blp.response(200, SuggestionListSchema)
    def get(self, query):
        """Complementary merchants to partner with, best first; never a competitor, never a
        merchant you already have a live partnership with."""
        return {"items": suggest_partners(current_principal().merchant_id, **query)}


@blp.route("/partnerships")
class Partnerships(MethodView):
    @requires("merchant")
    @blp.arguments(PartnershipQuerySchema, location="query")
    @blp.response(200, PartnershipListSchema)
    def get(self, query):
        """Your partnerships, optionally by status."""
        return {"items": services.list_partnerships(current_principal(), query.get("status"))}

    @requires("merchant")
    @blp.arguments(ProposalSchema)
    @blp.response(201, PartnershipSchema)
    def post(self, body):
        """Propose a partnership with CPS terms; the other merchant accepts or declines it."""
        partner_id = body.pop("partner_id")
        return services.propose_partnership(current_principal(), partner_id, body)


@blp.route("/partnerships/<id:partnership_id>")
class PartnershipView(MethodView):
    @requires("merchant")
    @blp.response(200, PartnershipSchema)
    def get(self, partnership_id):
        """One of your partnerships with its whole terms history."""
        return services.get_partnership(current_principal(), partnership_id)


def _move_route(action: str, summary: str) -> None:
    @requires("merchant")
    @blp.response(200, PartnershipSchema)
    def post(self, partnership_id):
        return services.move_partnership(current_principal(), partnership_id, action)

    add_view(blp, f"/partnerships/<id:partnership_id>/{action}", f"Partnership{action.title()}", post, summary)


_move_route("accept", "Accept a proposal made to you: the partnership becomes active.")
_move_route("decline", "Decline a proposal made to you.")
_move_route("pause", "Pause an active partnership (coupons are not redeemable meanwhile).")
_move_route("resume", "Resume a partnership you paused.")
_move_route("terminate", "End a partnership for good (the proposer may also withdraw a proposal).")


@blp.route("/partnerships/<id:partnership_id>/terms")
class Terms(MethodView):
    @requires("merchant")
    @blp.arguments(TermsSchema)
    @blp.response(201, TermsOutSchema)
    def post(self, body, partnership_id):
        """Propose new terms for an active partnership; they replace the current terms from the
        moment the other side accepts them (earlier redemptions keep their old terms)."""
        return services.propose_terms(current_principal(), partnership_id, body)


def _terms_route(action: str, summary: str) -> None:
    @requires("merchant")
    @blp.response(200, TermsOutSchema)
    def post(self, partnership_id, version):
        return services.decide_terms(current_principal(), partnership_id, version, action)

    add_view(blp, f"/partnerships/<id:partnership_id>/terms/<id:version>/{action}", f"Terms{action.title()}",
             post, summary)


_terms_route("accept", "Accept new terms proposed to you: they are in force from now on.")
_terms_route("decline", "Decline new terms proposed to you; the current terms stay.")
_terms_route("withdraw", "Withdraw new terms you proposed.")
