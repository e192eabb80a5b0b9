#!/bin/sh
# mcr-reply -l killed (SIGKILL) again and again while patients' webhooks
# come in, retried by the "provider" until answered 200: every message is
# handled once, every patient answered once (or the answer marked
# uncertain for staff), every booking made and its hook run, nothing sent
# twice; the store intact.
. "$(dirname "$0")/lib.sh"

# under valgrind the listener is slow to start and to answer: fewer
# patients, and longer lives between the kills
if [ -n "${VALGRIND:-}" ]; then
	N=${KILL_PATIENTS:-30} LIFE="0.5 + rand() * 1.5"
else
	N=${KILL_PATIENTS:-120} LIFE="0.02 + rand() * 0.18"
fi
MCR_NOW=2026-01-05T10:05:00Z
MCR_META_TOKEN=tok
MCR_META_APP_SECRET=app-secret
export MCR_NOW MCR_META_TOKEN MCR_META_APP_SECRET
mock_start || exit 1

cat >hook <<EOT
#!/bin/sh
cat >>"$TRASH/hook.out"
EOT
chmod +x hook
meta_config <<EOT
[slots]
offer = 1
lead = 0
[reply]
booking_hook = $TRASH/hook
EOT
mcr-admin init
# a slot for each patient
awk -v n="$N" 'BEGIN {
	print "start,end"
	for (i = 0; i < n; i++) {
		d = 6 + int(i / 16); m = 9 * 60 + (i % 16) * 30
		printf "2026-01-%02d %02d:%02d,2026-01-%02d %02d:%02d\n",
		    d, m / 60, m % 60, d, (m + 30) / 60, (m + 30) % 60
	}
}' >slots.csv
mcr-admin import-slots slots.csv

num() {	# num I: the Ith patient's number, without the plus
	printf '447400200%03d' "$1"
}
text() {	# text NUMBER ID TEXT
	printf '{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"contacts":[{"wa_id":"%s"}],"messages":[{"from":"%s","id":"%s","timestamp":"1767607500","type":"text","text":{"body":"%s"}}]}}]}]}\n' \
	    "$1" "$1" "$2" "$3"
}
button() {	# button NUMBER ID BUTTON
	printf '{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"contacts":[{"wa_id":"%s"}],"messages":[{"from":"%s","id":"%s","timestamp":"1767607560","type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"%s","title":"x"}}}]}}]}]}\n' \
	    "$1" "$1" "$2" "$3"
}
i=0
while [ $i -lt $N ]; do
	text "$(num $i)" "wamid.yes$i" "yes please"
	i=$((i + 1))
done >yes.jsonl

# listen: the listener up, on a new port
listen() {
	rm -f port
	mcr-reply -l 127.0.0.1:0 -p port >>listen.out 2>>listen.err &
	LPID=$!
	w=0
	while [ ! -s port ]; do
		w=$((w + 1))
		[ $w -gt 600 ] && { echo "mcr-reply did not start" >&2; return 1; }
		sleep 0.05
	done
}
# drain: a listener that is not killed finishes the inbox, then stops
drain() {
	listen || return 1
	w=0
	while [ "$(sql "select count(*) from inbox where done = 0") $(sql "select count(*) from messages where status = 'queued'")" != "0 0" ]; do
		w=$((w + 1))
		[ $w -gt 1200 ] && { echo "the inbox was not drained" >&2; break; }
		sleep 0.05
	done
	kill -TERM $LPID
	wait $LPID
}
# storm FILE SEED: FILE's webhooks, retried until answered, while the
# listener is killed at random moments (20-200 ms after it is up, under
# valgrind 0.5-2 s), each reply taking the server 20 ms
storm() {
	webhook-load -P port -R -r 50 -s "$MCR_META_APP_SECRET" -f "$1" \
	    -o "$1.sent" &
	cpid=$!
	k=0
	while kill -0 $cpid 2>/dev/null; do
		listen || break
		sleep "$(awk -v s=$(($2 + k)) "BEGIN { srand(s); printf \"%.3f\", $LIFE }")"
		kill -KILL $LPID 2>/dev/null
		wait $LPID 2>/dev/null
		k=$((k + 1))
	done
	wait $cpid
	crc=$?
	echo $k >"$1.kills"
	return $crc
}
# per PATIENT-EXPR: "number count" for each patient, of what the SQL gives
reqs() {	# requests at the server per number
	mock_req "value->>'to'" | sort | uniq -c | awk '{ print $2, $1 }'
}

