#!/bin/sh
# Bad input: positions in messages, good rows kept, wrong formats refused,
# configuration errors, a busy store, arbitrary bytes.
. "$(dirname "$0")/lib.sh"

A=$TESTDATA/asterisk-21.csv
MCR_NOW=2026-01-05T20:00:00Z
export MCR_NOW

test_expect_code 2 '-h prints the usage' 'mcr-ingest -h'
test_expect_success 'the usage names every option' '
	mcr-ingest -h 2>err; grep -q "usage: mcr-ingest \[-afhnv\] \[-c config\] \[-d store\] \[-F format\] \[file ...\]" err
'
test_expect_code 2 'an unknown format is a usage error' 'mcr-ingest -F avaya "$A"'
test_expect_success 'and the message names the choices' '
	mcr-ingest -F avaya "$A" 2>err; grep -q "expected one of asterisk, asterisk-queue, freepbx, freeswitch, 3cx, twilio, csv, jsonl" err
'

test_expect_success 'bad rows are reported with file:line, the rest kept' '
	{ sed -n 1,3p "$A"; sed -n 4p "$A" | sed "s/2026-01-05 09:20:00/2026-13-01 09:00:00/";
	  printf "\"short\",\"row\"\n"; sed -n 5,16p "$A"; } >bad.csv &&
	mcr-ingest bad.csv >out 2>err; test $? = 1 &&
	grep -q "^mcr-ingest: bad.csv:4: bad start time .2026-13-01 09:00:00.$" err &&
	grep -q "^mcr-ingest: bad.csv:5: not an asterisk Master.csv row: expected 16 to 21 fields, found 2$" err &&
	test "$(wc -l <err)" = 2 &&
	test "$(sql "select count(*) from calls")" = 14
'

test_expect_code 2 'a file of another format fails at once' '
	mcr-ingest -F asterisk "$TESTDATA/3cx.csv"
'
test_expect_success 'saying what was expected, storing nothing' '
	mcr-ingest -d x.db -F asterisk "$TESTDATA/3cx.csv" 2>err;
	grep -q "3cx.csv:1: not an asterisk Master.csv row: expected 16 to 21 fields, found 27" err &&
	grep -q "not asterisk input: nothing stored" err &&
	test "$(sqlite3 x.db "select count(*) from calls")" = 0
'
test_expect_code 2 'an undetectable file names the choices' '
	printf "hello,world\nfoo,bar\n" >what.csv && mcr-ingest what.csv
'
test_expect_code 1 'a missing file is an error, exit 1' 'mcr-ingest nosuch.csv'

test_expect_success 'config errors carry file:line and exit 2' '
	printf "[practice]\nname = X\ncolour = blue\n[ingest]\nshort_abandon = lots\n[nosuch]\n" >bad.conf &&
	mcr-ingest -c bad.conf "$A" >/dev/null 2>err; test $? = 2 &&
	grep -q "^mcr-ingest: bad.conf:3: unknown key .colour. in \[practice\]$" err &&
	grep -q "^mcr-ingest: bad.conf:5: short_abandon: bad value .lots.: number invalid" err &&
	grep -q "^mcr-ingest: bad.conf:6: unknown section \[nosuch\]$" err
'
test_expect_success 'a bad time zone and type are named' '
	printf "[practice]\ntimezone = Mars/Olympus\ntype = vet\n" >bad.conf &&
	mcr-ingest -c bad.conf "$A" >/dev/null 2>err; test $? = 2 &&
	grep -q "bad.conf:2: timezone: bad value" err &&
	grep -q "bad.conf:3: type: bad value .vet.: expected dental, gp, specialist or physio" err
'
test_expect_success 'a key before any section is an error' '
	printf "name = X\n[practice]\n" >bad.conf &&
	mcr-ingest -c bad.conf "$A" >/dev/null 2>err; test $? = 2 &&
	grep -q "^mcr-ingest: bad.conf:1: .name. is outside any \[section\]$" err
'
test_expect_code 2 'a missing -c file is an error' 'mcr-ingest -c nosuch.conf "$A"'

test_expect_success 'a store locked past the busy timeout exits 75' '
	rm -f "$MCR_DB" &&
	mcr-ingest "$TESTDATA/freepbx.csv" >/dev/null &&
	printf "[store]\nbusy_timeout = 200\n" >"$MCR_CONFIG" &&
	sqlite3 "$MCR_DB" "BEGIN IMMEDIATE" "INSERT INTO optouts VALUES (\"+1\", 0, \"t\")" \
	    ".system mcr-ingest $A >locked.out 2>locked.err; echo \$? >rc" \
	    "ROLLBACK" &&
	test "$(cat rc)" = 75 &&
	grep -q "store busy" locked.err &&
	: >"$MCR_CONFIG" &&
	mcr-ingest "$A" >after.out &&
	test "$(wc -l <after.out)" = 9
'

# Arbitrary bytes in every format: never a crash (a signal gives a status
# over 128), always a clear exit 0, 1 or 2.
test_expect_success 'arbitrary bytes never crash the readers' '
	awk "BEGIN { srand(7); for (i = 0; i < 60000; i++) {
	    c = int(rand() * 256); if (c == 0) c = 10;
	    printf \"%c\", c; if (rand() < 0.01) printf \"\\n\" } }" >noise &&
	for f in asterisk asterisk-queue freepbx freeswitch 3cx twilio jsonl; do
		rm -f "$MCR_DB";
		mcr-ingest -F $f noise >/dev/null 2>&1; rc=$?;
		test $rc -le 2 || { echo "$f: exit $rc"; return 1; }
		{ head -c 3000 "$A"; cat noise; } >mixed;
		mcr-ingest -F $f mixed >/dev/null 2>&1; rc=$?;
		test $rc -le 2 || { echo "$f mixed: exit $rc"; return 1; }
	done
'

test_expect_success 'mangled rows of a good file: the good ones kept' '
	rm -f "$MCR_DB" &&
	awk "NR % 3 == 0 { print substr(\$0, 1, length(\$0) / 2); next } { print }" "$A" >half.csv &&
	mcr-ingest half.csv >/dev/null 2>err; test $? = 1 &&
	test "$(wc -l <err)" = 5 &&
	test "$(sql "select count(*) from calls")" -ge 9
'

test_expect_success 'non-UTF-8 caller names are stored as UTF-8' '
	rm -f "$MCR_DB" &&
	sed -n 1p "$A" | sed "s/Alice Smith/Ren\\xe9e M\\xfcller/" >latin.csv &&
	mcr-ingest -a latin.csv >o &&
	test "$(sql "select caller_name from calls")" = "Renée Müller" &&
	grep -q "\"caller_name\":\"Renée Müller\"" o
'
test_done
