# Two commands set everything up on a fresh machine with Python 3.11:
#   make run    the demo scenario in the moderator app, results into results/demo.db
#   make test   the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SCENARIO ?= scenarios/demo.yaml
DB       ?= results/demo.db

.PHONY: run test lint bench hardening clean

# Each stamp records which extras are installed; pyproject.toml changes re-install.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.run-installed

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.test-installed $(VENV)/.run-installed

run: $(VENV)/.run-installed
	$(BIN)/usetest run $(SCENARIO) --db $(DB)

test: $(VENV)/.test-installed
	$(BIN)/python -m pytest

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check usetest tests

bench: $(VENV)/.test-installed
	$(BIN)/python -m tests.bench.bench_store

# The long hardening runs (docs/hardening.md): 200 SIGKILLs, 10,000 fuzzed scenario files.
hardening: $(VENV)/.test-installed
	$(BIN)/python -m tests.bench.crash_campaign --kills 200
	$(BIN)/python -m tests.bench.fuzz_scenarios --cases 10000

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
