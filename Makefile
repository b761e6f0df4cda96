# Quotacast — two commands for a fresh machine: `make report` and `make test`.
# Everything runs inside .venv, created here from the pins in pyproject.toml.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   := data/demo
OUT    := reports

.PHONY: setup report test test-fast lab bench demo-data clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $(STAMP)

## The quarterly job on the bundled demo data (until the notebooks land: validate the demo data
## and write its quarantine and accounting into reports/).
report: $(STAMP)
	$(BIN)/quotacast validate --data $(DEMO) --out $(OUT)/demo-validation

test: $(STAMP)
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

bench: $(STAMP)
	$(BIN)/python -m benchmarks

## Regenerate the bundled demo data (deterministic: same seed and as-of give the same files).
demo-data: $(STAMP)
	$(BIN)/quotacast demo-data $(DEMO) --seed 7 --reps 40 --years 3 --as-of 2026-11-15

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .hypothesis
