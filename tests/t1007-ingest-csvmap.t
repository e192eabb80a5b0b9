#!/bin/sh
# The csv format with the shipped column maps.
. "$(dirname "$0")/lib.sh"

MAPS=$TEST_ROOT/scripts/maps
MCR_NOW=2026-01-06T12:00:00Z
export MCR_NOW

outcomes() {
	sql "select outcome || ' ' || count(*) from calls where direction = 'in'
	    group by outcome order by outcome"
}

# ringcentral.csv: 1001 Accepted -> answered; 1002 Missed -> no_answer;
# 1003 Voicemail; 1004 Hang Up after 12 s -> abandoned_queue; 1006
# Anonymous, Busy -> busy (withheld: case skipped).  1005 is outbound,
# Call connected, to the 1002 caller: that case is resolved.  Missed 4.
test_expect_success 'RingCentral / BT Cloud Work map' '
	printf "[ingest]\nformat = csv\nmap = %s\n" "$MAPS/ringcentral.conf" >"$MCR_CONFIG" &&
	mcr-ingest "$TESTDATA/ringcentral.csv" >out &&
	test "$(wc -l <out)" = 4 &&
	outcomes >got &&
	printf "abandoned_queue 1\nanswered 1\nbusy 1\nno_answer 1\nvoicemail 1\n" >want &&
	test_cmp want got &&
	test "$(sql "select state from cases where caller = \"+447400123702\"")" = resolved_by_call &&
	test "$(sql "select reason from cases where caller is null")" = withheld &&
	test "$(sql "select caller_name from calls where caller = \"+447400123701\"")" = "Ann Lee" &&
	test "$(sql "select datetime(started_at, \"unixepoch\") from calls where caller = \"+447400123701\"")" = "2026-01-06 09:00:00"
'

# teams-pstn.csv: 0001 SIP 200 -> answered (5 s to answer); 0002 487 ->
# no_answer (30 s); 0003 486 -> busy; 0004 dr_out 200 to the 0002 caller.
test_expect_success 'Teams Direct Routing PSTN usage map' '
	rm -f "$MCR_DB" &&
	printf "[ingest]\nformat = csv\nmap = %s\n" "$MAPS/teams-pstn.conf" >"$MCR_CONFIG" &&
	mcr-ingest "$TESTDATA/teams-pstn.csv" >out &&
	test "$(wc -l <out)" = 2 &&
	outcomes >got &&
	printf "answered 1\nbusy 1\nno_answer 1\n" >want &&
	test_cmp want got &&
	test "$(sql "select ring_s from calls where caller = \"+447400123801\"")" = 5 &&
	test "$(sql "select state from cases where caller = \"+447400123802\"")" = resolved_by_call
'

# yeastar.csv: callers written as "Name<number>"; ANSWERED, NO ANSWER,
# VOICEMAIL, ABANDONED inbound; one internal.  Missed 3.
test_expect_success 'Yeastar P-Series map' '
	rm -f "$MCR_DB" &&
	printf "[ingest]\nformat = csv\nmap = %s\n" "$MAPS/yeastar.conf" >"$MCR_CONFIG" &&
	mcr-ingest "$TESTDATA/yeastar.csv" >out &&
	test "$(wc -l <out)" = 3 &&
	outcomes >got &&
	printf "abandoned_queue 1\nanswered 1\nno_answer 1\nvoicemail 1\n" >want &&
	test_cmp want got &&
	grep -q "\"caller\":\"+447400123902\"" out &&
	test "$(sql "select direction from calls where caller = \"1000\"")" = internal
'

test_expect_success 'a map inline in the config works the same' '
	rm -f "$MCR_DB" &&
	{ printf "[ingest]\nformat = csv\n"; grep -v "^;" "$MAPS/yeastar.conf"; } >"$MCR_CONFIG" &&
	mcr-ingest "$TESTDATA/yeastar.csv" >out &&
	test "$(wc -l <out)" = 3
'

test_expect_success 'a header without a mapped column is refused' '
	rm -f "$MCR_DB" &&
	printf "[ingest]\nformat = csv\nmap = %s\n" "$MAPS/yeastar.conf" >"$MCR_CONFIG" &&
	mcr-ingest "$TESTDATA/ringcentral.csv" >out 2>err; test $? = 2 &&
	grep -q "ringcentral.csv:1: header has no column .Call From." err
'

test_expect_success 'a result value not in the map is a bad row' '
	rm -f "$MCR_DB" &&
	sed "s/,Missed,/,Teleported,/" "$TESTDATA/ringcentral.csv" >rc.csv &&
	printf "[ingest]\nformat = csv\nmap = %s\n" "$MAPS/ringcentral.conf" >"$MCR_CONFIG" &&
	mcr-ingest rc.csv >out 2>err; test $? = 1 &&
	grep -q "rc.csv:3: result .Teleported. is not in the map" err &&
	test "$(sql "select count(*) from calls")" = 5
'

test_expect_code 2 'an incomplete map is a configuration error' '
	printf "[ingest]\nformat = csv\n[csv]\ncaller = From\n" >"$MCR_CONFIG" &&
	mcr-ingest "$TESTDATA/ringcentral.csv"
'

test_expect_code 2 'csv without any map says so' '
	: >"$MCR_CONFIG" && mcr-ingest -F csv "$TESTDATA/ringcentral.csv"
'
test_done
