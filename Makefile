# The two set-up commands: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
export PORT

# npm packages exactly as package-lock.json pins them: the till's browser packages, and the
# Node tools the tests run (Redocly CLI, openapi-typescript).
NODE_MODULES := node_modules/.installed
# The till's browser packages, copied next to its modules: Flask serves them, no CDN. The copies
# are build output (.gitignore).
TILL_VENDOR := exchange/static/till/vendor

.PHONY: run test audit lint test-sqlite test-postgresql bench system-deps runtime-deps till-vendor clean

$(VENV)/.runtime: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(NODE_MODULES): package.json package-lock.json
	@command -v npm >/dev/null || scripts/system-deps.sh --runtime
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(TILL_VENDOR)/.copied: $(NODE_MODULES)
	mkdir -p $(TILL_VENDOR)
	cp node_modules/qr-scanner/qr-scanner.min.js node_modules/qr-scanner/qr-scanner-worker.min.js $(TILL_VENDOR)/
	cp node_modules/qr-scanner/LICENSE $(TILL_VENDOR)/qr-scanner.LICENSE.txt
	touch $@

till-vendor: $(TILL_VENDOR)/.copied

## Serve the exchange on 127.0.0.1:$(PORT) with an embedded SQLite database and demo data.
run: $(VENV)/.runtime runtime-deps till-vendor
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/flask --app wsgi exchange demo --if-empty --keys-file instance/demo-keys.env
	PORT=$(PORT) $(BIN)/gunicorn wsgi:app

## The whole suite on SQLite, and on PostgreSQL too when EXCHANGE_TEST_DATABASE_URL is set.
test: $(VENV)/.dev system-deps till-vendor
	$(MAKE) --no-print-directory audit
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory test-sqlite
	@if [ -n "$$EXCHANGE_TEST_DATABASE_URL" ]; then $(MAKE) --no-print-directory test-postgresql; \
	 else echo "EXCHANGE_TEST_DATABASE_URL is not set: PostgreSQL run not requested"; fi

## Known vulnerabilities in the pinned dependencies (pip-audit); see docs/testing.md.
audit: $(VENV)/.dev
	$(BIN)/python scripts/audit_dependencies.py

## ruff with the project's configuration (ruff.toml): 0 findings.
lint: $(VENV)/.dev
	$(BIN)/ruff check .

test-sqlite: $(VENV)/.dev till-vendor
	$(BIN)/pytest

test-postgresql: $(VENV)/.dev till-vendor
	@test -n "$$EXCHANGE_TEST_DATABASE_URL" || { echo "set EXCHANGE_TEST_DATABASE_URL"; exit 2; }
	$(BIN)/pytest --db-url "$$EXCHANGE_TEST_DATABASE_URL"

## Debian packages the service needs (the PDF font, node and npm); installed only if missing.
runtime-deps:
	@scripts/system-deps.sh --runtime

## ... and those the tests use too (a browser, a QR decoder, CJK fonts, redis-server).
system-deps:
	@scripts/system-deps.sh

bench: $(VENV)/.dev system-deps till-vendor
	@scripts/system-deps.sh --bench
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) node_modules $(TILL_VENDOR) instance .pytest_cache .hypothesis
