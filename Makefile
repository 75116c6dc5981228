# leptonkit — the two commands the README gives are `make lab` and `make test`.
# Each creates .venv when it is missing and reinstalls only when pyproject.toml or
# constraints.txt changed (the kit itself is installed editable, so code edits need nothing).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Jupyter refuses to run as root without --allow-root (containers, CI machines).
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: help lab test bench lint notebooks student instructor clean
.DEFAULT_GOAL := help

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev,scale]'
	@touch $@

lab: $(STAMP) ## open JupyterLab on notebooks/00_welcome.ipynb (loopback only, token on)
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=$(CURDIR) \
		--LabApp.default_url=/lab/tree/notebooks/00_welcome.ipynb $(ROOT_FLAG)

test: $(STAMP) ## run every test: unit tests and nbval of every notebook
	$(BIN)/python -m pytest

bench: $(STAMP) ## run every benchmark in bench/ in its --quick form
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b --quick || exit 1; done

lint: $(STAMP) ## ruff over the library, tests, benchmarks, tools and notebooks
	$(BIN)/ruff check .

notebooks: $(STAMP) ## re-execute every notebook in place, keeping text outputs and dropping bulky ones
	$(BIN)/python tools/refresh_notebooks.py notebooks/*.ipynb

student: $(STAMP) ## write learner copies (solutions replaced, outputs cleared) to build/student/
	$(BIN)/python tools/build_notebooks.py student build/student

instructor: $(STAMP) ## write instructor copies (with solutions) to build/instructor/
	$(BIN)/python tools/build_notebooks.py instructor build/instructor

clean: ## remove the virtual environment and build outputs
	rm -rf $(VENV) build test-artifacts .pytest_cache .ruff_cache
