# The two commands the README promises: `make test` and `make demo`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# CPU build here; GPU users: make TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128"
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM = false

.PHONY: install test lint demo clean browser mutation mutation-mutmut

install: $(STAMP) browser

# the web app's tests drive a real browser: Debian's chromium, installed when missing
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { echo "installing chromium (Debian's package) for the browser tests"; \
	    $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH_SPEC)
	$(PY) -m pip install --quiet -e ".[dev]"
	$(PY) -m shotscope fetch-people-models
	touch $(STAMP)

lint: $(STAMP)
	$(PY) -m ruff check src tests benchmarks tools

test: $(STAMP) browser lint
	$(PY) -m pytest -q

# outcome mutants: hand-written changes that each break what a user sees, against the tests of
# their module (slow: not part of `make test`); results in docs/testing.md
mutation: $(STAMP)
	$(PY) tools/outcome_mutants.py

# mutmut's operators over the core modules (slower still); how its score differs: docs/testing.md
mutation-mutmut: $(STAMP)
	@$(PY) -c "import mutmut" 2>/dev/null || $(PY) -m pip install --quiet -e ".[mutation]"
	$(PY) tools/mutation.py

demo: $(STAMP)
	@$(PY) -c "import skimage" 2>/dev/null || $(PY) -m pip install --quiet -e ".[synth]"
	$(PY) -m shotscope demo

clean:
	rm -rf $(VENV) build dist .pytest_cache
