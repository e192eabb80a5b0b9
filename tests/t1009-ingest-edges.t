#!/bin/sh
# Edge cases: resumed files with a bad first row, headers after blank
# lines, legs of one call far apart in time or split over runs, long
# numbers, out-of-range times.
. "$(dirname "$0")/lib.sh"

A=$TESTDATA/asterisk-21.csv
MCR_NOW=2026-01-06T12:00:00Z
export MCR_NOW

old() {
	touch -d "2026-01-01 00:00" "$@"
}

test_expect_success 'a bad first row of a resumed file is a bad row, not a wrong file' '
	head -n 3 "$A" >m.csv && old m.csv &&
	mcr-ingest m.csv >o &&
	sed -n 4p "$A" | sed "s/,20,0,\"NO ANSWER\"/,abc,0,\"NO ANSWER\"/" >>m.csv &&
	sed -n 5,6p "$A" >>m.csv && old m.csv &&
	mcr-ingest m.csv >o 2>err; test $? = 1 &&
	grep -q "m.csv:4: bad duration or billsec" err &&
	test "$(sql "select count(*) from calls")" = 4 &&
	mcr-ingest m.csv >o 2>err && test ! -s err
'

test_expect_success 'a headed export with blank lines first keeps its header' '
	rm -f "$MCR_DB" &&
	{ echo; head -n 3 "$TESTDATA/freepbx.csv"; } >f.csv && old f.csv &&
	mcr-ingest -F freepbx f.csv >o &&
	tail -n +4 "$TESTDATA/freepbx.csv" >>f.csv && old f.csv &&
	mcr-ingest -F freepbx f.csv >o2 &&
	test "$(sql "select count(*) from calls")" = 5
'

# A call stored on Monday gets a leg in a later run starting 25 hours
# after it, past the look-up window: it must be merged, not duplicated,
# and ingest must go on.
test_expect_success 'a leg far from its call is merged, and ingest goes on' '
	rm -f "$MCR_DB" &&
	sed -n 2p "$A" >far.csv && old far.csv &&
	mcr-ingest far.csv >o &&
	sed -n 3p "$A" | sed "s/2026-01-05 09:10:/2026-01-06 10:10:/g" >>far.csv &&
	sed -n 16p "$A" | sed "s/2026-01-05/2026-01-06/g; s/1767639600/1767726000/g" >>far.csv &&
	old far.csv &&
	mcr-ingest far.csv >o2 2>err && test ! -s err &&
	test "$(sql "select count(*) from calls")" = 2 &&
	test "$(sql "select length(legs) / 8 from calls where gkey = \"ast:1767604200.3\"")" = 2
'

# freeswitch.csv: a3 and its voicemail leg vm3 (joined by bleg_uuid) read
# in two runs are still one call.
test_expect_success 'legs joined by bleg_uuid over two runs stay one call' '
	rm -f "$MCR_DB" &&
	head -n 4 "$TESTDATA/freeswitch.csv" >fs.csv && old fs.csv &&
	mcr-ingest fs.csv >o1 &&
	tail -n +5 "$TESTDATA/freeswitch.csv" >>fs.csv && old fs.csv &&
	mcr-ingest fs.csv >o2 &&
	test "$(sql "select count(*) from calls")" = 6 &&
	test "$(sql "select outcome from calls where gkey = \"fs:a3\"")" = voicemail &&
	test "$(sql "select calls from cases where caller = \"+447400123203\"")" = 1
'

test_expect_success 'numbers of 16 digits keep every digit' '
	rm -f "$MCR_DB" &&
	for i in 1 2; do
		printf "{\"id\":\"L%s\",\"direction\":\"in\",\"caller\":\"+4930123456789012\",\"started_at\":\"2026-01-05T10:0%s:00Z\",\"ended_at\":\"2026-01-05T10:0%s:30Z\",\"outcome\":\"no_answer\"}\n" $i $i $i
	done >long.jsonl &&
	mcr-ingest -F jsonl long.jsonl >o &&
	test "$(sql "select count(distinct caller) from calls")" = 1 &&
	test "$(sql "select count(*) from cases")" = 1
'

test_expect_success 'a time in milliseconds is a bad row' '
	rm -f "$MCR_DB" &&
	printf "{\"id\":\"x3\",\"direction\":\"in\",\"caller\":\"+447400123456\",\"started_at\":1767600000000,\"outcome\":\"no_answer\"}\n" >ms.jsonl &&
	mcr-ingest -F jsonl ms.jsonl >o 2>err; test $? = 1 &&
	grep -q "ms.jsonl:1: started_at: 1767600000000 is not seconds since 1970" err &&
	test ! -s o
'

test_expect_success '"Name <anonymous>" is withheld' '
	rm -f "$MCR_DB" &&
	sed -n 10p "$A" | sed "s/\"anonymous\",\"200\"/\"Bob <anonymous>\",\"200\"/" >w.csv &&
	mcr-ingest w.csv >o &&
	grep -q "\"caller_type\":\"withheld\"" o
'
test_done
