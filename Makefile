# Steward — the two commands are `make run` and `make test`; see README.md.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

# Development defaults for `make run`: DEBUG on (a generated secret under var/, no TLS).
export DEBUG ?= 1

.PHONY: help venv run test test-fast lint format bench security migrate seed clean

help:
	@echo "make run    - install, migrate, seed the demo and serve http://127.0.0.1:8000 with a worker and beat"
	@echo "make test   - install and run the whole test suite"
	@echo "make lint   - ruff and mypy"
	@echo "make bench  - run the benchmarks under bench/ and print a summary"
	@echo "make security - bandit (no high findings) and pip-audit over the pinned dependencies"

$(STAMP): pyproject.toml client/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]" -e ./client
	touch $(STAMP)

venv: $(STAMP)

migrate: venv
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

run: seed
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@echo "Steward: http://127.0.0.1:8000  (sign in as ciso / owner / auditor / admin, password in the seed output above). Ctrl-C stops everything."
	$(BIN)/honcho -f config/Procfile -d . start || true

test: venv
	DEBUG=0 $(BIN)/pytest

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Application packages bandit scans (tests use asserts and fixed secrets on purpose).
APP_PACKAGES := config accounts audit registry policy provenance client/steward_client

security: venv
	$(BIN)/bandit --quiet --recursive --severity-level high --exclude '*/migrations/*' $(APP_PACKAGES)
	$(BIN)/python .ci/pip_audit.py

bench: venv
	DEBUG=0 $(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) var/staticfiles var/test-*
