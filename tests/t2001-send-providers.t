#!/bin/sh
# mcr-send against the Meta and Twilio APIs on loopback: each request as
# the server received it, each class of error, the rate limits, secrets.
. "$(dirname "$0")/lib.sh"

MCR_NOW=2026-01-05T10:05:00Z
MCR_META_TOKEN=tok-123
export MCR_NOW MCR_META_TOKEN
mock_start || exit 1

# missed CALLER [STARTED]: a missed_call record
missed() {
	printf '{"type":"missed_call","caller":"%s","caller_type":"mobile","started_at":"%s","after_hours":false}\n' \
	    "$1" "${2:-2026-01-05T10:00:00Z}"
}

# meta [LINES]: WhatsApp through the Cloud API, LINES added last
meta() {
	sed 's/^[[:space:]]*//' >"$MCR_CONFIG" <<-EOT
	[practice]
	name = Riverside Dental
	[send]
	burst_neighbours = 0
	backoff = 50
	connect_timeout = 2
	timeout = 2
	[whatsapp]
	provider = meta
	api_base = $MOCK_URL/v21.0
	phone_number_id = 1234567890
	rate = 1000
	[template.recovery]
	name = missed_call_recovery
	[template.after_hours]
	name = missed_call_closed
	language = en
	[template.patient]
	name = missed_call_patient
	$*
	EOT
}

# twilio [LINES]: WhatsApp through Twilio Content templates
twilio() {
	sed 's/^[[:space:]]*//' >"$MCR_CONFIG" <<-EOT
	[practice]
	name = Riverside Dental
	[send]
	burst_neighbours = 0
	[whatsapp]
	provider = twilio
	from = +441214960999
	[twilio]
	account_sid = ACtest
	api_base = $MOCK_URL
	status_callback = https://example.org/twilio
	[template.recovery]
	content_sid = HX0123456789abcdef0123456789abcdef
	[template.sms]
	$*
	EOT
}

fresh() {
	rm -f "$MCR_DB"
	: >"$MOCK_LOG"	# the server keeps it open
	mock_mode ok
}

test_expect_success 'meta: a template request with the bearer token and our id' '
	fresh && meta &&
	missed 07400123001 >in &&
	mcr-send <in >out 2>err &&
	test ! -s err &&
	test "$(mock_req "value->>'\''method'\'' || \" \" || (value->>'\''path'\'')")" = \
	    "POST /v21.0/1234567890/messages" &&
	test "$(mock_req "value->>'\''auth'\''")" = "Bearer tok-123" &&
	test "$(mock_req "value->>'\''content_type'\''")" = application/json &&
	cat >want <<-\EOT &&
	{"messaging_product":"whatsapp","recipient_type":"individual","to":"+447400123001","type":"template","template":{"name":"missed_call_recovery","language":{"code":"en_GB"},"components":[{"type":"body","parameters":[{"type":"text","text":"Riverside Dental"}]}]},"biz_opaque_callback_data":"mcr:1"}
	EOT
	mock_req "value->>'\''body'\''" >got &&
	test_cmp want got &&
	grep -q "\"provider\":\"meta\",\"kind\":\"recovery\",\"status\":\"sent\",\"provider_id\":\"wamid.MOCK1\"" out &&
	test "$(sql "select provider_id from messages")" = wamid.MOCK1
'
test_expect_success 'meta: after hours, its own template, language and parameters' '
	missed 07400123002 2026-01-05T19:00:00Z |
	MCR_NOW=2026-01-05T19:00:30Z mcr-send >out &&
	mock_req "value->>'\''body'\''" | tail -n 1 >got &&
	grep -Fq "\"name\":\"missed_call_closed\",\"language\":{\"code\":\"en\"}" got &&
	grep -Fq "[{\"type\":\"text\",\"text\":\"Riverside Dental\"},{\"type\":\"text\",\"text\":\"tomorrow at 8:30am\"}]" got
'
test_expect_success 'meta: a returning patient: name, practice, recall' '
	printf "phone,first_name,recall\n07400123003,Sarah,check-up\n" >p.csv &&
	mcr-admin import-patients p.csv &&
	missed 07400123003 | mcr-send >out &&
	mock_req "value->>'\''body'\''" | tail -n 1 >got &&
	grep -Fq "\"name\":\"missed_call_patient\"" got &&
	grep -Fq "[{\"type\":\"text\",\"text\":\"Sarah\"},{\"type\":\"text\",\"text\":\"Riverside Dental\"},{\"type\":\"text\",\"text\":\"check-up\"}]" got
