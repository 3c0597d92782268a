# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
AUCTIONEERS ?= $(shell nproc 2>/dev/null || echo 2)
export FLASK_APP := wsgi.py
# `make up`: where the stack's processes keep their metrics' counts (emptied at each start)
METRICS_DIR ?= instance/metrics
# `make run`: where the demo server listens (`make run PORT=8000`, `make run HOST=0.0.0.0`)
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test up worker flusher scheduler bench lint clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

## run: set everything up (venv, database, demo data) and serve http://$(HOST):$(PORT) (default 127.0.0.1:5000)
run: $(BIN)/.installed
	$(BIN)/flask db upgrade
	$(BIN)/flask demo seed > /dev/null
	$(BIN)/flask demo serve --host "$(HOST)" --port "$(PORT)"

## test: set up and run the whole suite (fast suite, then the services suite when reachable)
test: $(BIN)/.installed
	bash scripts/run-tests.sh

## up: the whole distributed stack on this machine (Procfile, by honcho): migrate, then web, workers, flusher, scheduler, auctioneer (needs EXCHANGE_ENV, SECRET_KEY, DATABASE_URL, REDIS_URL, or a .env)
up: $(BIN)/.installed
	$(BIN)/flask db upgrade
	rm -rf $(METRICS_DIR) && mkdir -p $(METRICS_DIR)
	PROMETHEUS_MULTIPROC_DIR=$(abspath $(METRICS_DIR)) $(BIN)/honcho start

## worker: an rq worker on every queue (needs REDIS_URL and DATABASE_URL)
worker: $(BIN)/.installed
	$(BIN)/python -m exchange.worker

## flusher: write buffered clicks to the database in batches; drains on SIGTERM (needs REDIS_URL)
flusher: $(BIN)/.installed
	$(BIN)/flask clicks flush --loop

## scheduler: enqueue the periodic jobs on their intervals (needs REDIS_URL)
scheduler: $(BIN)/.installed
	$(BIN)/rq cron exchange.rq_cron_config --url "$$REDIS_URL"

## auctioneer: run the exchange's auctions, AUCTIONEERS processes (default: one per core; needs REDIS_URL and DATABASE_URL)
auctioneer: $(BIN)/.installed
	$(BIN)/flask exchange auctioneer --processes $(AUCTIONEERS)

## bench: benchmarks, each against its baseline in the same run
bench: $(BIN)/.installed
	@for b in bench/[!_]*.py; do $(BIN)/python $$b || exit 1; done

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-output
