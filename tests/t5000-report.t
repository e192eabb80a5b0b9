#!/bin/sh
# mcr-report over a fixture week, built with the real programs; every
# figure checked against the numbers worked out below, in each format.
. "$(dirname "$0")/lib.sh"

# The week of Monday 5 to Sunday 11 January 2026 (London is on GMT), the
# report run on Monday 12 January: -p last-week.
#
#  #   when        caller          what happened
#  1   Mon 09:00   07400200001     no answer; messaged 09:01; "yes", books
#  2   Mon 09:10   07400200002     no answer; messaged 09:11; no reply
#  3   Mon 09:20   07400200009     answered
#  4   Mon 09:30   07400200010     answered
#  5   Mon 19:00   07400200003     out of hours; messaged 19:20; books
#  6   Tue 10:00   withheld        no answer: skipped, withheld
#  7   Tue 10:05   01214960010     no answer: skipped, landline
#  8   Wed 11:00   07400200011     answered
#  9   Wed 11:30   07400200004     busy; messaged 11:31
# 10   Wed 11:50   07400200004     answered: case 9 resolved by the call
# 11   Thu 14:00   07400200005     no answer; messaged 14:01
# 12   Thu 14:20   07400200005     no answer: joins the case
# 13   Thu 14:40   07400200005     no answer: joins the case
#
# calls 13; answered 4 (3, 4, 8, 10); missed 9: no_answer 7 (1, 2, 6, 7,
# 11, 12, 13), busy 1 (9), out_of_hours 1 (5).  Missed rate 9/13.
# After hours 1/9 (5); withheld 1/9; landline 1/9.  Repeat callers: 1
# (07400200005, three calls in 40 minutes).
# Heatmap (calls/missed): Mon 09 4/2, Mon 19 1/1, Tue 10 2/2, Wed 11 3/1,
# Thu 14 3/3.  Peak: the busiest quarter of the 5 hours with calls, from
# the sorted counts 1 2 3 3 4 the one at 5*3/4 = 3: hours of 3 calls or
# more: Mon 09, Wed 11, Thu 14: 10 calls, 6 missed.  Off peak: Mon 19 and
# Tue 10: 3 calls, 3 missed.  Short cover (over 20%, 3 calls or more):
# Mon 09 (2/4), Wed 11 (1/3), Thu 14 (3/3).
# Cases 7 (1, 2, 5, 6, 7, 9, 11): messaged 5 (1, 2, 5, 9, 11), replied 2
# (1, 5), booked 2 (1, 5); skipped withheld 1/7, landline 1/7.  Recovery
# rate 2/7; got through later 1/7 (9); no hold-out: n/a.
# Response time from the last call before the message: 1, 2, 9, 11 within
# 2 minutes (1 booked), 5 in 20 minutes (booked): under 2 min 1/4, 10-30
# min 1/1, the others 0/0 (n/a).  Bookings after a follow-up 0/2.
# Revenue: 2 x 85 = 170.00; still lost: 7 - 2 booked - 1 through = 4 x 85
# = 340.00.  Forecast: one week of history; Monday 5 calls (4 + 1), 3
# missed.

cat >"$MCR_CONFIG" <<EOT
[practice]
name = Riverside Dental
appointment_value = 85
[send]
burst_neighbours = 0
recipient_interval = 0
[outbox]
path = $TRASH/outbox.jsonl
EOT

