#!/bin/sh
#
# mcr-ingest on the four real exports in $SHARED/reference/cdr: calls,
# directions, outcomes and missed calls, each figure worked out by hand
# from the rows (line numbers below are lines of the file concerned).
# The rules: cdr-formats.md sections 0-5, lib/cdr.c, decide() in
# lib/ingest.c; short_abandon is the default 5 s, voicemail counts as
# missed, short abandons do not.

. "$(dirname "$0")/lib.sh"

CDR=$SHARED/reference/cdr

# "direction|calls", one line a direction.
directions() {
	sql "SELECT direction, count(*) FROM calls GROUP BY direction
	    ORDER BY direction"
}

# "outcome|calls" of the calls in direction $1.
outcomes() {
	sql "SELECT outcome, count(*) FROM calls WHERE direction = '$1'
	    GROUP BY outcome ORDER BY outcome"
}

# missed_calls OUT N: the store and stdout OUT agree on N missed calls,
# all of them inbound, and stdout holds nothing else.
missed_calls() {
	test "$(sql "SELECT count(*) FROM calls WHERE missed = 1")" = "$2" &&
	test "$(sql "SELECT count(*) FROM calls WHERE missed = 1 AND
	    direction <> 'in'")" = 0 &&
	test "$(grep -c '^{"type":"missed_call",' "$1")" = "$2" &&
	test "$(wc -l <"$1")" -eq "$2"
}

# Every day open round the clock: no call is out_of_hours.
allday() {
	for d in mon tue wed thu fri sat sun; do
		echo "$d = 00:00-24:00"
	done
}

#
# Asterisk cdr_csv Master.csv (mineevburyat): 84 rows of 21 columns, a
# stadium's lines in Buryatia.  The times are UTC: the first row starts
# "2024-01-27 15:07:24" and its uniqueid is 1706368044, which is
# 2024-01-27T15:07:24Z.  The trunk context is stadion-pstn (211553 and
# 211474 are the DDIs dialled); the extensions are 3 digits (SIP/301,
# SIP/200, 154@stadionpbx).  It is a weekend (Sat 27 and Sun 28 January):
# opening hours are every day, all day.
#
# Grouping: the last column is the sequence (an integer), so the one
# before it, linkedid, is the group key: 36 distinct linkedids, 36 calls.
# Direction: every call has a row on a SIP/ (not Local/) channel in
# context stadion-pstn, so all 36 are in.
#
# answered 24: a Dial row ANSWERED with billsec > 0 and a dstchannel that
#   is SIP/..., not Local/...: lines 26, 31, 38, 39, 42, 43, 45, 48, 49,
#   51, 53, 55, 57, 59, 61, 67, 70, 71, 73, 75, 78, 79, 81, 84.  The
#   NO ANSWER and ANSWERED-with-billsec-0 legs of those calls (the ring
#   group through Local/ch1..ch3, the other member) do not outrank them.
# abandoned_ivr 6: the calls of one row, lastapp Hangup, ANSWERED,
#   dstchannel empty: lines 1, 2, 3, 21, 32, 33 (27, 27, 11, 10, 11, 11 s
#   from start to end: none under 5 s).
# no_answer 5: every bridging row is a Dial with NO ANSWER:
#   1706369600.6 (lines 4-6: two Dial NO ANSWER outrank the Hangup row 6;
#   60 s), 1706372196.12 (lines 7-13, the Local/ ring group; 40 s),
#   1706401101.30 (lines 14-20; 23 s), mainserverdss-1706430495.50
#   (lines 63-64; 8 s), mainserverdss-1706430532.55 (lines 65-66; 8 s).
# busy 1: line 83, disposition BUSY (0 s, but busy is never a short
#   abandon).
# missed 12: 6 + 5 + 1, every inbound call not answered.
#
AST=asterisk-cdr_csv-Master.csv__mineevburyat-dj-asterisk-cdr.csv
if [ -f "$CDR/$AST" ]; then
	MCR_DB=$TRASH/asterisk.db
	cat >"$MCR_CONFIG" <<EOF
