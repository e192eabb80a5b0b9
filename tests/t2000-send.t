#!/bin/sh
# mcr-send through the outbox: every decision, the wording, the claims.
. "$(dirname "$0")/lib.sh"

# Monday 5 January 2026, 10:05 in London (GMT): the practice is open.
MCR_NOW=2026-01-05T10:05:00Z
export MCR_NOW

# missed CALLER STARTED [EXTRA]: a missed_call record with no case yet
missed() {
	printf '{"type":"missed_call","id":null,"case_id":null,"caller":"%s","caller_type":"mobile","called":null,"started_at":"%s","ring_s":20,"outcome":"no_answer","why":"test","after_hours":false,"source":"t:1"%s}\n' \
	    "$1" "$2" "${3:-}"
}

# conf [LINES]: the test's config, with LINES (sections and keys) last
conf() {
	sed 's/^[[:space:]]*//' >"$MCR_CONFIG" <<-EOT
	[send]
	burst_neighbours = 0
	[outbox]
	path = $TRASH/outbox.jsonl
	[practice]
	name = Riverside Dental
	$*
	EOT
}

# state CASE: the case's state and reason
state() {
	sql "select state || ' ' || coalesce(reason, '-') from cases where id = $1"
}

test_expect_success 'an in-hours missed call gets the recovery message' '
	conf &&
	missed 07400123001 2026-01-05T10:03:00Z >in &&
	mcr-send <in >out 2>err &&
	test ! -s err &&
	grep -q "^{\"type\":\"message\",\"id\":1,\"case_id\":1,\"to\":\"+447400123001\",\"channel\":\"whatsapp\",\"provider\":\"outbox\",\"kind\":\"recovery\",\"status\":\"sent\",\"provider_id\":\"outbox:1\",\"error\":null}$" out &&
	grep -q "\"text\":\"Sorry we missed your call at Riverside Dental. Reply YES" outbox.jsonl &&
	test "$(state 1)" = "messaged -" &&
	test "$(sql "select group_concat(state, \" \") from case_events where case_id = 1")" = "new sending messaged" &&
	test "$(sql "select status || \" \" || attempts || \" \" || step from messages")" = "sent 1 first"
'
test_expect_success 'the same record again sends nothing: already messaged' '
	mcr-send <in >out &&
	grep -q "\"type\":\"skip\",\"id\":null,\"case_id\":1,.*\"reason\":\"already_messaged\"" out &&
	test "$(wc -l <outbox.jsonl)" = 1
'
test_expect_success 'a second missed call in the episode joins the case, no second message' '
	missed 07400123001 2026-01-05T10:04:00Z | mcr-send >out &&
	grep -q "\"case_id\":1,.*already_messaged" out &&
	test "$(wc -l <outbox.jsonl)" = 1
'
test_expect_success 'a second case for a caller messaged in this episode is skipped' '
	sql "insert into cases (caller, caller_type, state, opened_at, last_call_at, updated_at) values (\"+447400123001\", \"mobile\", \"new\", 1767607500, 1767607500, 0)" &&
	mcr-send -s >out &&
	grep -q "\"case_id\":2,.*\"reason\":\"already_messaged\"" out &&
	test "$(state 2)" = "skipped already_messaged" &&
	test "$(wc -l <outbox.jsonl)" = 1
'
test_expect_success 'after hours: closed now, when it opens, 111 and 999' '
	rm -f "$MCR_DB" outbox.jsonl && conf &&
	missed 07400123002 2026-01-05T19:00:00Z |
	MCR_NOW=2026-01-05T19:01:00Z mcr-send >out &&
	grep -q "\"kind\":\"after_hours\",\"status\":\"sent\"" out &&
	grep -q "closed now and open again tomorrow at 8:30am" outbox.jsonl &&
	grep -q "call NHS 111. In an emergency, call 999" outbox.jsonl
'
test_expect_success 'on Friday evening it opens on Monday' '
	missed 07400123003 2026-01-09T18:30:00Z |
	MCR_NOW=2026-01-09T18:31:00Z mcr-send >out &&
	grep -q "open again on Monday at 8:30am" outbox.jsonl