'
test_expect_success 'meta: a kind without a template name stops the run (exit 2)' '
	fresh &&
	sed -i "/missed_call_recovery/d" "$MCR_CONFIG" &&
	{ missed 07400123004; missed 07400123005; } | mcr-send >out 2>err
	test $? = 2 &&
	grep -q "\[template.recovery\] has no name" err &&
	test ! -s "$MOCK_LOG" &&
	test "$(sql "select group_concat(state) from cases")" = new,new
'

test_expect_success 'twilio: WhatsApp by Content template, basic auth, status callback' '
	fresh && twilio &&
	MCR_TWILIO_TOKEN=secret mcr-send <in >out 2>err &&
	cat out err &&
	test ! -s err &&
	test "$(mock_req "value->>'\''path'\''")" = /2010-04-01/Accounts/ACtest/Messages.json &&
	test "$(mock_req "value->>'\''auth'\''")" = "Basic QUN0ZXN0OnNlY3JldA==" &&
	test "$(mock_req "value->>'\''content_type'\''")" = application/x-www-form-urlencoded &&
	echo "To=whatsapp%3A%2B447400123001&From=whatsapp%3A%2B441214960999&ContentSid=HX0123456789abcdef0123456789abcdef&ContentVariables=%7B%221%22%3A%22Riverside%20Dental%22%7D&StatusCallback=https%3A%2F%2Fexample.org%2Ftwilio%3Fmcr_id%3D1" >want &&
	mock_req "value->>'\''body'\''" >got &&
	test_cmp want got &&
	grep -Eq "\"provider\":\"twilio\",\"kind\":\"recovery\",\"status\":\"sent\",\"provider_id\":\"SM[0-9a-f]{32}\"" out
'
test_expect_success 'twilio: a messaging service instead of a number' '
	fresh && twilio "[twilio]
	messaging_service_sid = MG0123" &&
	MCR_TWILIO_TOKEN=secret mcr-send <in >/dev/null &&
	mock_req "value->>'\''body'\''" | grep -q "^To=whatsapp%3A%2B447400123001&MessagingServiceSid=MG0123&ContentSid="
'
test_expect_success 'not on WhatsApp: the SMS fallback through twilio' '
	fresh && meta "[sms]
	provider = twilio
	from = +441214960998
	[twilio]
	account_sid = ACtest
	api_base = $MOCK_URL" &&
	mock_mode "error:131026 ok" &&
	MCR_TWILIO_TOKEN=secret mcr-send <in >out &&
	test "$(wc -l <out)" = 2 &&
	head -n 1 out | grep -q "\"channel\":\"whatsapp\",\"provider\":\"meta\",\"kind\":\"recovery\",\"status\":\"failed\",\"provider_id\":null,\"error\":\"131026: Message undeliverable" &&
	tail -n 1 out | grep -q "\"channel\":\"sms\",\"provider\":\"twilio\",\"kind\":\"sms\",\"status\":\"sent\"" &&
	mock_req "value->>'\''body'\''" | tail -n 1 >got &&
	grep -q "^To=%2B447400123001&From=%2B441214960998&Body=Sorry%20we%20missed%20your%20call%20at%20Riverside%20Dental" got &&
	test "$(sql "select state from cases")" = messaged &&
	test "$(sql "select step || \" \" || status from messages order by id" | tr "\n" " ")" = "first failed sms sent "
'
test_expect_success 'not on WhatsApp and no SMS: failed, onto the call-back list' '
	fresh && meta &&
	mock_mode "+447400123001=error:131026" &&
	mcr-send <in >out &&
	test "$(sql "select state || \"|\" || reason from cases")" = "failed|131026: Message undeliverable: Message failed to send because the recipient is not on WhatsApp" ||
	test "$(sql "select state from cases")" = failed
