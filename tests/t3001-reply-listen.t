#!/bin/sh
# mcr-reply -l: webhooks over HTTP, signed, from first message to booking;
# forged, oversized and replayed requests change nothing; two patients at
# once never share a slot.
. "$(dirname "$0")/lib.sh"

MCR_NOW=2026-01-05T10:05:00Z
MCR_META_TOKEN=tok
MCR_META_APP_SECRET=app-secret
MCR_META_VERIFY_TOKEN=verify-me
MCR_TWILIO_TOKEN=tw-token
export MCR_NOW MCR_META_TOKEN MCR_META_APP_SECRET MCR_META_VERIFY_TOKEN \
    MCR_TWILIO_TOKEN
mock_start || exit 1

meta_config <<EOT
[sms]
provider = twilio
from = +441214960998
[twilio]
account_sid = ACtest
api_base = $MOCK_URL
[reply]
public_url = https://mcr.example.org
max_body = 4096
[template.recovery]
name = missed_call_recovery
EOT
mcr-admin init

meta_text() {
	printf '{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"1234567890"},"contacts":[{"profile":{"name":"Sam"},"wa_id":"%s"}],"messages":[{"from":"%s","id":"%s","timestamp":"1767607500","type":"text","text":{"body":"%s"}}]}}]}]}' \
	    "$1" "$1" "$2" "$3"
}
meta_button() {
	printf '{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"contacts":[{"wa_id":"%s"}],"messages":[{"from":"%s","id":"%s","timestamp":"1767607560","type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"%s","title":"x"}}}]}}]}]}' \
	    "$1" "$1" "$2" "$3"
}
# sig FILE: Meta's signature of a body
sig() {
	echo "sha256=$(openssl dgst -sha256 -hmac "$MCR_META_APP_SECRET" <"$1" |
	    sed 's/.*= //')"
}
# post PATH FILE [HEADER]: POST a body; the HTTP status on stdout
post() {
	curl -s -o resp -w "%{http_code}" -X POST --data-binary "@$2" \
	    ${3:+-H "$3"} "$URL$1"
}
# waitfor PATTERN: up to 10 s for a record of the listener
waitfor() {
	i=0
	while ! grep -q "$1" listen.out 2>/dev/null; do
		i=$((i + 1)); [ $i -gt 200 ] && return 1; sleep 0.05
	done
}

mcr-reply -v -l 127.0.0.1:0 -p port >listen.out 2>listen.err &
LPID=$!
i=0; while [ ! -s port ] && [ $i -lt 200 ]; do i=$((i + 1)); sleep 0.05; done
URL=http://127.0.0.1:$(cat port)

test_expect_success 'Meta verification: the challenge back, for the right token' '
	test "$(curl -s "$URL/meta?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=verify-me")" = 1158201444 &&
	test "$(curl -s -o /dev/null -w "%{http_code}" "$URL/meta?hub.mode=subscribe&hub.challenge=1&hub.verify_token=wrong")" = 403
'
test_expect_success 'a signed message is answered 200 and runs the conversation' '
	meta_text 447400123001 wamid.l1 "yes please" >b1 &&
	test "$(post /meta b1 "X-Hub-Signature-256: $(sig b1)")" = 200 &&
	waitfor "\"type\":\"offer\"" && waitfor "\"kind\":\"offer\"" &&
	mock_req "value->>'\''body'\''" | tail -n 1 | grep -q "\"type\":\"button\""
'
test_expect_success 'a forged or missing signature: 403, nothing stored' '
	n=$(sql "select count(*) from inbox") &&
	meta_text 447400123002 wamid.l2 "yes" >b2 &&
	test "$(post /meta b2 "X-Hub-Signature-256: $(sig b1)")" = 403 &&
	test "$(post /meta b2)" = 403 &&
	test "$(post /meta b2 "X-Hub-Signature-256: sha256=00")" = 403 &&
	test "$(sql "select count(*) from inbox")" = "$n" &&
	test "$(sql "select count(*) from cases where caller = \"+447400123002\"")" = 0
'
test_expect_success 'a body over max_body: 413' '
	{ printf "{\"entry\":[],\"pad\":\""; head -c 5000 /dev/zero | tr "\0" x; printf "\"}"; } >big &&
	test "$(post /meta big "X-Hub-Signature-256: $(sig big)")" = 413
'
test_expect_success 'signed but not a payload: 400' '
	printf "not json at all" >b3 &&
	test "$(post /meta b3 "X-Hub-Signature-256: $(sig b3)")" = 400
