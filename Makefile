# Two entry points (README): `make demo` and `make test`. Both create .venv and install on first use.
PY ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

$(STAMP): requirements-cpu.txt requirements-dev.txt pyproject.toml
	test -x $(VENV)/bin/python || $(PY) -m venv $(VENV)
	$(VENV)/bin/pip install -q -c requirements-cpu.txt -r requirements-cpu.txt -r requirements-dev.txt
	$(VENV)/bin/pip install -q --no-deps -e .
	touch $(STAMP)

.PHONY: install browser demo test lint bench docs
install: $(STAMP)

# the headless chromium + driver of the report tests (apt, idempotent; shared with .ci/run)
browser:
	bash .ci/install-browser.sh

demo: $(STAMP)
	$(VENV)/bin/interlens demo --out runs/demo

test: $(STAMP) browser
	$(VENV)/bin/python -m pytest -q

# the API reference from docstrings (mkdocs + mkdocstrings, warnings are errors) into site/
docs: $(STAMP)
	$(VENV)/bin/mkdocs build --strict -f mkdocs.yml

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks

bench: $(STAMP)
	$(VENV)/bin/python benchmarks/bench_categorize.py
