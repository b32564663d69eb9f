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

.PHONY: install test lint setupdb bench bench-findings bench-quick bench-full calibrate microbench switches report compare clean

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
	$(PY) -m ruff check bench project tests $(wildcard scenarios/*.py)
	$(PY) -m pytest

lint: $(STAMP)
	$(PY) -m ruff check bench project tests $(wildcard scenarios/*.py)
	$(PY) -m ruff format --check bench project tests $(wildcard scenarios/*.py)

bench: $(STAMP)
	$(PY) -m bench run --label bench

bench-findings: $(STAMP)
	$(PY) -m bench run --scenario findings --repeats 5 --label findings

bench-quick: $(STAMP)
	$(PY) -m bench run --quick --label quick

bench-full: $(STAMP)
	$(PY) -m bench run --full --scenario default findings --label full

calibrate: $(STAMP)
	$(PY) -m bench calibrate

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
