#!/bin/sh
# -f follows a growing file, notices rotation, and stops cleanly on TERM.
# The waits below poll for a result with a generous limit; nothing relies
# on how fast the machine is.
. "$(dirname "$0")/lib.sh"

A=$TESTDATA/asterisk-21.csv
MCR_NOW=2026-01-05T20:00:00Z
export MCR_NOW

# wait_for CMD: poll up to 20 s for CMD to succeed
wait_for() {
	i=0
	while ! eval "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 200 ] && return 1
		sleep 0.1
	done
}

# follow FILE OUT ERR: mcr-ingest -f in the background; its pid in pid,
# its exit status in rc when it ends
follow() {
	rm -f pid rc
	sh -c 'mcr-ingest -f "$1" >"$2" 2>"$3" & echo $! >pid; wait $!; echo $? >rc' \
	    sh "$1" "$2" "$3" &
	wait_for "test -s pid"
}

test_expect_success 'rows appended to a followed file come out' '
	printf "[ingest]\nsettle_ms = 0\n" >"$MCR_CONFIG" &&
	head -n 1 "$A" >Master.csv &&
	follow Master.csv out err &&
	wait_for "test \"\$(sql \"select count(*) from calls\")\" = 1" &&
	sed -n 2,3p "$A" >>Master.csv &&
	wait_for "grep -q +447400123002 out" &&
	sed -n 4,5p "$A" >>Master.csv &&
	wait_for "grep -q +447400123003 out" &&
	test "$(wc -l <out)" = 2
'

test_expect_success 'a rotated file is finished, then the new one followed' '
	mv Master.csv Master.csv.1 &&
	sed -n 6p "$A" >>Master.csv.1 &&
	sed -n 7p "$A" >Master.csv &&
	wait_for "grep -q +447400123005 out" &&
	wait_for "grep -q +447400123004 out"
'

test_expect_success 'TERM stops it with exit 0 and the position saved' '
	kill -TERM "$(cat pid)" &&
	wait_for "test -s rc" && test "$(cat rc)" = 0 &&
	test "$(sql "select line from files where path = \"Master.csv\"")" = 1 &&
	test ! -s err
'

test_expect_success 'a partial line waits for its end' '
	rm -f "$MCR_DB" &&
	head -n 1 "$A" >F.csv &&
	sed -n 8p "$A" | head -c 100 >>F.csv &&
	follow F.csv fout ferr &&
	wait_for "test \"\$(sql \"select count(*) from calls\")\" = 1" &&
	sed -n 8p "$A" | tail -c +101 >>F.csv &&
	wait_for "grep -q +447400123006 fout" &&
	kill -TERM "$(cat pid)" && wait_for "test -s rc" &&
	test "$(cat rc)" = 0 &&
	test ! -s ferr
'
test_expect_success 'an empty followed file: the format is told by its first row' '
	rm -f "$MCR_DB" &&
	: >E.csv &&
	follow E.csv eout eerr &&
	sed -n 2p "$A" >>E.csv &&
	wait_for "grep -q +447400123002 eout" &&
	kill -TERM "$(cat pid)" && wait_for "test -s rc" &&
	test "$(cat rc)" = 0 && test ! -s eerr
'
test_expect_code 2 '-f needs exactly one file' 'mcr-ingest -f a b'
test_done
