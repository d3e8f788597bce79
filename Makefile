# tollgate - an application firewall that is the proxy.
#
#   make            build build/tollgated and build/tollgate
#   sudo make run   install what is missing, run tollgated guarding $SUDO_USER
#   sudo make test  install what is missing, run every test (unit, fuzz, integration)
#   sudo make bench side-by-side benchmarks (not part of make test)
#   sudo make soak  SOAK_MINUTES (10) of mixed load with a kill (bench/soak)
#   make install    PREFIX=/usr/local DESTDIR=
#   sudo make install-whonix  after make install, on a Whonix-Workstation:
#                   contrib/whonix/install (see contrib/whonix/README.md)
#   make deps       install the Debian packages that build, tests and bench need
#   make fuzz       run each libFuzzer target for FUZZ_SECONDS
#   make format     clang-format every source file
#   make lint       cppcheck
#   make clean

PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
DATADIR    ?= $(PREFIX)/share
UNITDIR    ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR?= $(PREFIX)/lib/sysusers.d
SYSCONFDIR ?= /etc
DESTDIR    ?=

CC         ?= cc
CLANG      ?= clang
PKG_CONFIG ?= pkg-config
PKGS        = libevent libnftnl libmnl libssl libcrypto sqlite3 libidn2 libpsl
# tollgate-prompt alone: the desktop notifications (GLib comes with them).
PROMPT_PKGS = libnotify
# tollgate alone: its terminal UI (tollgate ui).
CLI_PKGS    = ncursesw
FUZZ_SECONDS ?= 60

# Debian packages: to build, to test, to benchmark.
DEB_BUILD = gcc make pkg-config libc6-dev libevent-dev libnftnl-dev \
            libmnl-dev libssl-dev libsqlite3-dev libidn2-dev libpsl-dev \
            publicsuffix libnotify-dev libncurses-dev
DEB_TEST  = libcmocka-dev clang libclang-rt-14-dev nftables iproute2 stress-ng \
            curl openssl socat python3 perl util-linux procps passwd \
            dnsutils jq dbus dbus-x11 dunst xvfb libnotify-bin tmux \
            imagemagick x11-utils dante-server torsocks tor unbound uidmap \
            systemd
DEB_BENCH = iperf3 apache2-utils redsocks microsocks dante-server dnsperf \
            sqlite3
DEB_ALL   = $(DEB_BUILD) $(DEB_TEST) $(DEB_BENCH)
# What `make deps` installs: everything, but for `make test` (and CI, which
# runs it) only what the build and the tests need.
DEB_WANT  = $(DEB_ALL)
test: DEB_WANT = $(DEB_BUILD) $(DEB_TEST)

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

CFLAGS   ?= -O2 -g
WARN      = -Wall -Wextra -Wshadow -Wno-unused-parameter
CPPFLAGS += -I. -D_GNU_SOURCE \
            -DCONFIG_DEFAULT_PROMPT_PROGRAM='"$(BINDIR)/tollgate-prompt"'
ALL_CFLAGS = -std=gnu11 $(WARN) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS)
LDLIBS   += $(PKG_LIBS) -lpthread

SAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer \
            -fno-sanitize-recover=undefined

