#!/bin/sh
# mcr-ingest on the project's own fixtures, one per format.  Each expected
# figure is worked out from the rows in the comment above its test.
. "$(dirname "$0")/lib.sh"

# outcomes of inbound calls as "outcome count" lines, sorted
outcomes() {
	sql "select outcome || ' ' || count(*) from calls where direction = 'in'
	    group by outcome order by outcome"
}

# asterisk-21.csv, Monday 2026-01-05 (GMT), default hours Mon-Fri 08:30-18:00.
# 16 rows, 14 calls (the ring group 09:10 and the voicemail 09:20 are two
# rows each, sharing a linkedid).  12 in, 1 out (201 -> mobile, 11:00),
# 1 internal (201 -> 202).  Inbound outcomes:
#   answered 2 (09:00 Dial PJSIP/201 ANSWERED billsec 60; 11:40 likewise),
#   no_answer 4 (09:10 ring group: both rows NO ANSWER, one to a Local/
#     helper; 10:10 withheld; 10:20 landline; 10:30 Bob again),
#   voicemail 1 (09:20: Dial NO ANSWER then VoiceMail ANSWERED),
#   busy 1 (09:30 BUSY after 2 s: busy is never a short abandon),
#   abandoned_ivr 1 (09:40 BackGround ANSWERED, no dstchannel),
#   abandoned_queue 1 (09:50 Queue ANSWERED, no member bridged),
#   short_abandon 1 (10:00 NO ANSWER after 3 s < 5 s),
#   out_of_hours 1 (19:00 Playback: the practice is closed).
# Missed: 12 - 2 answered - 1 short abandon = 9 missed_call records.
# Cases: 09:10 and 10:30 from the same mobile share one (cooldown 24 h);
# 09:20 is resolved by the answered call back at 11:00; 09:30 is resolved
# when the same caller gets through at 11:40; 10:10 skipped (withheld),
# 10:20 skipped (landline); 09:40, 09:50 and 19:00 stay new: 8 cases.
test_expect_success 'asterisk: calls, outcomes, missed records' '
	MCR_NOW=2026-01-05T20:00:00Z mcr-ingest "$TESTDATA/asterisk-21.csv" >out &&
	test "$(wc -l <out)" = 9 &&
	test "$(grep -c "\"type\":\"missed_call\"" out)" = 9 &&
	test "$(sql "select count(*) from calls")" = 14 &&
	test "$(sql "select direction || count(*) from calls group by direction
	    order by direction")" = "$(printf "in12\ninternal1\nout1")" &&
	outcomes >got &&
	cat >want <<-\EOT &&
	abandoned_ivr 1
	abandoned_queue 1
	answered 2
	busy 1
	no_answer 4
	out_of_hours 1
	short_abandon 1
	voicemail 1
	EOT
	test_cmp want got
'

test_expect_success 'asterisk: cases opened, joined, resolved, skipped' '
	sql "select state || coalesce(\" \" || reason, \"\") || \" \" || calls
	    from cases order by id" >got &&
	cat >want <<-\EOT &&
	new 2
	resolved_by_call the practice called back and was answered 1
	resolved_by_call a later call from the caller was answered 1
	new 1
	new 1
	skipped withheld 1
	skipped landline 1
	new 1
	EOT
	test_cmp want got &&
	test "$(sql "select count(*) from case_events")" = 10
'

test_expect_success 'asterisk: the record names the deciding row and why' '
	grep "\"caller\":\"+447400123003\"" out >vm &&
	grep -q "\"outcome\":\"voicemail\"" vm &&
	grep -q "\"source\":\"[^\"]*asterisk-21.csv:5\"" vm &&
	grep -q "lastapp VoiceMail" vm &&
	grep "+447400123008" out | grep -q "\"after_hours\":true" &&
	grep "+447400123008" out | grep -q "practice was closed (Mon 19:00)"
'

test_expect_success 'asterisk: the answered call records the time to answer' '
	test "$(sql "select ring_s || \" \" || talk_s from calls
	    where caller = \"+447400123001\"")" = "8 60"
'

