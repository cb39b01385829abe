# The two commands of the README. Each creates .venv on first use from the
# pinned requirements, then runs the workflow or the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
CORES ?= all

.PHONY: reproduce test report lint clean

$(INSTALLED): requirements.txt requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -r requirements.txt -c requirements.lock
	touch $@

## Run the whole workflow on the embedded default (CPU, shipped or generated data).
reproduce: $(INSTALLED)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/snakemake --cores $(CORES)

## Run the test suite (unit tests, workflow dry-runs, end-to-end runs).
test: $(INSTALLED)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest

## Build the Snakemake HTML report of the last run.
report: $(INSTALLED)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/snakemake --report report.html

lint: $(INSTALLED)
	$(BIN)/ruff check .
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/snakemake --lint

clean:
	rm -rf results resources logs wandb report.html .snakemake
