# The two set-up commands: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
export PORT

NODE_TOOLS := node_modules/.installed

.PHONY: run test audit test-sqlite test-postgresql bench system-deps clean

$(VENV)/.runtime: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# Node tools the tests run (Redocly CLI, openapi-typescript), exactly as the lockfile pins them.
$(NODE_TOOLS): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## Serve the exchange on 127.0.0.1:$(PORT) with an embedded SQLite database and demo data.
run: $(VENV)/.runtime
	@scripts/system-deps.sh --runtime
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/flask --app wsgi exchange demo --if-empty --keys-file instance/demo-keys.env
	PORT=$(PORT) $(BIN)/gunicorn wsgi:app

## The whole suite on SQLite, and on PostgreSQL too when EXCHANGE_TEST_DATABASE_URL is set.
test: $(VENV)/.dev $(NODE_TOOLS) system-deps
	$(MAKE) --no-print-directory audit
	$(MAKE) --no-print-directory test-sqlite
	@if [ -n "$$EXCHANGE_TEST_DATABASE_URL" ]; then $(MAKE) --no-print-directory test-postgresql; \
	 else echo "EXCHANGE_TEST_DATABASE_URL is not set: PostgreSQL run not requested"; fi

## Known vulnerabilities in the pinned dependencies (pip-audit); see docs/testing.md.
audit: $(VENV)/.dev
	$(BIN)/python scripts/audit_dependencies.py

test-sqlite: $(VENV)/.dev $(NODE_TOOLS)
	$(BIN)/pytest

test-postgresql: $(VENV)/.dev $(NODE_TOOLS)
	@test -n "$$EXCHANGE_TEST_DATABASE_URL" || { echo "set EXCHANGE_TEST_DATABASE_URL"; exit 2; }
	$(BIN)/pytest --db-url "$$EXCHANGE_TEST_DATABASE_URL"

## Debian packages the tests use (a browser, a QR decoder, CJK fonts); installed only if missing.
system-deps:
	@scripts/system-deps.sh

bench: $(VENV)/.dev
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) node_modules instance .pytest_cache .hypothesis
