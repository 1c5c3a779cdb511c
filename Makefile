# why550: build, test, demo, sanitizer, fuzz, install and package targets.
# The binary is build/why550; ./why550 is a link to it.

# Where make install puts things (DESTDIR is prepended to each, and is not
# compiled in). The binary reads SYSCONFDIR/why550/checks.d, and also
# BINDIR/../etc/why550/checks.d, so a tree moved as a whole still works.
PREFIX      ?= /usr/local
SYSCONFDIR  ?= $(PREFIX)/etc
BINDIR      ?= $(PREFIX)/bin
DATAROOTDIR ?= $(PREFIX)/share
MANDIR      ?= $(DATAROOTDIR)/man
BASHCOMPDIR ?= $(DATAROOTDIR)/bash-completion/completions
ZSHCOMPDIR  ?= $(DATAROOTDIR)/zsh/site-functions
DESTDIR     ?=
BUILD      ?= build
VERSION    := 0.1.0

CC         ?= cc
# make V=1 shows the whole command lines
V          ?= 0
ifeq ($(V),0)
Q          := @
else
Q          :=
endif
PKGS       := ldns jansson opendkim libpsl libidn2 gmime-3.0 libssl libcrypto
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
WARN       := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
              -Wformat=2 -Wcast-qual -Wwrite-strings -Wvla -Wpointer-arith -Werror
CFLAGS     ?= -O2 -g
SANFLAGS   ?=
# CPPFLAGS and LDFLAGS as the environment gives them (dpkg-buildflags: hardening)
ALL_CFLAGS := -std=c11 -D_DEFAULT_SOURCE -pthread -I. $(WARN) $(CPPFLAGS) $(CFLAGS) $(SANFLAGS) \
              $(PKG_CFLAGS) -DWHY550_VERSION='"$(VERSION)"' \
              -DWHY550_SYSCONFDIR='"$(SYSCONFDIR)"' -MMD -MP
LIBS       := $(PKG_LIBS) -lspf2 -lpthread -lm
TEST_LIBS  := $(LIBS) $(shell pkg-config --libs criterion 2>/dev/null)

LIB_SRC    := $(sort $(shell find core dns checks output src -name '*.c'))
LIB_SRC    := $(filter-out src/main.c,$(LIB_SRC))
LIB_OBJ    := $(LIB_SRC:%.c=$(BUILD)/%.o)
TEST_SRC   := $(sort $(wildcard tests/test_*.c))
TEST_BIN   := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
TOOL_SRC   := $(sort $(wildcard tests/tool_*.c))
TOOL_BIN   := $(TOOL_SRC:tests/tool_%.c=$(BUILD)/tests/%)
FUZZ_SRC   := $(sort $(wildcard fuzz/fuzz_*.c))
# every harness again with fuzz/replay.c as main(): make check replays the seeds and crash inputs
REPLAY_BIN := $(FUZZ_SRC:fuzz/%.c=$(BUILD)/fuzz-replay/%)

.PHONY: all deps check test tests demo asan valgrind fuzz fuzz-long bench install uninstall deb clean FORCE

all: $(BUILD)/why550 why550 $(TOOL_BIN)

why550: $(BUILD)/why550
	@[ "$(BUILD)" != build ] || ln -sf build/why550 why550

$(BUILD)/why550: $(BUILD)/src/main.o $(BUILD)/libwhy550.a
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

# What is compiled in besides the code: the files that use it are rebuilt
# when it changes (make install PREFIX=/opt/x after make), because the
# stamp is rewritten only then.
STAMP_TEXT := version=$(VERSION) sysconfdir=$(SYSCONFDIR)
STAMPED    := $(shell grep -l -r -E 'WHY550_(VERSION|SYSCONFDIR)' --include='*.c' core dns checks output src 2>/dev/null)
$(BUILD)/paths.stamp: FORCE
	@mkdir -p $(BUILD)
	@echo '$(STAMP_TEXT)' | cmp -s - $@ || echo '$(STAMP_TEXT)' > $@
$(STAMPED:%.c=$(BUILD)/%.o): $(BUILD)/paths.stamp

