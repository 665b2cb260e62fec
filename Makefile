# ksync: the library, tools and tests build here; the module builds with
# Kbuild against KDIR.  See README.md.
#
#   make                 library, tests, examples, and the module if headers exist
#   make check           everything, in QEMU guests (installs what it needs)
#   make check-host      the selftests against the running kernel's /dev/ksync
#   make exercise N=n    check your answer to exercise n of docs/teaching.md, in a guest
#   make shell           a shell in a guest with the module loaded and the ksync command
#   make demo            a worker pool survives two SIGKILLed workers, in a guest
#   make fuzz            the fuzzer for DURATION seconds (default 600) on the debug and KCSAN kernels
#   make storm           the kill storm for DURATION seconds (default 600), likewise
#   make bench           ksync against sem_t, SysV, eventfd, pipes, pthread barriers, POSIX mq,
#                        SysV msg, liburcu; name lookup; in a guest
#   (each of check, exercise, shell, demo, bench, fuzz and storm installs what it
#   needs itself, and only that: scripts/setup-host)
#   make install         the ksync command, library, header, ksync.pc, man pages and a
#                        link page per function (DESTDIR, PREFIX)
#   make modules_install the module, for the running kernel (KDIR)

SHELL       := /bin/bash
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
LIBDIR      ?= $(PREFIX)/lib
INCLUDEDIR  ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
MANDIR      ?= $(PREFIX)/share/man
DESTDIR     ?=
VERSION     := 0.1.0
SOVERSION   := 0

CC          ?= cc
CFLAGS      ?= -O2 -g
KSYNC_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -pthread \
		-Iinclude/uapi -Iulib
B           := build
CACHE       := $(shell . scripts/common.sh && echo $$KSYNC_CACHE)
KSELFTEST   := $(CACHE)/kselftest

KVER        ?= $(shell uname -r)
KDIR        ?= $(shell . scripts/common.sh && kernel_build_dir $(KVER))
KDIR_DEFAULT := /lib/modules/$(KVER)/build

