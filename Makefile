# Everything bootstraps .venv by itself: a fresh clone needs only Python >= 3.11 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run emulator test check format lint types layers unit browser servers bench clean

# Root installs system packages directly; anyone else through sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)  ## run the bot on its embedded defaults
	$(BIN)/python -m bot

emulator: $(STAMP)  ## only the CDN API emulator, with demo data, on port 8900
	$(BIN)/python -m bot emulator --port 8900 --seed 400

test: check  ## every check: format, lint, types, layer contracts, tests

check: format lint types layers unit

format: $(STAMP)
	$(BIN)/ruff format --check bot tests benchmarks

lint: $(STAMP)
	$(BIN)/ruff check bot tests benchmarks

types: $(STAMP)
	$(BIN)/mypy

layers: $(STAMP)
	$(BIN)/lint-imports

unit: $(STAMP) browser servers
	$(BIN)/pytest

browser:  ## Debian's Chromium (and an emoji font) for the playground's browser tests
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Chromium for the browser tests (Debian packages)"; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			chromium fonts-noto-color-emoji >/dev/null; }

servers:  ## Debian's Redis and PostgreSQL: the tests start throwaway instances of both
	@{ command -v redis-server >/dev/null 2>&1 && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; } || { \
		echo "Installing Redis and PostgreSQL for the replica tests (Debian packages)"; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			redis-server postgresql >/dev/null; }

bench: $(STAMP)  ## benchmarks against the emulator (they print numbers; see benchmarks/README.md)
	$(BIN)/python benchmarks/client.py
	$(BIN)/python benchmarks/slack.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
