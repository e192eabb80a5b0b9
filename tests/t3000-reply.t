#!/bin/sh
# mcr-reply: the booking conversation, from payloads on stdin.
. "$(dirname "$0")/lib.sh"

# Monday 5 January 2026, 10:05 in London: open 08:30-18:00.
MCR_NOW=2026-01-05T10:05:00Z
MCR_META_TOKEN=tok
export MCR_NOW MCR_META_TOKEN
mock_start || exit 1

cat >"$MCR_CONFIG" <<EOT
[practice]
name = Riverside Dental
[send]
burst_neighbours = 0
backoff = 20
[whatsapp]
provider = meta
api_base = $MOCK_URL/v21.0
phone_number_id = 1234567890
rate = 1000
[sms]
provider = outbox
[outbox]
path = $TRASH/outbox.jsonl
[template.recovery]
name = missed_call_recovery
[template.after_hours]
name = missed_call_closed
[template.patient]
name = missed_call_patient
[reply]
booking_hook = $TRASH/hook booking
[escalation]
hook = $TRASH/hook escalation
email = reception@riverside.example
from = mcr@riverside.example
smtp = $MOCK_SMTP
EOT
cat >hook <<EOT
#!/bin/sh
cat >>"$TRASH/hook.\$1"
EOT
chmod +x hook

# meta_text FROM WAMID TEXT: a WhatsApp text message as Meta posts it
meta_text() {
	printf '{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"441214960000","phone_number_id":"1234567890"},"contacts":[{"profile":{"name":"Sam"},"wa_id":"%s"}],"messages":[{"from":"%s","id":"%s","timestamp":"1767607500","type":"text","text":{"body":"%s"}}]}}]}]}\n' \
	    "$1" "$1" "$2" "$3"
}
# meta_button FROM WAMID ID TITLE: a reply button tapped
meta_button() {
	printf '{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"1234567890"},"contacts":[{"profile":{"name":"Sam"},"wa_id":"%s"}],"messages":[{"context":{"from":"441214960000","id":"wamid.MOCK1"},"from":"%s","id":"%s","timestamp":"1767607560","type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"%s","title":"%s"}}}]}}]}]}\n' \
	    "$1" "$1" "$2" "$3" "$4"
}
# meta_status WAMID STATUS OPAQUE [CODE]: a delivery receipt
meta_status() {
	if [ -n "${4:-}" ]; then
		err=",\"errors\":[{\"code\":$4,\"title\":\"Message undeliverable\"}]"
	else
		err=
	fi
	printf '{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"1234567890"},"statuses":[{"id":"%s","status":"%s","timestamp":"1767607600","recipient_id":"447400123001","biz_opaque_callback_data":"%s"%s}]}}]}]}\n' \
	    "$1" "$2" "$3" "$err"
}
state() {
	sql "select state from cases where caller = \"$1\" order by id desc limit 1"
}
# sent N: the body of the Nth request from the end the server got
sent() {
	mock_req "value->>'body'" | tail -n "${1:-1}" | head -n 1
}

test_expect_success 'a missed caller is messaged first' '
	ast_missed 2026-01-05 10:00:00 07400123001 >c.csv &&
	mcr-ingest c.csv | mcr-send >out &&
	grep -q "\"status\":\"sent\"" out &&
	test "$(state +447400123001)" = messaged
