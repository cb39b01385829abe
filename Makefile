# The two commands of the README. Each creates .venv on first use from the
# pinned requirements, then runs the workflow or the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
CORES ?= all

.PHONY: reproduce test browser slurm report lint clean paper-miniature

# pip byte-compiles what it installs one file at a time (40 of its 80 s here); compileall
# does the same on every core. Like pip, it passes over files that do not compile under this
# Python (torch ships one in 3.12 syntax), so its status is not checked.
$(INSTALLED): requirements.txt requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install --no-compile -r requirements.txt -c requirements.lock
	$(BIN)/python -m compileall -qq -j 0 $(VENV)/lib || true
	touch $@

## Run the whole workflow on the embedded default (CPU, shipped or generated data).
reproduce: $(INSTALLED)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/snakemake --cores $(CORES)

## Run the test suite (unit tests, workflow dry-runs, end-to-end runs) on two workers, each
## workflow run on one of them (tests/run_groups.py).
test: $(INSTALLED) browser slurm
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -n 2 --dist loadgroup \
		--no-loadscope-reorder

## Debian's Chromium and ChromeDriver for the PV survey-kit test (installed when root with apt;
## otherwise that test is skipped, except under CI, where it fails).
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else echo "chromium/chromedriver missing: install them to run tests/test_pv_browser.py"; fi

## Debian's SLURM daemons, client and munge for the cluster test, which starts a one-node
## cluster on 127.0.0.1 (installed when root with apt; otherwise tests/test_slurm.py is
## skipped, except under CI, where it fails).
slurm:
	@if command -v sbatch >/dev/null && [ -x /usr/sbin/slurmctld ] && [ -x /usr/sbin/slurmd ] \
		&& [ -x /usr/sbin/munged ]; then :; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			slurmctld slurmd slurm-client munge >/dev/null; \
	else echo "SLURM missing: install slurmctld, slurmd and munge to run tests/test_slurm.py"; fi

## The paper miniature: config/paper.yaml at small counts on fabricated sources served on
## 127.0.0.1, in a copy under .miniature-run/; prints each rule's time and peak memory with its
## extrapolation to the paper's counts. DEVICE=cuda runs it on a GPU.
DEVICE ?= cpu
paper-miniature: $(INSTALLED)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m common.miniature.run --device $(DEVICE) \
		--cores $(if $(filter all,$(CORES)),$$(nproc),$(CORES))

## Build the Snakemake HTML report of the last run.
report: $(INSTALLED)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/snakemake --report report.html

lint: $(INSTALLED)
	$(BIN)/ruff check .
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/snakemake --lint

clean:
	rm -rf results resources logs wandb report.html .snakemake
