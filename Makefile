# Two commands for a new user: `make map` (install, then build the default map) and
# `make test` (install with the test tools, then lint and run the whole test suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: map test lint wheel-check bench pictures clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

map: $(STAMP)
	$(BIN)/flankmap map -o flankmap.html
	@echo "wrote flankmap.html: open it in any browser (it works offline)"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy geo

test: lint
	$(BIN)/python -m pytest

# Build the wheel, install it into a throwaway venv and run the command from another folder.
wheel-check: $(STAMP)
	rm -rf dist
	$(BIN)/python -m pip wheel --quiet --no-deps --wheel-dir dist .
	tmp=$$(mktemp -d) && $(PYTHON) -m venv $$tmp/venv \
	  && $$tmp/venv/bin/python -m pip install --quiet dist/flankmap-*.whl \
	  && cd $$tmp && env -u FLANKMAP_LAYERS_DIR venv/bin/flankmap layers \
	  && env -u FLANKMAP_LAYERS_DIR venv/bin/flankmap map -o $$tmp/map.html \
	  && test -s $$tmp/map.html && echo "wheel-check: ok" && rm -rf $$tmp

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_distance.py
	$(BIN)/python benchmarks/bench_geodesic.py
	$(BIN)/python benchmarks/bench_map.py

# The README's region figure and date-slider screenshot (needs Chromium, see tests/browser/).
pictures: $(STAMP)
	$(BIN)/python scripts/readme_pictures.py

clean:
	rm -rf $(VENV) dist build flankmap.html
