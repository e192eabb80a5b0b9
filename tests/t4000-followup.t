#!/bin/sh
# mcr-followup with a simulated clock: every path of the sequence, and no
# step twice whatever runs overlap or die.
. "$(dirname "$0")/lib.sh"

MCR_META_TOKEN=tok
MCR_TWILIO_TOKEN=tw
export MCR_META_TOKEN MCR_TWILIO_TOKEN
mock_start || exit 1

# conf [LINES]: meta for WhatsApp, twilio for SMS; LINES last
conf() {
	sed 's/^[[:space:]]*//' >"$MCR_CONFIG" <<-EOT
	[practice]
	name = Riverside Dental
	[store]
	busy_timeout = 30000
	[send]
	burst_neighbours = 0
	max_age = 600
	[whatsapp]
	provider = meta
	api_base = $MOCK_URL/v21.0
	phone_number_id = 1234567890
	rate = 1000
	[sms]
	provider = twilio
	from = +441214960998
	[twilio]
	account_sid = ACtest
	api_base = $MOCK_URL
	[template.recovery]
	name = missed_call_recovery
	[template.after_hours]
	name = missed_call_closed
	[template.followup]
	name = missed_call_followup
	[template.followup_closed]
	name = missed_call_followup_closed
	$*
	EOT
}

# missed N TIME: caller 074001230NN missed at TIME on Monday 5 January,
# messaged a minute later
missed() {
	ast_n=$((100 + $1))
	ast_missed 2026-01-05 "$2" "074001230$1" >m$1.csv
	MCR_NOW="2026-01-05T$(echo "$2" | cut -c1-5):30Z" mcr-ingest m$1.csv |
	MCR_NOW="2026-01-05T$(echo "$2" | cut -c1-5):59Z" mcr-send >/dev/null
}
state() {
	sql "select state from cases where caller = \"+447400123$1\""
}
# sent_to N: requests that reached the server for caller N
sent_to() {
	mock_req "count(*)" "value->>'to' = '+447400123$1'"
}
followup() {
	MCR_NOW=$1 mcr-followup
}

test_expect_success 'the first messages go out' '
	conf &&
	missed 01 10:00:00 && missed 02 10:01:00 && missed 03 10:02:00 &&
	missed 04 10:03:00 && missed 05 10:04:00 &&
	test "$(sql "select count(*) from cases where state = \"messaged\"")" = 5
'
test_expect_success 'before 30 minutes nothing is due' '
	followup 2026-01-05T10:20:00Z >out && test ! -s out
'
test_expect_success 'a reply before the follow-up stops the sequence' '
	printf "%s\n" "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"1\",\"changes\":[{\"field\":\"messages\",\"value\":{\"contacts\":[{\"wa_id\":\"447400123002\"}],\"messages\":[{\"from\":\"447400123002\",\"id\":\"wamid.r2\",\"timestamp\":\"1\",\"type\":\"text\",\"text\":{\"body\":\"how much is a check-up?\"}}]}}]}]}" |
	MCR_NOW=2026-01-05T10:20:00Z mcr-reply >/dev/null &&
	test "$(state 002)" = escalated
'
test_expect_success 'an opt-out stops it' '
	MCR_NOW=2026-01-05T10:21:00Z mcr-admin optout add 07400123003
'
test_expect_success 'a later answered call stops it (the practice called back)' '
	printf "%s\n" "\"\",\"01214960000\",\"07400123004\",\"from-internal\",\"\",\"PJSIP/201-1\",\"PJSIP/trunk-2\",\"Dial\",\"\",\"2026-01-05 10:15:00\",\"2026-01-05 10:15:05\",\"2026-01-05 10:17:05\",125,120,\"ANSWERED\",\"DOCUMENTATION\",\"1767607900.1\",\"\",\"\",\"1767607900.1\",1" >cb.csv &&
	printf "[numbers]\nown = 01214960000\n" >>"$MCR_CONFIG" &&
	MCR_NOW=2026-01-05T10:18:00Z mcr-ingest cb.csv >/dev/null &&
	test "$(state 004)" = resolved_by_call
