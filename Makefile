# Two commands on a fresh machine: `make demo` and `make test`. Each sets up what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
OUT ?= runs/demo
# pip prints one harmless "Location ... ignored" warning per local wheel on some machines; the filter keeps pip's
# exit status (pipefail)
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PIP_QUIET := 2>&1 | { grep -v "WARNING: Location" || true; }

.PHONY: demo data test docs lab readme clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "energyflows needs Python >= 3.10"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip $(PIP_QUIET)

# the package and its runtime dependencies (re-installed when its metadata changes)
$(VENV)/.installed: $(BIN)/python settings.ini setup.py pyproject.toml
	$(BIN)/pip install -q -e . $(PIP_QUIET)
	$(BIN)/python -c 'import energyflows'
	touch $@

# plus the `dev` extra: nbdev (pinned to 2.x), JupyterLab, pytest
$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install -q -e '.[dev]' $(PIP_QUIET)
	$(BIN)/python -c 'import nbdev, pytest, jupytext'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/energyflows demo --out $(OUT)

# Fashion-MNIST for the tests of chapters 04, 20, 21: Debian's package via apt-get, else torchvision's download
data: $(VENV)/.installed
	$(BIN)/python tools/get_data.py

test: $(VENV)/.installed-dev data
	OMP_NUM_THREADS=1 $(BIN)/python tools/run_tests.py

readme: $(VENV)/.installed-dev
	$(BIN)/python tools/readme.py

docs: $(VENV)/.installed-dev
	@command -v quarto >/dev/null || { echo "make docs needs Quarto (https://quarto.org/docs/get-started/): install it, e.g. with 'sudo dpkg -i quarto-<version>-linux-amd64.deb', then run 'make docs' again. Without network, 'make test' still checks the docs preprocessing."; exit 1; }
	$(BIN)/nbdev_docs
	$(BIN)/python tools/readme.py
	@echo "site written to _docs/ (open _docs/index.html)"

lab: $(VENV)/.installed-dev
	$(BIN)/jupyter lab nbs

clean:
	rm -rf _proc _docs .test-summary runs/demo