'
test_expect_success 'on a holiday morning it opens the next working day' '
	conf "[hours]
	holidays = 2026-12-25, 2026-12-28" &&
	missed 07400123004 2026-12-25T10:00:00Z |
	MCR_NOW=2026-12-25T10:01:00Z mcr-send >out &&
	grep -q "open again on Tuesday at 8:30am" outbox.jsonl
'
test_expect_success 'a returning patient is greeted by first name with the recall' '
	rm -f "$MCR_DB" outbox.jsonl && conf &&
	printf "phone,first_name,recall\n07400123005,Sarah,6-month check-up\n" >p.csv &&
	mcr-admin import-patients p.csv &&
	missed 07400123005 2026-01-05T10:00:00Z | mcr-send >out &&
	grep -q "\"kind\":\"patient\"" out &&
	grep -q "Hi Sarah, sorry we missed your call at Riverside Dental. Reply YES and we.ll find you a time for your 6-month check-up." outbox.jsonl
'
test_expect_success 'the wording follows the clinic type' '
	rm -f "$MCR_DB" outbox.jsonl &&
	conf "type = gp" &&
	missed 07400123006 2026-01-05T10:00:00Z | mcr-send >/dev/null &&
	grep -q "Please don.t send medical details here" outbox.jsonl &&
	missed 07400123007 2026-01-05T19:00:00Z |
	MCR_NOW=2026-01-05T19:00:30Z mcr-send >/dev/null &&
	grep -q "use 111.nhs.uk or call 111. In an emergency, call 999" outbox.jsonl &&
	conf "type = physio" &&
	missed 07400123008 2026-01-05T10:01:00Z | mcr-send >/dev/null &&
	grep -q "find you a session" outbox.jsonl
'
test_expect_success 'a text from the config, with its variables' '
	rm -f "$MCR_DB" outbox.jsonl &&
	conf "[template.recovery]
	text = {practice} missed you at {time}. Reply YES." &&
	missed 07400123009 2026-01-05T10:02:00Z | mcr-send >/dev/null &&
	grep -q "\"text\":\"Riverside Dental missed you at 10:02am. Reply YES.\"" outbox.jsonl
'
test_expect_success 'an unknown variable in a text stops the run (exit 2)' '
	conf "[template.recovery]
	text = Hello {nmae}" &&
	missed 07400123010 2026-01-05T10:02:00Z | mcr-send >out 2>err
	test $? = 2 && grep -q "unknown variable {nmae}" err &&
	test "$(sql "select state from cases where caller = \"+447400123010\"")" = new
'

test_expect_success 'skips: withheld, invalid, landline, staff, own, blocklisted, opted out' '
	rm -f "$MCR_DB" outbox.jsonl &&
	conf "[numbers]
	own = 01214960000
	staff = 07400123902
	blocklist = $TRASH/block" &&
	echo 07400123903 >block &&
	mcr-admin optout add 07400123904 &&
	{ missed anonymous 2026-01-05T10:00:00Z;
	  missed 12 2026-01-05T10:00:01Z;
	  missed 01214960001 2026-01-05T10:00:02Z;
	  missed 07400123902 2026-01-05T10:00:03Z;
	  missed 01214960000 2026-01-05T10:00:04Z;
	  missed 07400123903 2026-01-05T10:00:05Z;
	  missed 07400123904 2026-01-05T10:00:06Z; } >in &&
	mcr-send <in >out &&
	sed -n "s/.*\"reason\":\"\([a-z_]*\)\".*/\1/p" out >got &&
	printf "withheld\ninvalid\nlandline\nstaff\nlandline\nblocklisted\nopted_out\n" >want &&
	test_cmp want got &&
	test ! -e outbox.jsonl &&
	test "$(sql "select count(*) from cases where state = \"skipped\"")" = 7
'
test_expect_success 'a case older than max_age is stale: a backfill messages nobody' '
	rm -f "$MCR_DB" &&
	conf &&
	missed 07400123011 2026-01-05T07:59:00Z | mcr-send >out &&
	grep -q "\"reason\":\"stale\"" out &&
	conf "[send]
	max_age = 240" &&
	missed 07400123012 2026-01-05T07:59:00Z | mcr-send >out &&
	grep -q "\"status\":\"sent\"" out