[practice]
region = RU
timezone = Asia/Irkutsk
[hours]
$(allday)
[numbers]
extension_digits = 3
[ingest]
format = asterisk
timezone = UTC
inbound_contexts = stadion-pstn
EOF
	test_expect_success 'asterisk: ingest the mineevburyat Master.csv' '
		mcr-ingest "$CDR/$AST" >asterisk.out
	'
	test_expect_success 'asterisk: 36 calls, all inbound' '
		test "$(sql "SELECT count(*) FROM calls")" = 36 &&
		echo "in|36" >expect &&
		directions >actual &&
		test_cmp expect actual
	'
	test_expect_success 'asterisk: times read as UTC, as the uniqueids say' '
		echo "1706368044|1706445411" >expect &&
		sql "SELECT min(started_at), max(started_at) FROM calls" \
		    >actual &&
		test_cmp expect actual
	'
	test_expect_success 'asterisk: inbound outcomes' '
		cat >expect <<-\EOF &&
		abandoned_ivr|6
		answered|24
		busy|1
		no_answer|5
		EOF
		outcomes in >actual &&
		test_cmp expect actual
	'
	test_expect_success 'asterisk: 12 missed calls, in the store and on stdout' '
		missed_calls asterisk.out 12
	'
else
	test_skip "asterisk: $CDR/$AST not found"
fi

#
# Asterisk queue_log (altanai): 10 lines.  Lines 1-6 and 10 are
# housekeeping (callid NONE or CLI): no call.  The queue_log names the
# queue where the other formats name a dialplan context, and these queues
# take the practice's incoming calls: inbound_contexts lists them (the
# caller, 7000, would otherwise look like an extension).  Open all day.
#
# Grouping by callid: 2 calls, both in.
# 1596512941.163: ENTERQUEUE (line 7), ABANDON after a wait of 68 s
#   (line 8): abandoned_queue; 68 s is not a short abandon.
# 1596513054.164: ENTERQUEUE (line 9) and nothing more.  It entered the
#   queue on 2020-08-04, far more than queue_wait (1 h) before MCR_NOW:
#   the call was lost from the log, abandoned_queue ("no exit event").
#   How long the caller waited is not known (the log says only when the
#   call came in, not when it ended), so it cannot be called a short
#   abandon: it stays abandoned_queue, and missed.
# missed 2.
#
QL=asterisk-queue_log__altanai-asteriskexamples.log
if [ -f "$CDR/$QL" ]; then
	MCR_DB=$TRASH/queue.db
	cat >"$MCR_CONFIG" <<EOF
[practice]
region = IN
timezone = Asia/Kolkata
[hours]
$(allday)
[ingest]
format = asterisk-queue
inbound_contexts = support, sales
EOF
	test_expect_success 'queue_log: ingest the altanai queue_log' '
		mcr-ingest "$CDR/$QL" >queue.out
	'
	test_expect_success 'queue_log: 2 calls, both inbound, none undecided' '
		echo "in|2" >expect &&
		directions >actual &&
		test_cmp expect actual &&
		test "$(sql "SELECT count(*) FROM calls
		    WHERE outcome IS NULL")" = 0
	'
	test_expect_success 'queue_log: inbound outcomes' '
		echo "abandoned_queue|2" >expect &&
		outcomes in >actual &&
		test_cmp expect actual
	'
	test_expect_success 'queue_log: 2 missed calls, in the store and on stdout' '
		missed_calls queue.out 2
	'
else
	test_skip "queue_log: $CDR/$QL not found"
fi

