# The course in two commands:
#   make lab     build .venv if needed and open the notebooks in JupyterLab
#   make test    build .venv if needed and run every test and every notebook
# Everything runs inside .venv, so nothing is installed into your system Python.

# bash with pipefail, so a failing command inside a pipe fails the target.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
# Python 3.11 if the machine has it under that name, else whatever python3 is
# (pyproject.toml refuses anything older than 3.11 with a clear message).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
# The versions CI tested, exactly (constraints.txt); the requirements files hold the bounds.
PIP := $(BIN)/python -m pip install --quiet -c constraints.txt

# Extra options for JupyterLab, e.g. make lab LAB_ARGS="--no-browser --port 8890".
LAB_ARGS ?=
# JupyterLab refuses to run as root unless told; containers often run as root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: help lab test notebooks site constraints drift site

help:
	@echo "make lab        open the notebooks in JupyterLab (builds .venv on first use)"
	@echo "make test       run the unit tests and every notebook, as CI does"
	@echo "make notebooks  re-execute notebooks/NN_*.py in full mode and store the outputs"
	@echo "                (one or some: make notebooks NB='00_setup 02_rnn_bptt')"
	@echo "make site       build the book: _build/site/index.html, the notebooks as they were run"
	@echo "make drift      run the notebooks with the newest versions requirements*.txt allow"
	@echo "make constraints re-pin constraints.txt (the versions CI installs) to those versions"

$(VENV)/pyvenv.cfg:
	@test -n "$(PYTHON)" || { echo "error: install Python 3.11 or newer (python3.11 or python3)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

# Stamp files: reinstall only when a requirements file changes.
$(VENV)/.installed-lab: requirements.txt constraints.txt pyproject.toml | $(VENV)/pyvenv.cfg
	$(PIP) -r requirements.txt
	@touch $@

$(VENV)/.installed-test: requirements-test.txt requirements.txt constraints.txt pyproject.toml | $(VENV)/pyvenv.cfg
	$(PIP) -r requirements-test.txt
	@touch $@

# Served from the repository root (where jupytext.toml is, as on Binder), opened on notebooks/.
lab: $(VENV)/.installed-lab
	$(BIN)/jupyter lab $(ROOT_FLAG) --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/notebooks $(LAB_ARGS)

# ci mode: every notebook on small data, so the whole suite runs in minutes.
# One BLAS thread: checked outputs then match across machines to the printed digits.
test: $(VENV)/.installed-test
	COURSE_MODE=ci OPENBLAS_NUM_THREADS=1 $(BIN)/python -m pytest $(PYTEST_ARGS)

notebooks: $(VENV)/.installed-lab
	$(BIN)/python scripts/execute_notebooks.py $(NB)

# The notebooks with their stored outputs as a static website (nothing is executed);
# fails on a broken link or a missing image. Needs no network.
site: $(VENV)/.installed-test
	$(BIN)/python scripts/build_site.py

# Re-pin constraints.txt to the newest versions the requirements allow (torch stays the
# oracle's exact version), after `make drift` shows the notebooks pass with them.
constraints:
	$(PYTHON) scripts/check_drift.py --write-constraints

# The notebooks against the newest versions the bounds allow; names the packages that moved.
drift:
	$(PYTHON) scripts/check_drift.py
