# libnegsample - see README.md. Targets: all, check, sanitize, bench, examples, install,
# uninstall, clean. GNU make.

HEADER := include/negsample.h
VERSION_PART = $(shell sed -n 's/^\#define NEGS_VERSION_$(1) \([0-9][0-9]*\).*/\1/p' $(HEADER))
MAJOR := $(call VERSION_PART,MAJOR)
MINOR := $(call VERSION_PART,MINOR)
PATCH := $(call VERSION_PART,PATCH)
VERSION := $(MAJOR).$(MINOR).$(PATCH)

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR ?=

CC ?= cc
CXX ?= c++
PYTHON ?= /usr/bin/python3
WERROR ?= 1

WARN := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wpointer-arith -Wcast-qual -Wvla -Wformat=2 -Wundef
ifeq ($(WERROR),1)
WARN += -Werror
endif
OPT ?= -O2
CFLAGS_LIB := -std=c11 $(OPT) -pthread -fPIC -fvisibility=hidden -D_GNU_SOURCE -DNEGS_BUILDING_LIBRARY \
              -Iinclude -Isrc $(WARN) $(CFLAGS)
CFLAGS_TEST := -std=c11 $(OPT) -g -D_GNU_SOURCE -Iinclude -Isrc $(WARN) -Wno-missing-prototypes \
               $(CFLAGS)
LDLIBS_LIB := -lm

SONAME := libnegsample.so.$(MAJOR)
SHLIB := lib/libnegsample.so.$(VERSION)
STLIB := lib/libnegsample.a
MAPFILE := src/negsample.map

# Quiet build: one short line per step ("  CC      src/core/rng.c"); V=1 prints the commands.
V ?= 0
ifeq ($(V),1)
Q :=
say =
else
Q := @
say = @printf '  %-7s %s\n' '$(1)' '$(2)';
endif

