# BizOps Planner. `make run` starts the app with demo data as people see it (debug off); `make dev` the
# same with Django's debug pages and code reloading; `make test` runs the checks CI runs.
SHELL := /bin/bash
VENV := .venv
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 8000
# run, dev, migrate and demo name their settings (bizops/settings/local.py: SQLite, a file broker and a
# secret key of this checkout's own unless the environment names services); the tests name theirs in
# pyproject.toml. BIZOPS_PORT: honcho gives each Procfile process its own PORT, and emailed links, sent
# by the worker, must name the web server's.
LOCAL := DJANGO_SETTINGS_MODULE=bizops.settings.local BIZOPS_PORT=$(PORT)

.PHONY: help install run dev test test-fast e2e lint format migrate demo bench clean

help:
	@echo "make run    set up, load the demo organization, start web + Celery worker + beat on :$(PORT) (debug off)"
	@echo "make dev    the same with DEBUG on (Django's error pages) and the web server reloading on code changes"
	@echo "make test   set up, start PostgreSQL/Redis if needed, run ruff, mypy and the whole test suite"
	@echo "make lint   ruff check, format check and mypy;  make format  fix formatting"

$(STAMP): pyproject.toml uv.lock scripts/bootstrap
	@scripts/bootstrap
	@touch $@

install: $(STAMP)

migrate: install
	$(LOCAL) $(BIN)/python manage.py migrate --noinput

demo: migrate
	$(LOCAL) $(BIN)/python manage.py load_demo

# Debug off: whitenoise serves the collected static files, errors get the styled pages in templates/.
run: demo
	$(LOCAL) $(BIN)/python manage.py collectstatic --noinput -v0
	@echo
	@echo "  BizOps Planner is starting at http://$${BIZOPS_HOST:-127.0.0.1}:$(PORT)/  (Ctrl-C stops web, worker and beat)"
	@echo "  Admins read every email the app sends under Outbox; emails are also printed here."
	@echo
	$(LOCAL) PATH="$(BIN):$$PATH" PORT=$(PORT) $(BIN)/honcho start -f Procfile

# For developers: Django's debug pages, static files read from static/ as they change, gunicorn
# restarting on code changes. Not for showing the app to anyone.
dev: demo
	@echo
	@echo "  BizOps Planner (DEBUG on) is starting at http://$${BIZOPS_HOST:-127.0.0.1}:$(PORT)/"
	@echo
	$(LOCAL) DJANGO_DEBUG=true GUNICORN_CMD_ARGS="--reload" PATH="$(BIN):$$PATH" PORT=$(PORT) \
		$(BIN)/honcho start -f Procfile

test: install
	scripts/test

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var
