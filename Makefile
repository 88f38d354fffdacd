# Novora's verbs. Every target creates and uses the project venv (.venv); nothing relies on your shell history.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.novora-installed
export HF_HUB_OFFLINE := 1
export DAGSTER_DISABLE_TELEMETRY := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install demo test test-all test-fast lint bench docs browser clean nlp-model

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON) (Python 3.11)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first, pinned: 2.13.0 is the CPU build; anything else pulls a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/python -c "from orchestration.dbt import ensure_manifest; ensure_manifest()"
	touch $(STAMP)

install: $(STAMP)

## the demo: database, synthetic data, every asset materialised, Dagster UI + daemon + Streamlit (Ctrl-C stops)
demo: install
	$(BIN)/novora demo

## Debian's Chromium and ChromeDriver for the browser tests (playwright cannot download browsers here)
browser:
	@if [ -x /usr/bin/chromium ]; then echo "chromium present"; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else echo "install chromium and chromium-driver (Debian packages) for the browser tests"; exit 1; fi

## the whole suite: unit, integration (embedded PostgreSQL, dbt, Dagster) and browser tests
test: install browser
	$(BIN)/python -m pytest -m "not slow"

## everything, with the slow runs too (an alert through the live daemon with real sensor intervals, NLP retraining)
test-all: install browser
	$(BIN)/python -m pytest

## unit tests only (seconds)
test-fast: install
	$(BIN)/python -m pytest -m "not integration and not e2e and not slow"

lint: install
	$(BIN)/ruff check orchestration assets dashboards tests
	$(BIN)/sqlfluff lint dbt_project/models dbt_project/tests

bench: install
	$(BIN)/novora bench

docs: install
	$(BIN)/novora docs

## retrain the sentiment classifier and theme centroids from the shipped labelled sets (after editing them)
nlp-model: install
	$(BIN)/python -m assets.nlp.artifacts

clean:
	rm -rf $(VENV) .novora dbt_project/target dbt_project/logs test-artifacts .pytest_cache
