#!/bin/sh
# Recovery cases: who gets one, who is skipped and why, the cooldown.
. "$(dirname "$0")/lib.sh"

MCR_NOW=2026-01-08T12:00:00Z
export MCR_NOW


test_expect_success 'skip reasons: staff, own number, blocklist, opt-out' '
	cat >"$MCR_CONFIG" <<-\EOT &&
	[numbers]
	own = +441214960000
	staff = 07400 123 901, +447400123902
	blocklist = blocklist
	EOT
	printf "# nuisance callers\n07400123903\n+44 7400 123904 ; the second\n" >blocklist &&
	mcr-ingest "$TESTDATA/freepbx.csv" >/dev/null &&
	sql "INSERT INTO optouts VALUES (\"+447400123905\", 0, \"test\")" &&
	{ ast_missed 2026-01-05 10:00:00 07400123901;
	  ast_missed 2026-01-05 10:05:00 07400123902;
	  ast_missed 2026-01-05 10:10:00 01214960000;
	  ast_missed 2026-01-05 10:15:00 07400123903;
	  ast_missed 2026-01-05 10:20:00 07400123904;
	  ast_missed 2026-01-05 10:25:00 07400123905;
	  ast_missed 2026-01-05 10:30:00 07400123906;
	  ast_missed 2026-01-05 10:35:00 +33612345678; } >c.csv &&
	mcr-ingest c.csv >out &&
	test "$(wc -l <out)" = 8 &&
	sql "select coalesce(caller, \"-\") || \" \" || state || \" \" ||
	    coalesce(reason, \"-\") from cases where id > 3 order by id" >got &&
	cat >want <<-\EOT &&
	+447400123901 skipped staff
	+447400123902 skipped staff
	+441214960000 skipped landline
	+447400123903 skipped blocklisted
	+447400123904 skipped blocklisted
	+447400123905 skipped opted_out
	+447400123906 new -
	+33612345678 new -
	EOT
	test_cmp want got &&
	grep "+33612345678" out | grep -q "\"caller_country\":\"FR\""
'

test_expect_success 'own numbers calling out are outbound, not inbound' '
	rm -f "$MCR_DB" &&
	printf "[numbers]\nown = 01214960000\n" >"$MCR_CONFIG" &&
	printf "%s\n" "\"\",\"01214960000\",\"07400123906\",\"from-internal\",\"\",\"PJSIP/201-1\",\"PJSIP/trunk-2\",\"Dial\",\"\",\"2026-01-05 11:00:00\",\"2026-01-05 11:00:05\",\"2026-01-05 11:01:05\",65,60,\"ANSWERED\",\"DOCUMENTATION\",\"1767610800.1\",\"\"" >o.csv &&
	mcr-ingest o.csv >out &&
	test "$(sql "select direction from calls")" = out
'

# Cooldown 24 h: calls at Mon 10:00 and Mon 16:00 share a case; Tue 17:00
# is 25 h after the first but 25 h after 16:00 too... so a new case.
test_expect_success 'repeat calls within the cooldown join, later ones open' '
	rm -f "$MCR_DB" && : >"$MCR_CONFIG" &&
	{ ast_missed 2026-01-05 10:00:00 07400123910;
	  ast_missed 2026-01-05 16:00:00 07400123910;
	  ast_missed 2026-01-06 17:00:00 07400123910; } >r.csv &&
	mcr-ingest r.csv >out &&
	test "$(wc -l <out)" = 3 &&
	sql "select calls from cases order by id" >got &&
	printf "2\n1\n" >want &&
	test_cmp want got &&
	test "$(sed -n 1p out | sed "s/.*\"case_id\":\([0-9]*\).*/\1/")" = \
	    "$(sed -n 2p out | sed "s/.*\"case_id\":\([0-9]*\).*/\1/")"
'

test_expect_success '[ingest] cooldown is in hours' '
	rm -f "$MCR_DB" &&
	printf "[ingest]\ncooldown = 2\n" >"$MCR_CONFIG" &&
	mcr-ingest r.csv >out &&
	test "$(sql "select count(*) from cases")" = 3
'

test_expect_success 'a resolved case is not joined: a new episode opens' '
	rm -f "$MCR_DB" && : >"$MCR_CONFIG" &&
	{ ast_missed 2026-01-05 10:00:00 07400123920;
	  printf "%s\n" "\"\",\"07400123920\",\"200\",\"from-trunk\",\"\",\"PJSIP/trunk-9\",\"PJSIP/201-9\",\"Dial\",\"\",\"2026-01-05 10:10:00\",\"2026-01-05 10:10:05\",\"2026-01-05 10:12:05\",125,120,\"ANSWERED\",\"DOCUMENTATION\",\"1767607800.9\",\"\",\"\",\"1767607800.9\",9";
	  ast_missed 2026-01-05 10:20:00 07400123920; } >e.csv &&
	mcr-ingest e.csv >out &&
	sql "select state from cases order by id" >got &&
	printf "resolved_by_call\nnew\n" >want &&
	test_cmp want got
'

# short_abandon = 40 turns every unanswered call under 40 s into a short
# abandon (09:10 30 s, 09:40 12 s, 10:00 3 s, 10:10 25 s, 10:20 25 s,
# 10:30 20 s; not busy, not the 40 s queue call, not out of hours), counted
# as missed here; voicemail is not.
test_expect_success 'voicemail and short abandons follow the config' '
	rm -f "$MCR_DB" &&
	printf "[ingest]\nvoicemail_missed = no\nshort_abandon = 40\nshort_abandon_missed = yes\n" >"$MCR_CONFIG" &&
	mcr-ingest "$TESTDATA/asterisk-21.csv" >out &&
	sql "select outcome || \" \" || missed from calls where direction = \"in\"
	    and outcome in (\"voicemail\", \"short_abandon\") order by outcome" >got &&
	cat >want <<-\EOT &&
	short_abandon 1
	short_abandon 1
	short_abandon 1
	short_abandon 1
	short_abandon 1
	short_abandon 1
	voicemail 0
	EOT
	test_cmp want got
'

# ring_threshold = 26: no_answer calls of 25, 25 and 20 s and the 12 s IVR
# call are not missed; left: 09:10 (30 s), voicemail, busy (exempt), the
# 40 s queue call and the after-hours call: 5 records.
test_expect_success 'ring_threshold: short unanswered calls are not missed' '
	rm -f "$MCR_DB" &&
	printf "[ingest]\nring_threshold = 26\n" >"$MCR_CONFIG" &&
	mcr-ingest "$TESTDATA/asterisk-21.csv" >out &&
	test "$(sql "select count(*) from calls where outcome = \"no_answer\" and missed = 0")" = 3 &&
	test "$(wc -l <out)" = 5
'
test_done
