"""Partner Coupon Exchange: the application factory."""

from __future__ import annotations

from flask import Flask

from config import load_config


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(_instance_dir()))
    app.config.update(load_config())
    app.config.update(overrides or {})
    app.json.ensure_ascii = False
    app.json.sort_keys = False

    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def _instance_dir():
    from config import INSTANCE_DIR

    INSTANCE_DIR.mkdir(exist_ok=True)
    return INSTANCE_DIR


def register_extensions(app: Flask) -> None:
    from . import clock, periods
    from .coupons import signing, worker
    from .extensions import api, db
    from .files import fonts
    from .http import delivery, ratelimits, requestlog, web
    from .http.openapi import IdConverter, PeriodConverter, register_openapi_extras
    from .metrics import hooks as metrics_hooks
    from .settlement import policy
    from .webhooks import worker as webhook_worker

    clock.init_app(app)
    requestlog.init_app(app)
    web.trust_proxies(app)
    web.register_hooks(app)
    db.init_app(app)
    policy.init_app(app)
    periods.init_app(app)
    ratelimits.init_app(app)
    delivery.init_app(app)
    metrics_hooks.init_app(app)
    fonts.use(app.config["PDF_FONT"])
    app.url_map.converters["id"] = IdConverter
    app.url_map.converters["period"] = PeriodConverter
    api.init_app(app)
    register_openapi_extras(api)
    api.spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer",
                   "description": "A merchant key `mk_…`, a terminal key `tk_…` or the operator key"})
    web.register_routes(app)
    signing.init_app(app)
    worker.init_app(app)
    webhook_worker.init_app(app)


def register_blueprints(app: Flask) -> None:
    from . import models  # noqa: F401  (every table known before the first query)
    from .audit_trail.routes import blp as audit_trail
    from .categories.routes import blp as categories
    from .coupons.pages import blp as customer
    from .coupons.routes import blp as coupons
    from .customers.routes import blp as customers
    from .events.routes import blp as events
    from .extensions import api
    from .http.readiness import blp as readiness
    from .merchants.routes import blp as merchants
    from .metrics.routes import blp as metrics
    from .offers.routes import blp as offers
    from .offline.routes import blp as offline
    from .partners.routes import blp as partners
    from .redemptions.routes import blp as redemptions
    from .settlement.routes import blp as settlements
    from .settlement.routes import reports_blp as reports
    from .till.app import blp as till_app
    from .till.routes import blp as tills
    from .webhooks.routes import blp as webhooks

    for blueprint in (merchants, categories, partners, offers, coupons, customer, redemptions, settlements,
                      reports, tills, events, webhooks, readiness, metrics, customers, audit_trail,
                      offline):
        api.register_blueprint(blueprint)
    app.register_blueprint(till_app)


def register_errorhandlers(app: Flask) -> None:
    from .http.problems import register_error_handlers

    register_error_handlers(app)


def register_commands(app: Flask) -> None:
    from .cli import db_group, exchange_group

    app.cli.add_command(db_group)
    app.cli.add_command(exchange_group)
