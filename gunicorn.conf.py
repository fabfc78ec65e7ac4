"""gunicorn settings for `make run` and the end-to-end tests (override any on the command line)."""

import os

bind = f"127.0.0.1:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threads per worker: keeps client connections alive (sync workers close each one) and lets a
# worker serve other tills while one waits on the database.
worker_class = "gthread"
threads = int(os.environ.get("EXCHANGE_THREADS", "4"))
keepalive = 5
# Several servers may run side by side (tests, benchmarks): none needs gunicorn's control socket.
control_socket_disable = True
# The app writes one JSON line per request itself; gunicorn's access log would repeat it.
accesslog = None
timeout = 60


def on_starting(server):
    """The sandbox clock (EXCHANGE_NOW) starts once, in the master: every worker runs on from the
    same real instant, so a partnership accepted by one worker is in force in the next."""
    import time

    if os.environ.get("EXCHANGE_NOW"):
        os.environ.setdefault("EXCHANGE_NOW_ANCHOR", repr(time.time()))
