# PolyTrace — top-level build.
#
#   make            build the protocol library, the controller and both
#                   Ruby extensions into build/
#   make deps       install the missing Debian packages (root) or print how,
#                   and the DAP tests' npm packages (npm ci, pinned)
#   make check      deps + build + every test suite; last line "N passed, N failed"
#   make asan       our C built with -fsanitize=address,undefined; C tests run
#   make fuzz       libFuzzer on the protocol decoder and on the tracer's
#                   request dispatch, FUZZ_SECONDS each
#   make demo       debug the bundled example (the README's main job)
#   make bench      benchmarks, ratios against a baseline from the same run
#   make install    PREFIX (default /usr/local) and DESTDIR honoured
#   make compat     POLYPHONY=path: Polyphony 1.6's test suite on our runtime
#
# Running from the build tree: build/bin/polytrace, and build/lib holds
# polyphony.rb, polytrace.rb and both .so files (RUBYLIB=build/lib).

BUILD     ?= build
PREFIX    ?= /usr/local
DESTDIR   ?=
SANITIZE  ?=
FUZZ_SECONDS ?= 60
JOBS      ?= 2
RUBY      ?= ruby

CC        ?= cc
CFLAGS    ?= -g -O2
PT_CFLAGS  = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -fPIC \
             -Iprotocol -Icontroller $(if $(SANITIZE),-fsanitize=$(SANITIZE) -fno-omit-frame-pointer)
PT_LDFLAGS = $(if $(SANITIZE),-fsanitize=$(SANITIZE))

CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
JANSSON_LIBS := $(shell pkg-config --libs jansson 2>/dev/null || echo -ljansson)
# polytrace top draws with curses (wide-character ncurses).
CURSES_LIBS  := $(shell pkg-config --libs ncursesw 2>/dev/null || echo -lncursesw -ltinfo)
# TLS and the HMAC of the TCP preamble (protocol/proto_remote*.c).
SSL_LIBS     := $(shell pkg-config --libs openssl 2>/dev/null || echo -lssl -lcrypto)
CHECK_LIBS   := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt -lpthread)

PROTO_SRCS = $(wildcard protocol/*.c)
PROTO_OBJS = $(PROTO_SRCS:%.c=$(BUILD)/%.o)
PROTO_LIB  = $(BUILD)/libptproto.a

CTL_SRCS   = $(wildcard controller/*.c)
CTL_OBJS   = $(CTL_SRCS:%.c=$(BUILD)/%.o)
CTL_LIBOBJS = $(filter-out $(BUILD)/controller/main.o,$(CTL_OBJS))
POLYTRACE  = $(BUILD)/bin/polytrace

RUBY_LIBDIR = $(BUILD)/lib
RUNTIME_SO  = $(RUBY_LIBDIR)/polyphony_ext.so
TRACER_SO   = $(RUBY_LIBDIR)/polytrace_ext.so

# One check binary per C module under tests/: tests/<module>/*.c.
CHECK_MODULES = $(notdir $(patsubst %/,%,$(dir $(wildcard tests/*/check_*.c))))
CHECK_BINS    = $(sort $(CHECK_MODULES:%=$(BUILD)/tests/check_%))

.PHONY: all deps check test asan fuzz demo bench bench-backends install uninstall clean rblib c-tests compat

all: $(PROTO_LIB) $(POLYTRACE) $(RUNTIME_SO) $(TRACER_SO) rblib

deps:
	@sh mk/deps.sh
	@sh mk/node_deps.sh

