#!/bin/sh
# Incremental and idempotent reading: positions, re-reads, rotation,
# truncation, legs of one call split over runs, partial lines, dry runs.
. "$(dirname "$0")/lib.sh"

A=$TESTDATA/asterisk-21.csv
MCR_NOW=2026-01-05T20:00:00Z
export MCR_NOW

count() {
	sql "select count(*) from calls"
}

test_expect_success 'a first run reads the first ten rows' '
	head -n 10 "$A" >Master.csv &&
	touch -d "2026-01-01 00:00" Master.csv &&
	mcr-ingest Master.csv >out1 &&
	cp "$MCR_DB" before.db &&
	test "$(sql "select line from files")" = 10
'

test_expect_success 're-run on the unchanged file reads nothing' '
	mcr-ingest -v Master.csv >out2 2>err &&
	test ! -s out2 &&
	test "$(count)" = "$(sqlite3 before.db "select count(*) from calls")" &&
	grep -q "^mcr-ingest: 0 rows" err
'

test_expect_success 'appended rows are read from where the last run stopped' '
	tail -n +11 "$A" >>Master.csv &&
	touch -d "2026-01-01 00:00" Master.csv &&
	mcr-ingest -v Master.csv >out3 2>err &&
	grep -q "^mcr-ingest: 6 rows" err &&
	test "$(count)" = 14 &&
	cat out1 out3 >all &&
	test "$(wc -l <all)" = 9
'

test_expect_success 'the same rows under another name change nothing' '
	cp Master.csv Copy.csv &&
	sqlite3 "$MCR_DB" "select * from calls order by id" >c1 &&
	mcr-ingest -v Copy.csv >out4 2>err &&
	test ! -s out4 &&
	grep -q "(16 already stored)" err &&
	sqlite3 "$MCR_DB" "select * from calls order by id" >c2 &&
	test_cmp c1 c2
'

test_expect_success 'a truncated and rewritten file is read from the start' '
	head -n 1 "$A" >Master.csv &&
	touch -d "2026-01-01 00:00" Master.csv &&
	mcr-ingest -v Master.csv >out5 2>err &&
	grep -q "rewritten since the last run\|truncated since the last run" err &&
	grep -q "(1 already stored)" err &&
	test "$(sql "select line from files where path = \"Master.csv\"")" = 1
'

test_expect_success 'a rotated file (new inode) is read from the start' '
	mv Master.csv Master.csv.1 &&
	sed -n 2,3p "$A" >Master.csv &&
	touch -d "2026-01-01 00:00" Master.csv &&
	mcr-ingest -v Master.csv >out6 2>err &&
	grep -q "rotated since the last run" err &&
	test "$(sql "select line from files where path = \"Master.csv\"")" = 2
'

# The ring group of 09:10 was written as two rows.  A first run sees only
# the trunk row (no answer): missed, case opened.  The second row arrives
# in the next run and says the phone answered: the call is corrected to
# answered and its case resolved.
test_expect_success 'a missed call later found answered is corrected' '
	rm -f "$MCR_DB" &&
	sed -n 2p "$A" >ring.csv &&
	touch -d "2026-01-01 00:00" ring.csv &&
	mcr-ingest ring.csv >o1 &&
	test "$(wc -l <o1)" = 1 &&
	test "$(sql "select state from cases")" = new &&
	sed -n 3p "$A" | sed "s/\"NO ANSWER\"/\"ANSWERED\"/; s/,28,0,/,28,20,/;
	    s/,\"2026-01-05 09:10:29\",/,\"2026-01-05 09:10:09\",\"2026-01-05 09:10:29\",/;
	    s/\"2026-01-05 09:10:01\",,/\"2026-01-05 09:10:01\",/" >>ring.csv &&
	touch -d "2026-01-01 00:00" ring.csv &&
	mcr-ingest -v -a ring.csv >o2 2>err &&
	grep -q "1 no longer missed" err &&
	test "$(sql "select outcome || missed from calls")" = answered0 &&
	test "$(sql "select state || \": \" || reason from cases")" = "resolved_by_call: the call was found answered by a later row" &&
	grep -q "\"outcome\":\"answered\"" o2