'
test_expect_success 'at 30 minutes: one follow-up, with the real closing time' '
	: >"$MOCK_LOG" &&
	followup 2026-01-05T10:31:00Z >out &&
	grep -q "\"case_id\":1,\"to\":\"+447400123001\",.*\"kind\":\"followup\",\"status\":\"sent\"" out &&
	test "$(sent_to 001)" = 1 &&
	mock_req "value->>'\''body'\''" "value->>'\''to'\'' = '\''+447400123001'\''" >body &&
	grep -Fq "\"name\":\"missed_call_followup\"" body &&
	grep -Fq "{\"type\":\"text\",\"text\":\"6pm\"}" body
'
test_expect_success 'run again: each step once; the stopped cases get nothing' '
	followup 2026-01-05T10:36:00Z >out &&
	! grep -q "+447400123001" out &&
	test "$(sent_to 001)" = 1 &&
	grep -q "\"case_id\":3,.*\"reason\":\"opted_out\"" out &&
	test "$(state 003)" = opted_out &&
	test "$(sent_to 002)" = 0 && test "$(sent_to 003)" = 0 &&
	test "$(sent_to 004)" = 0
'
test_expect_success 'a booking stops it' '
	for m in "yes" "1"; do
		printf "%s\n" "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"1\",\"changes\":[{\"field\":\"messages\",\"value\":{\"contacts\":[{\"wa_id\":\"447400123005\"}],\"messages\":[{\"from\":\"447400123005\",\"id\":\"wamid.b$m\",\"timestamp\":\"1\",\"type\":\"text\",\"text\":{\"body\":\"$m\"}}]}}]}]}" |
		MCR_NOW=2026-01-05T10:40:00Z mcr-reply >/dev/null
	done &&
	test "$(state 005)" = booked
'
test_expect_success 'at 3 hours: one SMS to a mobile' '
	: >"$MOCK_LOG" &&
	followup 2026-01-05T13:02:00Z >out &&
	grep -q "\"to\":\"+447400123001\",\"channel\":\"sms\",\"provider\":\"twilio\",\"kind\":\"sms\",\"status\":\"sent\"" out &&
	test "$(wc -l <"$MOCK_LOG")" = 1 &&
	mock_req "value->>'\''body'\''" | grep -q "^To=%2B447400123001&From=%2B441214960998&Body=Sorry"
'
test_expect_success 'at 24 hours: expired, onto the staff call-back list' '
	followup 2026-01-06T10:02:00Z >out &&
	grep -q "^{\"type\":\"expired\",\"id\":null,\"case_id\":1," out &&
	test "$(state 001)" = expired &&
	mcr-report -o json callbacks >cb &&
	grep -q "\"case_id\":1,\"number\":\"+447400123001\",\"state\":\"expired\".*\"calls\":\[\"2026-01-05T10:00:00Z\"\],\"tried\":\[\"first:recovery:sent\",\"f1:followup:sent\",\"f2:sms:sent\"\]" cb &&
	! grep -q "+447400123005" cb
'
test_expect_success 'the call-back list has landlines, failed and uncertain sends' '
	ast_n=150 && ast_missed 2026-01-06 10:00:00 01214960007 >l.csv &&
	MCR_NOW=2026-01-06T10:01:00Z mcr-ingest l.csv | MCR_NOW=2026-01-06T10:01:00Z mcr-send >/dev/null &&
	sql "update cases set state = \"uncertain\" where caller = \"+447400123002\"" &&
	mcr-report -o json callbacks >cb &&
	grep -q "\"number\":\"+441214960007\",\"state\":\"skipped\",\"reason\":\"landline\"" cb &&
	grep -q "\"number\":\"+447400123002\",\"state\":\"uncertain\"" cb &&
	mcr-report -o table callbacks | grep -q "^1 *+447400123001 .*expired"
