from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ..http.auth import current_principal, requires
from . import erasure
from .schemas import ErasureRequestSchema, ErasureSchema

blp = Blueprint("customers", __name__, url_prefix="/api/v1",
                description="A customer's right to erasure (docs/operations.md)")


@blp.route("/customer-erasures")
class CustomerErasures(MethodView):
    @requires("operator", "merchant")
    @blp.arguments(ErasureRequestSchema)
    @blp.response(200, ErasureSchema)
    def post(self, body):
        """Forget a customer: the pseudonym of `customer_ref` is removed from every coupon,
        redemption and limit counter (a merchant: of the coupons it handed out). Redemptions,
        amounts and the ledger stay; the customer's redemptions count as anonymous from now on.
        Safe to repeat."""
        return erasure.erase_customer(current_principal(), body["customer_ref"])
