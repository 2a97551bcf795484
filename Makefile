# morpho: `make demo` analyzes the bundled micrograph, `make test` runs the suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
VENV_MIN := .venv-min
DEMO   := images/inox_demo.tif

.PHONY: demo test test-min dist-check bench bench-accuracy bench-transport bench-speed bench-site-films fuzz images clean

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
	$(BIN)/morpho transport outputs/$(basename $(notdir $(DEMO))) --temperature 0.05:2:60 \
		--field 0,200Oe,300Oe,400Oe,1000Oe --normal-sheet-resistance 2kOhm --a-qf 0.05 --b-qf 0.01 --overwrite
	@echo "results in outputs/$(basename $(notdir $(DEMO)))/ (open report.html; transport/ holds rho(T, H))"

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest

# The suite on the oldest supported releases: a fresh .venv-min with the lower bounds of
# pyproject.toml pinned (requirements/minimum.txt), morpho installed without resolving again, and
# `pip check` to prove the pins satisfy what morpho declares.  CI runs it after `make test`.
$(VENV_MIN)/.installed: requirements/minimum.txt pyproject.toml
	rm -rf $(VENV_MIN)
	$(PYTHON) -m venv $(VENV_MIN)
	$(VENV_MIN)/bin/python -m pip install --quiet --upgrade pip
	$(VENV_MIN)/bin/python -m pip install --quiet -r requirements/minimum.txt
	$(VENV_MIN)/bin/python -m pip install --quiet --no-deps -e .
	$(VENV_MIN)/bin/python -m pip check
	touch $@

test-min: $(VENV_MIN)/.installed
	$(VENV_MIN)/bin/python -m pytest

# Build the wheel and sdist (python -m build), install them in a clean venv by the distribution's
# name (morpho-granular) and run `morpho synth` + `morpho analyze` there (tools/check_dist.sh).
dist-check: $(VENV)/.installed-test
	bash tools/check_dist.sh $(BIN)/python $(PYTHON)

bench: bench-accuracy bench-transport bench-speed bench-site-films

# Installs the peer tools (Debian apt + PyPI, idempotent; a peer that fails is skipped with a
# note), then runs morpho and the peers on the same images.  BENCH_ARGS=--quick for a smoke run.
bench-accuracy: $(VENV)/.installed-test
	bash bench/peers/install.sh $(BIN)/python
	$(BIN)/python bench/accuracy.py $(BENCH_ARGS)

# morpho's Kirchhoff solver against SciPy spsolve and OpenPNM on random Delaunay grain graphs
# (10^5 and 10^6 grains, a 100-temperature sweep).  OpenPNM is installed from PyPI into its own
# venv, bench/.venv-openpnm, by the script itself.  BENCH_ARGS=--quick for a smoke run (~6 min).
bench-transport: $(VENV)/.installed-test
	$(BIN)/python bench/transport.py $(BENCH_ARGS)

# morpho analyze (no figures, stage by stage) and the peers of bench-accuracy on one synthetic
# micrograph per size, 1k to 16k px square: median wall time, peak RSS, ratios, scaling exponent.
# Installs the peers first.  BENCH_ARGS=--quick for a smoke run (1k and 2k, one run each).
bench-speed: $(VENV)/.installed-test
	bash bench/peers/install.sh $(BIN)/python
	$(BIN)/python bench/speed.py $(BENCH_ARGS)

# Site-percolation films against their truth (issue 19): the issue's 2100-px micrograph at p_c
# through morpho analyze, and coverage and spanning on 144 films (sites 3-6 px, p 0.45-0.75,
# contrast-to-noise 3-40, 8 and 16 bit).  ~6 min.
bench-site-films: $(VENV)/.installed-test
	$(BIN)/python bench/site_films.py $(BENCH_ARGS)

# Seeded TIFF-mutation fuzzer of read_micrograph (tools/fuzz_tiff.py): 10 000 mutated files; exits 1
# if any ends in an exception other than a one-line MorphoError.  FUZZ_ARGS="--seed 7 --cases 50000"
# to change the run; a failure prints its reproducer (--replay INDEX --save DIR).
fuzz: $(VENV)/.installed-test
	$(BIN)/python tools/fuzz_tiff.py --cases 10000 --seed 0 $(FUZZ_ARGS)

# Regenerate the demo micrograph and the truth beside it (committed; made by morpho itself; the
# integration test reads that truth, so image and truth are only ever made together).
images: $(VENV)/.installed
	$(BIN)/morpho synth $(DEMO) --preset inox-bimodal --seed 2022 --size 2048 --vendor fei --overwrite

clean:
	rm -rf $(VENV) $(VENV_MIN) outputs .pytest_cache
