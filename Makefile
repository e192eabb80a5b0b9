# mcr: missed calls into booked appointments.

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man
SHAREDIR ?= $(PREFIX)/share/mcr
SYSCONFDIR ?= /etc/mcr
CC	?= cc
CXX	?= c++
CFLAGS	?= -O2 -g
CXXFLAGS ?= -O2 -g
WARN	 = -Wall -Wextra
ifeq ($(WERROR),1)
WARN	+= -Werror
endif
ifeq ($(SANITIZE),1)
SAN	 = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
endif
PKGS	 = sqlite3 jansson inih libcurl libmicrohttpd
PKGCFLAGS != pkg-config --cflags $(PKGS) 2>/dev/null || true
PKGLIBS	!= pkg-config --libs $(PKGS) 2>/dev/null || echo -lsqlite3 -ljansson -linih
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(SAN) -Ilib $(PKGCFLAGS) $(CFLAGS)
ALL_CXXFLAGS = -std=c++17 $(WARN) $(SAN) -Ilib $(CXXFLAGS)
LIBS	 = $(PKGLIBS) -lcsv -lphonenumber -lcrypto -lstdc++ -lm -lpthread

# Rebuild everything when the flags change (a SANITIZE=1 run after a plain one).
FLAGS_NOW := $(ALL_CFLAGS) | $(ALL_CXXFLAGS) | $(LDFLAGS)
FLAGS_OLD := $(shell cat .flags 2>/dev/null)
ifneq ($(FLAGS_NOW),$(FLAGS_OLD))
$(shell printf '%s\n' '$(FLAGS_NOW)' >.flags)
endif

PROGS	 = mcr-ingest mcr-send mcr-reply mcr-followup mcr-report mcr-admin
LIBOBJ	 = lib/util.o lib/clock.o lib/hours.o lib/config.o lib/phone.o \
	   lib/phonenumber.o lib/store.o lib/json.o lib/cdr.o lib/csvmap.o \
	   lib/ingest.o lib/cdrq.o lib/csv.o lib/template.o lib/provider.o \
	   lib/send.o lib/parse.o lib/webhook.o lib/notify.o lib/reply.o \
	   lib/listen.o lib/followup.o lib/report.o lib/reportfmt.o
HDRS	 = lib/mcr.h lib/json.h lib/cdrint.h lib/storeint.h lib/parse.h lib/webhook.h
REPLAY	 = tests/fuzz-cdr tests/fuzz-webhook tests/fuzz-reply tests/fuzz-config \
	   tests/fuzz-record tests/fuzz-conv
UNITS	 = tests/unit-lib tests/unit-parse tests/mock-api tests/webhook-load \
	   tests/flood $(REPLAY)

all: deps $(PROGS)

# Say what to run when a library is missing, instead of a compiler error.
deps:
	@scripts/install-deps -c

lib/libmcr.a: $(LIBOBJ)
	rm -f $@
	ar rcs $@ $(LIBOBJ)

lib/phonenumber.o: lib/phonenumber.cc lib/mcr.h
	$(CXX) $(ALL_CXXFLAGS) -c -o $@ lib/phonenumber.cc

.c.o:
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBOBJ): $(HDRS) .flags
cmd/mcr-ingest.o cmd/mcr-send.o cmd/mcr-reply.o cmd/mcr-followup.o \
    cmd/mcr-report.o cmd/mcr-admin.o: $(HDRS) .flags

mcr-ingest: cmd/mcr-ingest.o lib/libmcr.a
	$(CXX) $(SAN) $(LDFLAGS) -o $@ cmd/mcr-ingest.o lib/libmcr.a $(LIBS)

mcr-send: cmd/mcr-send.o lib/libmcr.a
	$(CXX) $(SAN) $(LDFLAGS) -o $@ cmd/mcr-send.o lib/libmcr.a $(LIBS)

mcr-reply: cmd/mcr-reply.o lib/libmcr.a
	$(CXX) $(SAN) $(LDFLAGS) -o $@ cmd/mcr-reply.o lib/libmcr.a $(LIBS)

mcr-followup: cmd/mcr-followup.o lib/libmcr.a
	$(CXX) $(SAN) $(LDFLAGS) -o $@ cmd/mcr-followup.o lib/libmcr.a $(LIBS)

mcr-report: cmd/mcr-report.o lib/libmcr.a
	$(CXX) $(SAN) $(LDFLAGS) -o $@ cmd/mcr-report.o lib/libmcr.a $(LIBS)

