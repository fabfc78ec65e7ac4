import pytest

from config import ConfigError, load_config


def test_development_defaults_to_sqlite_under_instance():
    cfg = load_config({})
    assert cfg["DATABASE_URL"].startswith("sqlite:///") and "instance" in cfg["DATABASE_URL"]
    assert cfg["SETTLEMENT_TZ"] == "Asia/Shanghai"


def test_production_refuses_to_start_without_its_secrets_and_names_them():
    with pytest.raises(ConfigError) as error:
        load_config({"EXCHANGE_ENV": "production"})
    message = str(error.value)
    assert "\n" not in message
    for name in ("EXCHANGE_OPERATOR_KEY", "EXCHANGE_SIGNING_KEY_DIR", "EXCHANGE_PSEUDONYM_KEY"):
        assert name in message


def test_production_names_only_what_is_missing():
    with pytest.raises(ConfigError) as error:
        load_config({"EXCHANGE_ENV": "production", "EXCHANGE_OPERATOR_KEY": "o" * 32,
                     "EXCHANGE_PSEUDONYM_KEY": "p" * 32})
    assert "EXCHANGE_SIGNING_KEY_DIR" in str(error.value)
    assert "EXCHANGE_OPERATOR_KEY" not in str(error.value)


def test_production_has_no_secret_defaults_and_ignores_the_sandbox_clock():
    cfg = load_config({"EXCHANGE_ENV": "production", "EXCHANGE_OPERATOR_KEY": "o" * 32,
                       "EXCHANGE_SIGNING_KEY_DIR": "/keys", "EXCHANGE_PSEUDONYM_KEY": "p" * 32,
                       "EXCHANGE_NOW": "2026-10-31T23:59:00+08:00"})
    assert cfg["NOW"] is None
    assert cfg["OPERATOR_KEY"] == "o" * 32


def test_unknown_environment_is_refused():
    with pytest.raises(ConfigError):
        load_config({"EXCHANGE_ENV": "staging"})


def test_postgresql_url_is_taken_from_the_environment():
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/exchange"
    assert load_config({"EXCHANGE_DATABASE_URL": url})["DATABASE_URL"] == url


def test_coupon_links_follow_the_port_unless_a_public_url_is_set():
    assert load_config({"PORT": "9000"})["PUBLIC_URL"] == "http://127.0.0.1:9000"
    cfg = load_config({"PORT": "9000", "EXCHANGE_PUBLIC_URL": "https://quan.example.cn/"})
    assert cfg["PUBLIC_URL"] == "https://quan.example.cn"


def test_production_refuses_the_published_development_operator_key():
    for published in ("op_dev_only_operator_key", "op_testing_only_operator_key"):
        with pytest.raises(ConfigError) as error:
            load_config({"EXCHANGE_ENV": "production", "EXCHANGE_OPERATOR_KEY": published,
                         "EXCHANGE_SIGNING_KEY_DIR": "/keys", "EXCHANGE_PSEUDONYM_KEY": "p" * 32})
        assert "EXCHANGE_OPERATOR_KEY" in str(error.value) and published not in str(error.value)


def test_only_development_knows_the_development_operator_key():
    assert load_config({"EXCHANGE_ENV": "development"})["OPERATOR_KEY"] == "op_dev_only_operator_key"
    assert load_config({"EXCHANGE_ENV": "testing"})["OPERATOR_KEY"] == "op_testing_only_operator_key"


def test_failed_authentications_are_limited_by_default_and_the_fallback_follows_redis():
    cfg = load_config({})
    assert cfg["AUTH_FAILURE_RATE_LIMIT"] == "30 per minute"
    assert cfg["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] is False and cfg["PROXY_HOPS"] == 0
    cfg = load_config({"EXCHANGE_REDIS_URL": "redis://127.0.0.1:6379/0", "EXCHANGE_PROXY_HOPS": "1",
                       "EXCHANGE_AUTH_FAILURE_RATE_LIMIT": "off"})
    assert cfg["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] is True and cfg["PROXY_HOPS"] == 1
    assert cfg["AUTH_FAILURE_RATE_LIMIT"] == "off"


def test_production_refuses_the_published_development_pseudonym_key():
    with pytest.raises(ConfigError) as error:
        load_config({"EXCHANGE_ENV": "production", "EXCHANGE_OPERATOR_KEY": "op_" + "s" * 30,
                     "EXCHANGE_SIGNING_KEY_DIR": "/tmp/keys", "EXCHANGE_PSEUDONYM_KEY": "dev-only-pseudonym-key"})
    assert "EXCHANGE_PSEUDONYM_KEY" in str(error.value) and "dev-only-pseudonym-key" not in str(error.value)


def test_production_refuses_private_webhook_targets_and_wants_https():
    base = {"EXCHANGE_ENV": "production", "EXCHANGE_OPERATOR_KEY": "o" * 32, "EXCHANGE_SIGNING_KEY_DIR": "/keys",
            "EXCHANGE_PSEUDONYM_KEY": "p" * 32, "EXCHANGE_PDF_FONT": __file__}
    with pytest.raises(ConfigError, match="EXCHANGE_WEBHOOK_ALLOW_PRIVATE"):
        load_config({**base, "EXCHANGE_WEBHOOK_ALLOW_PRIVATE": "1"})
    assert load_config(base)["WEBHOOK_HTTPS_ONLY"] is True
    development = load_config({"EXCHANGE_WEBHOOK_ALLOW_PRIVATE": "1"})
    assert development["WEBHOOK_ALLOW_PRIVATE"] is True and development["WEBHOOK_HTTPS_ONLY"] is False
