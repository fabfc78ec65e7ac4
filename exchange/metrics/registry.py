"""Every metric the exchange exposes, defined once.

Under gunicorn each worker writes its values into files of its own in `PROMETHEUS_MULTIPROC_DIR`
(prometheus-client's multi-process mode, set up by gunicorn.conf.py) and a scrape adds them up;
outside gunicorn (tests, the CLI) they live in the process. Labels are route templates, HTTP
statuses and the domain's stable problem codes: finite sets, and never a path as sent, a key, a
token, a coupon code or anything about a customer.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Counter("exchange_http_requests", "Requests answered, by method, route template and status",
                   ["method", "route", "status"])
LATENCY = Histogram("exchange_http_request_duration_seconds",
                    "Time from the app receiving a request to its answer, by method and route template",
                    ["method", "route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))

REDEMPTIONS = Counter("exchange_redemptions", "Redemption requests by outcome: `redeemed`, `replayed` "
                      "(an Idempotency-Key retry) or the refusal's problem code", ["outcome"])
VERIFIES = Counter("exchange_verifies", "Verify requests by outcome: `valid`, or the refusal's code "
                   "(`coupon_expired`, `below_min_spend`, …)", ["outcome"])
REVERSALS = Counter("exchange_reversals", "Reversal requests by outcome: `reversed`, `replayed` or the "
                    "refusal's problem code", ["outcome"])

# Read from the database by a scrape and by each worker's background loop; the most recent wins.
BATCHES_QUEUED = Gauge("exchange_coupon_batches_queued", "Coupon batches not finished, by status",
                       ["status"], multiprocess_mode="livemostrecent")
COUPONS_QUEUED = Gauge("exchange_coupons_queued", "Coupons still to be issued by unfinished batches",
                       multiprocess_mode="livemostrecent")
BATCH_LAG = Gauge("exchange_coupon_batch_oldest_queued_seconds",
                  "Age of the oldest unfinished coupon batch (0: none)", multiprocess_mode="livemostrecent")
SHEETS_QUEUED = Gauge("exchange_sheets_queued", "Printable sheets requested and not drawn yet",
                      multiprocess_mode="livemostrecent")
WEBHOOKS_QUEUED = Gauge("exchange_webhook_deliveries_queued", "Webhook deliveries not acknowledged yet (pending)",
                        multiprocess_mode="livemostrecent")
WEBHOOK_LAG = Gauge("exchange_webhook_delivery_lag_seconds",
                    "Age of the oldest pending webhook delivery's event (0: none)", multiprocess_mode="livemostrecent")

DB_POOL_IN_USE = Gauge("exchange_db_pool_connections_in_use",
                       "Database connections checked out of the workers' pools", multiprocess_mode="livesum")
DB_POOL_CAPACITY = Gauge("exchange_db_pool_capacity",
                         "Connections the workers' pools may hold open (size + overflow)",
                         multiprocess_mode="livesum")
RATE_LIMITS_DEGRADED = Gauge("exchange_rate_limits_degraded_workers",
                             "Workers counting rate limits in their own memory because Redis is away",
                             multiprocess_mode="livesum")
