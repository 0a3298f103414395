# Two commands on a fresh machine (python3 and make present):
#   make demo   installs into .venv, then calls every bundled persona on the embedded defaults
#   make test   installs into .venv, then format check, lint, types and the whole test suite
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test check lint types pytest bench clean intent-model

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/voiceagent demo

test: check pytest

check: lint types

lint: $(STAMP)
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench

types: $(STAMP)
	$(BIN)/mypy

# Four workers on two cores: most tests wait on real HTTP round trips, not on the CPU.
pytest: $(STAMP)
	$(BIN)/pytest -n 4

# Latency (issue figures: 1, 50 and 200 calls, reference profile; ~4 min) and load with faults.
bench: $(STAMP)
	$(BIN)/python bench/latency.py
	$(BIN)/python bench/load_fault.py
	$(BIN)/python bench/transports.py

# Rebuild the intent model from corpus/intent/train (deterministic; commit the artefact).
intent-model: $(STAMP)
	$(BIN)/voiceagent intent train

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
