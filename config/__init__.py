"""Settings read from the environment (SPEC §6).

`load_config()` returns a plain dict for `app.config`. Production refuses to start without its
secrets; nothing secret has a default there.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"

ENVIRONMENTS = ("development", "testing", "production")
# Outside production the operator key has a default, so a demo works out of the box; being
# written in the README, it is a key everybody knows: production refuses it.
DEVELOPMENT_OPERATOR_KEY = "op_dev_only_operator_key"
# The customer-reference HMAC's key outside production: published here, so never production's.
DEVELOPMENT_PSEUDONYM_KEY = "dev-only-pseudonym-key"
TESTING_OPERATOR_KEY = "op_testing_only_operator_key"


class ConfigError(RuntimeError):
    """The environment cannot produce a runnable configuration."""


def _non_negative_int(env: Mapping[str, str], name: str, default: str) -> int:
    value = env.get(name, default)
    if not value.isdigit():
        raise ConfigError(f"{name} must be a whole number of minor units ≥ 0, not {value!r}")
    return int(value)


def _at_least(env: Mapping[str, str], name: str, default: str, minimum: int) -> int:
    value = env.get(name, default)
    if not value.isdigit() or int(value) < minimum:
        raise ConfigError(f"{name} must be a whole number ≥ {minimum}, not {value!r}")
    return int(value)


def _base(env: Mapping[str, str]) -> dict:
    public_url = (env.get("EXCHANGE_PUBLIC_URL") or f"http://127.0.0.1:{env.get('PORT', '8000')}").rstrip("/")
    return {
        "EXCHANGE_ENV": env.get("EXCHANGE_ENV", "development"),
        "DATABASE_URL": env.get("EXCHANGE_DATABASE_URL")
        or f"sqlite:///{INSTANCE_DIR / 'exchange.sqlite3'}",
        "OPERATOR_KEY": env.get("EXCHANGE_OPERATOR_KEY"),
        # The base of every coupon link and QR code: where customers' phones reach this service.
        "PUBLIC_URL": public_url,
        "SETTLEMENT_TZ": env.get("EXCHANGE_SETTLEMENT_TZ", "Asia/Shanghai"),
        # Month-end: one transfer per pair, or multilateral netting; nets below the minimum
        # transfer (minor units) are carried into the next month instead of being paid.
        "SETTLEMENT_NETTING": env.get("EXCHANGE_SETTLEMENT_NETTING", "bilateral"),
        "MIN_TRANSFER": _non_negative_int(env, "EXCHANGE_MIN_TRANSFER", "100"),
        "SIGNING_KEY_DIR": env.get("EXCHANGE_SIGNING_KEY_DIR"),
        "PSEUDONYM_KEY": env.get("EXCHANGE_PSEUDONYM_KEY"),
        # Keys used before a rotation (comma-separated): erasures look for those pseudonyms too.
        "PSEUDONYM_PREVIOUS_KEYS": [k.strip() for k in env.get("EXCHANGE_PSEUDONYM_PREVIOUS_KEYS", "").split(",")
                                    if k.strip()],
        "NOW": env.get("EXCHANGE_NOW"),
        "NOW_ANCHOR": env.get("EXCHANGE_NOW_ANCHOR"),
        "RATELIMIT_STORAGE_URI": env.get("EXCHANGE_REDIS_URL", "exchange-memory://"),
        "REGISTRATION_RATE_LIMIT": env.get("EXCHANGE_REGISTRATION_RATE_LIMIT", "20 per hour"),
        # Verify and redeem, each counted per API key and per client address. A busy till does a
        # few a minute; a mall's tills behind one address a few dozen. "off" switches one off
        # (benchmarks push hundreds a second from one key).
        "REDEMPTION_RATE_LIMIT": env.get("EXCHANGE_REDEMPTION_RATE_LIMIT", "300 per minute"),
        "REDEMPTION_IP_RATE_LIMIT": env.get("EXCHANGE_REDEMPTION_IP_RATE_LIMIT", "1200 per minute"),
        # Failed authentications (unknown, malformed or revoked keys, a wrong operator key) per
        # client address; past it the address is refused before its key is even looked at
        # (docs/operations.md). Never counted per key: nobody can lock a till out from elsewhere.
        "AUTH_FAILURE_RATE_LIMIT": env.get("EXCHANGE_AUTH_FAILURE_RATE_LIMIT", "30 per minute"),
        # While Redis is away, count in each worker's memory instead of failing (SPEC §4.12).
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": bool(env.get("EXCHANGE_REDIS_URL")),
        # Proxies in front of the server whose X-Forwarded-For is trusted (0: none), so that
        # per-address limits see clients, not the load balancer.
        "PROXY_HOPS": _non_negative_int(env, "EXCHANGE_PROXY_HOPS", "0"),
        # Till pairings made per merchant key, and pairing codes tried per client address: a
        # guesser gets a handful of tries at codes that live ten minutes.
        "TILL_PAIRING_RATE_LIMIT": env.get("EXCHANGE_TILL_PAIRING_RATE_LIMIT", "30 per hour"),
        "TILL_PAIRING_EXCHANGE_RATE_LIMIT": env.get("EXCHANGE_TILL_PAIRING_EXCHANGE_RATE_LIMIT", "10 per minute"),
        # Offline tills (docs/offline.md): how old a synced offline redemption may be, and how
        # far ahead of the exchange a till's clock may run.
        "OFFLINE_WINDOW": timedelta(hours=_at_least(env, "EXCHANGE_OFFLINE_WINDOW_HOURS", "72", 1)),
        "OFFLINE_CLOCK_SKEW": timedelta(seconds=_non_negative_int(env, "EXCHANGE_OFFLINE_CLOCK_SKEW_SECONDS", "120")),
        # Retention (docs/operations.md): what the background worker purges, and when. Money
        # records (redemptions, reversals, ledger, settlements) are never purged.
        "IDEMPOTENCY_RETENTION": timedelta(hours=_at_least(env, "EXCHANGE_IDEMPOTENCY_RETENTION_HOURS", "48", 24)),
        "TILL_PAIRING_RETENTION": timedelta(days=_at_least(env, "EXCHANGE_TILL_PAIRING_RETENTION_DAYS", "30", 1)),
        # The events feed promises at least 30 days (docs/webhooks.md).
        "EVENT_RETENTION": timedelta(days=_at_least(env, "EXCHANGE_EVENT_RETENTION_DAYS", "30", 30)),
        "WEBHOOK_DELIVERY_RETENTION": timedelta(
            days=_at_least(env, "EXCHANGE_WEBHOOK_DELIVERY_RETENTION_DAYS", "30", 1)),
        # Rows deleted per transaction: each batch holds the write lock for milliseconds.
        "PURGE_BATCH": _at_least(env, "EXCHANGE_PURGE_BATCH", "500", 1),
        "LOG_LEVEL": env.get("EXCHANGE_LOG_LEVEL", "INFO"),
        "BATCH_WORKER": env.get("EXCHANGE_BATCH_WORKER", "1") == "1",
        "BATCH_LEASE_SECONDS": int(env.get("EXCHANGE_BATCH_LEASE_SECONDS", "60")),
        # Webhooks (docs/webhooks.md): deliveries run in each server's background worker unless
        # switched off (then `flask exchange deliver` does them); an attempt waits at most this
        # long for an answer, and is taken over by another worker once its lease lapses.
        "WEBHOOK_WORKER": env.get("EXCHANGE_WEBHOOK_WORKER", env.get("EXCHANGE_BATCH_WORKER", "1")) == "1",
        "WEBHOOK_TIMEOUT_SECONDS": float(env.get("EXCHANGE_WEBHOOK_TIMEOUT_SECONDS", "5")),
        "WEBHOOK_LEASE_SECONDS": int(env.get("EXCHANGE_WEBHOOK_LEASE_SECONDS", "60")),
        # Loopback and private targets (a receiver on this machine, a LAN): for development and
        # tests only; production refuses it. Cloud metadata addresses are refused even then.
        "WEBHOOK_ALLOW_PRIVATE": env.get("EXCHANGE_WEBHOOK_ALLOW_PRIVATE", "0") == "1",
        "WEBHOOK_HTTPS_ONLY": env.get("EXCHANGE_ENV", "development") == "production",
        # The CJK TrueType font every PDF embeds (exchange/fonts.py); Debian's fonts-wqy-microhei.
        "PDF_FONT": env.get("EXCHANGE_PDF_FONT") or "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        # Browser apps on these origins may call the API (comma-separated; none by default).
        "CORS_ORIGINS": [o.strip().rstrip("/") for o in env.get("EXCHANGE_CORS_ORIGINS", "").split(",")
                         if o.strip()],
        # Bodies over 1 MiB are refused with 413 before any parsing.
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "JSON_SORT_KEYS": False,
        "API_TITLE": "Partner Coupon Exchange",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "/docs",
        "OPENAPI_SWAGGER_UI_URL": "/docs/static/",
        "API_SPEC_OPTIONS": {"servers": [{"url": public_url, "description": "this exchange (EXCHANGE_PUBLIC_URL)"}]},
    }


def _development(cfg: dict, env: Mapping[str, str]) -> None:
    cfg["OPERATOR_KEY"] = cfg["OPERATOR_KEY"] or DEVELOPMENT_OPERATOR_KEY
    cfg["SIGNING_KEY_DIR"] = cfg["SIGNING_KEY_DIR"] or str(INSTANCE_DIR / "signing-keys")
    cfg["PSEUDONYM_KEY"] = cfg["PSEUDONYM_KEY"] or DEVELOPMENT_PSEUDONYM_KEY


def _testing(cfg: dict, env: Mapping[str, str]) -> None:
    cfg["OPERATOR_KEY"] = cfg["OPERATOR_KEY"] or TESTING_OPERATOR_KEY
    _development(cfg, env)
    cfg["TESTING"] = True
    cfg["BATCH_WORKER"] = env.get("EXCHANGE_BATCH_WORKER", "0") == "1"
    cfg["WEBHOOK_WORKER"] = env.get("EXCHANGE_WEBHOOK_WORKER", env.get("EXCHANGE_BATCH_WORKER", "0")) == "1"
    cfg["REGISTRATION_RATE_LIMIT"] = env.get("EXCHANGE_REGISTRATION_RATE_LIMIT", "10000 per hour")
    # The whole suite runs from one address in one process; tests that check limits set them.
    cfg["REDEMPTION_RATE_LIMIT"] = env.get("EXCHANGE_REDEMPTION_RATE_LIMIT", "100000 per minute")
    cfg["REDEMPTION_IP_RATE_LIMIT"] = env.get("EXCHANGE_REDEMPTION_IP_RATE_LIMIT", "100000 per minute")
    cfg["AUTH_FAILURE_RATE_LIMIT"] = env.get("EXCHANGE_AUTH_FAILURE_RATE_LIMIT", "100000 per minute")
    cfg["TILL_PAIRING_RATE_LIMIT"] = env.get("EXCHANGE_TILL_PAIRING_RATE_LIMIT", "100000 per hour")
    cfg["TILL_PAIRING_EXCHANGE_RATE_LIMIT"] = env.get("EXCHANGE_TILL_PAIRING_EXCHANGE_RATE_LIMIT",
                                                      "100000 per minute")


def _production(cfg: dict, env: Mapping[str, str]) -> None:
    # The sandbox clock is a development and test tool only.
    cfg["NOW"] = None
    required = {
        "EXCHANGE_OPERATOR_KEY": cfg["OPERATOR_KEY"],
        "EXCHANGE_SIGNING_KEY_DIR": cfg["SIGNING_KEY_DIR"],
        "EXCHANGE_PSEUDONYM_KEY": cfg["PSEUDONYM_KEY"],
    }
    missing = [name for name, value in required.items() if not value]
    if missing:
        raise ConfigError(
            "production refuses to start: missing " + ", ".join(missing)
        )
    if len(cfg["OPERATOR_KEY"]) < 24:
        raise ConfigError("production refuses to start: EXCHANGE_OPERATOR_KEY is shorter than 24 characters")
    if cfg["OPERATOR_KEY"] in (DEVELOPMENT_OPERATOR_KEY, TESTING_OPERATOR_KEY):
        raise ConfigError("production refuses to start: EXCHANGE_OPERATOR_KEY is the published "
                          "development key; choose a secret one")
    if cfg["PSEUDONYM_KEY"] == DEVELOPMENT_PSEUDONYM_KEY:
        # Anyone could then recompute customers' pseudonyms from their phone numbers.
        raise ConfigError("production refuses to start: EXCHANGE_PSEUDONYM_KEY is the published "
                          "development key; choose a secret one")
    if cfg["WEBHOOK_ALLOW_PRIVATE"]:
        # Merchants' URLs would reach the exchange's own network (SSRF: exchange/webhooks/ssrf.py).
        raise ConfigError("production refuses to start: EXCHANGE_WEBHOOK_ALLOW_PRIVATE=1 would let "
                          "webhooks reach loopback and private addresses")
    # A statement or coupon sheet without its embedded font would print blank Chinese text on
    # the partner's side: better no server than such files.
    from exchange.files.fonts import missing as missing_font

    if problem := missing_font(cfg["PDF_FONT"]):
        raise ConfigError(f"production refuses to start: {problem}")


def load_config(env: Mapping[str, str] | None = None) -> dict:
    env = os.environ if env is None else env
    cfg = _base(env)
    name = cfg["EXCHANGE_ENV"]
    if name not in ENVIRONMENTS:
        raise ConfigError(f"EXCHANGE_ENV must be one of {', '.join(ENVIRONMENTS)}, not {name!r}")
    if cfg["SETTLEMENT_NETTING"] not in ("bilateral", "multilateral"):
        raise ConfigError("EXCHANGE_SETTLEMENT_NETTING must be bilateral or multilateral, "
                          f"not {cfg['SETTLEMENT_NETTING']!r}")
    {"development": _development, "testing": _testing, "production": _production}[name](cfg, env)
    return cfg
