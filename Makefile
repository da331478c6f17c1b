# Verbandswiki: `make run` sets up and serves the demo wiki, `make test` runs ruff and every test.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
INSTANCE ?= instance
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install install-test lint catalogs clean bench

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

install-test: $(VENV)/.installed-test catalogs

# Compile the translation catalogs (.po → .mo); part of every install.
catalogs: $(BIN)/python
	@for po in wiki/translations/*/LC_MESSAGES/messages.po; do \
		[ -f "$$po" ] || continue; \
		$(BIN)/python -c "import sys; from babel.messages.mofile import write_mo; from babel.messages.pofile import read_po; cat = read_po(open(sys.argv[1], 'rb')); write_mo(open(sys.argv[2], 'wb'), cat)" "$$po" "$${po%.po}.mo"; \
	done

run: install
	@if [ ! -f "$(INSTANCE)/config.py" ]; then $(BIN)/verbandswiki init --demo --instance "$(INSTANCE)"; fi
	@echo "Verbandswiki: http://$(HOST):$(PORT)/"
	$(BIN)/verbandswiki serve --instance "$(INSTANCE)" --host $(HOST) --port $(PORT)

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: install-test
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 --dist loadfile

bench: install-test
	$(BIN)/python bench/core.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
