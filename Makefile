# Pnyx developer commands. `make` (or `make help`) lists them.
# Every target that runs Python uses the project's virtualenv (.venv), created on demand.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_WORKERS ?= 2
PYTEST_ARGS ?=
PYTEST_EXIT_FILE ?=
RUN := $(PY) scripts/run.py

.DEFAULT_GOAL := help
.PHONY: help venv run test browser-deps lint format migrate worker seed bench clean clean-instance nginx-deps serve-production

help: ## List the targets with a one-line description (this list)
	@echo "Usage: make TARGET [VARIABLE=value ...]"
	@echo
	@awk 'BEGIN { FS = ":.*## " } /^[a-zA-Z0-9_.-]+:.*## / { printf "  %-16s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)
	@echo
	@echo "Variables: PYTHON=$(PYTHON) (to create .venv), PORT=5000 (run), PYTEST_ARGS=, PYTEST_WORKERS=$(PYTEST_WORKERS) (test)"

venv: $(VENV)/.installed ## Create .venv and install the project with its dev extras (again when setup.cfg changes)

$(PY):
	$(PYTHON) -m venv $(VENV)

# The stamp is newer than setup.cfg once installed: nothing to do until setup.cfg changes.
$(VENV)/.installed: setup.cfg $(wildcard pyproject.toml setup.py) | $(PY)
	$(PY) -m pip install --disable-pip-version-check -e '.[dev]'
	@touch $@

run: venv ## Run Pnyx locally: embedded PostgreSQL/Redis if not configured, migrate, seed, web + worker
	$(RUN)

# make exits 2 whatever the failure: PYTEST_EXIT_FILE, when given, receives pytest's own
# exit code (.ci/run returns it).
test: venv browser-deps nginx-deps ## Run the test suite (pytest-xdist, PYTEST_WORKERS=2); extra arguments in PYTEST_ARGS
	@echo "$(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)"; \
	status=0; $(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS) || status=$$?; \
	if [ -n "$(PYTEST_EXIT_FILE)" ]; then echo $$status > "$(PYTEST_EXIT_FILE)"; fi; \
	exit $$status

browser-deps: ## Install Debian's chromium for the browser tests, if /usr/bin/chromium is missing
	@if [ -x /usr/bin/chromium ]; then \
		exit 0; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	elif command -v sudo >/dev/null 2>&1; then \
		sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	else \
		echo "browser-deps: /usr/bin/chromium is missing, and this user can neither install"; \
		echo "  packages (not root) nor use sudo. Ask an administrator for: apt-get install chromium"; \
		echo "  Until then the browser tests cannot run."; \
	fi

nginx-deps: ## Install Debian's nginx (production topology, its test and bench), if missing
	@if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then \
		exit 0; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y nginx; \
	elif command -v sudo >/dev/null 2>&1; then \
		sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y nginx; \
	else \
		echo "nginx-deps: nginx is missing, and this user can neither install packages"; \
		echo "  (not root) nor use sudo. Ask an administrator for: apt-get install nginx"; \
		echo "  Until then the topology test is skipped and serve-production cannot run."; \
	fi

serve-production: venv nginx-deps ## Run as production does: nginx on PORT (5000) -> gunicorn (APP_PORT) + worker + scheduler
	$(PY) scripts/nginx/serve.py

lint: venv ## Check the code with ruff (lint rules and formatting), changing nothing
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: venv ## Format the code with ruff and apply its safe fixes (import order...)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

migrate: venv ## Migrate the public schema and every tenant schema (flask tenants migrate)
	$(RUN) flask tenants migrate

seed: venv ## Load the demo data, idempotent: platform + mulhouse, saillans, angers (flask demo seed)
	$(RUN) flask demo seed

worker: venv ## Run the background worker alone (rq worker with scheduler; flask worker)
	$(RUN) flask worker

bench: venv ## Run every benchmark script bench/*.py
	@set -e; found=0; for script in bench/*.py; do \
		[ -e "$$script" ] || continue; found=1; \
		echo "== $$script"; $(PY) "$$script"; \
	done; [ $$found = 1 ] || echo "No benchmark in bench/."

clean: ## Remove caches and build leftovers (keeps .venv and instance/)
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -print -exec rm -rf {} +
	rm -rf .pytest_cache .ruff_cache build dist *.egg-info

clean-instance: ## Delete instance/ (local database, Redis data, e-mails); needs CONFIRM=1
	@if [ "$(CONFIRM)" != 1 ]; then \
		echo "This deletes instance/: the local PostgreSQL and Redis data and the e-mails."; \
		echo "Run: make clean-instance CONFIRM=1"; \
		exit 1; \
	fi
	@if [ -x $(PY) ] && [ -d instance ]; then $(RUN) stop-services; fi
	rm -rf instance
