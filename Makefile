# The two commands the README promises: `make test` and `make demo`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# CPU build here; GPU users: make TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128"
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.installed

export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM = false

.PHONY: install test lint demo clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH_SPEC)
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

lint: $(STAMP)
	$(PY) -m ruff check src tests benchmarks

test: $(STAMP) lint
	$(PY) -m pytest -q

demo: $(STAMP)
	@$(PY) -c "import skimage" 2>/dev/null || $(PY) -m pip install --quiet -e ".[synth]"
	$(PY) -m shotscope demo

clean:
	rm -rf $(VENV) build dist .pytest_cache
