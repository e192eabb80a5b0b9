#!/bin/sh
# The opt-out list on every path: the first message, the follow-ups, the
# conversation and the SMS fallback; counted at the server.
. "$(dirname "$0")/lib.sh"

MCR_META_TOKEN=tok
MCR_TWILIO_TOKEN=tw
export MCR_META_TOKEN MCR_TWILIO_TOKEN
mock_start || exit 1
cat >"$MCR_CONFIG" <<EOT
[practice]
name = Riverside Dental
[send]
burst_neighbours = 0
recipient_interval = 0
[whatsapp]
provider = meta
api_base = $MOCK_URL/v21.0
phone_number_id = 1234567890
[sms]
provider = twilio
from = +441214960998
[twilio]
account_sid = ACtest
api_base = $MOCK_URL
[template.recovery]
name = missed_call_recovery
[template.followup]
name = missed_call_followup
[template.followup_closed]
name = missed_call_followup_closed
EOT

missed() {	# missed NUMBER TIME
	printf '{"type":"missed_call","caller":"%s","caller_type":"mobile","started_at":"%s"}\n' "$1" "$2"
}
to() {	# to NUMBER: requests to it at the server
	n=$(mock_req "count(*)" "value->>'to' = '$1'")
	echo "${n:-0}"
}
meta() {	# meta NUMBER ID TEXT: a message from the patient
	printf '{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"contacts":[{"wa_id":"%s"}],"messages":[{"from":"%s","id":"wamid.%s","timestamp":"1","type":"text","text":{"body":"%s"}}]}}]}]}\n' \
	    "$(echo "$1" | tr -d +)" "$(echo "$1" | tr -d +)" "$2" "$3"
}

test_expect_success 'the first message: an opted-out caller is skipped' '
	mcr-admin optout add +447400123001 &&
	missed +447400123001 2026-01-05T10:00:00Z |
	MCR_NOW=2026-01-05T10:01:00Z mcr-send >out &&
	grep -q "\"reason\":\"opted_out\"" out &&
	test "$(to +447400123001)" = 0
'
test_expect_success 'the follow-ups: an opt-out after the first message stops them' '
	missed +447400123002 2026-01-05T10:00:00Z |
	MCR_NOW=2026-01-05T10:01:00Z mcr-send >/dev/null &&
	test "$(to +447400123002)" = 1 &&
	mcr-admin optout add +447400123002 &&
	MCR_NOW=2026-01-05T10:40:00Z mcr-followup >out &&
	MCR_NOW=2026-01-05T13:10:00Z mcr-followup >>out &&
	grep -q "\"reason\":\"opted_out\"" out &&
	test "$(to +447400123002)" = 1
'
test_expect_success 'the conversation: nothing is sent to an opted-out patient' '
	meta +447400123001 c1 "yes please" |
	MCR_NOW=2026-01-05T10:05:00Z mcr-reply >out &&
	! grep -q "\"type\":\"reply\"" out &&
	! grep -q "\"type\":\"offer\"" out &&
	test "$(to +447400123001)" = 0
'
test_expect_success 'the conversation: STOP sends one confirmation, then nothing' '
	missed +447400123003 2026-01-05T10:00:00Z |
	MCR_NOW=2026-01-05T10:01:00Z mcr-send >/dev/null &&
	meta +447400123003 s1 "STOP" | MCR_NOW=2026-01-05T10:02:00Z mcr-reply >/dev/null &&
	test "$(to +447400123003)" = 2 &&
	meta +447400123003 s2 "yes" | MCR_NOW=2026-01-05T10:03:00Z mcr-reply >/dev/null &&
	MCR_NOW=2026-01-05T10:40:00Z mcr-followup >/dev/null &&
	test "$(to +447400123003)" = 2
'
test_expect_success 'the SMS fallback: not to a number opted out since the message' '
	missed +447400123004 2026-01-05T10:00:00Z |
	MCR_NOW=2026-01-05T10:01:00Z mcr-send >/dev/null &&
	mid=$(sql "select id from messages where to_number = \"+447400123004\"") &&
	mcr-admin optout add +447400123004 &&
	printf "%s\n" "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"1\",\"changes\":[{\"field\":\"messages\",\"value\":{\"statuses\":[{\"id\":\"wamid.x\",\"status\":\"failed\",\"timestamp\":\"1\",\"recipient_id\":\"447400123004\",\"biz_opaque_callback_data\":\"mcr:$mid\",\"errors\":[{\"code\":131026,\"title\":\"Message undeliverable\"}]}]}}]}]}" |
	MCR_NOW=2026-01-05T10:05:00Z mcr-reply >out &&
	grep -q "\"type\":\"status\".*\"failed\"" out &&
	test "$(to +447400123004)" = 1 &&
	test "$(sql "select count(*) from messages where to_number = \"+447400123004\" and channel = \"sms\"")" = 0
'
test_expect_success 'and START lets them hear from the practice again' '
	meta +447400123001 o1 "START" | MCR_NOW=2026-01-05T10:06:00Z mcr-reply >out &&
	grep -q "\"type\":\"optin\"" out &&
	test "$(to +447400123001)" = 1
'

test_done
