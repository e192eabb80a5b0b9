#!/bin/sh
# The store held by another process past the busy timeout: every program
# says so and exits 75, and a later run does the work; nothing is lost.
. "$(dirname "$0")/lib.sh"

MCR_NOW=2026-01-05T19:01:00Z
export MCR_NOW
cat >"$MCR_CONFIG" <<EOT
[store]
busy_timeout = 300
[outbox]
path = $TRASH/outbox.jsonl
EOT
mcr-admin init

# hold: another process writes to the store for a while (until the file
# go is removed), while the command runs
hold() {
	: >go
	rm -f locked
	printf '%s\n' "BEGIN IMMEDIATE;" \
	    "INSERT INTO sources (name) VALUES ('lock');" \
	    ".shell touch locked; while [ -e go ]; do sleep 0.05; done" \
	    "ROLLBACK;" | sqlite3 "$MCR_DB" >/dev/null &
	lock=$!
	i=0
	while [ ! -e locked ] && [ $i -lt 200 ]; do
		i=$((i + 1)); sleep 0.05
	done
	"$@"; s=$?
	rm -f go
	wait $lock
	return $s
}

test_expect_success 'mcr-ingest: exit 75 while the store is held, then all of it' '
	hold mcr-ingest "$TESTDATA/asterisk-21.csv" >out 2>err; test $? = 75 &&
	grep -q "store busy" err &&
	mcr-ingest "$TESTDATA/asterisk-21.csv" >out &&
	test "$(sql "select count(*) from calls")" -gt 0 &&
	test "$(sql "PRAGMA integrity_check")" = ok
'
test_expect_success 'mcr-send: exit 75, then the message goes once' '
	hold mcr-send -s >out 2>err; test $? = 75 &&
	test ! -e outbox.jsonl || test ! -s outbox.jsonl &&
	mcr-send -s >out &&
	test "$(grep -c "\"status\":\"sent\"" out)" = 1 &&
	mcr-send -s >out && test ! -s out
'
test_expect_success 'mcr-followup, mcr-report, mcr-admin: exit 75 too' '
	hold mcr-followup 2>err; test $? = 75 &&
	hold mcr-admin optout add 07400123009 2>err; test $? = 75 &&
	! mcr-admin optout list | grep -q 123009
'

test_done