'
test_expect_success 'a replayed webhook is stored and acknowledged, acted on once' '
	n=$(wc -l <"$MOCK_LOG") &&
	test "$(post /meta b1 "X-Hub-Signature-256: $(sig b1)")" = 200 &&
	i=0; while [ "$(sql "select count(*) from inbox where done = 0")" != 0 ] && [ $i -lt 200 ]; do i=$((i + 1)); sleep 0.05; done &&
	test "$(wc -l <"$MOCK_LOG")" = "$n" &&
	test "$(grep -c "\"type\":\"offer\"" listen.out)" = 1
'
test_expect_success 'a tapped slot books it' '
	id=$(sql "select id from slots where held_by = (select id from cases where caller = \"+447400123001\") order by start limit 1") &&
	meta_button 447400123001 wamid.l3 "slot_$id" >b4 &&
	test "$(post /meta b4 "X-Hub-Signature-256: $(sig b4)")" = 200 &&
	waitfor "\"type\":\"booking\"" &&
	test "$(sql "select booked_by is not null from slots where id = $id")" = 1
'
test_expect_success 'Twilio: a signed SMS is answered with TwiML and replied to by SMS' '
	printf "Body=yes&From=%%2B447400123003&MessageSid=SMl1&To=%%2B441214960000" >t1 &&
	s=$(printf "%s" "https://mcr.example.org/twilioBodyyesFrom+447400123003MessageSidSMl1To+441214960000" |
	    openssl dgst -sha1 -hmac "$MCR_TWILIO_TOKEN" -binary | base64) &&
	test "$(post /twilio t1 "X-Twilio-Signature: $s")" = 200 &&
	grep -q "<Response/>" resp &&
	waitfor "+447400123003.*\"kind\":\"offer\"" &&
	mock_req "value->>'\''body'\''" | tail -n 1 | grep -q "^To=%2B447400123003&From=%2B441214960998&Body="
'
test_expect_success 'Twilio: a wrong signature is refused' '
	test "$(post /twilio t1 "X-Twilio-Signature: AAAA")" = 403
'
test_expect_success 'Twilio: a signed status callback with our id in its query' '
	mid=$(sql "select max(id) from messages where to_number = \"+447400123003\"") &&
	printf "MessageSid=SMx9&MessageStatus=delivered&To=%%2B447400123003" >t2 &&
	s=$(printf "%s" "https://mcr.example.org/twilio?mcr_id=${mid}MessageSidSMx9MessageStatusdeliveredTo+447400123003" |
	    openssl dgst -sha1 -hmac "$MCR_TWILIO_TOKEN" -binary | base64) &&
	test "$(post "/twilio?mcr_id=$mid" t2 "X-Twilio-Signature: $s")" = 200 &&
	waitfor "\"type\":\"status\",\"id\":$mid,.*\"delivered\"" &&
	test "$(sql "select status from messages where id = $mid")" = delivered
'
kill -TERM $LPID
wait $LPID
echo $? >listen.rc
test_expect_success 'stopping: exit 0 and a summary of what came in' '
	cat listen.err >err &&
	test "$(cat listen.rc)" = 0 &&
	grep -q "requests: .* stored, 5 refused (bad signature), 1 too large, 1 not a payload" listen.err
'

# race: two patients say yes at the same moment with one slot left, then
# each taps what they were offered; 10 rounds
test_expect_success 'two patients at once never share a slot (10 rounds)' '
	cat >>"$MCR_CONFIG" <<-\EOT &&
	[slots]
	lead = 0
	EOT
	r=0; while [ $r -lt 10 ]; do
		rm -f "$MCR_DB" && mcr-admin init &&
		printf "start,end\n2026-01-05 15:00,2026-01-05 15:30\n" >one.csv &&
		mcr-admin import-slots one.csv &&
		{ meta_text 447400123011 "wamid.a$r" "yes"; echo; } >a &&
		{ meta_text 447400123012 "wamid.b$r" "yes"; echo; } >b &&
		{ mcr-reply <a >a.out & mcr-reply <b >b.out & wait; } &&
		test "$(cat a.out b.out | grep -c "\"type\":\"offer\"")" = 1 &&
		id=$(sql "select id from slots") &&
		{ meta_button 447400123011 "wamid.c$r" "slot_$id"; echo; } >a &&
		{ meta_button 447400123012 "wamid.d$r" "slot_$id"; echo; } >b &&
		{ mcr-reply <a >a.out & mcr-reply <b >b.out & wait; } &&
		test "$(sql "select count(*) from bookings")" = 1 &&
		test "$(cat a.out b.out | grep -c "\"type\":\"booking\"")" = 1 || exit 1
		r=$((r + 1))
	done
'

test_done
