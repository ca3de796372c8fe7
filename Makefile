# pmbot - hand-written Makefile. `make run`, `make test`; V=1 shows commands.

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
VERSION := 0.1.0

# Debian packages the build and the tests need; `make deps` installs the
# missing ones (as root, with apt-get).
DEB_PKGS := gcc make libc6-dev pkg-config libsqlite3-dev libinih-dev \
            libuv1-dev libwebsockets-dev libwebsockets-evlib-uv \
            libcurl4-openssl-dev libjansson-dev libyajl-dev libssl-dev libcmocka-dev \
            libhttp-parser-dev ca-certificates sqlite3 valgrind curl jq \
            openssl python3 python3-venv clang libclang-rt-dev tzdata time
PKGS     := sqlite3 inih libuv libcurl libwebsockets jansson yajl openssl

# pkg-config runs once, after `deps` has had its chance to install
PKG_CFLAGS = $(eval PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS)))$(PKG_CFLAGS)
PKG_LIBS   = $(eval PKG_LIBS := $(shell pkg-config --libs $(PKGS)) -lhttp_parser)$(PKG_LIBS)
TEST_LIBS  = $(eval TEST_LIBS := $(shell pkg-config --libs cmocka))$(TEST_LIBS)

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wformat=2 -Wimplicit-fallthrough
BASE    := -std=c17 -D_DEFAULT_SOURCE -DPMBOT_VERSION='"$(VERSION)"' \
           -Iinclude -MMD -MP $(WARN)
RELEASE := -O2 -g
SANITIZE := -O1 -g -fno-omit-frame-pointer \
            -fsanitize=address,undefined -fno-sanitize-recover=all

SRCS := bot/err.c bot/mem.c bot/log.c bot/strbuf.c bot/timeutil.c \
        bot/platforms.c \
        bot/zone.c \
        bot/config.c bot/loop.c bot/chat.c bot/core.c bot/unit.c bot/outbox.c \
        bot/scheduler.c bot/pattern.c bot/scrub.c bot/blame.c bot/bot.c bot/http.c bot/ws.c bot/tls.c \
        bot/incident/incident.c bot/incident/channel.c \
        bot/incident/timeline.c bot/incident/actions.c \
        bot/incident/review_clock.c bot/incident/review.c \
        bot/incident/review_rule.c bot/incident/reminders.c \
        bot/incident/report.c bot/alarm.c \
        bot/metrics.c bot/chunked.c bot/webhook.c \
        bot/adapters/console.c bot/adapters/slack_json.c \
        bot/adapters/matrix_json.c \
        bot/adapters/slack.c bot/adapters/slack_history.c \
        bot/adapters/slack_socket.c bot/webapi.c \
        bot/adapters/matrix.c bot/adapters/matrix_sync.c \
        commands/registry.c commands/cmd_incident.c commands/cmd_pm.c \
        storage/store.c storage/migrate.c storage/store_incident.c \
        storage/store_action.c storage/store_user.c \
        storage/store_prune.c storage/store_outbox.c storage/store_review.c \
        storage/store_remind.c storage/store_platform.c
MAIN  := bot/main.c
TESTS := $(patsubst tests/%.c,%,$(wildcard tests/test_*.c))
# fakes every unit test may link: real implementations, not mock scripts
TEST_SUPPORT := build/asan/tests/fake_platform.o build/asan/tests/fixture.o \
                build/asan/tests/world.o

REL_OBJS  := $(SRCS:%.c=build/rel/%.o)
ASAN_OBJS := $(SRCS:%.c=build/asan/%.o)

# libFuzzer targets: every tests/fuzz/fuzz_<name>.c is one, built with clang
# into build/fuzz/fuzz_<name> over the library objects compiled once for it
# (libclang-rt-dev holds the fuzzer runtime).
FUZZ_CC   := clang
FUZZ_SAN  := -O1 -g -fno-omit-frame-pointer \
             -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ      ?= $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ:%=build/fuzz/fuzz_%)
FUZZ_LIB  := build/fuzz/libpmbot.a
FUZZ_SECONDS ?= 60

ifeq ($(V),1)
Q :=
else
Q := @
endif

.PHONY: all deps run test fuzz bench valgrind install uninstall clean
# keep test objects: no "rm" after the closing line of `make test`
.SECONDARY:

all: build/pmbot

