# The two quick-start commands: `make demo` and `make test` (see README).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint ui clean

$(BIN)/.installed: requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "helpdesk-etl needs Python 3.11 or newer (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

demo: $(BIN)/.installed   ## set up, then run the whole pipeline over the sandbox into data/warehouse.duckdb
	$(BIN)/helpdesk-etl demo

test: $(BIN)/.installed   ## set up, then run the test suite (PostgreSQL tests skip if no server)
	$(BIN)/ruff check .
	$(BIN)/pytest

ui: $(BIN)/.installed     ## open the Dagster UI over the sandbox
	$(BIN)/helpdesk-etl ui --demo

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache
