#!/bin/sh
# make install into a DESTDIR; the installed programs run with the example
# config; every installed page lints; a practice's config is kept.
. "$(dirname "$0")/lib.sh"

R=$TRASH/root
test_expect_success 'make install puts everything under DESTDIR' '
	make -C "$TEST_ROOT" -s install DESTDIR="$R" PREFIX=/usr >make.out 2>&1 &&
	for p in mcr-ingest mcr-send mcr-reply mcr-followup mcr-report mcr-admin; do
		test -x "$R/usr/bin/$p" || exit 1
	done &&
	test -s "$R/etc/mcr/mcr.conf" &&
	test -s "$R/usr/share/mcr/mcr.conf.example" &&
	test -s "$R/usr/share/mcr/systemd/mcr-reply.service" &&
	test -x "$R/usr/share/mcr/run-practices" &&
	test -s "$R/usr/share/man/man1/mcr-send.1" &&
	test -s "$R/usr/share/man/man8/mcr-admin.8"
'
test_expect_success 'every installed page is lint clean' '
	mandoc -Tlint -Wwarning "$R"/usr/share/man/man*/*.[1578] >lint 2>&1 &&
	test ! -s lint
'
test_expect_success 'the installed programs run the pipeline with the example config' '
	sed -e "s|/var/lib/mcr|$TRASH/var|" "$R/etc/mcr/mcr.conf" >mcr.conf &&
	mkdir -p "$TRASH/var" &&
	export MCR_CONFIG=$TRASH/mcr.conf && unset MCR_DB &&
	"$R/usr/bin/mcr-admin" init && "$R/usr/bin/mcr-admin" check &&
	MCR_NOW=2026-01-05T19:01:00Z "$R/usr/bin/mcr-ingest" "$TESTDATA/asterisk-21.csv" |
	MCR_NOW=2026-01-05T19:01:00Z "$R/usr/bin/mcr-send" >out &&
	grep -q "\"status\":\"sent\"" out &&
	grep -q "Thanks for calling Riverside Dental" "$TRASH/var/outbox.jsonl" &&
	MCR_NOW=2026-01-06T12:00:00Z "$R/usr/bin/mcr-report" -p yesterday -o json | grep -q "\"type\":\"report\""
'
test_expect_success 'installing again keeps the practice config' '
	echo "; ours" >>"$R/etc/mcr/mcr.conf" &&
	make -C "$TEST_ROOT" -s install DESTDIR="$R" PREFIX=/usr >/dev/null 2>&1 &&
	tail -n 1 "$R/etc/mcr/mcr.conf" | grep -q "^; ours$"
'
test_expect_success 'run-practices: two practices, a store each, in parallel' '
	mkdir -p practices &&
	for p in a b; do
		sed -e "s|/var/lib/mcr/mcr.db|$TRASH/$p.db|" \
		    -e "s|/var/lib/mcr/outbox.jsonl|$TRASH/$p.out|" \
		    "$R/etc/mcr/mcr.conf" >practices/$p.conf &&
		echo "; cdr = $TESTDATA/asterisk-21.csv" >>practices/$p.conf || exit 1
	done &&
	MCR_NOW=2026-01-05T19:01:00Z "$R/usr/share/mcr/run-practices" practices >/dev/null &&
	test "$(sqlite3 a.db "select count(*) from messages")" = 1 &&
	test "$(sqlite3 b.db "select count(*) from messages")" = 1 &&
	test -s a.out && test -s b.out
'

test_done
