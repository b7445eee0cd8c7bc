# `make run`: set up and index this repository. `make test`: set up and run every check.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[model,dev]'
	touch $(STAMP)

setup: $(STAMP)

run: setup
	mkdir -p build
	$(BIN)/codectx index . -o build/prompt.xml
	$(BIN)/codectx ask "Which module does app.py import, and what does Engine.run return?" \
		tests/fixtures/python

lint: setup
	$(BIN)/ruff check codectx tests benchmarks
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest -n 2 -q

bench: setup
	$(BIN)/python benchmarks/bench_index.py
	$(BIN)/python benchmarks/bench_locality.py .

clean:
	rm -rf $(VENV) build
