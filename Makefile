# The two commands: `make run` starts everything, `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
B ?=

.PHONY: run test fuzz audit bench lint check clean

run: $(STAMP)
	$(BIN)/python -m attendance_site.runner

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# `make test` fuzzes every API operation briefly (tests/test_api_fuzz.py); this fuzzes it
# FUZZ_EXAMPLES requests per operation and role.
FUZZ_EXAMPLES ?= 100
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest tests/test_api_fuzz.py $(PYTEST_ARGS)

# Known vulnerabilities in the installed packages; says NOT RUN where no database is reachable.
audit: $(STAMP)
	$(BIN)/python scripts/dependency_audit.py

bench: $(STAMP)
	$(BIN)/python -m bench $(B)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The checks cover the example plugin too (its migrations, schema and types): enabled unless PLUGINS is set.
check: export PLUGINS ?= plugins.badges
check: $(STAMP)
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python manage.py spectacular --fail-on-warn --validate --file /dev/null
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/deptry . --config deptry.toml

$(STAMP): requirements.txt requirements-dev.txt requirements-nodeps.txt constraints.txt package-lock.json
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is required (set PYTHON=...)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-nodeps.txt
	$(BIN)/python scripts/vendor_static.py
	touch $(STAMP)

clean:
	rm -rf $(VENV) var staticfiles