#
# FreeSWITCH mod_cdr_csv, "example" template (amitsrepo): 333 rows of 15
# columns, a test switch with the vanilla dialplan (contexts public and
# default), extensions of 4 digits (1000-1009, 1100), numbers dialled as
# in India (region IN, local time Asia/Kolkata).  Open all day.
#
# Grouping: the 333 uuids are distinct; one bleg_uuid (line 29,
# 7b8fcd87-...) is the uuid of line 30, so lines 29 and 30 are one call:
# 332 calls.
# Direction:
#   in 195: context public (187 rows, lines 78-262 and 318-319, callers
#     1009, abc123 and 1004), plus the 8 rows of context default whose
#     caller is 0000000000 (the switch's own originate; neither an
#     extension nor a valid number): lines 63, 66, 69, 72, 75, 275, 300,
#     321.
#   out 6: caller an extension, called 918005551212, a valid Indian
#     mobile (+91 80055 51212): lines 53, 55, 56, 57, 58, 60.
#   internal 131: the other 146 - 8 - 6 = 132 rows of context default,
#     lines 29 and 30 being one call.  Each caller is an extension; each
#     called party is an extension, voicemail, *, or a number that is not
#     valid (8192324, 81932324, 98192324, 9018005551212, 1234*256, 433323,
#     819232).
# Inbound outcomes:
#   short_abandon 187: the public rows, hangup_cause NORMAL_CLEARING,
#     answer_stamp empty, end_stamp = start_stamp (0 s): not answered,
#     over at once (a SIP scanner trying +441134900292 with every
#     international prefix).
#   abandoned_ivr 7: answer_stamp set, bleg_uuid empty: lines 63 (97 s
#     from start to end), 66 (113 s), 69 (81 s), 72 (10 s), 75 (55 s),
#     300 (13 s) and 321 (INCOMPATIBLE_DESTINATION after the answer;
#     19:56:33 to 19:56:38, 5 s, which is not under 5 s).
#   failed 1: line 275, NORMAL_TEMPORARY_FAILURE, never answered.
#   missed 8: 7 + 1.
# Outbound outcomes: failed 3 (INVALID_GATEWAY, lines 56, 57, 60),
#   no_answer 3 (line 53 NORMAL_CLEARING, lines 55 and 58
#   ORIGINATOR_CANCEL, all unanswered).
# Internal outcomes:
#   voicemail 19: destination_number voicemail, lines 1, 42, 43, 46, 61,
#     64, 67, 77, 263, 265, 270, 272, 274, 297, 302, 306, 316, 329, 331.
#   answered 31: answer_stamp and bleg_uuid set, billsec > 0: lines 2, 6,
#     10, 16, 17, 22, 23, 24, 28, 29 (with 30), 41, 44, 45, 62, 65, 68,
#     76, 264, 266, 269, 271, 273, 296, 301, 305, 311, 312, 317, 330, 332,
#     333.
#   abandoned_ivr 17: answer_stamp set, bleg_uuid empty (9196, 9664,
#     5000, 3000, 4000, ...): lines 18-21, 25-27, 31-33, 35, 37-39, 47,
#     70, 73.
#   no_answer 64: the other 131 - 19 - 31 - 17 internal calls, all
#     unanswered ORIGINATOR_CANCEL, NORMAL_CLEARING or
#     RECOVERY_ON_TIMER_EXPIRE.
#
FS=freeswitch-mod_cdr_csv-Master.csv__amitsrepo-FreeSwitch_Configuration.csv
if [ -f "$CDR/$FS" ]; then
	MCR_DB=$TRASH/freeswitch.db
	cat >"$MCR_CONFIG" <<EOF
[practice]
region = IN
timezone = Asia/Kolkata
[hours]
$(allday)
[numbers]
extension_digits = 4
[ingest]
format = freeswitch
EOF
	test_expect_success 'freeswitch: ingest the amitsrepo Master.csv' '
		mcr-ingest "$CDR/$FS" >freeswitch.out
	'
	test_expect_success 'freeswitch: 332 calls by direction' '
		test "$(sql "SELECT count(*) FROM calls")" = 332 &&
		cat >expect <<-\EOF &&
		in|195
		internal|131
		out|6
		EOF
		directions >actual &&
		test_cmp expect actual
	'
	test_expect_success 'freeswitch: inbound outcomes' '
		cat >expect <<-\EOF &&
		abandoned_ivr|7
		failed|1
		short_abandon|187
		EOF
		outcomes in >actual &&
		test_cmp expect actual
	'
	test_expect_success 'freeswitch: outbound and internal outcomes' '
		cat >expect <<-\EOF &&
		failed|3
		no_answer|3
		EOF
		outcomes out >actual &&
		test_cmp expect actual &&
		cat >expect <<-\EOF &&
		abandoned_ivr|17
		answered|31
		no_answer|64
		voicemail|19
		EOF
		outcomes internal >actual &&
		test_cmp expect actual
	'
	test_expect_success 'freeswitch: 8 missed calls, in the store and on stdout' '
		missed_calls freeswitch.out 8
	'
else
	test_skip "freeswitch: $CDR/$FS not found"
fi

