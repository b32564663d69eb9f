# The front door: each target is one call into the harness, pytest or ruff.
# Every target depends on the virtualenv, so any of them works as the first
# command on a fresh machine.

SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

# Django 6 needs Python >= 3.12: python3.13 / python3.12 on PATH, pyenv's
# installed versions, then python3 itself.
define FIND_PYTHON
for candidate in python3.13 python3.12 \
    $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV) \
    python3; do \
  if command -v "$$candidate" >/dev/null 2>&1 && \
     "$$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then \
    echo "$$candidate"; exit 0; \
  fi; \
done; exit 1
endef
export FIND_PYTHON

.PHONY: install test test-cost test-fast lint setupdb cost bench bench-findings bench-quick bench-full bench-docs bench-held bench-workers calibrate microbench switches report compare clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@python="$$(bash -c "$$FIND_PYTHON")" || { echo "error: no Python >= 3.12 found (tried python3.13, python3.12, pyenv versions, python3); install one, e.g. 'pyenv install 3.13'" >&2; exit 1; }; \
	if [ -x "$(PY)" ] && ! "$(PY)" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then rm -rf "$(VENV)"; fi; \
	[ -x "$(PY)" ] || { echo "creating $(VENV) with $$python ($$("$$python" --version))"; "$$python" -m venv "$(VENV)"; }
	@$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
	@$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]' 2>&1 | grep -v "^WARNING: Location" || true
	@$(PY) -c 'import django, locust, gunicorn, uvicorn' || { echo "error: installing the project into $(VENV) failed" >&2; exit 1; }
	@touch $(STAMP)

test: $(STAMP)
	$(PY) -m ruff check bench project tests tools $(wildcard scenarios/*.py)
	$(PY) -m pytest -m "not valgrind"

# bench cost's known answer under valgrind (about a minute; see its docstring).
test-cost: $(STAMP)
	$(PY) -m pytest -m valgrind

# The suite without the tests that start servers or locust, for the edit loop:
# one pytest-xdist worker per CPU (make test stays serial, as the live tests need).
test-fast: $(STAMP)
	$(PY) -m ruff check bench project tests tools $(wildcard scenarios/*.py)
	$(PY) -m pytest -m "not live and not valgrind" -n auto

lint: $(STAMP)
	$(PY) -m ruff check bench project tests tools $(wildcard scenarios/*.py)
	$(PY) -m ruff format --check bench project tests $(wildcard scenarios/*.py)

bench: $(STAMP)
	$(PY) -m bench run --label bench --repeats 10 --target-interval 5 --budget 15m

bench-findings: $(STAMP)
	$(PY) -m bench run --scenario findings --repeats 10 --target-interval 5 --budget 15m --label findings

bench-docs: $(STAMP)
	$(PY) -m bench run --scenario docs --repeats 5 --label docs

bench-held: $(STAMP)
	$(PY) -m bench run --scenario held --repeats 3 --label held

bench-quick: $(STAMP)
	$(PY) -m bench run --quick --label quick

bench-full: $(STAMP)
	$(PY) -m bench run --full --scenario default findings --label full

# Worker scaling: the same json cells with 1 and with $(WORKERS) server workers,
# server and locust sharing the same CPUs in both runs (on two cores there is no
# other way: the guard flags it), then B/A per cell. On a bigger machine give
# each side its own cores, e.g. WORKERS=4 SERVER_CPUS=0-3 LOADGEN_CPUS=4-7.
WORKERS ?= 2
SERVER_CPUS ?= 0,1
LOADGEN_CPUS ?= 0,1
LOADGEN_WORKERS ?= 2
SCALING = --scenario json --users 64 --repeats 5 --server-cpus $(SERVER_CPUS) --loadgen-cpus $(LOADGEN_CPUS) --loadgen-workers $(LOADGEN_WORKERS)

bench-workers: $(STAMP)
	$(PY) -m bench run $(SCALING) --workers 1 --label workers1 --results results/workers/1
	$(PY) -m bench run $(SCALING) --workers $(WORKERS) --label workers$(WORKERS) --results results/workers/$(WORKERS)
	$(PY) -m bench compare results/workers/1/latest results/workers/$(WORKERS)/latest

calibrate: $(STAMP)
	$(PY) -m bench calibrate

# Instructions per request under valgrind (noise-free): WSGI + sync against
# ASGI + async on json, with no middleware and with Django's seven, on three
# Django releases (one cached environment each; report: make report RUN=...).
COST_RELEASES ?= 5.2.x 6.0.x 6.1.3
cost: $(STAMP)
	$(PY) -m bench cost --scenario middleware --full --server gunicorn-gthread uvicorn \
	  --stack none django --cells '*.gunicorn-gthread.sync.*' '*.uvicorn.async.*' \
	  --django $(COST_RELEASES) --requests 100 300 --repeats 2 --no-syscalls

microbench: $(STAMP)
	$(PY) -m bench microbench

switches: $(STAMP)
	$(PY) -m bench run --scenario switches --repeats 3 --duration 15 --warmup 2 --label switches

report: $(STAMP)
	$(PY) -m bench report $(or $(RUN),results/latest)

compare: $(STAMP)
	@[ -n "$(A)" ] && [ -n "$(B)" ] || { echo "usage: make compare A=results/<run> B=results/<run>" >&2; exit 2; }
	$(PY) -m bench compare $(A) $(B)

setupdb: $(STAMP)
	$(PY) -m project setupdb

clean:
	rm -rf $(VENV) .data .pytest_cache
