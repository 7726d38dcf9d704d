# Two entry points for a new user; see README.md.
#   make run   set everything up and group the bundled sample articles into stories
#   make test  set everything up (if needed) and run the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SAMPLE_DB := $(CURDIR)/.storyweave-sample.db

.PHONY: run test setup

$(BIN)/storyweave: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU build of torch first: left to itself, pip would fetch a multi-GB CUDA build for the
	# optional sentence-transformers encoder that the tests exercise.
	$(BIN)/pip install --quiet 'torch==2.13.0'
	$(BIN)/pip install --quiet -e '.[st,postgres,ray,test]'
	touch $@

setup: $(BIN)/storyweave

run: setup
	$(BIN)/storyweave --db $(SAMPLE_DB) run examples/

test: setup
	$(BIN)/python -m pytest -q
