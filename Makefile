# freqai-swing: `make demo` and `make test` set everything up on a machine with only Python 3.11+.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
# Tests run on PYTEST_WORKERS processes (pytest-xdist), a test file's tests on one of them (their
# module fixtures are one backtest each); PYTEST_WORKERS=0 runs them in this process.
PYTEST_WORKERS ?= 2
PYTEST_ARGS ?= -n $(PYTEST_WORKERS) --dist loadfile --durations=25

.PHONY: setup system-packages ui demo test lint bench evaluate clean-models

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# FreqUI, built for offline use, into the environment's freqtrade when the folder is there
# (`freqai-swing install-ui` without --from downloads it instead).
FREQUI_DIR ?= ../shared/frequi
ui: setup
	@if [ -d $(FREQUI_DIR) ]; then $(BIN)/freqai-swing install-ui --from $(FREQUI_DIR); fi

demo: setup ui
	$(BIN)/freqai-swing demo

# Debian packages the tests drive, installed when missing (as root): headless Chromium renders
# the HTML report and runs FreqUI (tests/tooling/test_frequi.py), docker-compose validates
# docker-compose.yml, systemd-analyze the unit files.
SYSTEM_PACKAGES := chromium:chromium docker-compose:docker-compose systemd-analyze:systemd
system-packages:
	@missing=""; for entry in $(SYSTEM_PACKAGES); do command -v $${entry%%:*} >/dev/null || missing="$$missing $${entry#*:}"; done; \
	if [ -n "$$missing" ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; fi

test: setup system-packages ui
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Benchmarks (not tests): figures depend on the machine; compare the ratios they print.
bench: setup
	$(BIN)/python -m tooling.bench.retrain
	$(BIN)/python -m tooling.bench.rl_env
	$(BIN)/python -m tooling.bench.export
	$(BIN)/python -m tooling.bench.ensemble_ppo
	$(BIN)/python -m tooling.bench.cli_startup

# Walk-forward evaluation of every runner (EVALUATE_ARGS, e.g. --datadir ../shared/data/binance).
EVALUATE_ARGS ?=
evaluate: setup
	$(BIN)/freqai-swing evaluate $(EVALUATE_ARGS)

lint: setup
	$(BIN)/ruff check freqai_swing tooling strategies freqaimodels tests user_data/hyperopts
	$(BIN)/mypy freqai_swing

clean-models:
	rm -rf user_data/models user_data/backtest_results
