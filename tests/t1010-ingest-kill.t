#!/bin/sh
# Killed at any moment, ingest loses nothing and stores nothing twice: runs
# killed with SIGKILL at varied moments, then one to the end, leave the
# same calls and cases as a single clean run.  Where each kill lands does
# not matter to the outcome, only to how much work is redone.
. "$(dirname "$0")/lib.sh"

MCR_NOW=2026-01-01T00:00:00Z
export MCR_NOW

# the store's content, independent of ids and of when it was written
digest() {
	sqlite3 -batch "$1" "select gkey, direction, coalesce(caller, '-'),
	    started_at, coalesce(answered_at, '-'), coalesce(outcome, '-'),
	    missed, length(legs) from calls order by gkey;
	    select coalesce(caller, '-'), state, coalesce(reason, '-'), calls,
	    opened_at, last_call_at from cases order by caller, opened_at, state;"
}

test_expect_success 'a clean run of 40,000 rows' '
	"$TEST_ROOT/scripts/gen-cdr" -s 5 -n 40000 -c 21 >cdr.csv &&
	touch -d "2026-01-01 00:00" cdr.csv &&
	mcr-ingest -d ref.db cdr.csv >/dev/null &&
	digest ref.db >want &&
	test "$(sqlite3 ref.db "select count(*) from calls")" -gt 25000
'

# Where the file grows by about 2,000 rows, never between two rows of one
# call: a run that reaches the end of the file decides the calls it holds,
# and a row arriving later would then correct its call (as it should), which
# a single clean run never sees.  cuts prints the 20 last lines of chunks.
cuts() {
	sed 's/.*,"\([^"]*\)",[0-9]*$/\1/' cdr.csv >keys &&
	awk -v n=2000 'NR == FNR { last[$0] = FNR; next }
	    FNR == 1 { want = n }
	    { if (last[$0] > reach) reach = last[$0] }
	    reach == FNR && FNR >= want { print FNR; want = FNR + n }
	    ' keys keys | head -n 19 &&
	wc -l <keys
}

# The file grows by 2,000 rows before each run, so every run has work to
# be killed in; kills land 5 to 200 ms in: before, during or after the
# run's commit, depending on the machine.
test_expect_success '20 runs killed at varied moments, then one to the end' '
	: >grow.csv &&
	cuts >cuts &&
	i=0 && from=1 &&
	while [ $i -lt 20 ]; do
		to=$(sed -n "$((i + 1))p" cuts) &&
		sed -n "${from},${to}p" cdr.csv >>grow.csv &&
		from=$((to + 1)) &&
		touch -d "2026-01-01 00:00" grow.csv || return 1
		mcr-ingest -d kill.db grow.csv >/dev/null 2>>err &
		pid=$! &&
		ms=$(( ((i * 37) % 40 + 1) * 5 )) &&
		sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))" &&
		if kill -KILL $pid 2>/dev/null; then echo >>killed; fi
		wait $pid 2>/dev/null
		i=$((i + 1))
	done &&
	cmp -s grow.csv cdr.csv &&
	mcr-ingest -d kill.db grow.csv >/dev/null &&
	sqlite3 kill.db "update sources set name = \"cdr.csv\"" &&
	digest kill.db >got &&
	test_cmp want got &&
	sqlite3 kill.db "PRAGMA integrity_check" >ic && test "$(cat ic)" = ok
'
say "# $(wc -l <killed 2>/dev/null || echo 0) of 20 runs were killed before they ended"

# A backfill of over 16 MiB holds its checkpoints to the end: killed in the
# middle, the next run must still find everything committed, once.
test_expect_success 'backfills killed mid-way, then finished, store it all once' '
	"$TEST_ROOT/scripts/gen-cdr" -s 6 -n 62000 -c 21 >large.csv &&
	touch -d "2026-01-01 00:00" large.csv &&
	mcr-ingest -d lref.db large.csv >/dev/null &&
	digest lref.db >lwant &&
	for ms in 150 400 800; do
		mcr-ingest -d lkill.db large.csv >/dev/null 2>>lerr &
		pid=$! &&
		sleep "0.$ms" &&
		kill -KILL $pid 2>/dev/null
		wait $pid 2>/dev/null || :	# 137 when the kill landed
	done &&
	mcr-ingest -d lkill.db large.csv >/dev/null &&
	sqlite3 lkill.db "update sources set name = \"large.csv\"" &&
	digest lkill.db >lgot &&
	test_cmp lwant lgot &&
	test "$(sqlite3 lkill.db "PRAGMA integrity_check")" = ok
'
test_done
