# The two commands: `make run` (serve the site) and `make test` (the suite).
# Everything (venv, packages, three PostgreSQL members under Patroni with etcd,
# Redis) is set up by the project itself; see README.md and docs/failover.md.

SHELL := /bin/bash
PYTHON_BIN := $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STACK := $(PY) deploy/localstack.py
TEST_STACK ?= test

.PHONY: venv up down run test test-e2e fuzz e2e-tools test-stack-up test-stack-down bench clean

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	@test -x $(PY) || $(PYTHON_BIN) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	@touch $@

up: venv
	STACK_NAME=dev $(STACK) up --web

down:
	@if [ -x $(PY) ]; then STACK_NAME=dev $(STACK) down; else STACK_NAME=dev python3 deploy/localstack.py down; fi

run: up
	@trap '$(MAKE) --no-print-directory down; exit 0' INT TERM; \
	  logs=$$(STACK_NAME=dev $(STACK) env | sed -n 's/^export STACK_STATE_DIR=//p')/logs; \
	  tail -n 20 -F $$logs/web.log $$logs/access.log $$logs/scheduler.log & wait

# The test stack has its own ports and data (STACK_NAME=test), so it never
# touches a running `make up` stack. It is stopped whatever the outcome.
# The suite includes the browser journeys (tests/e2e, marked e2e). It takes
# the stack's addresses from `localstack.py env`, but its own SECRET_KEY and
# the settings' default APP_VERSION (which its tests expect), not the stack's.
test: venv e2e-tools
	@STACK_NAME=$(TEST_STACK) $(STACK) up
	@set -a; eval "$$(STACK_NAME=$(TEST_STACK) $(STACK) env)"; set +a; unset APP_VERSION; \
	  export SECRET_KEY=test-secret-key DEBUG=off STATIC_ROOT=$$STACK_STATE_DIR/static; \
	  $(PY) manage.py collectstatic --noinput -v 0 && \
	  $(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	  STACK_NAME=$(TEST_STACK) $(STACK) down; exit $$rc

# Only the browser journeys, on the same test stack.
test-e2e:
	@$(MAKE) --no-print-directory test PYTEST_ARGS="tests/e2e $(PYTEST_ARGS)"

# The hostile-reader suite with many more generated cases (randomised, not
# the fixed seed of `make test`): a nightly-style run, ~10 minutes.
fuzz:
	@$(MAKE) --no-print-directory test PYTEST_ARGS="tests/hostile $(PYTEST_ARGS)" HYPOTHESIS_PROFILE=fuzz

# Debian's chromium (apt-get when root) and axe-core (npm ci) for the journeys;
# a Java runtime (default-jre-headless) for the Nu HTML Checker.
e2e-tools:
	@$(PYTHON_BIN) tests/e2e/prepare.py

# Benchmarks on their own stack (STACK_NAME=bench, ports 26320..); QUICK=1 for
# a two-minute run. Bench-only packages go into the venv; wrk (Debian's
# package) is installed when root, else bench/run.py names it.
bench: venv $(VENV)/.bench-installed
	@STACK_NAME=bench $(PY) bench/run.py $(if $(QUICK),--quick,)

$(VENV)/.bench-installed: bench/requirements.txt $(VENV)/.installed
	$(PY) -m pip install -q --disable-pip-version-check -r bench/requirements.txt
	@touch $@

clean: down
	rm -rf .state