'
test_expect_success 'a case resolved by a later call is skipped' '
	rm -f "$MCR_DB" outbox.jsonl && conf &&
	{ ast_missed 2026-01-05 10:00:00 07400123013;
	  printf "%s\n" "\"\",\"07400123013\",\"200\",\"from-trunk\",\"\",\"PJSIP/trunk-9\",\"PJSIP/201-9\",\"Dial\",\"\",\"2026-01-05 10:02:00\",\"2026-01-05 10:02:05\",\"2026-01-05 10:04:05\",125,120,\"ANSWERED\",\"DOCUMENTATION\",\"1767607320.9\",\"\",\"\",\"1767607320.9\",9"; } >c.csv &&
	mcr-ingest c.csv | mcr-send >out &&
	grep -q "\"reason\":\"resolved_by_call\"" out &&
	test ! -e outbox.jsonl
'
test_expect_success 'a robocall-like burst from one number is not messaged' '
	rm -f "$MCR_DB" && conf &&
	for m in 50 51 52 53 54 55 56 57; do
		ast_missed 2026-01-05 09:$m:00 07400123014
	done >b.csv &&
	mcr-ingest b.csv | mcr-send >out &&
	grep -q "\"reason\":\"robocall\"" out
'
test_expect_success 'callers from one number block within minutes are a burst' '
	rm -f "$MCR_DB" outbox.jsonl &&
	conf "[send]
	burst_neighbours = 5" &&
	for i in 1 2 3 4 5; do
		ast_missed 2026-01-05 10:0$i:00 0740012310$i
	done >n.csv &&
	mcr-ingest n.csv | mcr-send >out &&
	test "$(grep -c "\"reason\":\"robocall\"" out)" = 5 &&
	test ! -e outbox.jsonl
'
test_expect_success 'a hold-out share is marked and not messaged, the same on a rerun' '
	rm -f "$MCR_DB" outbox.jsonl &&
	conf "[send]
	holdout = 30" &&
	i=0; while [ $i -lt 40 ]; do
		missed "+4479111$(printf %05d $((i * 137)))" 2026-01-05T10:00:00Z
		i=$((i + 1))
	done >in &&
	mcr-send <in >out &&
	h=$(grep -c "\"reason\":\"holdout\"" out) &&
	s=$(grep -c "\"status\":\"sent\"" out) &&
	test $((h + s)) = 40 && test "$h" -gt 3 && test "$h" -lt 25 &&
	test "$(sql "select count(*) from cases where reason = \"holdout\"")" = "$h" &&
	mcr-send <in >out2 &&
	test "$(grep -c "\"reason\":\"holdout\"" out2)" = "$h" &&
	test "$(wc -l <outbox.jsonl)" = "$s"
'
test_expect_success 'a send delay lets a caller ring back first, then sends' '
	rm -f "$MCR_DB" outbox.jsonl &&
	conf "[send]
	delay = 2" &&
	missed 07400123015 2026-01-05T10:05:00Z | mcr-send >out &&
	grep -q "\"status\":\"sent\"" out
'
test_expect_success 'a case due beyond a minute is left for a later run' '
	conf "[send]
	delay = 300" &&
	missed 07400123016 2026-01-05T10:05:00Z | mcr-send >out &&
	test ! -s out &&
	test "$(sql "select state from cases where caller = \"+447400123016\"")" = new &&
	MCR_NOW=2026-01-05T10:10:01Z mcr-send -s >out &&
	grep -q "\"to\":\"+447400123016\".*\"status\":\"sent\"" out
'
test_expect_success 'with no stdin it sends every case due in the store' '
	rm -f "$MCR_DB" outbox.jsonl && conf &&
	{ ast_missed 2026-01-05 10:00:00 07400123017;
	  ast_missed 2026-01-05 10:01:00 07400123018; } >c.csv &&
	mcr-ingest c.csv >/dev/null &&
	mcr-send </dev/null >out &&
	test "$(grep -c "\"status\":\"sent\"" out)" = 2 &&
	mcr-send </dev/null >out && test ! -s out
