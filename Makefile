# Two commands matter: `make demo` and `make test`. Every other target is a step they run, and
# each step is skipped when already done (stamp files under .venv/.stamps and install/).
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMPS := $(VENV)/.stamps
# The venv is the ROS underlay: ament and rosidl come from the registry's wheels (docs/design.md, Contracts: Environment).
WORKSPACE_ENV := PATH="$(BIN):$$PATH" AMENT_PREFIX_PATH="$(CURDIR)/$(VENV)" CMAKE_PREFIX_PATH="$(CURDIR)/$(VENV)"
# Source the built workspace; its setup scripts read unset variables, so no `set -u` here.
WITH_WORKSPACE := export PATH="$(BIN):$$PATH" && source install/setup.bash &&
# Each run gets its own DDS domain, so parallel runs never talk, and Fast DDS a shared-memory
# segment that holds whole images (config/fastdds_large_images.xml). Not
# ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST: with it rmw_fastrtps replaces every transport by UDP on
# the loopback, shared memory included, and 1 MB images then arrive after stalls of 1-3 s.
ROS_ISOLATION := export ROS_DOMAIN_ID=$${ROS_DOMAIN_ID:-$$((RANDOM % 90 + 10))} \
	FASTDDS_DEFAULT_PROFILES_FILE=$${FASTDDS_DEFAULT_PROFILES_FILE:-$(CURDIR)/config/fastdds_large_images.xml} &&
INTERFACE_SOURCES := $(wildcard reasmory_interfaces/*.txt reasmory_interfaces/*.xml reasmory_interfaces/cmake/* \
	reasmory_interfaces/msg/* reasmory_interfaces/srv/* tools/tf2_msgs/*.txt tools/tf2_msgs/*.xml tools/tf2_msgs/msg/*)

.PHONY: help setup lint test demo bench clean params

help:  ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

setup: install/.built  ## System packages, .venv with pinned wheels, colcon build of both packages.

$(STAMPS)/system: tools/setup_system.sh
	@PYTHON=$(PYTHON) bash tools/setup_system.sh
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/python: requirements.txt requirements-core.txt setup.py $(STAMPS)/system
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "setup: installing pinned Python packages into $(VENV) (first run takes a minute or two)"
	@$(BIN)/pip install -qq --disable-pip-version-check -r requirements.txt \
	  || { echo "error: pip could not install requirements.txt: is the Python package registry reachable?" >&2; exit 1; }
	@# rosidl needs lark-parser, which ships a `lark` module of its own; keep lark 1.x on top.
	@$(BIN)/python -c 'import lark, sys; sys.exit(not lark.__version__.startswith("1."))' \
	  || $(BIN)/pip install -qq --disable-pip-version-check --force-reinstall --no-deps lark==1.3.1
	@mkdir -p log && $(BIN)/pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e . \
	  > log/pip-editable.txt 2>&1 || { cat log/pip-editable.txt >&2; exit 1; }
	@mkdir -p $(STAMPS) && touch $@

# tools/tf2_msgs (the /tf message type) is built only where the underlay has no tf2_msgs: the
# registry has none, and without it the node's own /tf subscriptions could not run in the tests.
install/.built: $(STAMPS)/python package.xml setup.py setup.cfg $(INTERFACE_SOURCES)
	@standin=$$($(BIN)/python -c 'import tf2_msgs' 2>/dev/null || echo tools/tf2_msgs); \
	echo "setup: colcon build (reasmory_interfaces, reasmory_ros$${standin:+, tf2_msgs stand-in})"; \
	$(WORKSPACE_ENV) $(BIN)/colcon build --symlink-install --base-paths . reasmory_interfaces $$standin \
	  --event-handlers console_cohesion- summary+ > log/colcon-build.txt 2>&1 \
	  || { tail -n 30 log/colcon-build.txt >&2; echo "error: colcon build failed (full log: log/colcon-build.txt)" >&2; exit 1; }
	@touch $@

log:
	@mkdir -p log
install/.built: | log

lint: $(STAMPS)/python  ## Check the code with ruff (ruff.toml); `make test` runs it first.
	@$(BIN)/ruff check --quiet . || { echo "error: ruff found problems (fix them, or run $(BIN)/ruff check --fix .)" >&2; exit 1; }

test: setup lint  ## Lint, then run the whole test suite in the built workspace.
	@$(WITH_WORKSPACE) $(ROS_ISOLATION) $(BIN)/python -m pytest $(PYTEST_ARGS)

demo: setup  ## Generate the demo scene, stream it to the node and ask one question of every type.
	@$(WITH_WORKSPACE) $(ROS_ISOLATION) $(BIN)/python -m reasmory_ros.ros.demo $(DEMO_ARGS)

bench: setup  ## Run the benchmarks recorded in docs/benchmarks.md.
	@$(WITH_WORKSPACE) for script in benchmarks/bench_*.py; do $(BIN)/python $$script; done

clean:  ## Remove the workspace build (keeps .venv).
	rm -rf build install log

params: setup  ## Regenerate config/reasmory.yaml and the docs/ros.md table after a parameter change.
	@$(BIN)/python -m reasmory_ros.config.generate yaml > config/reasmory.yaml
	@echo "wrote config/reasmory.yaml; paste into docs/ros.md: $(BIN)/python -m reasmory_ros.config.generate markdown"
