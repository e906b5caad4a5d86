# sidecar: keep a remote machine's checkout equal to the local working tree.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
BASHDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHDIR ?= $(PREFIX)/share/zsh/site-functions
FISHDIR ?= $(PREFIX)/share/fish/vendor_completions.d

CC ?= cc
CFLAGS ?= -O2 -g
STRICT = -Wall -Wextra -Wpedantic -Wmissing-prototypes -Wstrict-prototypes \
	 -Wvla -Wwrite-strings -Wshadow -Werror
# POSIX.1-2008 and nothing else, so BSD and macOS builds stay possible.
BASEFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L
ALLFLAGS = $(BASEFLAGS) $(CPPFLAGS) $(CFLAGS) $(EXTRA_CFLAGS)

VERSION = 0.1.0

GEN = src/remote_sh.c src/completions_gen.c
SRC = $(filter-out src/main.c $(GEN), $(wildcard src/*.c)) $(GEN)
OBJ = $(SRC:.c=.o)
HDR = $(wildcard src/*.h)
UNIT = $(patsubst tests/unit/%.c, tests/unit/%, $(wildcard tests/unit/test_*.c))
HELPERS = tests/helpers/listener tests/helpers/jsonget tests/helpers/linksim tests/helpers/netprobe tests/helpers/genrepo

all: sidecar

sidecar: src/main.o $(OBJ)
	$(CC) $(ALLFLAGS) $(LDFLAGS) -o $@ src/main.o $(OBJ)

src/%.o: src/%.c $(HDR) Makefile
	$(CC) $(ALLFLAGS) -DSIDECAR_VERSION='"$(VERSION)"' -c -o $@ $<

# The remote script and the completion scripts travel as C strings. The
# script travels without its comment lines (build/remote.sh): a third of
# its bytes, in the binary and on the first session to a sidecar.
build/remote.sh: src/remote.sh
	mkdir -p build && sed '/^[[:space:]]*#/d' src/remote.sh > $@.tmp && mv $@.tmp $@

src/remote_sh.c: build/remote.sh src/embed.sh Makefile
	sum=$$(cksum < build/remote.sh) && set -- $$sum && \
	{ sh src/embed.sh remote_sh build/remote.sh && \
	  printf 'extern const char remote_sh_sum[], remote_sh_id[];\n' && \
	  printf 'const char remote_sh_sum[] = "%s %s";\n' "$$1" "$$2" && \
	  printf 'const char remote_sh_id[] = "%s-%s";\n' "$$1" "$$2"; } > $@.tmp && mv $@.tmp $@

src/completions_gen.c: completions/sidecar.bash completions/_sidecar completions/sidecar.fish src/embed.sh
	sh src/embed.sh completion_bash completions/sidecar.bash \
		completion_zsh completions/_sidecar \
		completion_fish completions/sidecar.fish > $@.tmp && mv $@.tmp $@

tests/unit/%: tests/unit/%.c tests/unit/unit.h $(OBJ)
	$(CC) $(ALLFLAGS) -Isrc -o $@ $< $(OBJ)

# test_protocol reads the protocol block in the script's comments.
tests/unit/remote_source.c: src/remote.sh src/embed.sh
	sh src/embed.sh remote_sh_source src/remote.sh > $@.tmp && mv $@.tmp $@

tests/unit/test_protocol: tests/unit/test_protocol.c tests/unit/remote_source.c tests/unit/unit.h $(OBJ)
	$(CC) $(ALLFLAGS) -Isrc -o $@ tests/unit/test_protocol.c tests/unit/remote_source.c $(OBJ)

tests/helpers/%: tests/helpers/%.c
	$(CC) $(ALLFLAGS) -o $@ $<

# sidecar as it watches where there is no inotify: it looks every --interval.
build/watch-poll.o: src/watch.c $(HDR) Makefile
	mkdir -p build && $(CC) $(ALLFLAGS) -DSIDECAR_WATCH_POLL -c -o $@ src/watch.c

tests/helpers/sidecar-poll: src/main.o $(filter-out src/watch.o, $(OBJ)) build/watch-poll.o
	$(CC) $(ALLFLAGS) $(LDFLAGS) -o $@ $^

build-tests: sidecar $(UNIT) $(HELPERS) tests/helpers/sidecar-poll

# Compiles side by side in the test targets.
NPROC = $$(nproc 2>/dev/null || echo 2)

# The unit tests and the suites that need no sshd of their own for most
# tests (the command line, JSON, the loopback listeners), each suite's tests
# one after another: under a minute.
QUICK_SUITES = tests/cli.bats tests/jsonget.bats tests/peers.bats

# Everything: this build strict, the clang and static musl builds
# (tests/builds.sh), then every suite, side by side.
check:
	$(MAKE) clean-objects
	$(MAKE) -j$(NPROC) build-tests EXTRA_CFLAGS="$(STRICT)"
	STRICT="$(STRICT)" ./tests/builds.sh
	./tests/run

check-quick:
	$(MAKE) clean-objects
	$(MAKE) -j$(NPROC) build-tests EXTRA_CFLAGS="$(STRICT)"
	SIDECAR_SUITE_JOBS=1 ./tests/run $(QUICK_SUITES)

check-builds: build-tests
	STRICT="$(STRICT)" ./tests/builds.sh

# Older real peers: a Debian bullseye root (OpenSSH 8.4, git 2.30), built
# with debootstrap once and cached; skipped, not failed, without a mirror.
check-peers:
	$(MAKE) build-tests EXTRA_CFLAGS="$(STRICT)"
	./tests/peers/run peers

# The sync, exec, run, pull and submodule suites with each common shell as login
# shell and remote sh.
check-shells:
	$(MAKE) build-tests EXTRA_CFLAGS="$(STRICT)"
	./tests/peers/run shells

# Sanitizers: the same tests against an ASan+UBSan build.
asan:
	$(MAKE) clean-objects
	$(MAKE) build-tests CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer" \
		EXTRA_CFLAGS="$(STRICT)" LDFLAGS="-fsanitize=address,undefined"
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		./tests/run
	$(MAKE) clean-objects

valgrind:
	$(MAKE) clean-objects
	$(MAKE) build-tests CFLAGS="-O0 -g" EXTRA_CFLAGS="$(STRICT)"
	SIDECAR_VALGRIND=1 ./tests/run

demo: sidecar
	./tests/demo.sh

bench: sidecar tests/helpers/linksim tests/helpers/genrepo
	./tests/bench.sh

install: sidecar
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(BASHDIR) $(DESTDIR)$(ZSHDIR) $(DESTDIR)$(FISHDIR)
	cp sidecar $(DESTDIR)$(BINDIR)/sidecar
	chmod 755 $(DESTDIR)$(BINDIR)/sidecar
	ln -sf sidecar $(DESTDIR)$(BINDIR)/git-sidecar
	cp man/sidecar.1 $(DESTDIR)$(MANDIR)/man1/sidecar.1
	cp completions/sidecar.bash $(DESTDIR)$(BASHDIR)/sidecar
	ln -sf sidecar $(DESTDIR)$(BASHDIR)/git-sidecar
	cp completions/_sidecar $(DESTDIR)$(ZSHDIR)/_sidecar
	cp completions/sidecar.fish $(DESTDIR)$(FISHDIR)/sidecar.fish

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/sidecar $(DESTDIR)$(BINDIR)/git-sidecar \
		$(DESTDIR)$(MANDIR)/man1/sidecar.1 $(DESTDIR)$(BASHDIR)/sidecar \
		$(DESTDIR)$(BASHDIR)/git-sidecar \
		$(DESTDIR)$(ZSHDIR)/_sidecar $(DESTDIR)$(FISHDIR)/sidecar.fish

clean-objects:
	rm -f src/*.o sidecar $(UNIT) $(HELPERS) tests/unit/remote_source.c \
		build/watch-poll.o tests/helpers/sidecar-poll

clean: clean-objects
	rm -f $(GEN) src/*.tmp
	rm -rf build

.PHONY: all check check-quick check-builds check-peers check-shells asan valgrind demo bench install uninstall clean clean-objects build-tests
