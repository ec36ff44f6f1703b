# PDEBlocks — build, test, demo and benchmark entry points.
#
#   make demo    the main job on a built-in example (denoise a noisy signal; table + PNG)
#   make test    build everything and run every test (Swift, Python, C)
#   make bench   benchmarks (ratios against numpy / scipy / plain C, one run)
#
# CPU=haswell (default on x86-64: AVX2/FMA, x86-64-v3), CPU=native, or CPU=baseline.

SWIFT   ?= swift
PYTHON  ?= python3
CPU     ?= haswell
VENV    := .venv
PY      := $(VENV)/bin/python
ARCH    := $(shell uname -m)

ifeq ($(ARCH),x86_64)
  ifeq ($(CPU),baseline)
    CPUFLAGS :=
  else
    CPUFLAGS := -Xswiftc -target-cpu -Xswiftc $(CPU)
  endif
else
  CPUFLAGS :=
endif

RELEASE := $(SWIFT) build -c release $(CPUFLAGS)
LIB     := .build/release/libpdeblocks.so

.PHONY: all build venv test test-swift test-python demo bench clean

all: build

build:
	$(RELEASE)

# Python virtual environment with what the tests, demo and benchmarks need (from PyPI).
venv: $(VENV)/.ready
$(VENV)/.ready: python/requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r python/requirements-dev.txt
	touch $@

test-swift:
	$(SWIFT) test

test-python: build venv
	PYTHONPATH=python $(PY) -m pytest python/tests -q

test: build venv test-swift test-python

demo: build venv
	PYTHONPATH=python $(PY) examples/denoise_demo.py

bench: build venv
	PYTHONPATH=python $(PY) bench/explicit_step.py
	PYTHONPATH=python $(PY) bench/schemes.py

clean:
	rm -rf .build out