'
test_expect_success 'a landline is never sent an SMS fallback' '
	fresh && meta "[sms]
	provider = outbox" &&
	sqlite3 "$MCR_DB" "PRAGMA user_version" >/dev/null &&
	mcr-admin init &&
	sql "insert into cases (caller, caller_type, state, opened_at, last_call_at, updated_at) values (\"+447400123009\", \"voip\", \"new\", 1767607440, 1767607440, 0)" &&
	mock_mode "error:131026" &&
	mcr-send -s >out &&
	test "$(wc -l <out)" = 1 && grep -q "\"status\":\"failed\"" out
'

test_expect_success 'throughput (130429): retried after a pause, then sent' '
	fresh && meta &&
	mock_mode "retryafter:1 ok" &&
	mcr-send -v <in >out 2>err &&
	test "$(mock_req "value->>'\''status'\''" | tr "\n" " ")" = "429 200 " &&
	grep -q "\"status\":\"sent\"" out &&
	grep -q "1 retries" err &&
	test "$(sql "select attempts from messages")" = 2
'
test_expect_success 'pair rate limit (131056) and temporary errors are retried' '
	fresh && meta "[send]
	retries = 4" &&
	mock_mode "error:131056 error:131016 status:502 ok" &&
	mcr-send <in >out &&
	test "$(mock_req "value->>'\''status'\''" | tr "\n" " ")" = "429 503 502 200 " &&
	grep -q "\"status\":\"sent\"" out
'
test_expect_success '5xx past the retries: exit 75, the case waits for the next run' '
	fresh && meta "[send]
	retries = 2" &&
	mock_mode "status:503" &&
	mcr-send <in >out 2>err; test $? = 75 &&
	test "$(wc -l <"$MOCK_LOG")" = 2 &&
	grep -q "after 2 attempts: the rest waits for the next run" err &&
	grep -q "\"status\":\"retry\"" out &&
	test "$(sql "select state from cases")" = new &&
	mock_mode ok &&
	mcr-send -s >out &&
	grep -q "\"status\":\"sent\"" out &&
	test "$(sql "select attempts from messages")" = 3
'
test_expect_success 'max_attempts over runs: then failed, onto the call-back list' '
	fresh && meta "[send]
	retries = 1
	max_attempts = 2" &&
	mock_mode "status:500" &&
	mcr-send <in >/dev/null; test $? = 75 &&
	mcr-send -s >out; test $? = 1 &&
	grep -q "\"status\":\"failed\"" out &&
	test "$(sql "select state from cases")" = failed &&
	mcr-send -s >out && test ! -s out &&
	test "$(wc -l <"$MOCK_LOG")" = 2
'
test_expect_success 'a provider that cannot be reached: exit 75, nothing lost' '
	fresh && meta "[whatsapp]
	api_base = http://127.0.0.1:1/v21.0
	[send]
	retries = 1" &&
	mcr-send <in >out 2>err; test $? = 75 &&
	grep -q "Couldn.t connect" err &&
	test "$(sql "select state from cases")" = new &&
	test "$(sql "select status from messages")" = retry
'
for c in 190 368 131031 131042 132001; do
test_expect_success "meta $c stops the run with exit 2: no further sends" "
	fresh && meta &&
	mock_mode error:$c &&
	{ missed 07400123001; missed 07400123002; missed 07400123003; } >in3 &&
	mcr-send <in3 >out 2>err; test \$? = 2 &&
	test \"\$(wc -l <\"\$MOCK_LOG\")\" = 1 &&
	grep -q \"meta refused the message: $c: \" err &&
	grep -q 'nothing more is sent in this run' err &&
	test \"\$(sql 'select group_concat(state) from cases')\" = new,new,new
"
done
test_expect_success 'twilio 20003 (authentication) stops the run too' '
	fresh && twilio &&
	mock_mode error:20003 &&
	MCR_TWILIO_TOKEN=wrong mcr-send <in3 >out 2>err; test $? = 2 &&
	test "$(wc -l <"$MOCK_LOG")" = 1 &&
	! grep -q wrong err
'
test_expect_success 'twilio 21610 (unsubscribed): opted out, never again' '
	fresh && twilio &&
	mock_mode error:21610 &&
	MCR_TWILIO_TOKEN=secret mcr-send <in >out &&
	grep -q "\"status\":\"failed\".*21610" out &&
	test "$(sql "select state from cases")" = opted_out &&
	mcr-admin optout list | grep -q "+447400123001" &&
	missed 07400123001 2026-01-06T10:05:00Z | MCR_NOW=2026-01-06T10:06:00Z MCR_TWILIO_TOKEN=secret mcr-send >out &&
	grep -q "\"reason\":\"opted_out\"" out &&
	test "$(wc -l <"$MOCK_LOG")" = 1
