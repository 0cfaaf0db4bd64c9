# rst-repro: `make book` (the main job) and `make test`; each does its own set-up.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export RST_DATA ?= $(CURDIR)/data
export RST_CONFIG ?= $(CURDIR)/_config.yml
# Jobs: the test suite and the laptop book are sized for 2 CPU cores.
export OMP_NUM_THREADS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: setup deps data test book book-render clean-book regenerate regenerate-status

# the core packages (they never import rstlib.paper, .book or .cli; tests/test_structure.py): type-checked in make test
CORE := rstlib/errors.py rstlib/config rstlib/nets rstlib/runtime rstlib/data rstlib/attacks rstlib/train rstlib/evaluation rstlib/store rstlib/results_table

setup: deps data

deps: $(VENV)/.installed

# uv installs the exact versions of uv.lock (the registry's torch build, never a local wheel)
$(VENV)/.installed: pyproject.toml uv.lock
	@command -v uv >/dev/null || PIP_FIND_LINKS= python3 -m pip install --quiet uv
	uv sync --frozen --all-extras --python 3.11 || uv sync --frozen --all-extras
	@touch $@

# Offline data: Fashion-MNIST from Debian's dataset-fashion-mnist, gunzipped into torchvision's layout.
data: deps
	@if [ ! -f $(RST_DATA)/FashionMNIST/raw/train-images-idx3-ubyte ] && \
	    [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then \
	  if command -v apt-get >/dev/null; then \
	    $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq dataset-fashion-mnist; \
	  else echo "Fashion-MNIST is missing and apt-get is not available: see README.md (Data)"; exit 1; fi; \
	fi
	$(PY) -c "from rstlib.data import ensure_fashion_mnist, data_root; print('Fashion-MNIST in', ensure_fashion_mnist(data_root()))"

test: setup
	$(VENV)/bin/ruff check rstlib tests scripts benchmarks
	$(VENV)/bin/ruff format --check rstlib tests scripts benchmarks
	$(VENV)/bin/mypy $(CORE)
	$(PY) -m pytest -q

# Runs every page (paper profile with CUDA, laptop without) into book/_build/src, loading what the
# run store holds and computing the rest, then renders book/_build/html. It prints what it will
# compute first; over one device-hour of new work it stops unless CONFIRM=1. IN_PLACE=1 executes
# into the tracked notebooks (to refresh the committed book).
book: setup
	$(PY) -m rstlib.book.build --execute $(if $(PROFILE),--profile $(PROFILE),) $(if $(CONFIRM),--yes,) $(if $(IN_PLACE),--in-place,)

# Render the already executed notebooks without re-running anything.
book-render: deps
	$(PY) -m rstlib.book.build

clean-book:
	rm -rf book/_build

# The staged regeneration of the laptop book (profile laptop-next, README "Regenerating the laptop
# book"): one resumable command, two single-threaded workers on 2 cores, its log in
# runs/_sweep_logs/. Stop it at any time (Ctrl-C, or kill its PID): the next call resumes every run
# from its last epoch and skips what is done. `make regenerate-status` says what is done and left.
REGEN := $(VENV)/bin/rst sweep --profile laptop-next --device cpu --max-parallel 2
regenerate: setup
	@mkdir -p runs/_sweep_logs
	OMP_NUM_THREADS=1 $(REGEN) --yes 2>&1 | tee -a runs/_sweep_logs/regenerate.log

regenerate-status: setup
	OMP_NUM_THREADS=1 $(REGEN) --dry-run --measure