'
test_expect_success 'quiet hours: a step due at night waits for the morning' '
	rm -f "$MCR_DB" && : >"$MOCK_LOG" &&
	conf "[followup]
	steps = 30m whatsapp, 72h expire" &&
	missed 06 19:45:00 &&
	followup 2026-01-05T20:16:00Z >out && test ! -s out &&
	MCR_NOW=2026-01-05T20:16:00Z mcr-followup -v 2>err >/dev/null &&
	grep -q "1 waiting for allowed hours" err &&
	followup 2026-01-06T08:05:00Z >out &&
	grep -q "\"kind\":\"followup_closed\",\"status\":\"sent\"" out &&
	mock_req "value->>'\''body'\''" | tail -n 1 | grep -Fq "{\"type\":\"text\",\"text\":\"today at 8:30am\"}"
'
test_expect_success 'a closed day waits too (Saturday waits for Monday)' '
	missed 07 16:59:00 &&
	sql "update messages set sent_at = 1767975300 where to_number = \"+447400123007\"" &&
	followup 2026-01-10T10:00:00Z >out && ! grep -q "+447400123007" out &&
	followup 2026-01-12T08:01:00Z >out && grep -q "+447400123007.*followup_closed" out
'
test_expect_code 2 'a bad steps line is a configuration error' '
	conf "[followup]
	steps = 3h sms, 30m whatsapp" &&
	mcr-followup 2>err; s=$?;
	grep -q "each step must come later than the one before" err && exit $s
'

# 120 cases messaged at 10:01; at 10:32 20 runs killed at random moments,
# then 10 at once: each caller's follow-up reaches the server once
test_expect_success 'overlapping and killed runs never send a step twice' '
	rm -f "$MCR_DB" && : >"$MOCK_LOG" && conf && mcr-admin init &&
	sed -i "s/^\[send\]\$/[send]\nrecipient_interval = 0/" "$MCR_CONFIG" &&
	i=0; while [ $i -lt 120 ]; do
		echo "{\"type\":\"missed_call\",\"caller\":\"+4479$(printf %08d $((i * 7919 + 1000)))\",\"caller_type\":\"mobile\",\"started_at\":\"2026-01-05T10:00:00Z\"}"
		i=$((i + 1))
	done | MCR_NOW=2026-01-05T10:01:00Z mcr-send >/dev/null &&
	: >"$MOCK_LOG" && mock_mode slow:20 &&
	k=0; while [ $k -lt 20 ]; do
		MCR_NOW=2026-01-05T10:32:00Z mcr-followup >/dev/null 2>&1 &
		p=$!
		sleep 0.$(( $(od -An -N2 -tu2 /dev/urandom) % 30 + 10 ))
		kill -9 $p 2>/dev/null
		wait $p 2>/dev/null
		k=$((k + 1))
	done &&
	mock_mode ok &&
	i=0; while [ $i -lt 10 ]; do
		MCR_NOW=2026-01-05T10:32:00Z mcr-followup >/dev/null 2>&1 &
		i=$((i + 1))
	done; wait &&
	test -z "$(mock_req "value->>'\''to'\''" | sort | uniq -d)" &&
	sent=$(sql "select count(*) from messages where step = \"f1\" and status = \"sent\"") &&
	unc=$(sql "select count(*) from messages where step = \"f1\" and status = \"uncertain\"") &&
	test $((sent + unc)) = 120 &&
	test "$(wc -l <"$MOCK_LOG")" -le 120 &&
	test "$(wc -l <"$MOCK_LOG")" -ge "$sent"
'
echo "# 20 runs killed: $(sql "select count(*) from messages where step = 'f1' and status = 'sent'") follow-ups sent, $(sql "select count(*) from messages where step = 'f1' and status = 'uncertain'") uncertain, $(wc -l <"$MOCK_LOG") requests"

test_done
