"""The settlement policy the operator configured: the netting mode and the minimum transfer (the
timezone months are cut in is `exchange.periods.zone`). Read from the app's config once, at start
(`init_app`), so the settlement services read no Flask configuration."""

from __future__ import annotations

from flask import Flask

netting = "bilateral"
min_transfer = 100


def init_app(app: Flask) -> None:
    global netting, min_transfer
    netting = app.config["SETTLEMENT_NETTING"]
    min_transfer = app.config["MIN_TRANSFER"]