# --- protocol ---------------------------------------------------------------
$(BUILD)/%.o: %.c $(wildcard protocol/*.h controller/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PT_CFLAGS) -c $< -o $@

$(PROTO_LIB): $(PROTO_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

# --- controller -------------------------------------------------------------
$(POLYTRACE): $(CTL_OBJS) $(PROTO_LIB)
	@mkdir -p $(@D)
	$(CC) $(PT_LDFLAGS) -o $@ $(CTL_OBJS) $(PROTO_LIB) -lmsgpackc $(SSL_LIBS) -lreadline -lelf $(JANSSON_LIBS) $(CURSES_LIBS)

# attach finds polytrace/injected.rb in the build tree, else where
# `make install` puts Ruby files.
$(BUILD)/controller/load.o: PT_CFLAGS += -DPT_RUBY_SITELIBDIR='"$(RB_PREFIX_LIBDIR)"'

# --- Ruby extensions (mkmf, built out of tree) -------------------------------
# A built .so replaces the old one by rename, never by writing over it: a
# running Ruby process (a test, a debuggee) has the old file mapped, and
# rewriting that inode in place crashes it.
replace_file = cp $(1) $(2).tmp && mv -f $(2).tmp $(2)

# The source directory is a prerequisite of the generated Makefile so that an
# added or removed .c file re-runs extconf.rb (mkmf lists sources at configure).
$(BUILD)/runtime/Makefile: runtime/extconf.rb mk/ext_common.rb runtime
	@mkdir -p $(@D)
	cd $(@D) && PT_SANITIZE=$(SANITIZE) $(RUBY) $(CURDIR)/runtime/extconf.rb >/dev/null

$(RUNTIME_SO): $(BUILD)/runtime/Makefile $(wildcard runtime/*.c runtime/*.h)
	$(MAKE) -s -C $(BUILD)/runtime V=0
	@mkdir -p $(@D)
	$(call replace_file,$(BUILD)/runtime/polyphony_ext.so,$@)

$(BUILD)/tracer/Makefile: tracer/extconf.rb mk/ext_common.rb tracer $(PROTO_LIB)
	@mkdir -p $(@D)
	cd $(@D) && PT_SANITIZE=$(SANITIZE) PT_PROTO_LIB=$(abspath $(PROTO_LIB)) \
		$(RUBY) $(CURDIR)/tracer/extconf.rb >/dev/null

$(TRACER_SO): $(BUILD)/tracer/Makefile $(PROTO_LIB) $(wildcard tracer/*.c tracer/*.h protocol/*.h runtime/*.h)
	$(MAKE) -s -C $(BUILD)/tracer V=0
	@mkdir -p $(@D)
	$(call replace_file,$(BUILD)/tracer/polytrace_ext.so,$@)

# The Ruby halves are copied beside the .so files: one directory to load from.
rblib:
	@mkdir -p $(RUBY_LIBDIR)
	@cp -Rp runtime/lib/. tracer/lib/. $(RUBY_LIBDIR)/

# --- tests -------------------------------------------------------------------
# Second expansion, so that a check binary depends on its module's test sources
# (a plain $(wildcard tests/%/*.c) is expanded before % is known: no files).
.SECONDEXPANSION:
$(BUILD)/tests/check_%: $$(wildcard tests/$$*/*.c) $(PROTO_LIB) $(CTL_LIBOBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PT_CFLAGS) $(CHECK_CFLAGS) $(PT_LDFLAGS) -o $@ \
		$(wildcard tests/$*/*.c) $(if $(filter controller,$*),$(CTL_LIBOBJS)) \
		$(PROTO_LIB) -lmsgpackc $(SSL_LIBS) -lreadline -lelf $(JANSSON_LIBS) $(CURSES_LIBS) $(CHECK_LIBS)

c-tests: $(CHECK_BINS)

check: deps
	@$(MAKE) --no-print-directory all c-tests
	@BUILD=$(BUILD) JOBS=$(JOBS) $(RUBY) tests/run.rb

test: check

asan:
	@$(MAKE) --no-print-directory BUILD=build-asan SANITIZE=address,undefined \
		$(PROTO_LIB:$(BUILD)/%=build-asan/%) $(CHECK_BINS:$(BUILD)/%=build-asan/%)
	@BUILD=build-asan ONLY=c ASAN_OPTIONS=detect_leaks=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 $(RUBY) tests/run.rb

# --- fuzzing -----------------------------------------------------------------
# Two libFuzzer targets with ASan and UBSan, FUZZ_SECONDS each: the protocol
# decoder, and the tracer's request dispatch (the tracer compiled into an
# embedded Ruby, serving a stopped program; FUZZ=decode or FUZZ=dispatch
# runs one).
FUZZ_BIN      = $(BUILD)/fuzz/fuzz_decode
FUZZ_DISPATCH = $(BUILD)/fuzz/fuzz_dispatch
FUZZ          ?= decode dispatch
FUZZ_CC        = clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined
RUBY_HDRS     := $(shell $(RUBY) -e 'c = RbConfig::CONFIG; print "-isystem #{c["rubyhdrdir"]} -isystem #{c["rubyarchhdrdir"]}"' 2>/dev/null)
RUBY_LINK     := $(shell $(RUBY) -e 'c = RbConfig::CONFIG; print "-L#{c["libdir"]} #{c["LIBRUBYARG_SHARED"]}"' 2>/dev/null)

$(FUZZ_BIN): tests/fuzz/fuzz_decode.c $(PROTO_SRCS) $(wildcard protocol/*.h)
	@sh mk/deps.sh clang libclang-rt-14-dev
	@mkdir -p $(@D)
	$(FUZZ_CC) -Iprotocol -o $@ tests/fuzz/fuzz_decode.c $(PROTO_SRCS) -lmsgpackc $(SSL_LIBS)

# Ruby unwinds exceptions with __builtin_longjmp, which ASan cannot see: the
# stack redzones of the frames it skips would stay poisoned, and libruby's
# own memset on that stack later would read as an overflow. So this target
# checks the heap, not stack redzones (the decoder's target checks both).
$(FUZZ_DISPATCH): tests/fuzz/fuzz_dispatch.c $(wildcard tracer/*.c tracer/*.h) $(PROTO_SRCS) \
		$(wildcard protocol/*.h runtime/rt_api.h)
	@sh mk/deps.sh clang libclang-rt-14-dev
	@mkdir -p $(@D)
	$(FUZZ_CC) -mllvm -asan-stack=0 -Iprotocol -Itracer -Iruntime $(RUBY_HDRS) \
		-DPT_FUZZ_TRACER_LIB='"$(CURDIR)/tracer/lib"' -o $@ tests/fuzz/fuzz_dispatch.c \
		$(wildcard tracer/*.c) $(PROTO_SRCS) -lmsgpackc $(SSL_LIBS) $(RUBY_LINK) -lpthread

fuzz: $(if $(filter decode,$(FUZZ)),$(FUZZ_BIN)) $(if $(filter dispatch,$(FUZZ)),$(FUZZ_DISPATCH))
	@mkdir -p $(BUILD)/fuzz/corpus $(BUILD)/fuzz/corpus_dispatch
	$(if $(filter decode,$(FUZZ)),$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
		$(BUILD)/fuzz/corpus tests/fuzz/corpus)
	$(if $(filter dispatch,$(FUZZ)),ASAN_OPTIONS=detect_leaks=0 $(FUZZ_DISPATCH) -detect_leaks=0 \
		-max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=20 \
		$(BUILD)/fuzz/corpus_dispatch tests/fuzz/corpus_dispatch)

# --- the main job and benchmarks -------------------------------------------
demo: deps
	@$(MAKE) --no-print-directory all
	$(POLYTRACE) -- $(RUBY) examples/demo.rb

# The peers (rdbg ships with Ruby) come from Debian, and libpq's headers for
# the database route's floor (bench/pg_floor.c). A part that fails to
# build shows as "n/a (reason)" in its rows instead of stopping the table.
# BENCH_QUICK=1: two rounds, small sizes. BENCH_ONLY=idle|step|switch|web-hello|web-pg|...
bench: deps
	@sh mk/deps.sh ruby-byebug ruby-async ruby-async-http puma wrk ruby-connection-pool libpq-dev
	@$(MAKE) --no-print-directory all || echo "bench: build failed; what needs it will say n/a" >&2
	@BUILD=$(BUILD) $(RUBY) bench/run.rb

# TCP echo, 100 connections, libev against io_uring (ratio printed).
bench-backends:
	@$(MAKE) --no-print-directory $(RUNTIME_SO) rblib
	@BUILD=$(BUILD) $(RUBY) bench/echo_backends.rb

# --- install -----------------------------------------------------------------
RB_SITE_LIBDIR  := $(shell $(RUBY) -e 'print RbConfig::CONFIG["sitelibdir"]' 2>/dev/null)
RB_SITE_ARCHDIR := $(shell $(RUBY) -e 'print RbConfig::CONFIG["sitearchdir"]' 2>/dev/null)
# Debian's ruby searches /usr/local's site dirs and, for PREFIX=/usr, its vendor
# dirs. Any other PREFIX gets the site dirs moved under it (/usr/local/lib/...
# becomes PREFIX/lib/...); Ruby then finds them through RUBYLIB.
ifeq ($(PREFIX),/usr)
RB_PREFIX_LIBDIR  := $(shell $(RUBY) -e 'print RbConfig::CONFIG["vendorlibdir"]' 2>/dev/null)
RB_PREFIX_ARCHDIR := $(shell $(RUBY) -e 'print RbConfig::CONFIG["vendorarchdir"]' 2>/dev/null)
else
RB_PREFIX_LIBDIR  := $(patsubst /usr/local/%,$(PREFIX)/%,$(RB_SITE_LIBDIR))
RB_PREFIX_ARCHDIR := $(patsubst /usr/local/%,$(PREFIX)/%,$(RB_SITE_ARCHDIR))
endif

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man7 $(DESTDIR)$(RB_PREFIX_LIBDIR) $(DESTDIR)$(RB_PREFIX_ARCHDIR)
	install -m 755 $(POLYTRACE) $(DESTDIR)$(PREFIX)/bin/polytrace
	install -m 644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 man/*.7 $(DESTDIR)$(PREFIX)/share/man/man7/
	install -m 755 $(RUNTIME_SO) $(TRACER_SO) $(DESTDIR)$(RB_PREFIX_ARCHDIR)/
	cp -R runtime/lib/. tracer/lib/. $(DESTDIR)$(RB_PREFIX_LIBDIR)/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/polytrace $(DESTDIR)$(PREFIX)/share/man/man1/polytrace.1 \
		$(DESTDIR)$(PREFIX)/share/man/man7/polytrace-protocol.7 \
		$(DESTDIR)$(RB_PREFIX_ARCHDIR)/polyphony_ext.so $(DESTDIR)$(RB_PREFIX_ARCHDIR)/polytrace_ext.so
	cd runtime/lib && find . -type f -exec rm -f $(DESTDIR)$(RB_PREFIX_LIBDIR)/{} \;
	cd tracer/lib && find . -type f -exec rm -f $(DESTDIR)$(RB_PREFIX_LIBDIR)/{} \;

# --- Polyphony 1.6's own test suite (not part of check) ----------------------
# make compat POLYPHONY=path/to/polyphony (a checkout or a git repository, bare
# or not; docs/HACKING.md says how to get one). The runtime is installed into
# a private prefix under $(BUILD) and the suite runs once per backend.
# COMPAT_ARGS passes options on (--only FILE, --timeout S, -v, --logs DIR ...).
COMPAT_PREFIX = $(abspath $(BUILD))/compat-prefix

compat:
	@test -n "$(POLYPHONY)" || { echo "usage: make compat POLYPHONY=path/to/polyphony-1.6 (see docs/HACKING.md)" >&2; exit 2; }
	@sh mk/deps.sh ruby-httparty ruby-minitest-reporters ruby-localhost
	@$(MAKE) --no-print-directory all
	@rm -rf $(COMPAT_PREFIX)
	@$(MAKE) --no-print-directory install PREFIX=$(COMPAT_PREFIX) DESTDIR= >/dev/null
	@$(RUBY) tests/compat/polyphony_suite --prefix $(COMPAT_PREFIX) $(COMPAT_ARGS) $(POLYPHONY)

clean:
	rm -rf build build-asan