$(BUILD)/libwhy550.a: $(LIB_OBJ)
	@rm -f $@
	@echo "  AR      $@"
	$(Q)ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/test_%: $(BUILD)/tests/test_%.o $(BUILD)/tests/support.o $(BUILD)/libwhy550.a
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(TEST_LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/tool_%.o $(BUILD)/libwhy550.a
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

deps:
	@sh tools/deps.sh

# Every test: unit tests, then integration tests against NSD and the fault
# server, both started on loopback by the harness and stopped by PID.
check: deps
	@$(MAKE) --no-print-directory all tests
	@sh tests/run.sh $(BUILD)

test: check

tests: $(TEST_BIN) $(TOOL_BIN) $(REPLAY_BIN)

$(BUILD)/fuzz-replay/%: $(BUILD)/fuzz/%.o $(BUILD)/fuzz/replay.o $(BUILD)/libwhy550.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

demo: deps
	@$(MAKE) --no-print-directory all
	@sh tools/demo.sh $(BUILD)

# The tests again, built with AddressSanitizer and UBSan; fails on any report.
asan: deps
	@$(MAKE) --no-print-directory BUILD=build/asan CFLAGS="-O1 -g -fno-omit-frame-pointer" \
	    SANFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all" all tests
	@WHY550_SANITIZER=asan sh tests/run.sh build/asan

# The tests under valgrind memcheck; fails on any error or leak in the logs.
valgrind: deps
	@$(MAKE) --no-print-directory all tests
	@WHY550_SANITIZER=valgrind sh tests/run.sh $(BUILD)

# Every fuzz/fuzz_*.c harness under libFuzzer (clang), FUZZ_SECONDS each.
fuzz:
	@sh tools/deps.sh --fuzz
	@WHY550_PKGS="$(PKGS)" sh fuzz/run.sh build/libfuzzer $(FUZZ_ONLY)

# Every harness until 10 million executions or 10 minutes, whichever comes
# first (FUZZ_RUNS, FUZZ_MAX_SECONDS); prints executions, coverage and
# crashes per harness. Crash inputs are kept in build/libfuzzer/crashes/.
fuzz-long:
	@sh tools/deps.sh --fuzz
	@WHY550_PKGS="$(PKGS)" sh fuzz/run.sh --long build/libfuzzer $(FUZZ_ONLY)

bench: deps
	@sh tools/deps.sh --bench
	@$(MAKE) --no-print-directory all
	@sh bench/run.sh $(BUILD)

# The binary, checks.d, the man page and the shell completions, under
# DESTDIR; a checks.d file already there is replaced (keep local changes
# in files of their own, see checks.d/dnsbl.conf).
CONF_FILES := $(notdir $(wildcard checks.d/*.conf))

install: $(BUILD)/why550
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SYSCONFDIR)/why550/checks.d \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 755 $(BUILD)/why550 $(DESTDIR)$(BINDIR)/why550
	install -m 644 $(addprefix checks.d/,$(CONF_FILES)) $(DESTDIR)$(SYSCONFDIR)/why550/checks.d/
	install -m 644 docs/why550.1 $(DESTDIR)$(MANDIR)/man1/why550.1
	install -m 644 tools/completion/why550.bash $(DESTDIR)$(BASHCOMPDIR)/why550
	install -m 644 tools/completion/_why550 $(DESTDIR)$(ZSHCOMPDIR)/_why550

# What install put there, with the same variables; folders only when empty.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/why550 $(DESTDIR)$(MANDIR)/man1/why550.1 \
	    $(DESTDIR)$(BASHCOMPDIR)/why550 $(DESTDIR)$(ZSHCOMPDIR)/_why550 \
	    $(addprefix $(DESTDIR)$(SYSCONFDIR)/why550/checks.d/,$(CONF_FILES))
	-rmdir $(DESTDIR)$(SYSCONFDIR)/why550/checks.d $(DESTDIR)$(SYSCONFDIR)/why550 2>/dev/null

# The Debian package (debian/): built from a copy of the sources in a
# temporary folder, so neither build/ nor an earlier build gets in; the
# .deb lands in DEBDIR (default build/deb).
DEBDIR ?= $(BUILD)/deb
deb:
	@sh tools/deb.sh "$(DEBDIR)"

clean:
	rm -rf build why550

FORCE:

.SECONDARY:

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