# freepbx.csv, Tuesday 2026-01-06: header + 5 rows, one call each.
# 4 in (did set): 09:00 answered (billsec 60), 09:30 NO ANSWER -> no_answer,
# 09:45 VoiceMail from a landline -> voicemail (case skipped: landline),
# 07:50 NO ANSWER before opening -> out_of_hours.  1 out: 201 calls the
# 09:30 caller back at 10:00, answered: that case is resolved.
test_expect_success 'freepbx: header export' '
	rm -f "$MCR_DB" &&
	MCR_NOW=2026-01-06T12:00:00Z mcr-ingest "$TESTDATA/freepbx.csv" >out &&
	test "$(wc -l <out)" = 3 &&
	outcomes >got &&
	printf "answered 1\nno_answer 1\nout_of_hours 1\nvoicemail 1\n" >want &&
	test_cmp want got &&
	test "$(sql "select count(*) from calls where direction = \"out\"")" = 1 &&
	sql "select state || coalesce(\" \" || reason, \"\") from cases
	    order by id" >got &&
	printf "%s\n" new "resolved_by_call the practice called back and was answered" \
	    "skipped landline" >want &&
	test_cmp want got
'

# freeswitch.csv: 8 rows, 6 calls.  a1 and its b-leg b1 (joined through
# bleg_uuid) are one answered call; a3 is joined by its voicemail leg vm3
# (destination "voicemail") -> voicemail; a2 ORIGINATOR_CANCEL after 25 s
# -> no_answer; a4 USER_BUSY -> busy.  Context "public" makes them inbound.
# a5 1001 -> 1002 is internal; a6 1001 -> the a2 caller is out and
# answered (bridged), resolving the a2 case.  Missed 3.
test_expect_success 'freeswitch: legs joined through bleg_uuid' '
	rm -f "$MCR_DB" &&
	MCR_NOW=2026-01-06T12:00:00Z mcr-ingest "$TESTDATA/freeswitch.csv" >out &&
	test "$(wc -l <out)" = 3 &&
	test "$(sql "select count(*) from calls")" = 6 &&
	outcomes >got &&
	printf "answered 1\nbusy 1\nno_answer 1\nvoicemail 1\n" >want &&
	test_cmp want got &&
	test "$(sql "select group_concat(direction) from (select direction
	    from calls where direction != \"in\" order by direction)")" = "internal,out" &&
	test "$(sql "select state from cases where caller = \"+447400123202\"")" = resolved_by_call
'

# 3cx.csv (BOM, CRLF): 6 calls.  Call 1 answered (final-dn 201);
# Call 2 time-answered empty -> no_answer; Call 3 answered by the queue,
# TerminatedBySrc, final-dn empty, External -> abandoned_queue; Call 4
# RouteBusy -> busy; Call 5 Ext.201 -> the Call 2 caller (to-type External)
# is out and answered; Call 6 Ext.201 -> Ext.202 internal.  Missed 3.
test_expect_success '3cx: BOM, CRLF, queue abandon, callback' '
	rm -f "$MCR_DB" &&
	MCR_NOW=2026-01-06T12:00:00Z mcr-ingest "$TESTDATA/3cx.csv" >out &&
	test "$(wc -l <out)" = 3 &&
	outcomes >got &&
	printf "abandoned_queue 1\nanswered 1\nbusy 1\nno_answer 1\n" >want &&
	test_cmp want got &&
	test "$(sql "select caller || \">\" || called from calls
	    where direction = \"out\"")" = "201>+447400123302" &&
	test "$(sql "select state from cases where caller = \"+447400123302\"")" = resolved_by_call
'

# twilio.csv, newest first: CA1 (+ child CA1a completed) answered; CA2
# (child CA2a no-answer) no_answer; CA3 completed with no child: TwiML
# answered, nobody else -> abandoned_ivr; CA4 busy; CA5 outbound-api to the
# CA2 caller, completed -> out, resolves that case.  Missed 3.
test_expect_success 'twilio: parent and child legs, newest first' '
	rm -f "$MCR_DB" &&
	MCR_NOW=2026-01-06T12:00:00Z mcr-ingest "$TESTDATA/twilio.csv" >out &&
	test "$(wc -l <out)" = 3 &&
	test "$(sql "select count(*) from calls")" = 5 &&
	outcomes >got &&
	printf "abandoned_ivr 1\nanswered 1\nbusy 1\nno_answer 1\n" >want &&
	test_cmp want got &&
	test "$(sql "select state from cases where caller = \"+447400123402\"")" = resolved_by_call