LIB_SRCS    := $(wildcard ulib/*.c)
LIB_OBJS    := $(LIB_SRCS:%.c=$(B)/%.o)
LIB_PIC     := $(LIB_SRCS:%.c=$(B)/%.pic.o)
TESTS       := $(patsubst selftests/%.c,$(B)/selftests/%,$(wildcard selftests/*_test.c))
EXAMPLES    := $(patsubst examples/%.c,$(B)/examples/%,$(wildcard examples/*.c))
EXERCISES   := $(patsubst selftests/exercises/%.c,$(B)/exercises/%,$(wildcard selftests/exercises/*.c))
TOOLS       := $(patsubst tools/%.c,$(B)/tools/%,$(wildcard tools/*.c))
CLI         := $(B)/tools/ksync
CLI_SRCS    := $(wildcard tools/ksync/*.c)
KMOD_SRCS   := Kbuild $(wildcard kmod/*.c kmod/*.h) include/uapi/linux/ksync.h

.PHONY: all lib cli tests examples exercises exercise tools bench fuzz storm module maybe-module maybe-tests check check-host check-native demo shell \
	install uninstall modules_install lint clean

all: lib cli examples tools maybe-tests maybe-module

lib: $(B)/libksync.a $(B)/libksync.so
cli: $(CLI)
tests: $(TESTS)
exercises: $(EXERCISES)
examples: $(EXAMPLES)
tools: $(TOOLS)

$(B)/%.o: %.c $(wildcard ulib/*.h) include/uapi/linux/ksync.h
	@mkdir -p $(dir $@)
	$(CC) $(KSYNC_CFLAGS) $(CFLAGS) -c -o $@ $<

$(B)/%.pic.o: %.c $(wildcard ulib/*.h) include/uapi/linux/ksync.h
	@mkdir -p $(dir $@)
	$(CC) $(KSYNC_CFLAGS) $(CFLAGS) -fPIC -c -o $@ $<

$(B)/libksync.a: $(LIB_OBJS)
	$(AR) rcs $@ $^

$(B)/libksync.so: $(LIB_PIC) ulib/libksync.map
	$(CC) -shared -Wl,-soname,libksync.so.$(SOVERSION) \
		-Wl,--version-script=ulib/libksync.map $(CFLAGS) -o $@ $(LIB_PIC) -pthread

$(KSELFTEST)/kselftest_harness.h:
	scripts/kselftest-headers $(KSELFTEST)

$(B)/selftests/%: selftests/%.c selftests/*.h $(B)/libksync.a $(KSELFTEST)/kselftest_harness.h
	@mkdir -p $(dir $@)
	$(CC) $(KSYNC_CFLAGS) $(CFLAGS) -I$(KSELFTEST) -Wno-unused-parameter \
		-o $@ $< $(B)/libksync.a -lrt

# the checkers of docs/teaching.md's exercises
$(B)/exercises/%: selftests/exercises/%.c selftests/*.h $(B)/libksync.a $(KSELFTEST)/kselftest_harness.h
	@mkdir -p $(dir $@)
	$(CC) $(KSYNC_CFLAGS) $(CFLAGS) -I$(KSELFTEST) -Wno-unused-parameter \
		-o $@ $< $(B)/libksync.a -lrt

$(B)/tools/%: tools/%.c $(B)/libksync.a
	@mkdir -p $(dir $@)
	$(CC) $(KSYNC_CFLAGS) $(CFLAGS) -o $@ $< $(B)/libksync.a

# the ksync command: one program from several files
$(CLI): $(CLI_SRCS) tools/ksync/cli.h $(B)/libksync.a
	@mkdir -p $(dir $@)
	$(CC) $(KSYNC_CFLAGS) $(CFLAGS) -DKSYNC_VERSION='"$(VERSION)"' -o $@ $(CLI_SRCS) $(B)/libksync.a

$(B)/examples/%: examples/%.c $(B)/libksync.a
	@mkdir -p $(dir $@)
	$(CC) $(KSYNC_CFLAGS) $(CFLAGS) -o $@ $< $(B)/libksync.a

# The module is built in a copy per kernel, so that builds for several
# kernels do not overwrite each other's objects.
module:
	@test -d "$(KDIR)" || { echo "no kernel build tree at '$(KDIR)': set KDIR" >&2; exit 1; }
	@mkdir -p $(B)/$(KVER)/include/uapi/linux $(B)/$(KVER)/kmod
	@cp -p Kbuild $(B)/$(KVER)/
	@cp -p kmod/*.c kmod/*.h $(B)/$(KVER)/kmod/
	@cp -p include/uapi/linux/ksync.h $(B)/$(KVER)/include/uapi/linux/
	$(MAKE) -C $(KDIR) M=$(CURDIR)/$(B)/$(KVER) modules

# The tests need the kselftest harness from Debian's linux-source-6.1.
maybe-tests:
	@if [ -f $(KSELFTEST)/kselftest_harness.h ] || [ -f /usr/src/linux-source-6.1.tar.xz ]; then \
		$(MAKE) --no-print-directory tests; \
	else \
		echo "note: tests skipped: they need linux-source-6.1 ('make check' installs it)"; \
	fi

maybe-module:
	@stock=$$(. scripts/common.sh && stock_kernel); \
	if [ -d "$(KDIR)" ]; then \
		$(MAKE) --no-print-directory module; \
	elif [ -n "$$stock" ] && [ -d /usr/src/linux-headers-$$stock ]; then \
		$(MAKE) --no-print-directory module KVER=$$stock; \
	else \
		echo "note: no kernel headers at $(KDIR_DEFAULT); module skipped."; \
		echo "      'make check' fetches Debian's; or: make module KDIR=/path/to/build-tree"; \
	fi

check:
	scripts/check

# The fast path natively, under ThreadSanitizer and valgrind (no module needed).
HOST_TEST := $(B)/host/fastpath_model_test
$(HOST_TEST) $(HOST_TEST)-tsan: selftests/host/fastpath_model_test.c ulib/sem_fast.h ulib/fast.h $(KSELFTEST)/kselftest_harness.h
	@mkdir -p $(dir $@)
	$(CC) $(KSYNC_CFLAGS) -O1 -g -I$(KSELFTEST) -Wno-unused-parameter \
		$(if $(filter %-tsan,$@),-fsanitize=thread) -o $@ $<

# The command's table of types, with a type no module has (its main() renamed).
CLI_TEST := $(B)/host/cli_types_test
$(CLI_TEST): selftests/host/cli_types_test.c $(CLI_SRCS) tools/ksync/cli.h $(B)/libksync.a $(KSELFTEST)/kselftest_harness.h
	@mkdir -p $(dir $@)
	$(CC) $(KSYNC_CFLAGS) -O1 -g -I$(KSELFTEST) -Wno-unused-parameter -c -o $@.o $<
	$(CC) $(KSYNC_CFLAGS) -O1 -g -Dmain=ksync_main -DKSYNC_VERSION='"$(VERSION)"' -o $@ $@.o $(CLI_SRCS) $(B)/libksync.a

# ls's names and table, likewise, under ASan and UBSan (millions of cases: too many for valgrind)
LS_TEST := $(B)/host/ls_table_test
SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all
$(LS_TEST): selftests/host/ls_table_test.c $(CLI_SRCS) $(wildcard tools/ksync/*.h) $(LIB_SRCS) $(KSELFTEST)/kselftest_harness.h
	@mkdir -p $(dir $@)
	$(CC) $(KSYNC_CFLAGS) -O1 -g $(SANITIZE) -I$(KSELFTEST) -Wno-unused-parameter -c -o $@.o $<
	$(CC) $(KSYNC_CFLAGS) -O1 -g $(SANITIZE) -Dmain=ksync_main -DKSYNC_VERSION='"$(VERSION)"' \
		-o $@ $@.o $(CLI_SRCS) $(LIB_SRCS)

check-native: $(HOST_TEST) $(HOST_TEST)-tsan $(CLI_TEST) $(LS_TEST)
	$(HOST_TEST)-tsan
	valgrind --quiet --error-exitcode=1 --leak-check=full $(HOST_TEST)
	valgrind --quiet --error-exitcode=1 --leak-check=full $(CLI_TEST)
	$(LS_TEST)

check-host: tests cli examples
	scripts/run-tests $(B)/selftests

# In a guest on Debian's stock kernel, as make check runs; BENCH_SCALE=0.2 for a quick look,
# BENCH_NAMES=10000 to stop the name-lookup table short of 100,000 names.
bench:
	scripts/setup-host bench
	$(MAKE) --no-print-directory tools
	scripts/ksync-vm --mem 3072 -- sh -c '$(B)/tools/bench $(BENCH_SCALE) && $(B)/tools/bench_barrier $(BENCH_SCALE) && $(B)/tools/bench_queue $(BENCH_SCALE) && $(B)/tools/bench_select $(BENCH_SCALE) && $(B)/tools/bench_names $(BENCH_SCALE) $(BENCH_NAMES)' </dev/null

# docs/teaching.md: make exercise N=3 checks your answer to exercise 3 in a guest
exercise:
	scripts/setup-host exercise
	scripts/exercise check $(N)

# Long runs (docs/reliability.md): make fuzz DURATION=3600
DURATION    ?= 600
fuzz storm:
	scripts/setup-host kernels
	$(MAKE) --no-print-directory tests
	scripts/long-run $@ $(DURATION)

# setup-host first: on a fresh machine even the compiler may be missing
demo:
	scripts/setup-host guest
	$(MAKE) --no-print-directory examples
	scripts/ksync-vm --timeout 120 -- $(B)/examples/crash </dev/null

# the terminal is the guest's console (scripts/ksync-vm --help); exit or ^D ends it
shell:
	scripts/setup-host guest
	$(MAKE) --no-print-directory lib cli examples
	scripts/ksync-vm -- env PATH="$(CURDIR)/$(B)/tools:$$PATH" bash

MAN1        := docs/ksync.1
MAN3        := docs/ksync.3 docs/ksync_barrier.3 docs/ksync_queue.3 docs/ksync_event.3 \
               docs/ksync_list.3 docs/ksync_wait_any.3

install: lib cli
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 755 $(CLI) $(DESTDIR)$(BINDIR)/ksync
	install -m 644 $(B)/libksync.a $(DESTDIR)$(LIBDIR)/
	install -m 755 $(B)/libksync.so $(DESTDIR)$(LIBDIR)/libksync.so.$(VERSION)
	ln -sf libksync.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libksync.so.$(SOVERSION)
	ln -sf libksync.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libksync.so
	install -m 644 ulib/ksync.h $(DESTDIR)$(INCLUDEDIR)/ksync.h
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3
	install -m 644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	install -m 644 $(MAN3) $(DESTDIR)$(MANDIR)/man3/
	scripts/man-links $(MAN3) | while read -r link page; do \
		echo ".so man3/$$page" >$(DESTDIR)$(MANDIR)/man3/$$link || exit 1; \
	done
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
		ulib/ksync.pc.in >$(DESTDIR)$(PKGCONFIGDIR)/ksync.pc

uninstall:
	scripts/man-links $(MAN3) | while read -r link page; do \
		rm -f $(DESTDIR)$(MANDIR)/man3/$$link; \
	done
	rm -f $(DESTDIR)$(BINDIR)/ksync $(DESTDIR)$(LIBDIR)/libksync.* $(DESTDIR)$(INCLUDEDIR)/ksync.h \
		$(DESTDIR)$(PKGCONFIGDIR)/ksync.pc \
		$(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MAN1))) \
		$(addprefix $(DESTDIR)$(MANDIR)/man3/,$(notdir $(MAN3)))

modules_install: module
	$(MAKE) -C $(KDIR) M=$(CURDIR)/$(B)/$(KVER) modules_install

lint:
	scripts/lint

clean:
	rm -rf $(B)