test_expect_success "$N patients say yes while the listener is killed" '
	mock_mode slow:20 &&
	storm yes.jsonl 1 &&
	drain &&
	test "$(awk "\$3 == 200" yes.jsonl.sent | wc -l)" = "$N" &&
	test "$(cat yes.jsonl.kills)" -gt 0
'
echo "# $(cat yes.jsonl.kills) kills while $N patients said yes"
test_expect_success 'each message handled once: one inbound line per patient' '
	test "$(sql "select count(distinct case_id) from transcript where dir = \"in\"")" = "$N" &&
	test "$(sql "select count(*) from transcript where dir = \"in\"")" = "$N" &&
	test "$(sql "select count(*) from cases")" = "$N"
'
test_expect_success 'each patient offered once: reached once, or the offer uncertain' '
	test -z "$(reqs | awk "\$2 > 1")" &&
	reqs | cut -d" " -f1 | sort >reached &&
	sql "select to_number from messages where status in (\"sent\", \"delivered\", \"read\") order by 1" >sent.list &&
	test "$(comm -13 reached sent.list | wc -l)" = 0 &&
	test "$(sql "select count(*) from messages where status in (\"sent\", \"sending\", \"uncertain\")")" = "$N" &&
	test "$(sql "select count(*) from messages where status not in (\"sent\", \"sending\", \"uncertain\")")" = 0 &&
	test "$(sql "select count(*) from slots where held_by is not null")" = "$N"
'
sed 's/^/# /' <<EOF
$(wc -l <reached) offers reached the server, $(sql "select count(*) from messages where status in ('sending', 'uncertain')") uncertain
EOF

# each patient taps the slot they were offered
sql "select k.caller, s.id from slots s join cases k on k.id = s.held_by order by k.caller" |
while IFS='|' read -r n id; do
	button "${n#+}" "wamid.tap$id" "slot_$id"
done >tap.jsonl

test_expect_success "$N patients tap their slot while the listener is killed" '
	test "$(wc -l <tap.jsonl)" = "$N" &&
	storm tap.jsonl 1000 &&
	drain &&
	test "$(awk "\$3 == 200" tap.jsonl.sent | wc -l)" = "$N"
'
echo "# $(cat tap.jsonl.kills) kills while $N patients booked"
test_expect_success 'every booking made, once, each slot to one patient' '
	test "$(sql "select count(*) from bookings where status = \"booked\"")" = "$N" &&
	test "$(sql "select count(distinct case_id) from bookings")" = "$N" &&
	test "$(sql "select count(distinct slot_id) from bookings")" = "$N" &&
	test "$(sql "select count(*) from cases where state = \"booked\"")" = "$N" &&
	test "$(sql "select count(*) from transcript where dir = \"in\"")" = $((2 * N))
'
test_expect_success 'each confirmation sent once, or marked uncertain' '
	test -z "$(reqs | awk "\$2 > 2")" &&
	test "$(sql "select count(*) from messages where status in (\"sent\", \"sending\", \"uncertain\")")" = $((2 * N)) &&
	r=$(wc -l <"$MOCK_LOG") &&
	test "$(sql "select count(*) from messages where status = \"sent\"")" -le "$r" &&
	test "$(sql "select count(*) from messages where status in (\"sent\", \"sending\", \"uncertain\")")" -ge "$r"
'
test_expect_success 'the booking hook ran for every booking' '
	sql "select id from bookings order by 1" >booked &&
	sed -n "s/.*\"type\":\"booking\",\"id\":\([0-9]*\),.*/\1/p" hook.out |
	    sort -n | uniq >hooked &&
	test_cmp booked hooked &&
	test "$(sql "select count(*) from bookings where hook is null or hook like \"pending %\"")" = 0
'
test_expect_success 'the store is intact' '
	test "$(sql "PRAGMA integrity_check")" = ok
'
test_expect_success 'mcr-send marks what a killed listener left mid-request uncertain' '
	mcr-send -s >out 2>err; rc=$?
	test $rc = 0 || test $rc = 1 &&
	test "$(sql "select count(*) from messages where status = \"sending\"")" = 0
'

test_done
