from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ..http.auth import current_principal, requires
from ..merchants.schemas import list_schema
from . import endpoints, log
from .schemas import (
    DeliveryPageSchema,
    DeliveryQuerySchema,
    DeliverySchema,
    EndpointCreateSchema,
    EndpointSchema,
    EndpointUpdateSchema,
    NewSecretSchema,
    PingSchema,
    RotateSchema,
)

blp = Blueprint("webhooks", __name__, url_prefix="/api/v1",
                description="Webhook endpoints: events pushed to your systems, signed per Standard Webhooks "
                            "(docs/webhooks.md)")


@blp.route("/webhook-endpoints")
class Endpoints(MethodView):
    @requires("merchant")
    @blp.response(200, list_schema(EndpointSchema))
    def get(self):
        """Your webhook endpoints (never their secrets)."""
        return {"items": endpoints.list_endpoints(current_principal())}

    @requires("merchant")
    @blp.arguments(EndpointCreateSchema)
    @blp.response(201, NewSecretSchema)
    def post(self, body):
        """Subscribe a URL to event types. The answer holds its signing secret (`whsec_…`), shown
        only this once. The URL must resolve to public addresses (https:// in production)."""
        return endpoints.create_endpoint(current_principal(), **body)


@blp.route("/webhook-endpoints/<id:endpoint_id>")
class Endpoint(MethodView):
    @requires("merchant")
    @blp.response(200, EndpointSchema)
    def get(self, endpoint_id):
        """One of your webhook endpoints."""
        return endpoints.own_endpoint(current_principal(), endpoint_id)

    @requires("merchant")
    @blp.arguments(EndpointUpdateSchema)
    @blp.response(200, EndpointSchema)
    def patch(self, body, endpoint_id):
        """Change the URL, event types, description, or switch it on or off (switching a disabled
        endpoint back on starts its failure count afresh)."""
        return endpoints.update_endpoint(current_principal(), endpoint_id, body)

    @requires("merchant")
    @blp.response(204)
    def delete(self, endpoint_id):
        """Delete the endpoint and its pending deliveries (the events stay in the feed)."""
        endpoints.delete_endpoint(current_principal(), endpoint_id)


@blp.route("/webhook-endpoints/<id:endpoint_id>/rotate-secret")
class RotateSecret(MethodView):
    @requires("merchant")
    @blp.arguments(RotateSchema, required=False)
    @blp.response(200, NewSecretSchema)
    def post(self, body, endpoint_id):
        """A new signing secret, shown once. For `overlap_seconds` deliveries carry two signatures
        (new and old secret), so your receiver can switch without missing one."""
        return endpoints.rotate_secret(current_principal(), endpoint_id, body["overlap_seconds"])


@blp.route("/webhook-endpoints/<id:endpoint_id>/test")
class Ping(MethodView):
    @requires("merchant")
    @blp.response(202, PingSchema)
    def post(self, endpoint_id):
        """Send a `webhook.test` event to this endpoint (only); follow it in its delivery log."""
        return {"event_id": endpoints.ping(current_principal(), endpoint_id)}


@blp.route("/webhook-endpoints/<id:endpoint_id>/deliveries")
class Deliveries(MethodView):
    @requires("merchant")
    @blp.arguments(DeliveryQuerySchema, location="query")
    @blp.response(200, DeliveryPageSchema)
    def get(self, query, endpoint_id):
        """The endpoint's deliveries, oldest first: status, attempts, the last answer's status,
        latency and the start of its body."""
        page = log.list_deliveries(current_principal(), endpoint_id, query["after"], query["limit"])
        return {"items": page, "next_after": page[-1]["id"] if len(page) == query["limit"] else None}


@blp.route("/webhook-endpoints/<id:endpoint_id>/deliveries/<id:delivery_id>/redeliver")
class Redeliver(MethodView):
    @requires("merchant")
    @blp.response(202, DeliverySchema)
    def post(self, endpoint_id, delivery_id):
        """Deliver again now, with the same webhook-id (a delivery that gave up gets 3 more days)."""
        return log.redeliver(current_principal(), endpoint_id, delivery_id)