'
test_expect_success '"Yes please": three slots offered as reply buttons' '
	meta_text 447400123001 wamid.in1 "Yes please" | mcr-reply >out 2>err &&
	test ! -s err &&
	grep -q "^{\"type\":\"inbound\",\"id\":[0-9]*,\"case_id\":1,\"number\":\"+447400123001\",\"channel\":\"whatsapp\",\"provider_id\":\"wamid.in1\",\"intent\":\"yes\"}$" out &&
	grep -q "^{\"type\":\"offer\".*\"slots\":\[{\"id\":[0-9]*,\"start\":\"2026-01-05T11:30:00Z\"" out &&
	grep -q "^{\"type\":\"reply\".*\"kind\":\"offer\",\"status\":\"sent\"" out &&
	test "$(state +447400123001)" = offered &&
	sent >body &&
	grep -Fq "\"type\":\"interactive\",\"interactive\":{\"type\":\"button\"" body &&
	grep -Fq "\"title\":\"Mon 5 Jan 11:30am\"" body &&
	grep -Fq "\"title\":\"Mon 5 Jan 12pm\"" body &&
	test "$(sql "select count(*) from slots where held_by = 1")" = 3
'
test_expect_success 'the same webhook again changes nothing' '
	n=$(wc -l <"$MOCK_LOG") &&
	meta_text 447400123001 wamid.in1 "Yes please" | mcr-reply -v >out 2>err &&
	test ! -s out && grep -q "1 duplicates" err &&
	test "$(wc -l <"$MOCK_LOG")" = "$n"
'
test_expect_success 'a tapped button books the slot, runs the hook, confirms' '
	id=$(sql "select id from slots where held_by = 1 order by start limit 1 offset 1") &&
	meta_button 447400123001 wamid.in2 "slot_$id" "Mon 5 Jan 12pm" |
	mcr-reply >out &&
	grep -q "^{\"type\":\"booking\",\"id\":1,\"case_id\":1,\"number\":\"+447400123001\",\"slot_id\":$id,\"start\":\"2026-01-05T12:00:00Z\"" out &&
	grep -q "\"kind\":\"booking\",\"status\":\"sent\"" out &&
	test "$(state +447400123001)" = booked &&
	test "$(sql "select booked_by from slots where id = $id")" = 1 &&
	test "$(sql "select count(*) from slots where held_by = 1")" = 0 &&
	grep -q "\"type\":\"booking\".*\"slot_id\":$id" hook.booking &&
	grep -Fq "Mon 5 Jan 12pm" "$(ls outbox.jsonl 2>/dev/null || echo /dev/null)" ||
	sent | grep -Fq "booked at Riverside Dental: Mon 5 Jan 12pm"
'
test_expect_success 'export-bookings writes it as iCalendar' '
	mcr-admin export-bookings >cal.ics &&
	grep -q "^BEGIN:VCALENDAR" cal.ics &&
	grep -q "^DTSTART:20260105T120000Z" cal.ics &&
	grep -q "^DTEND:20260105T123000Z" cal.ics &&
	grep -q "^UID:booking-1@mcr" cal.ics &&
	test "$(grep -c "$(printf "\r")\$" cal.ics)" = "$(wc -l <cal.ics)"
'
test_expect_success 'an urgent message: advice at once, an urgent escalation' '
	meta_text 447400123002 wamid.u1 "my face is really swollen and i cant swallow" |
	mcr-reply >out 2>err &&
	grep -q "\"type\":\"inbound\".*\"intent\":\"urgent\"" out &&
	grep -q "\"kind\":\"urgent\",\"status\":\"sent\"" out &&
	grep -q "^{\"type\":\"escalation\".*\"urgent\":true" out &&
	grep -q "urgent: .*call +44 7\*\*\* \*\*\*002 back" err &&
	sent | grep -Fq "call 999" &&
	test "$(state +447400123002)" = escalated &&
	test "$(sql "select urgent from escalations")" = 1 &&
	grep -q "\"urgent\":true" hook.escalation &&
	grep -q "\"notified\":\"email, hook\"" out &&
	test "$(sqlite3 :memory: "select value->>'\''to'\''->>0 || \" \" || (value->>'\''from'\'') from json_each(\"[\" || trim(readfile(\"$MOCK_MAIL\")) || \"]\")")" = "reception@riverside.example mcr@riverside.example" &&
	grep -q "Subject: URGENT: +447400123002: difficulty swallowing" "$MOCK_MAIL" &&
	grep -q "patient: my face is really swollen" "$MOCK_MAIL" &&
	grep -q "my face is really swollen" hook.escalation &&
	test "$(sql "select count(*) from bookings")" = 1
