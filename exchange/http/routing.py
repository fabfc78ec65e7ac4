"""Routes that come in families differing only by one word (`/pause`, `/resume`, `qr.png`, …)."""

from __future__ import annotations

from flask.views import MethodView


def add_view(blp, rule: str, name: str, func, summary: str, method: str = "post") -> None:
    """Register `func` as the one method of a view at `rule`: each action is its own documented
    operation in the OpenAPI document, with `summary` as its description."""
    func.__doc__ = summary
    blp.route(rule)(type(name, (MethodView,), {method: func}))
