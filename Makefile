# TradeSage: `make run` brings the whole mesh up, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install generate check-generated lint breaking run test test-unit bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

install: $(INSTALLED) ## Create .venv (if needed) and install TradeSage with its dev tools

$(INSTALLED): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --editable '.[dev]'
	touch $@

generate: install ## Regenerate generated/ (stubs, type stubs, descriptor set, OpenAPI)
	$(PY) tools/codegen.py

check-generated: install ## Fail if generated/ is stale
	$(PY) tools/codegen.py --check

lint: install ## buf lint, ruff
	$(VENV)/bin/buf lint
	$(VENV)/bin/ruff check .

breaking: install ## buf breaking against the previous contract in git
	$(PY) tools/breaking.py

run: install generate ## Start everything on the embedded default; prints the edge URL; Ctrl-C stops
	exec $(VENV)/bin/tradesage up

test: install ## Run every test (unit, integration through the mesh, end-to-end through the edge)
	$(PY) -m pytest -q

test-unit: install ## Run the unit tests only
	$(PY) -m pytest -q tests/unit

BENCHES := $(patsubst bench/bench_%.py,%,$(wildcard bench/bench_*.py))

bench: $(addprefix bench-,$(BENCHES)) ## Run every benchmark (each prints a JSON last line)

bench-%: install ## Run one benchmark, e.g. `make bench-mesh`
	PYTHONPATH=. $(PY) bench/bench_$*.py

clean: ## Remove the data directory of `make run` (.tradesage/)
	rm -rf .tradesage
