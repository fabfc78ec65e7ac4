"""gunicorn settings for `make run` and the end-to-end tests (override any on the command line)."""

import os

from exchange.metrics import gunicorn as metrics

# Prometheus' multi-process mode: every worker's values in one directory (docs/operations.md).
metrics.prepare_directory()

bind = f"127.0.0.1:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# gthread workers keep client connections alive in their poller (sync workers close each one).
# One thread per worker by default: a request is CPU-bound Python, so more threads only contend
# for the interpreter lock — and on SQLite, while one of them holds the single write lock.
# Measured (bench/redemption.py, same run): 1 thread gave redemptions/healthz 0.26–0.29 on
# SQLite and 0.14–0.18 on PostgreSQL; 4 threads 0.13 and 0.14. Raise it (EXCHANGE_THREADS) for a
# database far away, where requests mostly wait.
worker_class = "exchange.http.gunicorn_worker.ProblemThreadWorker"  # gthread, answering errors in problem+json
threads = int(os.environ.get("EXCHANGE_THREADS", "1"))
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
    metrics.empty_directory()


def when_ready(server):
    if os.environ.get("EXCHANGE_METRICS_BIND"):
        metrics.serve_separately(os.environ["EXCHANGE_METRICS_BIND"])
    # Webhook deliveries run in one process beside the workers, at a lower priority
    # (exchange/webhooks/beside.py); the workers then leave them to it.
    from exchange.webhooks import beside

    if beside.wanted():
        os.environ["EXCHANGE_WEBHOOK_WORKER"] = "0"
        server.delivery_process = beside.DeliveryProcess()
        server.delivery_process.start()


def child_exit(server, worker):
    metrics.worker_exited(worker.pid)


def on_exit(server):
    if getattr(server, "delivery_process", None) is not None:
        server.delivery_process.stop()
    metrics.remove_directory()
