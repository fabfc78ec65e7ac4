"""`gunicorn wsgi:app` and `flask --app wsgi ...` start here."""

import os
import sys

if "gunicorn" not in sys.modules:
    # The CLI (`flask --app wsgi …`) keeps its metrics to itself: files of its own in a server's
    # metrics directory would be counted as a live worker's forever (docs/operations.md).
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)

from config import ConfigError
from exchange import create_app
from exchange.coupons.keys import KeyRingError

try:
    app = create_app()
    # A server must be able to sign coupons; the CLI must not need keys (it makes the first one).
    if app.config["EXCHANGE_ENV"] == "production" and "gunicorn" in sys.modules:
        app.extensions["keyring"].refresh(force=True)
except (ConfigError, KeyRingError) as error:
    # One line naming what is missing, not a traceback.
    print(f"exchange: {error}", file=sys.stderr)
    raise SystemExit(3) from None
