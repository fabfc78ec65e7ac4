"""`GET /metrics`: the Prometheus exposition, for the operator key (or, when configured, on an
address of its own served by gunicorn's master: `EXCHANGE_METRICS_BIND`)."""

from __future__ import annotations

import os

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.exposition import (
    CONTENT_TYPE_PLAIN_0_0_4 as TEXT_FORMAT,  # every Prometheus reads it
)
from prometheus_client.multiprocess import MultiProcessCollector

from ..http.auth import requires
from ..http.openapi import file_response
from .queues import record_queue_depths

blp = Blueprint("metrics", __name__, description="Service health")


def exposition() -> bytes:
    """Every worker's metrics added up (multi-process mode), or this process's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


@blp.route("/metrics")
class Metrics(MethodView):
    @requires("operator")
    @blp.response(200, content_type=TEXT_FORMAT)
    @blp.doc(**file_response("text/plain", "the Prometheus text exposition format (docs/operations.md)"))
    def get(self):
        """Prometheus metrics of every worker of this server (the operator key)."""
        record_queue_depths()
        return Response(exposition(), content_type=TEXT_FORMAT)
