# gspws: `make run` sets up and serves (`make run RECORD=DIR` also records every SOAP exchange
# for `gspws replay`); `make test` runs the whole suite. See README.md.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-stamp
# Other interpreters for the SOAP round-trip smoke test (spyne compatibility, gspws/_compat.py).
COMPAT_PYTHONS ?= 3.12 3.13
# Which extra `install` adds: the compat venvs need only the round trip's (setup.cfg's `compat` extra).
EXTRAS ?= test
# pytest-xdist workers for `make test-suite` (tests are independent: own tmp dirs, ports, schemas).
# Four on 2 cores: the workers often wait on servers, processes and PostgreSQL.
TEST_WORKERS ?= 4
PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo $(HOME)/.pyenv)
# uv installs the packages of every venv (this one, the compat ones, the wheel check's); pip puts
# it in the main venv once. Measured in a fresh clone with empty caches on 2 cores: the main venv
# 27 -> 17 s, the two compat venvs and their round trips 50 -> 23 s, the wheel check 31 -> 15 s.
# A venv is made without pip: the interpreter's pip installs uv into it (pip --python; a venv
# with pip cost 5.3 s against 0.13 s). Only where the interpreter has no pip does ensurepip put
# one in the venv for that.
UV_VERSION = 0.13.9
UV ?= $(BIN)/uv
# Bytecode for every installed module, once: this shell sets PYTHONDONTWRITEBYTECODE, so each of
# the suite's interpreters would compile what it imports again. Not for a compat venv, where one
# interpreter runs: compiling all cost 6.3 s of CPU there and saved 3 s (3.12, measured).
COMPILE_BYTECODE ?= --compile-bytecode

.PHONY: install run test lint test-suite test-compat test-wheel fuzz clean

install: $(STAMP)

$(STAMP): setup.cfg setup.py pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "gspws needs Python 3.11+ (set PYTHON=...)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv --without-pip $(VENV) || \
	  { echo "python3 -m venv failed: on Debian/Ubuntu install python3-venv"; exit 1; }
	@test -x $(UV) || $(PYTHON) -m pip --python $(BIN)/python install --quiet 'uv==$(UV_VERSION)' \
	  2>/dev/null || { $(BIN)/python -m ensurepip --default-pip >/dev/null && \
	  $(BIN)/python -m pip install --quiet 'uv==$(UV_VERSION)'; } || \
	  { echo "no pip to install uv with: on Debian/Ubuntu install python3-pip or python3-venv"; \
	    exit 1; }
	$(UV) pip install --quiet $(COMPILE_BYTECODE) --python $(BIN)/python -e '.[$(EXTRAS)]'
	@touch $@

# SMS and e-mailed codes go to files in var/spool unless a gateway is configured (docs/delivery.md).
run: export GSPWS_SMS_GATEWAY ?= spool:var/spool
run: export GSPWS_MAIL_GATEWAY ?= spool:var/spool
run: install
	$(BIN)/gspws db upgrade
	@$(BIN)/gspws demo --url http://127.0.0.1:$${GSPWS_PORT:-8000}/gsp2ws/TOTP.asmx
	@echo
	$(BIN)/gspws serve --host 127.0.0.1 --port $${GSPWS_PORT:-8000} $(if $(RECORD),--record $(RECORD))

# The four side by side (make -j; each one's output printed together when it ends): the suite's
# workers often wait on servers and processes, and meanwhile mypy (~22 s of CPU without its
# cache, as in a fresh clone), the compat venvs' and the wheel's installs (mostly disk and
# network) use the cores. One failing fails `make test`.
test:
	@$(MAKE) --no-print-directory -j 4 --output-sync=target lint test-suite test-compat test-wheel

# ruff (lint and format, settings in pyproject.toml) and mypy (strict on gspws/core and gspws/store).
LINT_PATHS = gspws tests bench clients
lint: install
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy gspws

# Bytecode first: with PYTHONDONTWRITEBYTECODE set (as in this machine's shell) every process
# the suite starts (~200 servers and CLI runs) compiled gspws from source, ~0.15 s of CPU each.
test-suite: install
	@$(BIN)/python -m compileall -q gspws tests bench clients
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal

# The SOAP round trip on each of COMPAT_PYTHONS found under pyenv, in its own venv (installed once:
# afterwards only the stamp is checked).
# After `install`: each editable install writes gspws.egg-info in the tree, so not two at once.
test-compat: install
	@for v in $(COMPAT_PYTHONS); do \
	  py=$$(ls -d $(PYENV_ROOT)/versions/$$v*/bin/python 2>/dev/null | sort -V | tail -n 1); \
	  if [ -z "$$py" ]; then echo "compat: Python $$v not found under $(PYENV_ROOT); skipped"; continue; fi; \
	  $(MAKE) --no-print-directory PYTHON=$$py VENV=.venv-$$v EXTRAS=compat UV=$(abspath $(UV)) \
	    COMPILE_BYTECODE= install || exit 1; \
	  echo "compat: SOAP round trip on $$($$py --version)"; \
	  .venv-$$v/bin/python -m pytest -q tests/soap/test_smoke.py || exit 1; \
	done

# The wheel built from the tree, installed in a fresh venv in a temp dir, serving one SOAP call.
test-wheel: install
	$(BIN)/python tests/wheel_check.py

# Coverage-guided fuzzing of the SOAP entry point (tests/fuzz_soap.py, atheris), seeded with
# tests/corpus. New inputs collect in var/fuzz/corpus, crashes as var/fuzz/crash-*.
FUZZ_SECONDS ?= 600
fuzz: install
	@mkdir -p var/fuzz/corpus
	FUZZ_WORKDIR=var/fuzz/work $(BIN)/python tests/fuzz_soap.py -max_total_time=$(FUZZ_SECONDS) \
	  -timeout=10 -artifact_prefix=var/fuzz/ var/fuzz/corpus

clean:
	rm -rf $(VENV) .venv-* .pytest_cache build *.egg-info

# gspws under load next to a no-database floor (bench/run.py; options: make bench BENCH_ARGS="--help"),
# by default in each load shape of bench/run.py SHAPES (--shapes: needs PostgreSQL, --pg-url).
# wrk drives the load when present (Debian's package, installed here when apt-get can); else
# bench/run.py falls back to its Python load generator, which uses more of the CPU itself.
.PHONY: bench
bench: install
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } || \
	  echo "bench: wrk not installed (apt-get install wrk); using the Python load generator"
	@test -x $(BIN)/py-spy || $(UV) pip install --quiet --python $(BIN)/python py-spy  # --profile
	$(BIN)/python bench/run.py $(or $(BENCH_ARGS),--shapes)
	$(MAKE) --no-print-directory bench-import

# 100,000 tokens through `gspws token import` on SQLite (issue 13's goal: 60 s), bench/import_tokens.py.
.PHONY: bench-import
bench-import: install
	$(BIN)/python bench/import_tokens.py