# row DAY TIME CALLER DISPOSITION: one inbound call of 20 s
n=0
row() {
	n=$((n + 1))
	if [ "$4" = ANSWERED ]; then a="\"$1 $2\""; b=20; else a=; b=0; fi
	printf '"","%s","200","from-trunk","""x"" <%s>","PJSIP/trunk-%d","PJSIP/201-%d","Dial","PJSIP/201,30","%s %s",%s,"%s %s",20,%s,"%s","DOCUMENTATION","1767%06d.%d","","","1767%06d.%d",%d\n' \
	    "$3" "$3" $n $n "$1" "$2" "$a" "$1" "$(echo "$2" | sed 's/:00$/:20/')" $b "$4" $n $n $n $n $n >>week.csv
}
# at TIME PROGRAM...: run with the clock at TIME
at() {
	t=$1
	shift
	MCR_NOW=$t "$@"
}
say_() {
	printf '{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"contacts":[{"wa_id":"%s"}],"messages":[{"from":"%s","id":"wamid.%s","timestamp":"1","type":"text","text":{"body":"%s"}}]}}]}]}\n' \
	    "$1" "$1" "$2" "$3"
}
step() {	# step TIME: ingest what is there, send what is due
	at "$1" mcr-ingest week.csv | at "$1" mcr-send -r >/dev/null
}

test_expect_success 'the fixture week is built with the real programs' '
	: >week.csv &&
	row 2026-01-05 09:00:00 07400200001 "NO ANSWER" && step 2026-01-05T09:01:00Z &&
	row 2026-01-05 09:10:00 07400200002 "NO ANSWER" && step 2026-01-05T09:11:00Z &&
	at 2026-01-05T09:05:00Z say_ 447400200001 a1 "yes please" | at 2026-01-05T09:05:00Z mcr-reply >/dev/null &&
	at 2026-01-05T09:06:00Z say_ 447400200001 a2 "1" | at 2026-01-05T09:06:00Z mcr-reply >/dev/null &&
	row 2026-01-05 09:20:00 07400200009 ANSWERED &&
	row 2026-01-05 09:30:00 07400200010 ANSWERED &&
	row 2026-01-05 19:00:00 07400200003 "NO ANSWER" &&
	at 2026-01-05T19:01:00Z mcr-ingest week.csv >/dev/null &&
	at 2026-01-05T19:20:00Z mcr-send -s >/dev/null &&
	at 2026-01-05T19:25:00Z say_ 447400200003 b1 "yes" | at 2026-01-05T19:25:00Z mcr-reply >/dev/null &&
	at 2026-01-05T19:26:00Z say_ 447400200003 b2 "1" | at 2026-01-05T19:26:00Z mcr-reply >/dev/null &&
	row 2026-01-06 10:00:00 anonymous "NO ANSWER" &&
	row 2026-01-06 10:05:00 01214960010 "NO ANSWER" && step 2026-01-06T10:06:00Z &&
	row 2026-01-07 11:00:00 07400200011 ANSWERED &&
	row 2026-01-07 11:30:00 07400200004 BUSY && step 2026-01-07T11:31:00Z &&
	row 2026-01-07 11:50:00 07400200004 ANSWERED && step 2026-01-07T11:51:00Z &&
	row 2026-01-08 14:00:00 07400200005 "NO ANSWER" && step 2026-01-08T14:01:00Z &&
	row 2026-01-08 14:20:00 07400200005 "NO ANSWER" && step 2026-01-08T14:21:00Z &&
	row 2026-01-08 14:40:00 07400200005 "NO ANSWER" && step 2026-01-08T14:41:00Z &&
	test "$(sql "select count(*) from calls")" = 13 &&
	test "$(sql "select count(*) from bookings")" = 2
'

MCR_NOW=2026-01-12T09:00:00Z
export MCR_NOW

# fig NAME: "num den value" of a figure in the JSON report
fig() {
	sqlite3 :memory: "select json_extract(readfile('r.json'), '\$.figures.$1.num') || ' ' || coalesce(json_extract(readfile('r.json'), '\$.figures.$1.den'), '-') || ' ' || coalesce(json_extract(readfile('r.json'), '\$.figures.$1.value'), 'null')"
}

