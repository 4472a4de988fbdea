# Thin wrappers: every target sets up .venv on first use, so a fresh clone needs only Python 3.11+ and make.
# Installs take the exact versions in requirements.lock (`make lock` refreshes it from pyproject.toml).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

export NO_MKDOCS_2_WARNING := 1

.PHONY: serve build test lint bench lock anchors clean

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade "pip>=25.1"
	$(PY) -m pip install --quiet --disable-pip-version-check --group dev -c requirements.lock
	@touch $(STAMP)

serve: $(STAMP)  ## live-reloading site on http://127.0.0.1:8000
	$(PY) -m mkdocs serve --strict --dev-addr 127.0.0.1:8000

build: $(STAMP)  ## the static site, into site/
	$(PY) -m mkdocs build --strict

lint: $(STAMP)
	$(PY) -m ruff check .

# One worker per core, each single-threaded: the tests' arrays are small, and BLAS threads
# fighting over two cores made them several times slower.
test: $(STAMP)  ## every check: lint, snippet tests against torch, site build, browser tests
	$(PY) -m ruff check .
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
	    $(PY) -m pytest -n auto --maxprocesses=4 --dist loadgroup --durations=25

bench: $(STAMP)  ## build-time figures
	$(PY) tools/bench.py

anchors: $(STAMP)  ## list the glossary's new anchors in glossary/anchors.txt (append-only)
	$(PY) tools/anchors.py

lock:  ## re-resolve pyproject.toml's ranges into requirements.lock (then run make test)
	$(PYTHON) tools/lock.py

clean:
	rm -rf site .cache