'
test_expect_success 'an empty pipe, as cron gives, also sends what is due' '
	rm -f "$MCR_DB" outbox.jsonl && conf &&
	ast_missed 2026-01-05 10:00:00 07400123017 >c.csv &&
	mcr-ingest c.csv >/dev/null &&
	: | mcr-send >out &&
	grep -q "\"to\":\"+447400123017\".*\"status\":\"sent\"" out
'
test_expect_success 'records on stdin, then the store: -r acts on the records only' '
	rm -f "$MCR_DB" outbox.jsonl && conf &&
	ast_missed 2026-01-05 10:00:00 07400123017 >c.csv &&
	mcr-ingest c.csv >/dev/null &&
	missed 07400123018 2026-01-05T10:00:00Z >in &&
	mcr-send -r <in >out &&
	test "$(wc -l <out)" = 1 && grep -q "+447400123018" out &&
	mcr-send <in >out &&
	test "$(wc -l <out)" = 2 &&
	grep -q "+447400123018.*already_messaged" out &&
	grep -q "+447400123017.*\"status\":\"sent\"" out
'
test_expect_code 1 'a malformed line is reported with its number; the rest go on' '
	rm -f "$MCR_DB" outbox.jsonl && conf &&
	{ missed 07400123019 2026-01-05T10:00:00Z; echo "{not json";
	  echo "{\"type\":\"missed_call\",\"caller\":\"07400123020\"}";
	  missed 07400123021 2026-01-05T10:00:00Z; } >in &&
	mcr-send <in >out 2>err; s=$?;
	grep -q "^mcr-send: stdin:2: not a JSON object" err &&
	grep -q "^mcr-send: stdin:3: started_at: expected an RFC 3339 time" err &&
	test "$(grep -c "\"status\":\"sent\"" out)" = 2 &&
	exit $s
'
test_expect_success 'other records are ignored; unknown keys pass through' '
	rm -f "$MCR_DB" outbox.jsonl && conf &&
	{ echo "{\"type\":\"call\",\"id\":3}";
	  missed 07400123022 2026-01-05T10:00:00Z ",\"ticket\":{\"n\":7}"; } |
	mcr-send >out &&
	test "$(wc -l <out)" = 1 &&
	grep -q "\"error\":null,\"ticket\":{\"n\":7}}$" out
'
test_expect_success '-n decides and renders, and changes and sends nothing' '
	rm -f "$MCR_DB" outbox.jsonl && conf &&
	missed 07400123023 2026-01-05T10:00:00Z >in &&
	mcr-admin init && cp "$MCR_DB" before.db &&
	mcr-send -n <in >out &&
	grep -q "\"kind\":\"recovery\",\"status\":\"dry_run\"" out &&
	test ! -e outbox.jsonl &&
	test "$(sqlite3 "$MCR_DB" "select count(*) from cases")" = 0
'
# (the run clock starts at MCR_NOW and goes on in real time: a slow run,
# under valgrind, may take a second or more)
test_expect_success 'the store has the episode: every transition with its time' '
	mcr-send <in >/dev/null &&
	test "$(sql "select group_concat(state, \" \") from (select state from case_events order by rowid)")" = \
	    "new sending messaged" &&
	test "$(sql "select min(at) from case_events")" = 1767607500 &&
	test "$(sql "select count(*) from case_events where at > 1767607500 + 300")" = 0 &&
	test "$(sql "select count(*) from case_events a join case_events b on b.rowid > a.rowid where b.at < a.at")" = 0
'
test_expect_success 'usage: -h and unknown options exit 2' '
	mcr-send -h 2>err; test $? = 2 && grep -q "^usage: mcr-send" err &&
	mcr-send -x 2>/dev/null; test $? = 2 &&
	mcr-send extra 2>/dev/null; test $? = 2
'
test_expect_success 'a bad config key exits 2 with file:line' '
	printf "[send]\nholdout = 80\n" >bad.conf &&
	mcr-send -c bad.conf </dev/null 2>err; test $? = 2 &&
	grep -q "bad.conf:2: holdout: bad value" err
'

test_done
