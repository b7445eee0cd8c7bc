# `make run`: set up and index this repository. `make test`: set up and run every check.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup run test test-fast lint bench server docs clean

# llama.cpp's native build uses AMX tile kernels where the CPU reports AMX, and on some
# machines those fault (a general protection fault in ggml's AMX matrix multiply, at the
# first prefill). Where the CPU reports AMX, llama-cpp-python is built for AVX-512 without
# AMX instead, and never taken from a wheel that an earlier native build left in pip's cache.
AMX := $(shell grep -qw amx_tile /proc/cpuinfo 2>/dev/null && echo yes)
LLAMA := $(shell grep -o '"llama-cpp-python\[server\]==[^"]*"' pyproject.toml | tr -d '"')
LLAMA_NO_AMX := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
	-DGGML_BMI2=ON -DGGML_AVX512=ON -DGGML_AVX512_VBMI=ON -DGGML_AVX512_VNNI=ON \
	-DGGML_AVX512_BF16=ON -DGGML_AVX_VNNI=ON

# A GPU build of llama-cpp-python: `make setup GPU=cuda` (or metal, vulkan, rocm). The choice
# is kept in the virtual environment, so later `make` commands keep that build; `make setup
# GPU=` goes back to the CPU. A switch compiles llama-cpp-python afresh, never from pip's cache.
GPU ?= $(shell cat $(VENV)/.gpu 2>/dev/null)
GPU_CMAKE_cuda := -DGGML_CUDA=on
GPU_CMAKE_metal := -DGGML_METAL=on
GPU_CMAKE_vulkan := -DGGML_VULKAN=on
GPU_CMAKE_rocm := -DGGML_HIP=on
ifneq ($(GPU),)
ifeq ($(GPU_CMAKE_$(GPU)),)
$(error GPU=$(GPU): use cuda, metal, vulkan or rocm, or leave it empty for the CPU)
endif
endif
STAMP := $(VENV)/.installed$(if $(GPU),-$(GPU))
LLAMA_CMAKE := $(strip $(if $(AMX),$(LLAMA_NO_AMX)) $(GPU_CMAKE_$(GPU)))
SWITCH := $(filter-out $(STAMP),$(wildcard $(VENV)/.installed $(VENV)/.installed-*))

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(if $(or $(LLAMA_CMAKE),$(SWITCH)),CMAKE_ARGS="$(LLAMA_CMAKE)" $(BIN)/python -m pip \
		install --quiet --no-cache-dir --no-binary llama-cpp-python \
		$(if $(SWITCH),--force-reinstall --no-deps) '$(LLAMA)')
	$(BIN)/python -m pip install --quiet -e '.[model,dev]'
	rm -f $(VENV)/.installed $(VENV)/.installed-*
	echo '$(GPU)' > $(VENV)/.gpu
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

test: lint server
	$(BIN)/python -m pytest -n 2 -q

# `make test-fast`: every test that needs neither the embedded model nor llama-server.
test-fast: setup
	$(BIN)/python -m pytest -n 2 -q -m "not model and not server"

# llama.cpp's own `llama-server` (the server backend's tests run against it) and `llama-bench`,
# built from the llama.cpp sources vendored in the llama-cpp-python sdist of the pinned version,
# so the server and the in-process backend are the same llama.cpp. No network at build time:
# no web UI (neither npm nor the prebuilt download), no curl, no OpenSSL. `nice`: a build on a
# shared machine leaves the other work some CPU. cmake comes from PyPI where the system has none.
LLAMA_VERSION := $(shell grep -o '"llama-cpp-python==[^"]*"' pyproject.toml | head -1 | tr -d '"' \
	| cut -d= -f3)
LLAMA_SDIST := build/llama_cpp_python-$(LLAMA_VERSION).tar.gz
LLAMA_SRC := build/llama_cpp_python-$(LLAMA_VERSION)/vendor/llama.cpp
LLAMA_BUILD := build/llama.cpp
CMAKE := $(shell command -v cmake 2>/dev/null || echo $(BIN)/cmake)
LLAMA_SERVER_FLAGS := -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DLLAMA_CURL=OFF \
	-DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_TESTS=OFF \
	-DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF \
	$(if $(shell command -v ninja 2>/dev/null),-G Ninja) $(if $(AMX),$(LLAMA_NO_AMX))

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(BIN)/cmake: | $(BIN)/python
	$(BIN)/python -m pip install --quiet cmake

$(LLAMA_SDIST): | $(BIN)/python
	mkdir -p build
	$(BIN)/python -m pip download --quiet --no-deps --no-binary :all: \
		llama-cpp-python==$(LLAMA_VERSION) -d build/

$(LLAMA_SRC)/CMakeLists.txt: $(LLAMA_SDIST)
	tar -xzf $(LLAMA_SDIST) -C build llama_cpp_python-$(LLAMA_VERSION)/vendor/llama.cpp
	touch $@

$(LLAMA_BUILD)/bin/llama-server $(LLAMA_BUILD)/bin/llama-bench &: $(LLAMA_SRC)/CMakeLists.txt \
		| $(CMAKE)
	rm -f $(LLAMA_BUILD)/CMakeCache.txt  # configured from another version's sources
	$(CMAKE) -S $(LLAMA_SRC) -B $(LLAMA_BUILD) $(LLAMA_SERVER_FLAGS)
	nice -n 10 $(CMAKE) --build $(LLAMA_BUILD) --config Release -j$(shell nproc) \
		--target llama-server llama-bench
	touch $(LLAMA_BUILD)/bin/llama-server $(LLAMA_BUILD)/bin/llama-bench

server: $(LLAMA_BUILD)/bin/llama-server $(LLAMA_BUILD)/bin/llama-bench

bench: setup
	$(BIN)/python benchmarks/bench_index.py
	$(BIN)/python benchmarks/bench_locality.py .

# docs/configuration.md is generated from the settings in codectx/settings.py
# (tests/test_docs.py fails when it is out of date).
docs: setup
	$(BIN)/python -m codectx.settings_reference docs/configuration.md

clean:
	rm -rf $(VENV) build