test_expect_success 'json: every figure with its numerator and denominator' '
	mcr-report -p last-week -o json >r.json &&
	grep -q "\"period\":\"last-week: 2026-01-05 to 2026-01-11\"" r.json &&
	test "$(fig calls)" = "13 - 13" &&
	test "$(fig answered)" = "4 13 0.3077" &&
	test "$(fig missed)" = "9 13 0.6923" &&
	test "$(fig missed_peak)" = "6 10 0.6" &&
	test "$(fig missed_off_peak)" = "3 3 1.0" &&
	test "$(fig after_hours)" = "1 9 0.1111" &&
	test "$(fig withheld)" = "1 9 0.1111" &&
	test "$(fig landline)" = "1 9 0.1111" &&
	test "$(fig repeat_callers)" = "1 - 1" &&
	test "$(fig outcome_no_answer)" = "7 13 0.5385" &&
	test "$(fig outcome_busy)" = "1 13 0.0769" &&
	test "$(fig outcome_out_of_hours)" = "1 13 0.0769" &&
	test "$(fig cases)" = "7 - 7" &&
	test "$(fig messaged)" = "5 7 0.7143" &&
	test "$(fig replied)" = "2 5 0.4" &&
	test "$(fig booked)" = "2 5 0.4" &&
	test "$(fig skipped_withheld)" = "1 7 0.1429" &&
	test "$(fig skipped_landline)" = "1 7 0.1429" &&
	test "$(fig recovery_rate)" = "2 7 0.2857" &&
	test "$(fig baseline)" = "0 - 6.0" &&
	test "$(fig natural_callback)" = "1 7 0.1429" &&
	test "$(fig holdout_natural)" = "0 0 null" &&
	test "$(fig true_lift)" = "0 0 null" &&
	test "$(fig booked_under_2m)" = "1 4 0.25" &&
	test "$(fig booked_2_10m)" = "0 0 null" &&
	test "$(fig booked_10_30m)" = "1 1 1.0" &&
	test "$(fig booked_over_30m)" = "0 0 null" &&
	test "$(fig booked_after_followup)" = "0 2 0.0" &&
	test "$(fig escalations_urgent)" = "0 - 0" &&
	test "$(fig revenue_recovered)" = "2 - 170.0" &&
	test "$(fig revenue_lost)" = "4 - 340.0"
'
cat >q.sql <<\EOT
select group_concat((value->>'day') || (value->>'hour') || ':' ||
    (value->>'calls') || '/' || (value->>'missed'), ' ')
    from json_each(readfile('r.json'), '$.heatmap');
select group_concat((value->>'day') || (value->>'hour'), ' ')
    from json_each(readfile('r.json'), '$.short_cover');
select json_extract(readfile('r.json'), '$.forecast_weeks');
select sum(value->>'calls') || ' ' || sum(value->>'missed')
    from json_each(readfile('r.json'), '$.forecast')
    where value->>'day' = 'Mon';
EOT
cat >q.want <<\EOT
Mon9:4/2 Mon19:1/1 Tue10:2/2 Wed11:3/1 Thu14:3/3
Mon9 Wed11 Thu14
1
5.0 3.0
EOT
test_expect_success 'json: the heatmap, short cover and the forecast' '
	sqlite3 :memory: <q.sql >got && test_cmp q.want got
'
test_expect_success 'csv: the same figures, one a row' '
	mcr-report -p last-week -o csv >r.csv &&
	head -n 1 r.csv | grep -q "^section,name,numerator,denominator,value$" &&
	grep -q "^calls,missed,9,13,0.6923$" r.csv &&
	grep -q "^recovery,recovery_rate,2,7,0.2857$" r.csv &&
	grep -q "^response,booked_2_10m,0,0,$" r.csv &&
	grep -q "^revenue,revenue_lost,4,,340.00$" r.csv &&
	grep -q "^heatmap,Thu 14,3,3,1.0000$" r.csv
