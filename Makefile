# BizOps Planner. `make run` starts the app with demo data; `make test` runs the checks CI runs.
SHELL := /bin/bash
VENV := .venv
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 8000

.PHONY: help install run test test-fast e2e lint format migrate demo bench clean

help:
	@echo "make run    set up, load the demo organization, start web + Celery worker + beat on :$(PORT)"
	@echo "make test   set up, start PostgreSQL/Redis if needed, run ruff and the whole test suite"
	@echo "make lint   ruff check and format check;  make format  fix formatting"

$(STAMP): pyproject.toml uv.lock scripts/bootstrap
	@scripts/bootstrap
	@touch $@

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py load_demo

run: demo
	$(BIN)/python manage.py collectstatic --noinput -v0
	@echo
	@echo "  BizOps Planner is starting at http://127.0.0.1:$(PORT)/  (Ctrl-C stops web, worker and beat)"
	@echo "  Admins read every email the app sends under Outbox; emails are also printed here."
	@echo
	PATH="$(BIN):$$PATH" PORT=$(PORT) $(BIN)/honcho start -f Procfile

test: install
	scripts/test

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var