SRCS := $(sort $(wildcard src/*/*.c))
OBJS := $(patsubst src/%.c,build/obj/%.o,$(SRCS))
DEPS = $(OBJS:.o=.d) $(SAN_OBJS:.o=.d) $(TEST_BINS:=.d) $(SAN_BINS:=.d)

TEST_SRCS := $(sort $(wildcard tests/test_*.c))
TEST_BINS := $(patsubst tests/%.c,build/tests/%,$(TEST_SRCS))
SAN_FLAGS := -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_OBJS := $(patsubst src/%.c,build/san/obj/%.o,$(SRCS))
SAN_BINS := $(patsubst tests/%.c,build/san/tests/%,$(TEST_SRCS))
BENCH_SRCS := $(sort $(wildcard tests/bench/bench_*.c))
BENCH_BINS := $(patsubst tests/bench/%.c,build/bench/%,$(BENCH_SRCS))
EXAMPLE_SRCS := $(sort $(wildcard examples/*.c))
EXAMPLE_BINS := $(patsubst examples/%.c,build/examples/%,$(EXAMPLE_SRCS))

.PHONY: all deps demo check check-all check-isa sanitize-run valgrind check-suites check-abi check-headers check-dlopen check-python check-install check-cpp \
        check-ref sanitize bench examples install uninstall clean

all: $(SHLIB) lib/$(SONAME) lib/libnegsample.so $(STLIB)

build/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(CFLAGS_LIB) -MMD -MP -c $< -o $@

$(SHLIB): $(OBJS) $(MAPFILE)
	@mkdir -p lib
	$(call say,LD,$@)$(CC) -shared -pthread -Wl,-soname,$(SONAME) -Wl,--version-script=$(MAPFILE) -Wl,--no-undefined \
	    -Wl,-z,relro,-z,now,-z,nodelete -o $@ $(OBJS) $(LDLIBS_LIB) $(LDFLAGS)

lib/$(SONAME): $(SHLIB)
	$(call say,LN,$@)ln -sf $(notdir $(SHLIB)) $@

lib/libnegsample.so: lib/$(SONAME)
	$(call say,LN,$@)ln -sf $(SONAME) $@

$(STLIB): $(OBJS)
	@mkdir -p lib
	$(call say,AR,$@)rm -f $@ && $(AR) rcs $@ $(OBJS)

# ---------------------------------------------------------------- tests

build/tests/%: tests/%.c tests/test_util.h $(STLIB)
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)$(CC) $(CFLAGS_TEST) -MMD -MP $< -o $@ $(STLIB) -lcmocka -lm -lpthread

deps:
	@sh tests/deps.sh

check: deps
	@$(MAKE) --no-print-directory check-all

check-all: all check-abi check-headers check-dlopen check-python check-install examples check-cpp \
           $(TEST_BINS)
	@build/examples/quickstart > /dev/null && echo "check-examples: examples build, quickstart runs"
	@PYTHON=$(PYTHON) LIBNEGSAMPLE=$(CURDIR)/lib/libnegsample.so \
	    sh tests/run_suites.sh check $(TEST_BINS) -- $(sort $(wildcard tests/ref/test_*.py tests/python/test_*.py))

check-abi: all
	@sh tests/abi/check_symbols.sh lib/libnegsample.so tests/abi/symbols.txt

check-headers:
	@mkdir -p build/headers
	$(call say,CC,tests/abi/header_c.c (c99))$(CC) -std=c99 -Wall -Wextra -Werror -pedantic -Iinclude -c tests/abi/header_c.c -o build/headers/c99.o
	$(call say,CC,tests/abi/header_c.c (c11))$(CC) -std=c11 -Wall -Wextra -Werror -pedantic -Iinclude -c tests/abi/header_c.c -o build/headers/c11.o
	$(call say,CXX,tests/abi/header_cxx.cpp (c++11))$(CXX) -std=c++11 -Wall -Wextra -Werror -pedantic -Iinclude -c tests/abi/header_cxx.cpp -o build/headers/cxx11.o

check-dlopen: all
	@mkdir -p build/abi
	$(call say,CCLD,build/abi/dlopen_test)$(CC) -std=c11 $(WARN) tests/abi/dlopen_test.c -o build/abi/dlopen_test -ldl
	$(Q)build/abi/dlopen_test lib/libnegsample.so tests/abi/symbols.txt

check-python: all
	$(Q)$(PYTHON) tests/abi/ctypes_smoke.py lib/libnegsample.so

check-install: all
	@sh tests/install/check_install.sh "$(MAKE)"

# The suites again with the kernel choice capped (NEGS_FORCE_ISA, src/core/cpu.c), so that a
# machine with AVX-512 also tests the AVX2 and portable kernels a user's CPU may pick.
check-isa: all $(TEST_BINS)
	@for isa in avx2 scalar; do NEGS_FORCE_ISA=$$isa sh tests/run_suites.sh check-isa-$$isa \
	    $(TEST_BINS) -- > build/check-isa-$$isa.log 2>&1 || { tail -n 40 build/check-isa-$$isa.log; \
	    exit 1; }; tail -n 1 build/check-isa-$$isa.log; done

sanitize: deps
	@$(MAKE) --no-print-directory sanitize-run

sanitize-run: $(SAN_BINS)
	@NEGS_SANITIZE=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	    sh tests/run_suites.sh sanitize $(SAN_BINS) --

# The suites under valgrind's memcheck (reduced sizes, as under sanitize).
valgrind: all $(TEST_BINS)
	@NEGS_SANITIZE=1 NEGS_TEST_WRAP="valgrind -q --error-exitcode=99 --leak-check=full \
	    --errors-for-leak-kinds=definite,indirect" sh tests/run_suites.sh valgrind $(TEST_BINS) --

build/san/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(call say,CC-SAN,$<)$(CC) $(CFLAGS_LIB) -O1 -g $(SAN_FLAGS) -MMD -MP -c $< -o $@

build/san/libnegsample.a: $(SAN_OBJS)
	$(call say,AR,$@)rm -f $@ && $(AR) rcs $@ $(SAN_OBJS)

build/san/tests/%: tests/%.c tests/test_util.h build/san/libnegsample.a
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)$(CC) $(CFLAGS_TEST) -O1 $(SAN_FLAGS) -MMD -MP $< -o $@ build/san/libnegsample.a -lcmocka -lm -lpthread

# ---------------------------------------------------------------- benchmarks and examples

build/bench/%: tests/bench/%.c $(STLIB)
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)$(CC) $(CFLAGS_TEST) -Wno-error $< -o $@ $(STLIB) -lm -lpthread

# The dense OpenBLAS peer of the in-batch bench links OpenBLAS where it is installed (the
# library never does); without it the binary only says so. Probed once, when first needed.
HAVE_OPENBLAS = $(eval HAVE_OPENBLAS := $(shell printf '\043include <cblas.h>\nint main(void) { return !openblas_get_corename(); }\n' | \
    $(CC) -x c - -o /dev/null -lopenblas >/dev/null 2>&1 && echo 1))$(HAVE_OPENBLAS)
build/bench/bench_inbatch: tests/bench/inbatch_data.h
build/bench/bench_inbatch_blas: tests/bench/bench_inbatch_blas.c tests/bench/inbatch_data.h $(STLIB)
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)$(CC) $(CFLAGS_TEST) -O3 -Wno-error $(if $(HAVE_OPENBLAS),,-DNEGS_BENCH_NO_OPENBLAS) \
	    $< -o $@ $(STLIB) $(if $(HAVE_OPENBLAS),-lopenblas) -lm -lpthread

# make bench [BENCH=name] [BENCH_JSON=file]: runs tests/bench/run_<name>.sh (all by default).
BENCH ?= *
bench: all $(BENCH_BINS)
	@set -e; for s in $(sort $(wildcard tests/bench/run_$(BENCH).sh)); do \
	    echo "== $$s"; BENCH_BIN_DIR=$(CURDIR)/build/bench PYTHON=$(PYTHON) \
	    LIBNEGSAMPLE=$(CURDIR)/lib/libnegsample.so BENCH_JSON=$(BENCH_JSON) sh $$s; done

build/examples/%: examples/%.c $(HEADER) lib/libnegsample.so
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)$(CC) -std=c11 $(OPT) $(WARN) -Iinclude $< -o $@ -Llib -lnegsample -lm -Wl,-rpath,'$$ORIGIN/../../lib'

examples: $(EXAMPLE_BINS)

# C++ (include/negsample.hpp): every examples/cpp and tests/cpp program, built as C++17 and
# C++20 with warnings as errors, and run (two_tower on its synthetic set; it fails if the loss
# does not go down).
CXX_WARN := -Wall -Wextra -Werror -pedantic -Wshadow
CPP_SRCS := $(sort $(wildcard examples/cpp/*.cpp tests/cpp/*.cpp))
CPP17_BINS := $(patsubst %.cpp,build/c++17/%,$(CPP_SRCS))
CPP20_BINS := $(patsubst %.cpp,build/c++20/%,$(CPP_SRCS))
CPP_BINS := $(CPP17_BINS) $(CPP20_BINS)
cxx_link = $(call say,CXXLD,$@)$(CXX) -std=$(1) $(OPT) $(CXX_WARN) -Iinclude $< \
    -o $@ -Llib -lnegsample -Wl,-rpath,'$$ORIGIN/../../../../lib'
$(CPP17_BINS): build/c++17/%: %.cpp include/negsample.hpp $(HEADER) lib/libnegsample.so
	@mkdir -p $(dir $@)
	$(call cxx_link,c++17)
$(CPP20_BINS): build/c++20/%: %.cpp include/negsample.hpp $(HEADER) lib/libnegsample.so
	@mkdir -p $(dir $@)
	$(call cxx_link,c++20)

check-cpp: $(CPP_BINS)
	@for b in $(CPP_BINS); do $$b > build/cpp.log 2>&1 || { cat build/cpp.log; echo "check-cpp: $$b failed"; exit 1; }; done
	@echo "check-cpp: $(words $(CPP_BINS)) C++17/C++20 programs built with -Werror -pedantic and run"

# The demo trainer is several files: examples/demo_trainer.c and examples/demo/*.c.
DEMO_OPT ?= -O3 -fno-math-errno
DEMO_SRCS := examples/demo_trainer.c $(sort $(wildcard examples/demo/*.c))
build/examples/demo_trainer: $(DEMO_SRCS) examples/demo/demo.h $(HEADER) lib/libnegsample.so
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)$(CC) -std=c11 $(DEMO_OPT) -D_POSIX_C_SOURCE=200809L -pthread $(WARN) -Iinclude $(DEMO_SRCS) -o $@ \
	    -Llib -lnegsample -lm -Wl,-rpath,'$$ORIGIN/../../lib'

# The main job: every strategy on MovieLens-100K when ../shared/data has it, else on the
# synthetic set. DATA=file picks the data, DEMO_ARGS adds options (build/examples/demo_trainer --help).
DATA ?=
DEMO_ARGS ?=
demo: build/examples/demo_trainer
	@build/examples/demo_trainer $(if $(DATA),--data $(DATA)) $(DEMO_ARGS)

# ---------------------------------------------------------------- MPI (examples/mpi, docs/mpi.md)
# The data-parallel trainer is the only MPI user: the library itself stays libc + libm.
# check-mpi runs it at mpirun -np 1, 2, 4 and kills/resumes a job; it skips without Open MPI.
.PHONY: check-mpi bench-mpi
MPICC ?= mpicc
MPI_SRCS := $(sort $(wildcard examples/mpi/*.c))
MPI_TRAINER := build/examples/mpi/mpi_trainer
$(MPI_TRAINER): $(MPI_SRCS) examples/mpi/mpi_trainer.h $(HEADER) lib/libnegsample.so
	@mkdir -p $(dir $@)
	$(call say,MPICC,$@)$(MPICC) -std=c11 $(OPT) -D_POSIX_C_SOURCE=200809L $(WARN) -Iinclude $(MPI_SRCS) -o $@ \
	    -Llib -lnegsample -lm -Wl,-rpath,'$$ORIGIN/../../../lib'
have_mpi = command -v $(MPICC) > /dev/null 2>&1 && command -v mpirun > /dev/null 2>&1
check-mpi:
	@if $(have_mpi); then $(MAKE) --no-print-directory $(MPI_TRAINER) && sh tests/mpi/check_mpi.sh $(MPI_TRAINER); \
	else echo "check-mpi: SKIPPED: mpicc or mpirun not found (apt-get install openmpi-bin libopenmpi-dev)"; fi
# The speed-up of 2 ranks over 1 (docs/mpi.md).
bench-mpi:
	@if $(have_mpi); then $(MAKE) --no-print-directory $(MPI_TRAINER) && sh tests/mpi/run_speedup.sh $(MPI_TRAINER); \
	else echo "bench-mpi: SKIPPED: mpicc or mpirun not found"; fi

# ---------------------------------------------------------------- reliability (docs/reliability.md)

# make fuzz [FUZZ_SECONDS=N]: each libFuzzer harness of tests/fuzz/ (clang, ASan + UBSan) for N
# seconds from its kept corpus; new inputs go to build/fuzz/work/, a failing one to
# build/fuzz/artifacts/ (keep it as tests/fuzz/repro/<harness>/<name>: make check replays both).
# make fuzz-merge adds the new inputs that reach new coverage to tests/fuzz/corpus/.
FUZZ_CC ?= clang-14
FUZZ_SECONDS ?= 60
FUZZ_SEED ?= 0 # 0: libFuzzer picks one; CI fixes it so that a short run explores the same inputs
FUZZ_HARNESSES := freq_load csr api
FUZZ_FLAGS := -std=c11 -O1 -g -pthread -D_GNU_SOURCE -DNEGS_BUILDING_LIBRARY -Iinclude -Isrc \
              -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all
FUZZ_OBJS := $(patsubst src/%.c,build/fuzz/obj/%.o,$(SRCS))
FUZZ_BINS := $(FUZZ_HARNESSES:%=build/fuzz/fuzz_%)
DEPS += $(FUZZ_OBJS:.o=.d)
.SECONDARY: $(FUZZ_OBJS)

build/fuzz/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(call say,CC-FUZZ,$<)$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard tests/fuzz/*.h) $(FUZZ_OBJS)
	$(call say,CCLD,$@)$(FUZZ_CC) $(FUZZ_FLAGS) -DNEGS_LIBFUZZER -fsanitize=fuzzer $< $(FUZZ_OBJS) -o $@ -lm

.PHONY: fuzz fuzz-merge
fuzz: $(FUZZ_BINS)
	@for h in $(FUZZ_HARNESSES); do \
	    mkdir -p build/fuzz/work/$$h build/fuzz/artifacts tests/fuzz/corpus/$$h tests/fuzz/repro/$$h; \
	    echo "fuzz: $$h for $(FUZZ_SECONDS) s"; \
	    build/fuzz/fuzz_$$h -max_total_time=$(FUZZ_SECONDS) -seed=$(FUZZ_SEED) -max_len=8192 -timeout=10 \
	        -artifact_prefix=build/fuzz/artifacts/$$h- build/fuzz/work/$$h tests/fuzz/corpus/$$h \
	        tests/fuzz/repro/$$h > build/fuzz/$$h.log 2>&1 || { tail -n 30 build/fuzz/$$h.log; \
	        echo "fuzz: $$h failed; the input is in build/fuzz/artifacts/"; exit 1; }; \
	    tail -n 1 build/fuzz/$$h.log; done

fuzz-merge: $(FUZZ_BINS)
	@for h in $(FUZZ_HARNESSES); do build/fuzz/fuzz_$$h -merge=1 -max_len=8192 \
	    tests/fuzz/corpus/$$h build/fuzz/work/$$h 2>&1 | tail -n 1; done


# make faults: the library built with its test-only allocation hook (src/core/alloc.c,
# NEGS_FAULT_INJECTION; never in lib/) under ASan + UBSan, and tests/faults/fault_paths.c,
# which fails the n-th allocation of every create / set / first-execution path, for every n.
FAULT_FLAGS := -O1 -g $(SAN_FLAGS) -DNEGS_FAULT_INJECTION
FAULT_OBJS := $(patsubst src/%.c,build/faults/obj/%.o,$(SRCS))
DEPS += $(FAULT_OBJS:.o=.d)

build/faults/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(call say,CC-FAULT,$<)$(CC) $(CFLAGS_LIB) $(FAULT_FLAGS) -MMD -MP -c $< -o $@

build/faults/fault_paths: tests/faults/fault_paths.c $(FAULT_OBJS)
	$(call say,CCLD,$@)$(CC) $(CFLAGS_TEST) $(FAULT_FLAGS) $< $(FAULT_OBJS) -o $@ -lm -lpthread

.PHONY: faults
faults: build/faults/fault_paths
	$(Q)ASAN_OPTIONS=detect_leaks=1 build/faults/fault_paths

# make tsan: every suite (tests/test_share.c has the sharing the header allows) under
# ThreadSanitizer, at the reduced sizes of NEGS_SANITIZE. TSAN_SKIP="test_x ..." leaves
# suites out while iterating.
TSAN_FLAGS := -O1 -g -fsanitize=thread
TSAN_OBJS := $(patsubst src/%.c,build/tsan/obj/%.o,$(SRCS))
TSAN_SKIP ?=
TSAN_BINS := $(patsubst tests/%.c,build/tsan/tests/%,$(filter-out $(TSAN_SKIP:%=tests/%.c),$(TEST_SRCS)))
DEPS += $(TSAN_OBJS:.o=.d)

build/tsan/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(call say,CC-TSAN,$<)$(CC) $(CFLAGS_LIB) $(TSAN_FLAGS) -MMD -MP -c $< -o $@

build/tsan/libnegsample.a: $(TSAN_OBJS)
	$(call say,AR,$@)rm -f $@ && $(AR) rcs $@ $(TSAN_OBJS)

build/tsan/tests/%: tests/%.c tests/test_util.h build/tsan/libnegsample.a
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)$(CC) $(CFLAGS_TEST) $(TSAN_FLAGS) $< -o $@ build/tsan/libnegsample.a -lcmocka -lm -lpthread

.PHONY: tsan
tsan: deps $(TSAN_BINS)
	@NEGS_SANITIZE=1 TSAN_OPTIONS=halt_on_error=1:exitcode=66 \
	    sh tests/run_suites.sh tsan $(TSAN_BINS) --


# make check-slow: the scale tests of tests/slow/ (10^8 items, 2^26 buckets; several GB of
# memory and tens of seconds), run by CI but not by make check.
SLOW_BINS := $(patsubst tests/slow/%.c,build/slow/%,$(sort $(wildcard tests/slow/test_*.c)))
build/slow/%: tests/slow/%.c tests/test_util.h $(STLIB)
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)$(CC) $(CFLAGS_TEST) -Itests $< -o $@ $(STLIB) -lcmocka -lm -lpthread

.PHONY: check-slow
check-slow: deps $(SLOW_BINS)
	@sh tests/run_suites.sh check-slow $(SLOW_BINS) --

# ---------------------------------------------------------------- install

install: all
	@mkdir -p build
	$(call say,GEN,build/negsample.pc)sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
	    pkgconfig/negsample.pc.in > build/negsample.pc
	$(call say,INSTALL,$(DESTDIR)$(PREFIX))install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	$(Q)install -m 644 $(HEADER) $(DESTDIR)$(INCLUDEDIR)/negsample.h
	$(Q)install -m 644 include/negsample.hpp $(DESTDIR)$(INCLUDEDIR)/negsample.hpp
	$(Q)install -m 755 $(SHLIB) $(DESTDIR)$(LIBDIR)/
	$(Q)ln -sf $(notdir $(SHLIB)) $(DESTDIR)$(LIBDIR)/$(SONAME)
	$(Q)ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libnegsample.so
	$(Q)install -m 644 $(STLIB) $(DESTDIR)$(LIBDIR)/libnegsample.a
	$(Q)install -m 644 build/negsample.pc $(DESTDIR)$(PKGCONFIGDIR)/negsample.pc

uninstall:
	$(call say,RM,$(DESTDIR)$(PREFIX))rm -f $(DESTDIR)$(INCLUDEDIR)/negsample.h $(DESTDIR)$(INCLUDEDIR)/negsample.hpp $(DESTDIR)$(LIBDIR)/$(notdir $(SHLIB)) \
	    $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libnegsample.so \
	    $(DESTDIR)$(LIBDIR)/libnegsample.a $(DESTDIR)$(PKGCONFIGDIR)/negsample.pc

clean:
	$(call say,CLEAN,build lib)rm -rf build lib/libnegsample.*

-include $(DEPS)