'
test_expect_success 'STOP opts out, with one confirmation; nothing more is sent' '
	meta_text 447400123003 wamid.s1 "STOP" | mcr-reply >out &&
	grep -q "^{\"type\":\"optout\"" out &&
	grep -q "\"kind\":\"optout\",\"status\":\"sent\"" out &&
	mcr-admin optout list | grep -q "+447400123003" &&
	test "$(state +447400123003)" = opted_out &&
	n=$(wc -l <"$MOCK_LOG") &&
	meta_text 447400123003 wamid.s2 "yes" | mcr-reply >out &&
	! grep -q "\"type\":\"reply\"" out &&
	test "$(wc -l <"$MOCK_LOG")" = "$n"
'
test_expect_success '"stop" inside a sentence does not opt out' '
	meta_text 447400123004 wamid.s3 "I cant stop worrying about the cost, how much is a filling?" |
	mcr-reply >out &&
	! grep -q "\"type\":\"optout\"" out &&
	! mcr-admin optout list | grep -q "+447400123004"
'
test_expect_success 'START opts back in' '
	meta_text 447400123003 wamid.s4 "START" | mcr-reply >out &&
	grep -q "^{\"type\":\"optin\"" out &&
	! mcr-admin optout list | grep -q "+447400123003"
'
test_expect_success 'a question goes to staff with the transcript' '
	meta_text 447400123005 wamid.q1 "how much is a check-up?" |
	mcr-reply >out &&
	grep -q "\"type\":\"escalation\".*\"urgent\":false,\"reason\":\"a question for the practice\"" out &&
	grep -q "\"kind\":\"escalation\",\"status\":\"sent\"" out &&
	test "$(state +447400123005)" = escalated
'
test_expect_success 'not understood: asked again, then handed to staff' '
	meta_text 447400123006 wamid.x1 "hmm lol" | mcr-reply >out &&
	grep -q "\"kind\":\"clarify\"" out &&
	meta_text 447400123006 wamid.x2 "qwerty" | mcr-reply >out &&
	grep -q "\"reason\":\"not understood twice\"" out
'
test_expect_success 'the patient writes first: a case is opened' '
	meta_text 447400123007 wamid.f1 "Hi can I book in for thursday after 4" |
	mcr-reply >out &&
	grep -q "\"type\":\"offer\".*\"start\":\"2026-01-08T16:" out &&
	test "$(state +447400123007)" = offered &&
	test "$(sql "select reason from case_events where state = \"replied\" and case_id = (select id from cases where caller = \"+447400123007\")")" = "the patient wrote first"
'
test_expect_success 'no reply is wanted: declined, the held slots freed' '
	meta_text 447400123007 wamid.f2 "no thanks" | mcr-reply >out &&
	test "$(state +447400123007)" = declined &&
	test "$(sql "select count(*) from slots s join cases c on c.id = s.held_by where c.caller = \"+447400123007\"")" = 0
'
test_expect_success 'receipts: delivered, then read; an older one does not go back' '
	mid=$(sql "select id from messages where case_id = 1 and step = \"first\"") &&
	meta_status wamid.MOCK1 delivered "mcr:$mid" | mcr-reply >out &&
	grep -q "^{\"type\":\"status\",\"id\":$mid,.*\"status\":\"delivered\",\"was\":\"sent\"" out &&
	meta_status wamid.MOCK1 read "mcr:$mid" | mcr-reply >/dev/null &&
	meta_status wamid.MOCK1 sent "mcr:$mid" | mcr-reply >/dev/null &&
	test "$(sql "select status from messages where id = $mid")" = read