deps:
	@missing=""; for p in $(DEB_PKGS); do \
	    dpkg-query -W -f='$${db:Status-Abbrev}' $$p 2>/dev/null | \
	        grep -q '^ii' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "deps: installing$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	        apt-get install -y -qq --no-install-recommends $$missing \
	        >/dev/null || { echo "deps: apt-get failed (run as root)"; \
	        exit 1; }; \
	fi

build/rel/%.o: %.c | deps
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(BASE) $(RELEASE) $(PKG_CFLAGS) -c $< -o $@

build/asan/%.o: %.c | deps
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC asan $<")
	$(Q)$(CC) $(BASE) $(SANITIZE) $(PKG_CFLAGS) -c $< -o $@

build/pmbot: $(REL_OBJS) build/rel/bot/main.o
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(RELEASE) $^ $(PKG_LIBS) -o $@

build/asan/pmbot: $(ASAN_OBJS) build/asan/bot/main.o
	@$(if $(Q),echo "  LD asan $@")
	$(Q)$(CC) $(SANITIZE) $^ $(PKG_LIBS) -o $@

build/asan/tests/%: build/asan/tests/%.o $(TEST_SUPPORT) $(ASAN_OBJS)
	@$(if $(Q),echo "  LD asan $@")
	$(Q)$(CC) $(SANITIZE) $^ $(PKG_LIBS) $(TEST_LIBS) -o $@

# test_slack_ops starts the loopback Slack (not linked in: order only)
build/asan/tests/test_slack_ops: | build/asan/fake_slack

# library objects for the fuzz targets: instrumented, without libFuzzer's main
build/fuzz/%.o: %.c | deps
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC fuzz $<")
	$(Q)$(FUZZ_CC) $(BASE) $(FUZZ_SAN) -fsanitize=fuzzer-no-link \
	    -Itests $(PKG_CFLAGS) -c $< -o $@

$(FUZZ_LIB): $(SRCS:%.c=build/fuzz/%.o) build/fuzz/tests/fake_platform.o
	@$(if $(Q),echo "  AR fuzz $@")
	$(Q)rm -f $@ && ar rcs $@ $^

build/fuzz/fuzz_%: build/fuzz/tests/fuzz/fuzz_%.o $(FUZZ_LIB)
	@$(if $(Q),echo "  LD fuzz $@")
	$(Q)$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer $^ $(PKG_LIBS) -o $@

# the loopback Slack the integration tests and the benchmark talk to
build/asan/fake_slack: tests/fake_slack.c | deps
	@$(if $(Q),echo "  CC asan $@")
	$(Q)$(CC) $(BASE) $(SANITIZE) $(PKG_CFLAGS) $< $(PKG_LIBS) -o $@

build/fake_slack: tests/fake_slack.c | deps
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(BASE) $(RELEASE) $(PKG_CFLAGS) $< $(PKG_LIBS) -o $@

run: build/pmbot
	./build/pmbot shell -c config.example

# Every test, under AddressSanitizer and UBSan, then each fuzz target's
# regression inputs and 3 s of fuzzing; the last line counts them.
test: $(TESTS:%=build/asan/tests/%) build/asan/pmbot build/asan/fake_slack \
      $(FUZZ_BINS)
	@FUZZ="$(FUZZ)" sh tests/run.sh build/asan $(TESTS)

# FUZZ_SECONDS per target (FUZZ=name... picks targets), one after the
# other; what they find stays in build/fuzz/corpus and build/fuzz/findings
fuzz: $(FUZZ_BINS)
	@sh tests/fuzz/run.sh build/fuzz $(FUZZ_SECONDS) keep $(FUZZ)

# figures, printed and never asserted
bench: build/pmbot build/fake_slack
	@sh tests/bench_slack.sh build
	@sh tests/bench_webhook.sh build
	@sh tests/bench_remind.sh build
	@sh tests/bench_matrix.sh build

valgrind: build/pmbot
	@sh tests/e2e_shell.sh build/pmbot valgrind
	@sh tests/e2e_review.sh build/pmbot valgrind

install: build/pmbot
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/doc/pmbot
	install -m 755 build/pmbot $(DESTDIR)$(PREFIX)/bin/pmbot
	install -m 644 config.example README.md \
	    $(DESTDIR)$(PREFIX)/share/doc/pmbot/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/pmbot
	rm -rf $(DESTDIR)$(PREFIX)/share/doc/pmbot

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
