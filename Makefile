# ABC Learning Bot — `make run` and `make test` do all the set-up on a fresh machine.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' && { command -v $$p; break; }; done)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PIP    := $(BIN)/python -m pip --disable-pip-version-check

.PHONY: run test test-fast install lint typecheck bench check-data clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is needed (python3.11 / python3.12 …)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(PIP) install -q --upgrade pip >/dev/null
	@$(PIP) install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)  ## create the venv and install the bot with its dev tools

# The demo data belong to plan year 113 (2024): the console demo runs as on DEMO_TODAY (default
# 113年3月1日) so deadlines and sample classes read as they would then. `DEMO_TODAY= make run` uses today.
run: $(STAMP)  ## prepare the SQLite database with demo data and run the bot (console without credentials)
	@DEMO_TODAY="$${DEMO_TODAY-2024-03-01}" $(BIN)/abc-bot run

test: $(STAMP)  ## run every test (PostgreSQL tests skip, saying so, when no server answers)
	@$(BIN)/python -m pytest

test-fast: $(STAMP)  ## only the database-free tests (rules, texts, search, rendering…): no database, no process
	@$(BIN)/python -m pytest -m "not db"

typecheck: $(STAMP)  ## mypy (strict)
	$(BIN)/mypy

lint: $(STAMP)  ## ruff and mypy
	$(BIN)/ruff check bot handlers tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy

bench: $(STAMP)  ## print the benchmark figures
	$(BIN)/python bench/search.py
	$(BIN)/python bench/hours.py
	$(BIN)/python bench/webhook.py --rounds 3
	$(BIN)/python bench/intents.py
	$(BIN)/python bench/enqueue.py
	$(BIN)/python bench/photos.py
	$(BIN)/python bench/telegram.py --rounds 3
	$(BIN)/python bench/reminders.py
	$(BIN)/python bench/startup.py --runs 3

check-data: $(STAMP)  ## validate the data files
	$(BIN)/abc-bot check-data

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