'

test_expect_success 'a partial last line is left for the next run' '
	rm -f "$MCR_DB" &&
	head -n 1 "$A" >p.csv &&
	sed -n 2p "$A" | tr -d "\n" >>p.csv &&
	mcr-ingest p.csv >o &&
	test "$(sql "select line from files")" = 1 &&
	test "$(count)" = 1 &&
	echo >>p.csv &&
	mcr-ingest p.csv >o &&
	test "$(count)" = 2 &&
	test "$(sql "select line from files")" = 2
'

test_expect_success 'an old file without a final newline is read whole' '
	rm -f "$MCR_DB" &&
	head -n 2 "$A" | head -c -1 >q.csv &&
	touch -d "2026-01-01 00:00" q.csv &&
	mcr-ingest q.csv >o &&
	test "$(count)" = 2
'

test_expect_success 'stdin is read whole, no position kept' '
	rm -f "$MCR_DB" &&
	mcr-ingest -F asterisk <"$A" >o &&
	test "$(wc -l <o)" = 9 &&
	test "$(sql "select count(*) from files")" = 0
'

test_expect_success '-n prints the records and changes nothing' '
	rm -f "$MCR_DB" &&
	mcr-ingest -n "$A" >o &&
	test "$(wc -l <o)" = 9 &&
	test ! -e "$MCR_DB" &&
	mcr-ingest "$TESTDATA/freepbx.csv" >/dev/null &&
	sqlite3 "$MCR_DB" "select * from calls; select * from cases;
	    select * from files" >s1 &&
	mcr-ingest -n "$A" >o &&
	test "$(wc -l <o)" = 9 &&
	sqlite3 "$MCR_DB" "select * from calls; select * from cases;
	    select * from files" >s2 &&
	test_cmp s1 s2
'

test_expect_success 'a growing export with a header keeps its header' '
	rm -f "$MCR_DB" &&
	head -n 3 "$TESTDATA/freepbx.csv" >fp.csv &&
	touch -d "2026-01-01 00:00" fp.csv &&
	MCR_NOW=2026-01-06T12:00:00Z mcr-ingest fp.csv >o &&
	tail -n +4 "$TESTDATA/freepbx.csv" >>fp.csv &&
	touch -d "2026-01-01 00:00" fp.csv &&
	MCR_NOW=2026-01-06T12:00:00Z mcr-ingest fp.csv >o2 &&
	test "$(sql "select count(*) from calls")" = 5 &&
	cat o o2 >all && test "$(wc -l <all)" = 3
'

test_expect_success '-n on a store of an older schema leaves it as it was' '
	rm -f "$MCR_DB" &&
	mcr-admin init &&
	sqlite3 "$MCR_DB" "DROP TABLE patients; DROP TABLE messages; DROP TABLE inbox;
	    DROP TABLE seen; DROP TABLE transcript; DROP TABLE slots;
	    DROP TABLE bookings; DROP TABLE escalations;
	    ALTER TABLE cases DROP COLUMN last_in_at; DROP INDEX cases_user;
	    ALTER TABLE cases DROP COLUMN channel; ALTER TABLE cases DROP COLUMN misses;
	    ALTER TABLE cases DROP COLUMN user_id; DROP INDEX cases_opened;
	    DROP INDEX calls_case;
	    PRAGMA user_version = 1;
	    PRAGMA journal_mode = DELETE" >/dev/null &&
	cp "$MCR_DB" old.db &&
	mcr-ingest -n "$A" >o &&
	test "$(wc -l <o)" = 9 &&
	cmp "$MCR_DB" old.db &&
	mcr-admin -n optout add 07400123001 2>/dev/null &&
	cmp "$MCR_DB" old.db
'

test_expect_success 'a backfill in small commits keeps every call once' '
	rm -f "$MCR_DB" &&
	for i in 1 2 3; do cat "$A"; done >triple.csv &&
	mcr-ingest -v triple.csv >o 2>err &&
	test "$(count)" = 14 &&
	grep -q "(32 already stored)" err
'
test_done
