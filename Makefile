# PDEBlocks — build, test, demo and benchmark entry points.
#
#   make demo    the main job on a built-in example (denoise a noisy signal; table + PNG)
#   make test    build everything and run every test (Swift, Python, C; and the Python
#                numerics against a baseline x86-64 build)
#   make bench   benchmarks (ratios against numpy / scipy / plain C, one run)
#   make install PREFIX=/usr/local   header(s), libpdeblocks.so, lib/pkgconfig/pdeblocks.pc
#   make wheel   a wheel of the Python package in dist/ (pip install . builds the same)
#   make leakcheck   valgrind over create/use/destroy cycles of every handle type and the error
#                paths (LEAK_CYCLES=5, ~10 s); "definitely/indirectly lost" must be 0
#
# CPU=haswell (default on x86-64: AVX2/FMA, x86-64-v3), CPU=native, or CPU=baseline.
# The release library links the Swift standard library statically (-static-stdlib): it
# needs only libc, libm, libstdc++ and libgcc_s, so installed copies and wheels load on
# machines without the Swift toolchain, with no LD_LIBRARY_PATH.

SWIFT   ?= swift
PYTHON  ?= python3
CPU     ?= haswell
PREFIX  ?= /usr/local
DESTDIR ?=
VENV    := .venv
PY      := $(VENV)/bin/python
ARCH    := $(shell uname -m)

ifeq ($(ARCH),x86_64)
  ifeq ($(CPU),baseline)
    CPUFLAGS :=
  else
    CPUFLAGS := -Xswiftc -target-cpu -Xswiftc $(CPU) -Xswiftc -DPDB_FMA
  endif
else
  CPUFLAGS :=
endif

RELEASE := $(SWIFT) build -c release $(CPUFLAGS) -Xswiftc -static-stdlib
LIB     := .build/release/libpdeblocks.so
VERSION := $(shell sed -n 's/.*static let string: StaticString = "\(.*\)"/\1/p' Sources/PDEBlocksABI/VersionABI.swift)

# Nested builds started by the tests (make install, pip install .) use the same CPU.
export CPU SWIFT
export PDEBLOCKS_CPU := $(CPU)

.PHONY: all abi build venv test test-swift test-python test-baseline demo bench clean install uninstall wheel leakcheck

all: build

# python/pdeblocks/_abi.py (constants, enums, struct layouts, signatures) is generated from
# include/*.h; the build refreshes it, python/tests/test_abi_generated.py checks it.
build: abi
	$(RELEASE)

abi:
	$(PYTHON) python/gen_abi.py

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

# The baseline x86-64 build (no AVX2/FMA: separate multiplies and adds in every kernel,
# SSE2 vectors) passes the numerical tests too. (On other architectures `build` is baseline.)
BASELINE_TESTS := test_explicit.py test_accelerated.py test_diffusivities.py test_layers.py \
                  test_multigrid_solver.py test_threads.py test_allocations.py
test-baseline: venv
ifeq ($(ARCH),x86_64)
	$(SWIFT) build -c release --scratch-path .build-baseline -Xswiftc -static-stdlib
	cd python/tests && PDEBLOCKS_LIBRARY=$(CURDIR)/.build-baseline/release/libpdeblocks.so \
	    PYTHONPATH=$(CURDIR)/python $(CURDIR)/$(PY) -m pytest -q $(BASELINE_TESTS)
endif

test: build venv test-swift test-python test-baseline

demo: build venv
	PYTHONPATH=python $(PY) examples/denoise_demo.py

bench: build venv
	PYTHONPATH=python $(PY) bench/suite.py

# C users: headers, the library and a pkg-config file under $(DESTDIR)$(PREFIX).
#   cc prog.c $$(pkg-config --cflags --libs pdeblocks)   (Libs carries -Wl,-rpath,$(PREFIX)/lib)
# pkg-config itself: apt-get install -y pkg-config.
install: build
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 include/*.h $(DESTDIR)$(PREFIX)/include/
	install -m 755 $(LIB) $(DESTDIR)$(PREFIX)/lib/libpdeblocks.so
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' pdeblocks.pc.in \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/pdeblocks.pc
	@echo "installed pdeblocks $(VERSION) under $(DESTDIR)$(PREFIX); build with:"
	@echo "  PKG_CONFIG_PATH=$(PREFIX)/lib/pkgconfig cc prog.c \$$(pkg-config --cflags --libs pdeblocks)"

uninstall:
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/include/,$(notdir $(wildcard include/*.h)))
	rm -f $(DESTDIR)$(PREFIX)/lib/libpdeblocks.so $(DESTDIR)$(PREFIX)/lib/pkgconfig/pdeblocks.pc

# The Python package as a wheel (builds the library in .build-wheel; see python/swift_build.py).
wheel:
	$(PYTHON) -m pip wheel --no-deps --wheel-dir dist .

# Leaks: Tests/native/leak_cycles.c under valgrind (python/tests/test_leaks.py runs it with 3 cycles).
LEAK_CYCLES ?= 5
leakcheck: build
	@command -v valgrind >/dev/null || { echo "valgrind not found: apt-get install -y valgrind"; exit 1; }
	mkdir -p .build/leakcheck
	$(CC) -std=c11 -O1 -g -Iinclude Tests/native/leak_cycles.c -L.build/release -lpdeblocks \
	    -Wl,-rpath,$(abspath .build/release) -lm -o .build/leakcheck/leak_cycles
	valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=1 \
	    .build/leakcheck/leak_cycles $(LEAK_CYCLES) .build/leakcheck

clean:
	rm -rf .build .build-wheel build dist out
