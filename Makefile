# SciShare — the two commands are `make demo` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
export PYTHONUNBUFFERED := 1

.PHONY: install demo demo-data serve test test-fast lint browser-deps i18n clean \
	bench-catalog bench-matching bench-booking bench-settlement eval-matching

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[dev]'
	$(PY) -m scishare.web.i18n compile
	touch $(STAMP)

demo: demo-data
	$(VENV)/bin/scishare serve --host 127.0.0.1 --port 8000

# The demo region in the configured database (default .scishare/scishare.db); each step leaves
# what is already there alone, so this is quick once done.
demo-data: install
	$(VENV)/bin/scishare db upgrade
	$(VENV)/bin/scishare knowledge import
	$(VENV)/bin/scishare demo build
	$(VENV)/bin/scishare matching index

serve: install
	$(VENV)/bin/scishare serve

# Debian's chromium and a CJK font for the browser tests (Chinese renders as boxes without one).
browser-deps:
	@if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk"; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium fonts-wqy-microhei; \
	fi

test: install browser-deps
	$(VENV)/bin/ruff check src tests bench migrations
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest -x -q -m "not browser" --db sqlite

lint: install
	$(VENV)/bin/ruff check src tests bench migrations
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

i18n: install
	$(PY) -m scishare.web.i18n extract
	$(PY) -m scishare.web.i18n compile

bench-catalog: install
	$(PY) bench/bench_catalog.py

bench-matching: install
	$(PY) bench/bench_matching.py

bench-booking: install
	$(PY) bench/bench_booking.py

bench-settlement: install
	$(PY) bench/bench_settlement.py

eval-matching: demo-data
	$(VENV)/bin/scishare eval matching src/scishare/data/eval/matching_dev.jsonl

clean:
	rm -rf $(VENV) .scishare test-output
