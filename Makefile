# leptonkit — the two commands the README gives are `make lab` and `make test`.
# Each creates .venv when it is missing and reinstalls only when pyproject.toml or
# constraints.txt changed (the kit itself is installed editable, so code edits need nothing).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Jupyter refuses to run as root without --allow-root (containers, CI machines).
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: help lab present test bench lint notebooks student instructor catalogues translations clean
.DEFAULT_GOAL := help

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev,scale,present,text]'
	@touch $@

lab: $(STAMP) ## open JupyterLab on notebooks/00_welcome.ipynb (loopback only, token on)
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=$(CURDIR) \
		--LabApp.default_url=/lab/tree/notebooks/00_welcome.ipynb $(ROOT_FLAG)

# make present NB=02: Voilà runs notebook 02 and shows its outputs and prose without the code, for a
# projector (F11 in the browser for full screen); NB=zh-CN/02 serves its Chinese twin. Loopback only,
# a token on (the address Voilà prints carries it); PORT=8867 to move it off 8866.
NB   ?=
PORT ?= 8866
PRESENT_NB = $(firstword $(wildcard notebooks/$(NB)_*.ipynb))
ifneq ($(filter present,$(MAKECMDGOALS)),)
ifeq ($(and $(NB),$(PRESENT_NB)),)
$(error choose a notebook: make present NB=02 (NB=zh-CN/02 for its Chinese twin))
endif
endif

present: $(STAMP) ## serve notebook NB's explorers full-screen without the code (NB=02; Voilà, loopback, token on)
	$(BIN)/voila $(PRESENT_NB) --no-browser --Voila.ip=127.0.0.1 --port=$(PORT) --token \
		--strip_sources=True --show_tracebacks=False --progressive_rendering=True --theme=light

# LANGUAGE=en: the English notebooks' checked outputs are English whatever the machine's locale
# (leptonkit.i18n follows LANGUAGE/LC_ALL/LANG); the zh-CN twins choose zh-CN in their first cell.
# LEPTONKIT_PROGRESS=0: no progress bars in nbval's checked outputs (a bar appears after 2 s, so
# whether a cell shows one depends on the machine); the browser test turns them back on.
test: $(STAMP) ## run every test: unit tests and nbval of every notebook, both languages
	LANGUAGE=en LEPTONKIT_PROGRESS=0 $(BIN)/python -m pytest

bench: $(STAMP) ## run every benchmark in bench/ in its --quick form
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b --quick || exit 1; done

lint: $(STAMP) ## ruff over the library, tests, benchmarks, tools and notebooks
	$(BIN)/ruff check .

notebooks: $(STAMP) ## re-execute every notebook (English and zh-CN) in place, keeping text outputs
	LANGUAGE=en $(BIN)/python tools/refresh_notebooks.py notebooks/*.ipynb $(wildcard notebooks/zh-CN/*.ipynb)

student: $(STAMP) ## write learner copies (no solutions, no outputs) to build/student/ and build/student/zh-CN/
	$(BIN)/python tools/build_notebooks.py student build/student

instructor: $(STAMP) ## write instructor copies (with solutions) to build/instructor/ and build/instructor/zh-CN/
	$(BIN)/python tools/build_notebooks.py instructor build/instructor

catalogues: $(STAMP) ## merge newly marked strings into leptonkit/locale/*/LC_MESSAGES/*.po and compile the .mo
	$(BIN)/python tools/compile_catalogues.py

translations: $(STAMP) ## list the zh-CN Markdown cells whose English changed since they were translated
	$(BIN)/python tools/translation_status.py

clean: ## remove the virtual environment and build outputs
	rm -rf $(VENV) build test-artifacts .pytest_cache .ruff_cache