'
test_expect_success 'a receipt settles an uncertain send' '
	ast_n=10 && ast_missed 2026-01-05 10:01:00 07400123008 >c2.csv &&
	mock_mode drop &&
	mcr-ingest c2.csv | mcr-send >/dev/null 2>&1;
	mock_mode ok &&
	test "$(state +447400123008)" = uncertain &&
	mid=$(sql "select id from messages where to_number = \"+447400123008\"") &&
	meta_status wamid.LATE sent "mcr:$mid" | mcr-reply >out &&
	test "$(sql "select status || \" \" || provider_id from messages where id = $mid")" = "sent wamid.LATE" &&
	test "$(state +447400123008)" = messaged
'
test_expect_success 'a failed receipt (not on WhatsApp) falls back to SMS' '
	ast_n=11 && ast_missed 2026-01-05 10:02:00 07400123009 >c3.csv &&
	mcr-ingest c3.csv | mcr-send >/dev/null &&
	mid=$(sql "select id from messages where to_number = \"+447400123009\"") &&
	meta_status "wamid.X$mid" failed "mcr:$mid" 131026 | mcr-reply >out &&
	grep -q "\"type\":\"status\".*\"status\":\"failed\"" out &&
	grep -q "\"channel\":\"sms\",\"provider\":\"outbox\",\"kind\":\"sms\",\"status\":\"sent\"" out &&
	grep -q "+447400123009" outbox.jsonl
'
test_expect_success 'a username without a number: no crash, a person answers' '
	printf "%s\n" "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"1\",\"changes\":[{\"field\":\"messages\",\"value\":{\"contacts\":[{\"profile\":{\"username\":\"sam\"},\"user_id\":\"US.1349120865530274\"}],\"messages\":[{\"from_user_id\":\"US.1349120865530274\",\"id\":\"wamid.b1\",\"timestamp\":\"1767607500\",\"type\":\"text\",\"text\":{\"body\":\"yes\"}}]}}]}]}" |
	mcr-reply >out &&
	grep -q "\"type\":\"escalation\".*\"number\":null.*wrote without a phone number" out &&
	test "$(sql "select count(*) from cases where user_id = \"US.1349120865530274\"")" = 1
'
test_expect_success 'an SMS reply through the outbox lists the times as numbers' '
	printf "%s\n" "MessageSid=SMin1&From=%2B447400123010&To=%2B441214960000&Body=yes+please&NumMedia=0" |
	mcr-reply >out &&
	grep -q "\"channel\":\"sms\",\"provider\":\"outbox\",\"kind\":\"offer\"" out &&
	tail -n 1 outbox.jsonl | grep -q "1) Mon 5 Jan"
'
test_expect_code 1 'a payload that is not one is reported with its line; the rest go on' '
	{ echo "{not json"; meta_text 447400123011 wamid.ok1 "yes"; echo "{\"entry\":3}"; } |
	mcr-reply >out 2>err; s=$?;
	grep -q "^mcr-reply: stdin:1: not a JSON object" err &&
	grep -q "^mcr-reply: stdin:3: no entry array" err &&
	grep -q "\"type\":\"offer\"" out &&
	exit $s
'
test_expect_success 'booked already: another time goes to staff, not a second booking' '
	meta_text 447400123012 wamid.k1 "yes" | mcr-reply >/dev/null &&
	meta_text 447400123012 wamid.k2 "1" | mcr-reply >out &&
	grep -q "\"type\":\"booking\"" out &&
	meta_text 447400123012 wamid.k3 "can I also come tomorrow at 10?" |
	mcr-reply >out &&

	grep -q "\"reason\":\"booked already, asks about another time\"" out &&
	test "$(sql "select count(*) from bookings where number = \"+447400123012\"")" = 1
