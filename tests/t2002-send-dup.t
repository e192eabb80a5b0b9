#!/bin/sh
# No duplicates, nothing lost: overlapping runs over the same cases, and
# runs killed with SIGKILL at random moments, counted at the server.
. "$(dirname "$0")/lib.sh"

MCR_NOW=2026-01-05T10:05:00Z
MCR_META_TOKEN=tok
export MCR_NOW MCR_META_TOKEN
mock_start || exit 1

cat >"$MCR_CONFIG" <<EOT
[practice]
name = Riverside Dental
[store]
busy_timeout = 30000
[send]
burst_neighbours = 0
[whatsapp]
provider = meta
api_base = $MOCK_URL/v21.0
phone_number_id = 1234567890
rate = 1000
[template.recovery]
name = missed_call_recovery
EOT

# cases N: a fresh store with N missed calls from N mobiles, 10:00-10:04
cases() {
	rm -f "$MCR_DB"
	: >"$MOCK_LOG"
	i=0
	while [ $i -lt "$1" ]; do
		ast_missed 2026-01-05 10:0$((i % 5)):00 "+4479$(printf %08d $((i * 7919 + 1000)))"
		i=$((i + 1))
	done >c.csv
	mcr-ingest c.csv >/dev/null
}

# dups: the numbers that reached the server more than once
dups() {
	mock_req "value->>'to'" | sort | uniq -d
}

# random N: a number from 0 to N-1
random() {
	echo $(( $(od -An -N2 -tu2 /dev/urandom) % $1 ))
}

test_expect_success '20 overlapping runs over the same 200 cases: each sent once' '
	cases 200 &&
	test "$(sql "select count(*) from cases where state = \"new\"")" = 200 &&
	mock_mode slow:5 &&
	i=0; while [ $i -lt 20 ]; do
		{ mcr-send -s >run.$i.out 2>run.$i.err; echo $? >run.$i.rc; } &
		i=$((i + 1))
	done; wait &&
	cat run.*.rc | sort -u | tr "\n" " " >rcs &&
	test "$(cat rcs)" = "0 " &&
	test -z "$(dups)" &&
	test "$(wc -l <"$MOCK_LOG")" = 200 &&
	test "$(cat run.*.out | grep -c "\"status\":\"sent\"")" = 200 &&
	test "$(sql "select count(*) from cases where state = \"messaged\"")" = 200 &&
	test "$(sql "select count(*) from messages")" = 200
'
test_expect_success 'the runs shared the work' '
	test "$(for f in run.*.out; do test -s $f && echo $f; done | wc -l)" -gt 1
'

test_expect_success '50 runs killed at random moments: no caller twice, none lost' '
	cases 200 &&
	mock_mode slow:40 &&
	kills=0 k=0 &&
	while [ $k -lt 50 ]; do
		mcr-send -s >/dev/null 2>&1 &
		p=$!
		sleep 0.$(printf %02d $(random 40))
		kill -9 $p 2>/dev/null && kills=$((kills + 1))
		wait $p 2>/dev/null
		k=$((k + 1))
	done &&
	echo "$kills of 50 runs were killed mid-way" >stats &&
	mock_mode ok &&
	mcr-send -s >last.out 2>last.err; rc=$?
	test $rc = 0 || test $rc = 1 &&
	test -z "$(dups)" &&
	sent=$(sql "select count(*) from messages where status = \"sent\"") &&
	unc=$(sql "select count(*) from messages where status = \"uncertain\"") &&
	echo "$sent sent, $unc uncertain, $(wc -l <"$MOCK_LOG") requests" >>stats &&
	test $((sent + unc)) = 200 &&
	test "$(sql "select count(*) from cases where state = \"messaged\"")" = "$sent" &&
	test "$(sql "select count(*) from cases where state = \"uncertain\"")" = "$unc" &&
	mock_req "value->>'\''to'\''" | sort >reached &&
	sql "select to_number from messages where status = \"sent\" order by 1" >sent.list &&
	test "$(comm -13 reached sent.list | wc -l)" = 0 &&
	test "$(sql "select count(*) from messages where status = \"sending\"")" = 0 &&
	test "$(sql "PRAGMA integrity_check")" = ok
'
sed "s/^/# /" stats 2>/dev/null
test_expect_success 'and a later run sends nothing more' '
	: >"$MOCK_LOG" &&
	mcr-send -s >out && test ! -s out && test ! -s "$MOCK_LOG"
'

test_done
