# morpho: `make demo` analyzes the bundled micrograph, `make test` runs the suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO   := images/inox_demo.tif

.PHONY: demo test bench bench-accuracy images clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/morpho analyze $(DEMO) -o outputs --overwrite
	@echo "results in outputs/$(basename $(notdir $(DEMO)))/ (open report.html)"

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest

bench: bench-accuracy

bench-accuracy: $(VENV)/.installed-test
	$(BIN)/python bench/accuracy.py

# Regenerate the demo micrograph (committed; made by morpho itself).
images: $(VENV)/.installed
	$(BIN)/morpho synth $(DEMO) --preset inox-bimodal --seed 2022 --size 2048 --vendor fei --overwrite
	rm -f images/inox_demo_truth*

clean:
	rm -rf $(VENV) outputs .pytest_cache
