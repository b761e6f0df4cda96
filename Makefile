# Quotacast — two commands for a fresh machine: `make report` and `make test`.
# Everything runs inside .venv, created here from the pins in pyproject.toml.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   := data/demo
OUT    := reports
DEMO_AS_OF := 2026-11-15

.PHONY: setup report test test-fast lint format lab bench demo-data clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $(STAMP)

## The quarterly job on the bundled demo data: next quarter's plan from data as of the demo's date.
report: $(STAMP)
	$(BIN)/quotacast run --data $(DEMO) --period next --as-of $(DEMO_AS_OF) --out $(OUT)
	@echo "Open $(OUT)/index.html"

test: $(STAMP)
	$(BIN)/python -m pytest

## One formatter and linter (ruff, configured in pyproject.toml); .ci/run calls this before the tests.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

bench: $(STAMP)
	$(BIN)/python -m benchmarks

## Regenerate the bundled demo data (deterministic: same seed and as-of give the same files).
demo-data: $(STAMP)
	$(BIN)/quotacast demo-data $(DEMO) --seed 7 --reps 40 --years 3 --as-of $(DEMO_AS_OF)

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .hypothesis
