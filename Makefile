# Two commands on a fresh machine: `make run` and `make test` (README).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench bench-large api demo audit-demo lint clean

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m jobs demo
	$(BIN)/streamlit run app.py --server.port 8501 --server.headless true

demo: $(STAMP)
	$(BIN)/python -m jobs demo

# The whole suite on SQLite and, when TEST_DATABASE_URL points at PostgreSQL, on it too.
test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup tests

# The sync (2,000 accounts, recorded then replayed, on SQLite and PostgreSQL), the page server times, the
# back-test, the API under load, and the judgments on the held-out labelled worlds (jobs evaluate).
bench: $(STAMP)
	$(BIN)/python -m jobs.bench
	$(BIN)/python -m jobs.bench_pages
	$(BIN)/python -m jobs.bench_backtest
	$(BIN)/python -m jobs.bench_api
	$(BIN)/python -m jobs evaluate --seeds 3

# 20,000 accounts / 1,000,000 visitors / 90 days on PostgreSQL (BENCH_DATABASE_URL names the server):
# recorded live into PostgreSQL, then replayed into a fresh database. DEADLINE=N stops each sync after N minutes.
bench-large: $(STAMP)
	$(BIN)/python -m jobs.bench --accounts 20000 --visitors 1000000 --live-store postgresql --stores postgresql \
		--compress-recording --out bench-results/sync-large.json $(if $(DEADLINE),--deadline-min $(DEADLINE))

api: $(STAMP)
	$(BIN)/python -m api

# The audit against the simulator's own aggregates, on a demo store of its own (100% expected).
audit-demo: $(STAMP)
	env -u PENDO_INTEGRATION_KEY DATABASE_URL=sqlite:///data/audit-demo.db $(BIN)/python -m jobs demo
	env -u PENDO_INTEGRATION_KEY DATABASE_URL=sqlite:///data/audit-demo.db $(BIN)/python -m jobs audit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy pendo_core pendo_sim pages app.py api jobs
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) data/*.db