'
test_expect_success 'table: aligned, with the text heatmap and n/a for nothing' '
	mcr-report -p last-week -o table >r.txt &&
	grep -q "^Riverside Dental, last-week: 2026-01-05 to 2026-01-11$" r.txt &&
	grep -q "^  missed, of calls  *9 of 13  *69.2%$" r.txt &&
	grep -q "^  got through by phone later, of the hold-out  *0 of 0  *n/a$" r.txt &&
	grep -q "^  Thu  *3$" r.txt &&
	grep -q "^  Mon 09:00  2 of 4 missed (50.0%)$" r.txt &&
	grep -q "^  bookings x appointment value  *2  *GBP  *170.00$" r.txt
'
test_expect_success 'html: one page, no scripts, no links out, the charts in SVG' '
	mcr-report -p last-week -o html >r.html &&
	grep -q "^<!DOCTYPE html>" r.html &&
	grep -q "<meta name=\"viewport\"" r.html &&
	! grep -qi "<script\|src=\|href=\|http" r.html &&
	test "$(grep -c "<svg" r.html)" = 4 &&
	grep -q "<title>Mon 09:00: 2 of 4 missed</title>" r.html &&
	grep -q "Recovery funnel" r.html &&
	grep -q "Missed calls by week" r.html
'
if command -v chromium >/dev/null 2>&1; then
test_expect_success 'html: it renders in headless Chromium (screenshot kept)' '
	mkdir -p "$TEST_ROOT/tests/out" &&
	timeout 120 chromium --headless --no-sandbox --disable-gpu \
	    --disable-dev-shm-usage --window-size=420,1800 \
	    --screenshot="$TEST_ROOT/tests/out/report.png" "file://$TRASH/r.html" \
	    >chromium.out 2>&1 &&
	test -s "$TEST_ROOT/tests/out/report.png" &&
	test "$(od -An -c -N4 "$TEST_ROOT/tests/out/report.png" | tr -d " ")" = "211PNG" &&
	timeout 120 chromium --headless --no-sandbox --disable-gpu \
	    --disable-dev-shm-usage --dump-dom "file://$TRASH/r.html" \
	    2>/dev/null >dom.html &&
	grep -q "Recovery funnel" dom.html &&
	grep -q "<rect" dom.html
'
else
test_skip 'html in headless Chromium: chromium is not installed (scripts/install-deps installs it)'
fi
test_expect_success 'a period with no data says so, in every format' '
	mcr-report -p 2025-06-01..2025-06-07 -o table >e.txt &&
	grep -q "No calls and no cases in this period: nothing to report." e.txt &&
	mcr-report -p 2025-06-01..2025-06-07 -o json | grep -q "\"empty\":true" &&
	mcr-report -p 2025-06-01..2025-06-07 -o html | grep -q "nothing to report"
'
test_expect_success 'periods: today, this-week, a range' '
	MCR_NOW=2026-01-08T15:00:00Z mcr-report -p today -o json | grep -q "\"from\":\"2026-01-08T00:00:00Z\",\"to\":\"2026-01-09T00:00:00Z\"" &&
	MCR_NOW=2026-01-08T15:00:00Z mcr-report -p this-week -o json | grep -q "\"from\":\"2026-01-05T00:00:00Z\"" &&
	mcr-report -p 2026-01-05..2026-01-06 -o json >r2.json &&
	grep -q "\"to\":\"2026-01-07T00:00:00Z\"" r2.json &&
	MCR_NOW=2026-07-08T15:00:00Z mcr-report -p today -o json | grep -q "\"from\":\"2026-07-07T23:00:00Z\""
'
test_expect_code 2 'an unknown period is a usage error that says what is accepted' '
	mcr-report -p fortnight 2>err; s=$?;
	grep -q "expected today, yesterday, this-week, last-week, this-month, last-month or YYYY-MM-DD..YYYY-MM-DD" err && exit $s
'
test_expect_code 2 'an unknown format too' '
	mcr-report -o pdf 2>err; s=$?; grep -q "expected table, csv, json or html" err && exit $s
'

test_done
