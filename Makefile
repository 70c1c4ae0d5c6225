PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test chaos lint format install clean

## make run: start web (http://127.0.0.1:8000), worker and beat with the demo team
run: install
	$(PY) -m outreach.local_services run

## make test: the whole suite against real PostgreSQL and Redis (ARGS=... passes pytest options)
test: install
	$(PY) -m outreach.local_services test $(ARGS)

## make chaos: the fault tests (real worker, beat, sandbox and Redis processes) at full length
chaos: install
	CHAOS=long $(PY) -m outreach.local_services test -m chaos -s $(ARGS)

## make lint: ruff, mypy and the import contracts (what CI runs before the suite)
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-logo

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[local,dev]"
	touch $@

clean:
	rm -rf $(VENV) var
