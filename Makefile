# crm_cti — every set-up step lives here, so that README's two commands are the whole story.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
APP_PORT ?= 8000
SANDBOX_PORT ?= 8900

.PHONY: demo test lint bench install install-dev web worker beat events sandbox clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## make demo: install, migrate, seed, start the sandbox and the app; Ctrl-C stops both.
demo: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py seed_demo_messages
	$(PY) manage.py demo --port $(APP_PORT) --sandbox-port $(SANDBOX_PORT)

## make test: install what the tests need and run them all. In distributed mode (DATABASE_URL
## and REDIS_URL set, as in CI) the pipeline and foundation tests then run again in embedded
## mode, the demo's, so that both modes are tested.
## Tests run in PYTEST_WORKERS processes (pytest-xdist), a module's tests in one of them
## (its fixtures' servers are started once); PYTEST_WORKERS=0 runs them in this process.
## tests/bench and the tests marked serial run after the rest, alone: the bench loads the
## machine on purpose, and its load generator's counts (like the serial tests' waits) are
## only exact when nothing else competes for the cores.
PYTEST_WORKERS ?= 3
PYTEST_PARALLEL = -n $(PYTEST_WORKERS) --dist loadscope
test: install-dev
	$(VENV)/bin/ruff check .
	@if [ -n "$(PYTEST_ARGS)" ]; then \
	  $(VENV)/bin/pytest $(PYTEST_PARALLEL) $(PYTEST_ARGS); \
	else \
	  $(VENV)/bin/pytest $(PYTEST_PARALLEL) -m "not serial" --ignore=tests/bench && \
	  echo "== serial tests and tests/bench, alone ==" && \
	  $(VENV)/bin/pytest -m serial --ignore=tests/bench && $(VENV)/bin/pytest tests/bench; \
	fi
	@if [ -n "$$DATABASE_URL" ] && [ -n "$$REDIS_URL" ] && [ -z "$(PYTEST_ARGS)" ]; then \
	  echo "== embedded mode: tests/telephony tests/foundation =="; \
	  env -u DATABASE_URL -u REDIS_URL TEST_MODE=embedded \
	    $(VENV)/bin/pytest $(PYTEST_PARALLEL) tests/telephony tests/foundation; \
	fi

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check . || true

bench: install-dev
	$(PY) bench/run.py

# The processes, one by one (README, "Processes"). Distributed mode needs DATABASE_URL and REDIS_URL.
# `make worker` runs everything in one worker; `make worker-events` and `make worker-rest`
# split it: the applier and the hot tasks in one process, REST work (enrichment) in another.
CELERY_QUEUE ?= celery
web: install
	$(VENV)/bin/uvicorn crm_cti.asgi:application --host 127.0.0.1 --port $(APP_PORT) --loop uvloop --http httptools
worker: install
	$(VENV)/bin/celery -A crm_cti worker --loglevel INFO
worker-events: install
	$(VENV)/bin/celery -A crm_cti worker --loglevel INFO -Q $(CELERY_QUEUE) --hostname events@%h
worker-rest: install
	$(VENV)/bin/celery -A crm_cti worker --loglevel INFO -Q $(CELERY_QUEUE).rest --hostname rest@%h
beat: install
	$(VENV)/bin/celery -A crm_cti beat --loglevel INFO --schedule var/celerybeat-schedule
events: install
	$(PY) manage.py rcevents
sandbox: install
	$(PY) manage.py rcsandbox --port $(SANDBOX_PORT)

clean:
	rm -rf $(VENV) var/test-logs .pytest_cache