'
test_expect_success 'a bare CANCEL from a booked patient cancels the booking, and the hook hears of it' '
	id=$(sql "select id from bookings where number = \"+447400123012\"") &&
	meta_text 447400123012 wamid.k4 "CANCEL" | mcr-reply >out &&
	grep -q "\"type\":\"booking\",\"id\":$id,.*\"status\":\"cancelled\"" out &&
	grep -q "\"type\":\"booking\",\"id\":$id,.*\"slot_id\":.*\"status\":\"cancelled\"}" hook.booking &&
	test "$(grep -c "\"type\":\"booking\",\"id\":$id," hook.booking)" = 2 &&
	test "$(sql "select hook from bookings where id = $id")" = ok &&
	! grep -q "\"type\":\"optout\"" out &&
	! mcr-admin optout list | grep -q "+447400123012" &&
	test "$(sql "select status from bookings where number = \"+447400123012\"")" = cancelled &&
	test "$(sql "select count(*) from slots s join bookings b on b.slot_id = s.id where b.number = \"+447400123012\" and s.booked_by is null")" = 1
'
test_expect_success 'import-slots: the practice'\''s own slots, bad rows named' '
	printf "start,end,clinician,type\n2026-01-06 09:00,2026-01-06 09:20,Dr Patel,check-up\nnonsense,x,y,z\n2026-01-06 09:20,2026-01-06 09:40,Dr Patel,check-up\n" >slots.csv &&
	mcr-admin import-slots slots.csv 2>err; test $? = 1 &&
	grep -q "slots.csv:3: .nonsense. to .x. is not a time range" err &&
	test "$(sql "select count(*) from slots where clinician = \"Dr Patel\"")" = 2 &&
	mcr-admin import-slots slots.csv 2>/dev/null;
	test "$(sql "select count(*) from slots where clinician = \"Dr Patel\"")" = 2
'
test_expect_success 'a slot picked after another patient booked it: "taken", and other times' '
	meta_text 447400123051 wamid.t1 "tomorrow at 10am please" | MCR_NOW=2026-01-05T13:00:00Z mcr-reply >out &&
	s=$(sql "select min(id) from slots where held_by = (select id from cases where caller = \"+447400123051\")") &&
	meta_text 447400123052 wamid.t2 "tomorrow at 10am please" | MCR_NOW=2026-01-05T13:20:00Z mcr-reply >out &&
	test "$(sql "select held_by from slots where id = $s")" = "$(sql "select id from cases where caller = \"+447400123052\"")" &&
	meta_button 447400123052 wamid.t3 "slot_$s" x | MCR_NOW=2026-01-05T13:21:00Z mcr-reply >out &&
	grep -q "\"type\":\"booking\"" out &&
	meta_button 447400123051 wamid.t4 "slot_$s" x | MCR_NOW=2026-01-05T13:22:00Z mcr-reply >out &&
	! grep -q "\"type\":\"booking\"" out &&
	grep -q "\"to\":\"+447400123051\".*\"kind\":\"taken\",\"status\":\"sent\"" out &&
	tail -n 1 "$MOCK_LOG" | grep -q "Sorry, that time has just been taken. We can see you at 1) "
'
test_expect_success 'a slot tapped after its hold lapsed is booked when still free; one past is not' '
	s=$(sql "select min(id) from slots where held_by = (select id from cases where caller = \"+447400123051\")") &&
	p=$(sql "select min(id) from slots where start < strftime(\"%s\", \"2026-01-05T14:00:00Z\") and booked_by is null") &&
	meta_button 447400123051 wamid.t5 "slot_$p" x | MCR_NOW=2026-01-05T14:00:00Z mcr-reply >out &&
	! grep -q "\"type\":\"booking\"" out &&
	meta_button 447400123051 wamid.t6 "slot_$s" x | MCR_NOW=2026-01-05T14:00:00Z mcr-reply >out &&
	grep -q "\"type\":\"booking\",.*\"slot_id\":$s," out &&
	test "$(sql "select booked_by from slots where id = $s")" = "$(sql "select id from cases where caller = \"+447400123051\"")"
'

test_done