mcr-admin: cmd/mcr-admin.o lib/libmcr.a
	$(CXX) $(SAN) $(LDFLAGS) -o $@ cmd/mcr-admin.o lib/libmcr.a $(LIBS)

tests/unit-lib: tests/unit-lib.o lib/libmcr.a
	$(CXX) $(SAN) $(LDFLAGS) -o $@ tests/unit-lib.o lib/libmcr.a $(LIBS)
tests/unit-lib.o: $(HDRS) tests/tap.h .flags

tests/unit-parse: tests/unit-parse.o lib/libmcr.a
	$(CXX) $(SAN) $(LDFLAGS) -o $@ tests/unit-parse.o lib/libmcr.a $(LIBS)
tests/unit-parse.o: $(HDRS) tests/tap.h .flags

# The provider APIs on loopback, for the tests (see tests/mock-api.c).
tests/mock-api: tests/mock-api.o
	$(CC) $(SAN) $(LDFLAGS) -o $@ tests/mock-api.o $(PKGLIBS) -lpthread
tests/mock-api.o: .flags

# The fuzz targets over saved inputs, without libFuzzer (fuzz/replay.c).
$(REPLAY): fuzz/replay.o lib/libmcr.a
	$(CC) $(ALL_CFLAGS) -c -o $@.o fuzz/$(@F).c
	$(CXX) $(SAN) $(LDFLAGS) -o $@ $@.o fuzz/replay.o lib/libmcr.a $(LIBS)
fuzz/replay.o: .flags
$(REPLAY): fuzz/fuzz-cdr.c fuzz/fuzz-webhook.c fuzz/fuzz-reply.c \
    fuzz/fuzz-config.c fuzz/fuzz-record.c fuzz/fuzz-conv.c $(HDRS)

# A stranger's load on the listener, for the tests.
tests/flood: tests/flood.o
	$(CC) $(SAN) $(LDFLAGS) -o $@ tests/flood.o -lpthread
tests/flood.o: .flags

# Signed webhooks at a rate, for make bench and the tests.
tests/webhook-load: tests/webhook-load.o
	$(CC) $(SAN) $(LDFLAGS) -o $@ tests/webhook-load.o $(PKGLIBS) -lcrypto
tests/webhook-load.o: .flags

check: all $(UNITS)
	prove -j2 tests/

bench: all tests/mock-api tests/webhook-load
	scripts/bench
	scripts/bench-send
	scripts/bench-reply
	scripts/bench-report

demo: all
	scripts/demo-week

# libFuzzer targets of every parser, with clang (FUZZ_SECONDS each)
fuzz: deps
	scripts/fuzz

# The example config goes to SHAREDIR always, and to SYSCONFDIR/mcr.conf
# only when there is none: a practice's own is never overwritten.
install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SHAREDIR)/systemd \
	    $(DESTDIR)$(SYSCONFDIR)
	cp $(PROGS) $(DESTDIR)$(BINDIR)/
	cp man/*.1 $(DESTDIR)$(MANDIR)/man1/
	cp man/*.5 $(DESTDIR)$(MANDIR)/man5/
	cp man/*.7 $(DESTDIR)$(MANDIR)/man7/
	cp man/*.8 $(DESTDIR)$(MANDIR)/man8/
	cp etc/mcr.conf.example scripts/crontab.example scripts/nginx-mcr.conf \
	    scripts/run-practices $(DESTDIR)$(SHAREDIR)/
	cp scripts/systemd/* $(DESTDIR)$(SHAREDIR)/systemd/
	test -e $(DESTDIR)$(SYSCONFDIR)/mcr.conf || \
	    cp etc/mcr.conf.example $(DESTDIR)$(SYSCONFDIR)/mcr.conf

uninstall:
	for p in $(PROGS); do rm -f $(DESTDIR)$(BINDIR)/$$p; done
	rm -rf $(DESTDIR)$(SHAREDIR)
	for m in man/*.[1578]; do \
	    s=$${m##*.}; rm -f $(DESTDIR)$(MANDIR)/man$$s/$${m#man/}; done

lint:
	mandoc -Tlint -Wwarning man/*.[1578]

clean:
	rm -f $(PROGS) $(UNITS) lib/*.o lib/libmcr.a cmd/*.o tests/*.o \
	    fuzz/*.o .flags

.PHONY: all deps check bench demo fuzz install uninstall lint clean