# Everything but the programs' main() files is one library, built twice:
# plain for the programs, with ASan+UBSan for the unit tests.
# Made from files of the tree (see their rules below).
GEN_SRC   = build/gen/encdns_list.c
LIB_SRC   = $(wildcard common/*.c redirect/*.c rules/*.c store/*.c) \
            $(filter-out proxyd/main.c,$(wildcard proxyd/*.c)) $(GEN_SRC)
LIB_OBJ   = $(LIB_SRC:%.c=build/obj/%.o)
SAN_OBJ   = $(LIB_SRC:%.c=build/san/%.o)
CLI_SRC   = $(wildcard cli/*.c)
PROMPT_SRC = $(wildcard prompt/*.c)
HEADERS   = $(wildcard */*.h)
UNIT_SRC  = $(wildcard tests/unit/test_*.c)
UNIT_BIN  = $(UNIT_SRC:tests/unit/%.c=build/tests/%)
TOOL_SRC  = $(wildcard tests/integ/tools/*.c)
TOOL_BIN  = $(TOOL_SRC:tests/integ/tools/%.c=build/tests/tools/%)
FUZZ_SRC  = $(wildcard fuzz/fuzz_*.c)
FUZZ_BIN  = $(FUZZ_SRC:fuzz/%.c=build/fuzz/%)
PROGS     = build/tollgated build/tollgate build/tollgate-prompt

.PHONY: all deps check-deps test unit integ integ-tools fuzz fuzz-build \
        bench soak run \
        install install-user install-whonix uninstall format lint clean

all: check-deps $(PROGS)

check-deps:
	@$(PKG_CONFIG) --exists $(PKGS) $(PROMPT_PKGS) $(CLI_PKGS) || { \
	  echo "tollgate: missing build libraries ($(PKGS) $(PROMPT_PKGS)" \
	       "$(CLI_PKGS));" \
	       "run 'sudo make deps' first" >&2; exit 1; }

deps:
	@missing=""; for p in $(DEB_WANT); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
	    grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "deps: all Debian packages present"; \
	else \
	  echo "deps: installing$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "deps: need root to install packages: sudo make deps" >&2; \
	    exit 1; fi; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -q && \
	  apt-get install -y -q --no-install-recommends $$missing || exit 1; \
	  for s in tor unbound; do case " $$missing " in *" $$s "*) \
	    echo "deps: $$s runs inside the tests' namespaces only:" \
	         "disabling its service"; \
	    systemctl disable "$$s.service" >/dev/null 2>&1; \
	    systemctl stop "$$s.service" >/dev/null 2>&1; \
	  esac; done; true; \
	fi

# The shipped list of DNS-over-HTTPS resolvers, compiled in: tollgated's
# default needs no installed file.
build/gen/encdns_list.c: contrib/encrypted-dns.list
	@mkdir -p $(@D)
	{ echo '/* Made by make from $<: do not edit. */'; \
	  echo '#include "proxyd/encdns.h"'; \
	  echo 'const char encdns_builtin[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; \
	  echo ';'; } >$@

build/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

build/san/%.o: %.c $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -c -o $@ $<

build/libtg.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

build/libtg-san.a: $(SAN_OBJ)
	@rm -f $@
	ar rcs $@ $^

build/tollgated: proxyd/main.c build/libtg.a $(HEADERS)
	$(CC) $(ALL_CFLAGS) -o $@ proxyd/main.c build/libtg.a $(LDLIBS)

# The terminal UI answers prompts with tollgate-prompt's own answers
# (prompt/actions.c, which needs nothing beyond the library).
build/tollgate: $(CLI_SRC) prompt/actions.c build/libtg.a $(HEADERS)
	$(CC) $(ALL_CFLAGS) $(shell $(PKG_CONFIG) --cflags $(CLI_PKGS)) \
	    -o $@ $(CLI_SRC) prompt/actions.c build/libtg.a \
	    $(shell $(PKG_CONFIG) --libs $(CLI_PKGS)) $(LDLIBS)

build/tollgate-prompt: $(PROMPT_SRC) build/libtg.a $(HEADERS)
	$(CC) $(ALL_CFLAGS) $(shell $(PKG_CONFIG) --cflags $(PROMPT_PKGS)) \
	    -o $@ $(PROMPT_SRC) build/libtg.a \
	    $(shell $(PKG_CONFIG) --libs $(PROMPT_PKGS)) $(LDLIBS)

# prompt/ is not in the library (tollgate-prompt links GLib); actions.c needs
# nothing beyond it, so its test compiles it in.
build/tests/test_prompt_actions: tests/unit/test_prompt_actions.c \
    prompt/actions.c build/libtg-san.a $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -o $@ $< prompt/actions.c \
	    build/libtg-san.a $(LDLIBS) -lcmocka

# cli/ is not in the library either; values.c and apps.c need nothing of
# it.
build/tests/test_cli_values: tests/unit/test_cli_values.c cli/values.c \
    cli/apps.c build/libtg-san.a $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -o $@ $< cli/values.c cli/apps.c \
	    build/libtg-san.a $(LDLIBS) -lcmocka

# tollgate ui's data layer without its screen: cli/ but for main.c and
# the curses files.
UI_DATA_SRC = $(filter-out cli/main.c cli/ui.c cli/ui_draw.c,$(CLI_SRC))
build/tests/test_cli_ui_data: tests/unit/test_cli_ui_data.c $(UI_DATA_SRC) \
    build/libtg-san.a $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -o $@ $< $(UI_DATA_SRC) \
	    build/libtg-san.a $(LDLIBS) -lcmocka

build/tests/%: tests/unit/%.c build/libtg-san.a $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -o $@ $< build/libtg-san.a \
	    $(LDLIBS) -lcmocka

# The integration tests' tools come along, so "make unit" readies both.
unit: check-deps $(UNIT_BIN) $(TOOL_BIN)

# Small C programs the integration tests run (tests/integ/tools/*.c).
build/tests/tools/%: tests/integ/tools/%.c build/libtg.a $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< build/libtg.a $(LDLIBS)

integ-tools: check-deps $(TOOL_BIN)

# libFuzzer targets: clang, ASan+UBSan, the code under test compiled in.
FUZZ_LIB_SRC = common/log.c common/name.c proxyd/peek.c common/ctl.c \
               common/ctl_prompt.c common/quote.c common/hex.c \
               common/errbuf.c common/config.c common/addr.c rules/rule.c \
               rules/list.c proxyd/socks5c.c proxyd/socks.c \
               proxyd/httpconnect.c redirect/nflog.c redirect/nl.c \
               common/subid.c proxyd/attrenv.c rules/interp.c \
               common/ctl_rows.c \
               $(wildcard store/*.c) rules/match.c common/digest.c
build/fuzz/%: fuzz/%.c $(FUZZ_LIB_SRC) $(HEADERS)
	@mkdir -p $(@D)
	$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined $(CPPFLAGS) \
	    $(PKG_CFLAGS) -o $@ $< $(FUZZ_LIB_SRC) $(LDLIBS)

fuzz-build: $(FUZZ_BIN)

fuzz: fuzz-build
	@for f in $(FUZZ_BIN); do \
	  t=$$(basename $$f); mkdir -p build/fuzz/corpus-$$t; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS)s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -max_len=40000 \
	      build/fuzz/corpus-$$t fuzz/corpus/$$t || exit 1; \
	done

test: deps
	$(MAKE) all unit fuzz-build integ-tools
	tests/run

integ: all integ-tools
	tests/run --integ-only

soak: deps
	$(MAKE) all
	bench/soak

bench: deps
	$(MAKE) all
	bench/run
	bench/socks
	bench/dns
	bench/modules

run: deps
	$(MAKE) all
	$(MAKE) install-user
	tools/run-dev

install-user:
	@if [ -z "$(DESTDIR)" ] && ! getent passwd _tollgate >/dev/null; then \
	  echo "install: creating system user _tollgate"; \
	  useradd --system --no-create-home --home-dir /nonexistent \
	          --shell /usr/sbin/nologin _tollgate; \
	fi
	@if [ -z "$(DESTDIR)" ] && ! getent group _tollgate-prompt >/dev/null; then \
	  echo "install: creating system group _tollgate-prompt"; \
	  groupadd --system _tollgate-prompt; \
	fi

install: all install-user
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
	    $(DESTDIR)$(SYSCONFDIR)/tollgate \
	    $(DESTDIR)$(DATADIR)/tollgate \
	    $(DESTDIR)$(SYSCONFDIR)/xdg/autostart \
	    $(DESTDIR)$(PREFIX)/lib/systemd/user
	install -m 755 build/tollgated $(DESTDIR)$(SBINDIR)/tollgated
	install -m 755 build/tollgate $(DESTDIR)$(BINDIR)/tollgate
	@# setgid to its own group: tollgated lets only that group subscribe
	@# (docs/control.md).  A staged install (DESTDIR) on a machine without
	@# the group leaves that to the package's postinst.
	@if getent group _tollgate-prompt >/dev/null; then \
	  install -m 2755 -g _tollgate-prompt build/tollgate-prompt \
	    $(DESTDIR)$(BINDIR)/tollgate-prompt; \
	else \
	  install -m 755 build/tollgate-prompt \
	    $(DESTDIR)$(BINDIR)/tollgate-prompt; \
	  echo "install: no group _tollgate-prompt here: make" \
	       "$(BINDIR)/tollgate-prompt setgid _tollgate-prompt (2755)" \
	       "where it is installed" >&2; \
	fi
	install -m 644 docs/tollgate-prompt.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 contrib/tollgate-prompt.desktop \
	    $(DESTDIR)$(SYSCONFDIR)/xdg/autostart/tollgate-prompt.desktop
	sed 's|@BINDIR@|$(BINDIR)|g' contrib/tollgate-prompt.service.in \
	    > $(DESTDIR)$(PREFIX)/lib/systemd/user/tollgate-prompt.service
	install -m 644 docs/tollgated.8 docs/tollgate.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 644 docs/tollgate.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 644 contrib/encrypted-dns.list $(DESTDIR)$(DATADIR)/tollgate/
	sed 's|@SBINDIR@|$(SBINDIR)|g' contrib/tollgated.service.in \
	    > $(DESTDIR)$(UNITDIR)/tollgated.service
	install -m 644 contrib/sysusers.conf $(DESTDIR)$(SYSUSERSDIR)/tollgate.conf
	@if [ ! -e $(DESTDIR)$(SYSCONFDIR)/tollgate/tollgate.conf ]; then \
	  install -m 644 contrib/tollgate.conf \
	      $(DESTDIR)$(SYSCONFDIR)/tollgate/tollgate.conf; \
	else echo "install: keeping existing $(SYSCONFDIR)/tollgate/tollgate.conf"; fi

# Whonix-Workstation: configuration, unit, masks, rule lists (its own
# --uninstall takes them away).
install-whonix:
	contrib/whonix/install --prefix $(PREFIX)

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/tollgated $(DESTDIR)$(BINDIR)/tollgate \
	    $(DESTDIR)$(BINDIR)/tollgate-prompt \
	    $(DESTDIR)$(MANDIR)/man1/tollgate-prompt.1 \
	    $(DESTDIR)$(SYSCONFDIR)/xdg/autostart/tollgate-prompt.desktop \
	    $(DESTDIR)$(PREFIX)/lib/systemd/user/tollgate-prompt.service \
	    $(DESTDIR)$(MANDIR)/man8/tollgated.8 $(DESTDIR)$(MANDIR)/man8/tollgate.8 \
	    $(DESTDIR)$(MANDIR)/man5/tollgate.conf.5 \
	    $(DESTDIR)$(DATADIR)/tollgate/encrypted-dns.list \
	    $(DESTDIR)$(UNITDIR)/tollgated.service \
	    $(DESTDIR)$(SYSUSERSDIR)/tollgate.conf

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

# cppcheck reads no system header: sys/queue.h is given, or every
# TAILQ_FOREACH reads as a call followed by a block.
QUEUE_H = $(firstword $(wildcard /usr/include/*/sys/queue.h \
                                 /usr/include/sys/queue.h))
lint:
	cppcheck --quiet --enable=warning,portability --inline-suppr \
	    --error-exitcode=1 -I. -D_GNU_SOURCE \
	    $(if $(QUEUE_H),--include=$(QUEUE_H)) $$(git ls-files '*.c')

clean:
	rm -rf build
