from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ..http.auth import current_principal, requires
from ..http.ratelimits import per_address
from ..http.routing import add_view
from . import services
from .schemas import (
    ApiKeySchema,
    KeyCreateSchema,
    MerchantCreateSchema,
    MerchantSchema,
    MerchantUpdateSchema,
    NewApiKeySchema,
    RegistrationSchema,
    StoreCreateSchema,
    StoreSchema,
    list_schema,
)

blp = Blueprint("merchants", __name__, url_prefix="/api/v1",
                description="Merchants, their stores, API keys and cashier terminal keys")


@blp.route("/merchants")
class Merchants(MethodView):
    decorators = per_address("REGISTRATION_RATE_LIMIT")

    @blp.arguments(MerchantCreateSchema)
    @blp.response(201, RegistrationSchema)
    @blp.alt_response(429, response="TOO_MANY_REQUESTS", description="rate_limited (per client address)")
    def post(self, body):
        """Register a merchant; the API key in the answer is shown only this once."""
        merchant, issued = services.register_merchant(**body)
        return {"merchant": merchant, "api_key": issued}


@blp.route("/merchants/me")
class Me(MethodView):
    @requires("merchant")
    @blp.response(200, MerchantSchema)
    def get(self):
        """Your merchant profile."""
        return services.get_merchant(current_principal().merchant_id)

    @requires("merchant")
    @blp.arguments(MerchantUpdateSchema)
    @blp.response(200, MerchantSchema)
    def patch(self, body):
        """Change your profile."""
        return services.update_merchant(current_principal(), body)


@blp.route("/merchants/me/api-keys")
class MerchantKeys(MethodView):
    @requires("merchant")
    @blp.response(200, list_schema(ApiKeySchema))
    def get(self):
        """Your merchant API keys (never their secrets)."""
        return {"items": services.list_merchant_keys(current_principal())}

    @requires("merchant")
    @blp.arguments(KeyCreateSchema, required=False)
    @blp.response(201, NewApiKeySchema)
    def post(self, body):
        """Create another merchant key (rotate: create, switch, then revoke the old one)."""
        return services.create_merchant_key(current_principal(), body["label"])


@blp.route("/merchants/me/api-keys/<id:key_id>")
class MerchantKey(MethodView):
    @requires("merchant")
    @blp.response(204)
    def delete(self, key_id):
        """Revoke a merchant key at once. Your last active key cannot be revoked."""
        services.revoke_merchant_key(current_principal(), key_id)


@blp.route("/stores")
class Stores(MethodView):
    @requires("merchant")
    @blp.response(200, list_schema(StoreSchema))
    def get(self):
        """Your physical stores."""
        return {"items": services.list_stores(current_principal())}

    @requires("merchant")
    @blp.arguments(StoreCreateSchema)
    @blp.response(201, StoreSchema)
    def post(self, body):
        """Add a physical store, where cashiers redeem coupons."""
        return services.create_store(current_principal(), **body)


@blp.route("/stores/<id:store_id>")
class StoreView(MethodView):
    @requires("merchant")
    @blp.response(200, StoreSchema)
    def get(self, store_id):
        """One of your stores."""
        return services.own_store(current_principal(), store_id)


@blp.route("/stores/<id:store_id>/terminal-keys")
class TerminalKeys(MethodView):
    @requires("merchant")
    @blp.response(200, list_schema(ApiKeySchema))
    def get(self, store_id):
        """Terminal keys of one of your stores (never their secrets)."""
        return {"items": services.list_terminal_keys(current_principal(), store_id)}

    @requires("merchant")
    @blp.arguments(KeyCreateSchema, required=False)
    @blp.response(201, NewApiKeySchema)
    def post(self, body, store_id):
        """Create a cashier terminal key: it can only verify, redeem and reverse at this store."""
        return services.create_terminal_key(current_principal(), store_id, body["label"])


@blp.route("/stores/<id:store_id>/terminal-keys/<id:key_id>")
class TerminalKey(MethodView):
    @requires("merchant")
    @blp.response(204)
    def delete(self, store_id, key_id):
        """Revoke a terminal key (a lost or stolen till)."""
        services.revoke_terminal_key(current_principal(), store_id, key_id)


def _status_route(action: str, status: str, summary: str) -> None:
    @requires("operator")
    @blp.response(200, MerchantSchema)
    def post(self, merchant_id):
        return services.set_merchant_status(current_principal(), merchant_id, status)

    add_view(blp, f"/operator/merchants/<id:merchant_id>/{action}", f"Merchant{action.title()}", post, summary)


_status_route("suspend", "suspended", "Operator: suspend a merchant; its keys stop working at once.")
_status_route("reinstate", "active", "Operator: reinstate a suspended merchant.")
