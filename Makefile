# Two commands set everything up on a fresh machine with Python 3.11:
#   make run    the demo scenario in the moderator app, results into results/demo.db
#   make test   the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SCENARIO ?= scenarios/demo.yaml
DB       ?= results/demo.db

.PHONY: run test lint bench hardening clean constraints smoke-install

# Each stamp records which extras are installed; pyproject.toml or constraints.txt changes
# re-install. Every install takes the exact versions in constraints.txt (pyproject.toml gives
# ranges), so the suite runs with the versions it was proven with.
PIP_INSTALL := $(BIN)/python -m pip install --quiet -c constraints.txt

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-installed: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP_INSTALL) -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP_INSTALL) -e '.[test]'
	touch $@ $(VENV)/.run-installed

$(VENV)/.dev-installed: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP_INSTALL) -e '.[dev]'
	touch $@ $(VENV)/.test-installed $(VENV)/.run-installed

# After a deliberate upgrade that passed the suite: write the venv's versions as the new pins.
constraints: $(VENV)/.dev-installed
	{ sed -n '/^#/p' constraints.txt; \
	  $(BIN)/python -m pip list --format=freeze --exclude-editable --exclude pip --exclude setuptools; \
	} > constraints.txt.new && mv constraints.txt.new constraints.txt

# Build the sdist and wheel, install the wheel into a fresh venv beside pandas 2, run the CLI.
smoke-install:
	$(PYTHON) tests/smoke_install.py

run: $(VENV)/.run-installed
	$(BIN)/usetest run $(SCENARIO) --db $(DB)

test: $(VENV)/.test-installed
	$(BIN)/python -m pytest

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check usetest tests

# Every tests/bench/bench_*.py, one after the other, figures collected into one table
# (docs/performance.md): under 10 minutes; LARGE=1 adds the 1M-row sizes (much longer).
bench: $(VENV)/.test-installed
	$(BIN)/python -m tests.bench.run_all $(if $(LARGE),--large) --out results/bench.md --log results/bench.log

# The long hardening runs (docs/hardening.md): 200 SIGKILLs, 10,000 fuzzed scenario files.
hardening: $(VENV)/.test-installed
	$(BIN)/python -m tests.bench.crash_campaign --kills 200
	$(BIN)/python -m tests.bench.fuzz_scenarios --cases 10000

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