#
# 3CX CDR service log (dorel14): 1404 rows of 27 fields, a French office,
# 4 to 11 May 2020.  The times are local: calls run 08:00-19:59 with a
# dip at 12:00-13:59 and none on Friday 8 May (a public holiday), which
# UTC times would not show.  Realistic hours, to test out_of_hours:
# Monday to Friday 08:00-18:00, closed at the weekend and on 1 and 8 May.
#
# Grouping by historyid: the 1404 "Call N" are distinct, 1404 calls.
# The system's own calls (from-no MakeCall or PlayFile, marked External:
# lines 74, 99, 103, 238, 359, 384, 600, 708, 1145, 1298-1305, 1307, 18 in
# all) are internal, not patients.  The figures below first count them as
# inbound, then move them: answered 3 (74, 99, 103), failed 14 (the 13
# NoRouteExists and 384 Failed) and line 600, which as an internal call
# counts as answered (time-answered set; the queue rule is for external
# callers only, and out-of-hours for inbound calls only).
# Direction from from-type and to-type: External->Internal 394 and
# External->External 50: in 444; Internal->External: out 576;
# Internal->Internal: internal 384.
# Inbound outcomes:
#   failed 14: reason-terminated NoRouteExists, 13 rows (from-no MakeCall,
#     lines 238, 359, 708, 1145, 1298-1305, 1307), and Failed, line 384.
#   answered 334: time-answered set and reason-terminated
#     TerminatedByDst (162 rows to an internal DN with final-dn set, 2
#     without, 22 to EndCall), or TerminatedBySrc with final-dn set (147),
#     or Failed_Cancelled with final-dn 124 (line 103).
#   The 96 others are TerminatedBySrc, time-answered set, final-dn empty,
#   from-no not Ext.*: a queue or IVR answered and no agent took the call
#   (67 to the DNs 610, 611, 612 and 615, 28 to EndCall, and line 600
#   from PlayFile to Ext.112).  Of these:
#   out_of_hours 3: lines 289 and 290 (Monday 19:14:58 and 19:18:40) and
#     600 (Wednesday 18:00:37, just after closing).
#   abandoned_queue 27: 5 s or more from time-start to time-end: lines 84,
#     104, 196, 298, 371, 457, 485, 524, 580, 629, 652, 679, 744, 747, 759,
#     800, 896, 913, 919, 944, 981, 1023, 1158, 1249, 1253, 1363, 1380
#     (196, 744, 747, 759, 919 and 1380 are exactly 5 s).
#   short_abandon 66: the other 96 - 3 - 27, under 5 s (0 to 4 s).
#   missed 44: 14 + 3 + 27.
# Without the 18 system calls: in 426 (answered 331, short_abandon 66,
#   abandoned_queue 27, out_of_hours 2), missed 29 (27 + 2); internal 402
#   (answered 353 + 4, failed 1 + 14, busy 1, no_answer 29).
# Outbound outcomes: failed 91 (Failed 88, NoRouteExists 3, never
#   answered), answered 485 (time-answered set).
# Internal outcomes: answered 353 (time-answered set), no_answer 29
#   (time-answered empty: Failed_Cancelled 27, Connected 2), busy 1
#   (RouteBusy), failed 1 (NotAvailable).
#
CX=3cx-cdr-log__dorel14-3CX-Cdr-Server.csv
if [ -f "$CDR/$CX" ]; then
	MCR_DB=$TRASH/3cx.db
	cat >"$MCR_CONFIG" <<EOF
[practice]
region = FR
timezone = Europe/Paris
[hours]
mon = 08:00-18:00
tue = 08:00-18:00
wed = 08:00-18:00
thu = 08:00-18:00
fri = 08:00-18:00
sat = closed
sun = closed
holidays = 2020-05-01, 2020-05-08
[ingest]
format = 3cx
timezone = Europe/Paris
EOF
	test_expect_success '3cx: ingest the dorel14 CDR log' '
		mcr-ingest "$CDR/$CX" >3cx.out
	'
	test_expect_success '3cx: 1404 calls by direction' '
		test "$(sql "SELECT count(*) FROM calls")" = 1404 &&
		cat >expect <<-\EOF &&
		in|426
		internal|402
		out|576
		EOF
		directions >actual &&
		test_cmp expect actual
	'
	test_expect_success '3cx: inbound outcomes' '
		cat >expect <<-\EOF &&
		abandoned_queue|27
		answered|331
		out_of_hours|2
		short_abandon|66
		EOF
		outcomes in >actual &&
		test_cmp expect actual
	'
	test_expect_success '3cx: outbound and internal outcomes' '
		cat >expect <<-\EOF &&
		answered|485
		failed|91
		EOF
		outcomes out >actual &&
		test_cmp expect actual &&
		cat >expect <<-\EOF &&
		answered|357
		busy|1
		failed|15
		no_answer|29
		EOF
		outcomes internal >actual &&
		test_cmp expect actual
	'
	test_expect_success '3cx: 29 missed calls, in the store and on stdout' '
		missed_calls 3cx.out 29
	'
else
	test_skip "3cx: $CDR/$CX not found"
fi

test_done
