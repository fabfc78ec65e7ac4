"""`gunicorn wsgi:app` and `flask --app wsgi ...` start here."""

import sys

from config import ConfigError
from exchange import create_app

try:
    app = create_app()
except ConfigError as error:
    # One line naming what is missing, not a traceback.
    print(f"exchange: {error}", file=sys.stderr)
    raise SystemExit(3) from None