'

# queue_log: four callers enter the queue on 2026-01-06 from 09:00 UTC.
# .1 CONNECT after 20 s -> answered; .3 ABANDON after 45 s ->
# abandoned_queue; .4 EXITWITHTIMEOUT after 300 s -> no_answer; .5 has only
# ENTERQUEUE.  At 09:40 it may still be waiting: left undecided; at 12:00
# it is over an hour old and is decided abandoned_queue ("no exit event").
test_expect_success 'asterisk-queue: a call still in the queue waits' '
	rm -f "$MCR_DB" &&
	MCR_NOW=2026-01-06T09:40:00Z mcr-ingest "$TESTDATA/queue_log" >out &&
	test "$(wc -l <out)" = 2 &&
	test "$(sql "select count(*) from calls where outcome is null")" = 1 &&
	MCR_NOW=2026-01-06T12:00:00Z mcr-ingest "$TESTDATA/queue_log" >out &&
	test "$(wc -l <out)" = 1 &&
	grep -q "no exit event" out &&
	outcomes >got &&
	printf "abandoned_queue 2\nanswered 1\nno_answer 1\n" >want &&
	test_cmp want got
'

# calls.jsonl: j1 answered_at set -> answered; j2 outcome voicemail, an
# unknown key passes; j3 withheld caller, no_answer, zoneless times read in
# Europe/London (GMT in January).  Missed 2; the withheld case is skipped.
test_expect_success 'jsonl: normalised calls' '
	rm -f "$MCR_DB" &&
	MCR_NOW=2026-01-06T12:00:00Z mcr-ingest -F jsonl "$TESTDATA/calls.jsonl" >out &&
	test "$(wc -l <out)" = 2 &&
	outcomes >got &&
	printf "answered 1\nno_answer 1\nvoicemail 1\n" >want &&
	test_cmp want got &&
	test "$(sql "select state || \" \" || reason from cases where caller is null")" = "skipped withheld" &&
	grep -q "\"caller\":\"+447400123602\"" out
'

# A call with no end time has no known ring time: never a short abandon.
test_expect_success 'jsonl: no end time, no ring time' '
	rm -f "$MCR_DB" &&
	printf "%s\n" "{\"id\":\"n1\",\"direction\":\"in\",\"caller\":\"+447400123603\",\"started_at\":\"2026-01-06T09:00:00Z\"}" >noend.jsonl &&
	MCR_NOW=2026-01-06T12:00:00Z mcr-ingest -a noend.jsonl >out &&
	grep -q "\"outcome\":\"no_answer\"" out &&
	grep -q "\"ring_s\":null" out &&
	grep -q "\"ended_at\":null" out &&
	grep -q "\"called\":null" out
'

test_expect_success 'jsonl: -a output reads back as the same calls' '
	MCR_NOW=2026-01-06T12:00:00Z mcr-ingest -a -d first.db "$TESTDATA/asterisk-21.csv" >calls.out &&
	grep "\"type\":\"call\"" calls.out >calls.jsonl &&
	MCR_NOW=2026-01-06T12:00:00Z mcr-ingest -d second.db calls.jsonl >missed &&
	test "$(wc -l <missed)" = 9 &&
	sqlite3 first.db "select outcome, count(*) from calls group by 1" >a &&
	sqlite3 second.db "select outcome, count(*) from calls group by 1" >b &&
	test_cmp a b
'

test_expect_success 'detection picks each format without -F' '
	for f in asterisk-21.csv freepbx.csv freeswitch.csv 3cx.csv twilio.csv \
	    queue_log calls.jsonl; do
		rm -f "$MCR_DB" &&
		mcr-ingest "$TESTDATA/$f" >/dev/null || return 1
	done
'
test_done
