# PDEBlocks — build, test, demo and benchmark entry points.
#
#   make demo    the main job on a built-in example (denoise a noisy signal; table + PNG)
#   make test    build everything and run every test (Swift, Python, C; and the Python
#                numerics again with every other CPU variant this machine runs)
#   make bench   benchmarks (ratios against numpy / scipy / plain C, one run)
#   make install PREFIX=/usr/local   headers, libpdeblocks.so (+ its variants), lib/pkgconfig/pdeblocks.pc
#   make wheel   a wheel of the Python package in dist/ (pip install . builds the same)
#   make leakcheck   valgrind over create/use/destroy cycles of every handle type and the error
#                paths (LEAK_CYCLES=5, ~10 s); "definitely/indirectly lost" must be 0
#
# The library is built once per CPU variant (python/pdeblocks/_variants.py: baseline,
# v3 = x86-64-v3 with AVX2/FMA, v4 = x86-64-v4 with AVX-512) into .build/<variant>, and
# .build/lib holds libpdeblocks-<variant>.so plus libpdeblocks.so, the C dispatcher that
# C programs link; Python and the dispatcher load the fastest variant the CPU runs
# (PDEBLOCKS_CPU=baseline|v3|v4 forces one). PDEBLOCKS_VARIANTS=v3 make build builds only v3.
# `make native` builds .build/native/release/libpdeblocks.so for this machine only (use it
# with PDEBLOCKS_LIBRARY=...; the benchmarks compare it with the dispatched variants).
# The release libraries link the Swift standard library statically (-static-stdlib): they
# need only libc, libm, libstdc++ and libgcc_s, so installed copies and wheels load on
# machines without the Swift toolchain, with no LD_LIBRARY_PATH.

SWIFT   ?= swift
PYTHON  ?= python3
PREFIX  ?= /usr/local
DESTDIR ?=
VENV    := .venv
PY      := $(VENV)/bin/python
LIBDIR  := .build/lib
NATIVE  := .build/native/release/libpdeblocks.so
VERSION := $(shell sed -n 's/.*static let string: StaticString = "\(.*\)"/\1/p' Sources/PDEBlocksABI/VersionABI.swift)

export SWIFT

.PHONY: all abi build native venv test test-swift test-python test-variants demo bench clean install uninstall wheel leakcheck

all: build

# python/pdeblocks/_abi.py (constants, enums, struct layouts, signatures) is generated from
# include/*.h; the build refreshes it, python/tests/test_abi_generated.py checks it.
build: abi
	$(PYTHON) python/swift_build.py $(LIBDIR)

native:
	$(SWIFT) build -c release --scratch-path .build/native -Xswiftc -static-stdlib -Xswiftc -Xcc -Xswiftc -fno-math-errno \
	    -Xswiftc -target-cpu -Xswiftc native -Xswiftc -DPDB_FMA -Xswiftc -DPDB_VARIANT_NATIVE

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

# The numerical tests again with every other variant this CPU runs (test-python used the
# fastest): each is compiled differently (SSE2 vectors and separate multiplies and adds in
# baseline, AVX2/FMA in v3, AVX-512 in v4), and all must meet the same tolerances.
VARIANT_TESTS := test_explicit.py test_accelerated.py test_diffusivities.py test_layers.py \
                 test_multigrid_solver.py test_threads.py test_allocations.py test_image_explicit.py test_image_schemes.py \
                 test_variants.py
test-variants: build venv
	for v in $$($(PY) python/pdeblocks/_variants.py --installed $(LIBDIR) --except-fastest); do \
	    echo "== variant $$v"; \
	    (cd python/tests && PDEBLOCKS_CPU=$$v PYTHONPATH=$(CURDIR)/python \
	        $(CURDIR)/$(PY) -m pytest -q $(VARIANT_TESTS)) || exit 1; \
	done

test: build venv test-swift test-python test-variants

demo: build venv
	PYTHONPATH=python $(PY) examples/denoise_demo.py

bench: build native venv
	PYTHONPATH=python $(PY) bench/suite.py

# C users: headers, the library and a pkg-config file under $(DESTDIR)$(PREFIX).
#   cc prog.c $$(pkg-config --cflags --libs pdeblocks)   (Libs carries -Wl,-rpath,$(PREFIX)/lib)
# pkg-config itself: apt-get install -y pkg-config.
install: build
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 include/*.h $(DESTDIR)$(PREFIX)/include/
	for f in $(LIBDIR)/libpdeblocks*.so; do \
	    install -m 755 $$f $(DESTDIR)$(PREFIX)/lib/ && strip --strip-debug $(DESTDIR)$(PREFIX)/lib/$$(basename $$f); done
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' pdeblocks.pc.in \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/pdeblocks.pc
	@echo "installed pdeblocks $(VERSION) under $(DESTDIR)$(PREFIX); build with:"
	@echo "  PKG_CONFIG_PATH=$(PREFIX)/lib/pkgconfig cc prog.c \$$(pkg-config --cflags --libs pdeblocks)"

uninstall:
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/include/,$(notdir $(wildcard include/*.h)))
	rm -f $(DESTDIR)$(PREFIX)/lib/libpdeblocks*.so $(DESTDIR)$(PREFIX)/lib/pkgconfig/pdeblocks.pc

# The Python package as a wheel (builds the library in .build-wheel; see python/swift_build.py).
wheel:
	$(PYTHON) -m pip wheel --no-deps --wheel-dir dist .

# Leaks: Tests/native/leak_cycles.c under valgrind (python/tests/test_leaks.py runs it with 3 cycles).
LEAK_CYCLES ?= 5
leakcheck: build
	@command -v valgrind >/dev/null || { echo "valgrind not found: apt-get install -y valgrind"; exit 1; }
	mkdir -p .build/leakcheck
	$(CC) -std=c11 -O1 -g -Iinclude Tests/native/leak_cycles.c -L$(LIBDIR) -lpdeblocks \
	    -Wl,-rpath,$(abspath $(LIBDIR)) -lm -o .build/leakcheck/leak_cycles
	valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=1 \
	    .build/leakcheck/leak_cycles $(LEAK_CYCLES) .build/leakcheck

clean:
	rm -rf .build .build-wheel .build-baseline build dist out
