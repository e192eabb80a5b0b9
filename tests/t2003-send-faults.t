#!/bin/sh
# mcr-send with the provider failing for a whole run: rate limited (429),
# down (503), refusing connections, answering garbage, dropping the
# connection, too slow; then a random mix of all of them over many runs.
# Nothing is sent twice, nothing is lost: each case ends sent, or
# uncertain on the call-back list, or waits for the next run.
. "$(dirname "$0")/lib.sh"

MCR_NOW=2026-01-05T10:05:00Z
MCR_META_TOKEN=tok
export MCR_NOW MCR_META_TOKEN
mock_start || exit 1

conf() {	# conf API_BASE
	cat >"$MCR_CONFIG" <<-EOT
	[practice]
	name = Riverside Dental
	[send]
	burst_neighbours = 0
	backoff = 20
	retries = 2
	connect_timeout = 1
	timeout = 1
	max_attempts = 50
	[whatsapp]
	provider = meta
	api_base = $1
	phone_number_id = 1234567890
	rate = 1000
	[template.recovery]
	name = missed_call_recovery
	EOT
}
conf "$MOCK_URL/v21.0"
mcr-admin init

# cases S N: N missed calls from numbers of series S
cases() {
	i=0
	while [ $i -lt $2 ]; do
		printf '{"type":"missed_call","caller":"+4474004%02d%03d","caller_type":"mobile","started_at":"2026-01-05T10:0%d:00Z","after_hours":false}\n' \
		    "$1" $i $((i % 5))
		i=$((i + 1))
	done
}
# the requests that may have sent a message: answered 200, or never
# answered properly (a 4xx or 5xx is the provider saying it did not)
MAYBE="(value->>'status' = 200 or value->>'mode' in ('drop', 'garbage') or value->>'mode' like 'slow%')"
dups() {
	mock_req "value->>'to'" "$MAYBE" | sort | uniq -d
}
# state S: "new sending messaged uncertain failed" counts of series S
state() {
	for s in new sending messaged uncertain failed; do
		printf '%s ' "$(sql "select count(*) from cases where caller like '+4474004$(printf %02d "$1")%' and state = '$s'")"
	done
}
# settled S N: series S all sent or uncertain, each sent one at the server
settled() {
	test -z "$(dups)" &&
	test "$(sql "select count(*) from cases where caller like '+4474004$(printf %02d "$1")%' and state in ('messaged', 'uncertain')")" = "$2" &&
	mock_req "value->>'to'" "$MAYBE and value->>'to' like '+4474004$(printf %02d "$1")%'" | sort >reached &&
	sql "select to_number from messages where status = 'sent' and to_number like '+4474004$(printf %02d "$1")%' order by 1" >sent.list &&
	test "$(comm -13 reached sent.list | wc -l)" = 0
}

# transient S MODE: a whole run with MODE: exit 75, nothing marked, the
# next run sends each once
transient() {
	mock_mode "$2"
	cases "$1" 30 >in.$1
	mcr-send <in.$1 >out 2>err; rc=$?
	cat err
	test $rc = 75 &&
	test "$(state "$1")" = "30 0 0 0 0 " &&
	test -z "$(dups)" &&
	mock_mode ok &&
	mcr-send -s >out 2>err &&
	test "$(state "$1")" = "0 0 30 0 0 " &&
	settled "$1" 30
}
test_expect_success 'rate limited (Meta 130429) for a whole run' '
	transient 1 error:130429
'
test_expect_success 'the API down (503) for a whole run' '
	transient 2 status:503
'
test_expect_success 'Twilio-style 429 with Retry-After for a whole run' '
	transient 3 retryafter:1
'
test_expect_success 'connections refused for a whole run' '
	conf "http://127.0.0.1:1/v21.0" &&
	cases 4 30 >in.4 &&
	mcr-send <in.4 >out 2>err; rc=$?
	conf "$MOCK_URL/v21.0" &&
	test $rc = 75 &&
	test "$(state 4)" = "30 0 0 0 0 " &&
	mcr-send -s >out 2>err &&
	test "$(state 4)" = "0 0 30 0 0 " &&
	settled 4 30
'

# unsure S MODE: a whole run where the answer never says whether the
# message went: the first few uncertain, the rest waits; never re-sent
unsure() {
	mock_mode "$2"
	cases "$1" 30 >in.$1
	mcr-send <in.$1 >out 2>err; rc=$?
	cat err
	test $rc = 75 &&
	u=$(sql "select count(*) from cases where caller like '+4474004$(printf %02d "$1")%' and state = 'uncertain'") &&
	test "$u" -ge 1 && test "$u" -le 3 &&
	test "$(state "$1")" = "$((30 - u)) 0 0 $u 0 " &&
	test -z "$(dups)" &&
	mock_mode ok &&
	mcr-send -s >out 2>err; rc=$?
	test $rc = 0 &&
	test "$(state "$1")" = "0 0 $((30 - u)) $u 0 " &&
	settled "$1" 30 &&
	mcr-report -o json callbacks >cb &&
	test "$(grep -o "+4474004$(printf %02d "$1")[0-9]*" cb | sort -u | wc -l)" = "$u"
}
test_expect_success 'garbage answers (200, no JSON) for a whole run: taken as sent, with a warning' '
	mock_mode garbage &&
	cases 5 30 >in.5 &&
	mcr-send <in.5 >out 2>err; rc=$?
	test $rc = 0 || test $rc = 1 &&
	test "$(state 5)" = "0 0 30 0 0 " &&
	test "$(grep -c "no message id" err)" = 30 &&
	settled 5 30
'
test_expect_success 'connections dropped after the request for a whole run' '
	unsure 6 drop
'
test_expect_success 'answers slower than the timeout for a whole run' '
	unsure 7 slow:1500
'

# a random mix, seeded: each request answered ok, 429, 503, garbage,
# dropped or late, run after run until nothing is left to send
test_expect_success 'a random mix of faults over many runs: nothing twice, nothing lost' '
	awk "BEGIN { srand(7); split(\"ok ok ok error:130429 status:503 status:500 garbage drop error:131000 retryafter:1\", m, \" \");
	    for (i = 0; i < 400; i++) printf \"%s \", m[1 + int(rand() * 10)]; print \"ok\" }" >modes &&
	mock_mode "$(cat modes)" &&
	cases 8 100 >in.8 &&
	mcr-send <in.8 >/dev/null 2>err.8
	r=0
	while [ $r -lt 200 ] && [ "$(sql "select count(*) from cases where caller like '\''+447400408%'\'' and state = '\''new'\''")" != 0 ]; do
		mcr-send -s >/dev/null 2>>err.8
		r=$((r + 1))
	done
	echo "$r more runs" >mix.stats &&
	echo "$(state 8)" >>mix.stats &&
	test "$(state 8 | cut -d" " -f1,2)" = "0 0" &&
	test -z "$(dups)" &&
	mock_req "value->>'\''to'\''" "$MAYBE and value->>'\''to'\'' like '\''+447400408%'\''" | sort >reached &&
	sql "select to_number from messages where status = '\''sent'\'' and to_number like '\''+447400408%'\'' order by 1" >sent.list &&
	test "$(comm -13 reached sent.list | wc -l)" = 0 &&
	test "$(sql "select count(*) from cases where caller like '\''+447400408%'\'' and state in ('\''messaged'\'', '\''uncertain'\'', '\''failed'\'')")" = 100 &&
	test "$(sql "PRAGMA integrity_check")" = ok
'
sed 's/^/# mix: /' mix.stats 2>/dev/null

test_done