'
test_expect_success 'an invalid number (21211) fails that case only' '
	fresh && twilio &&
	mock_mode "+447400123001=error:21211 ok" &&
	{ missed 07400123001; missed 07400123002; } |
	MCR_TWILIO_TOKEN=secret mcr-send >out &&
	grep -q "+447400123001.*\"status\":\"failed\"" out &&
	grep -q "+447400123002.*\"status\":\"sent\"" out
'
test_expect_success 'a dropped connection: uncertain, never sent again' '
	fresh && meta &&
	mock_mode drop &&
	mcr-send <in >out 2>err; test $? = 1 &&
	grep -q "\"status\":\"uncertain\"" out &&
	grep -q "message to +44 7\*\*\* \*\*\*001 is uncertain" err &&
	! grep -q 7400123001 err &&
	test "$(sql "select state from cases")" = uncertain &&
	mock_mode ok &&
	mcr-send <in >out && grep -q "already_messaged" out &&
	mcr-send -s >out && test ! -s out &&
	test "$(wc -l <"$MOCK_LOG")" = 1
'
test_expect_success 'an answer slower than the timeout: uncertain' '
	fresh && meta "[send]
	timeout = 1" &&
	mock_mode slow:2500 &&
	mcr-send <in >out 2>err; test $? = 1 &&
	grep -q "\"status\":\"uncertain\"" out &&
	grep -q "Timeout" err &&
	test "$(wc -l <"$MOCK_LOG")" = 1
'
test_expect_success 'malformed JSON with 200: accepted, without an id' '
	fresh && meta &&
	mock_mode garbage &&
	mcr-send <in >out 2>err &&
	grep -q "\"status\":\"sent\",\"provider_id\":null" out &&
	grep -q "accepted (HTTP 200) but the answer carried no message id" err
'

test_expect_success 'the rate per second of the sending number is never exceeded' '
	fresh && meta "[whatsapp]
	rate = 4" &&
	i=0; while [ $i -lt 14 ]; do
		missed "+4479111$(printf %05d $((i * 731)))"; i=$((i + 1))
	done >many &&
	mcr-send <many >out &&
	test "$(grep -c "\"status\":\"sent\"" out)" = 14 &&
	test "$(wc -l <"$MOCK_LOG")" = 14 &&
	test "$(sql "select max((select count(*) from messages b where b.claim_ms between a.claim_ms and a.claim_ms + 999)) from messages a")" = 4
'
test_expect_success 'a recipient messaged moments ago waits out the interval' '
	fresh && meta "[send]
	recipient_interval = 2" &&
	mcr-admin init &&
	sql "insert into messages (case_id, step, kind, channel, provider, to_number, status, claim_ms, created_at, updated_at) values (99, \"first\", \"offer\", \"whatsapp\", \"meta\", \"+447400123001\", \"failed\", $(date +%s%3N), 0, 0)" &&
	mcr-send <in >out &&
	grep -q "\"status\":\"sent\"" out &&
	test "$(sql "select max(claim_ms) - min(claim_ms) >= 2000 from messages")" = 1
'
test_expect_success 'secrets: none set is a configuration error naming what to set' '
	fresh && meta &&
	MCR_META_TOKEN= mcr-send <in >out 2>err; test $? = 2 &&
	grep -q "set MCR_META_TOKEN or a token_file" err &&
	test "$(sql "select state from cases")" = new
'
test_expect_success 'secrets: a token file readable by others is refused' '
	fresh && echo tok-file >token && chmod 644 token &&
	meta "[whatsapp]
	token_file = $TRASH/token" &&
	MCR_META_TOKEN= mcr-send <in >out 2>err; test $? = 2 &&
	grep -q "must belong to this user and be readable by no one else" err &&
	chmod 600 token &&
	MCR_META_TOKEN= mcr-send <in >out 2>err &&
	test "$(mock_req "value->>'\''auth'\''")" = "Bearer tok-file" &&
	! grep -q tok-file out err
'

test_done
