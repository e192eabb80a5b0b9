#!/bin/sh
# Local times: the repeated October hour, the skipped March hour, the source
# zone, and calls after hours in the practice zone.
. "$(dirname "$0")/lib.sh"

MCR_NOW=2025-10-27T12:00:00Z
export MCR_NOW

# row START UNIQUEID: an 18-column unanswered call from a mobile
row() {
	printf '"","07400123%03d","200","from-trunk","""x"" <07400123%03d>","PJSIP/trunk-%s","PJSIP/201-1","Dial","PJSIP/201,30","%s",,"%s",30,0,"NO ANSWER","DOCUMENTATION","%s",""\n' \
	    "$3" "$3" "$3" "$1" "$2" "$4"
}

# 2025-10-26 in Europe/London: 01:00-02:00 happens twice, first in BST
# (00:00-01:00Z) and then in GMT (01:00-02:00Z).  The uniqueid carries the
# real epoch: 1761442200 is 01:30Z (the second 01:30), 1761438600 is
# 00:30Z (the first).  Row 3 has no uniqueid to tell, and takes the first.
test_expect_success 'the repeated hour is resolved by the uniqueid' '
	{ row "2025-10-26 01:30:00" "2025-10-26 01:30:30" 1 1761438600.1;
	  row "2025-10-26 01:30:00" "2025-10-26 01:30:30" 2 1761442200.2;
	  row "2025-10-26 01:40:00" "2025-10-26 01:40:30" 3 ""; } >dst.csv &&
	mcr-ingest -v -a dst.csv >out 2>err &&
	grep -q "repeated autumn hour: 3" err &&
	sql "select caller, datetime(started_at, \"unixepoch\") from calls order by caller" >got &&
	cat >want <<-\EOT &&
	+447400123001|2025-10-26 00:30:00
	+447400123002|2025-10-26 01:30:00
	+447400123003|2025-10-26 00:40:00
	EOT
	test_cmp want got
'

# 2025-03-30: 01:00-02:00 does not exist; read with the offset before (GMT).
test_expect_success 'a time in the skipped hour is read and counted' '
	rm -f "$MCR_DB" &&
	row "2025-03-30 01:30:00" "2025-03-30 01:30:30" 4 "" >spring.csv &&
	mcr-ingest -v spring.csv >out 2>err &&
	grep -q "skipped spring hour: 1" err &&
	test "$(sql "select datetime(started_at, \"unixepoch\") from calls")" = "2025-03-30 01:30:00"
'

# Summer: 10:00 BST is 09:00Z.  In hours (Mon-Fri 08:30-18:00 local).
test_expect_success 'summer times are shifted an hour' '
	rm -f "$MCR_DB" &&
	row "2025-07-07 10:00:00" "2025-07-07 10:00:30" 5 "" >summer.csv &&
	mcr-ingest summer.csv >out &&
	grep -q "\"started_at\":\"2025-07-07T09:00:00Z\"" out &&
	grep -q "\"outcome\":\"no_answer\"" out &&
	grep -q "\"after_hours\":false" out
'

# [ingest] timezone reads the export in another zone; the practice zone
# still decides opening hours: 08:00 in New York in July is 13:00 in London.
test_expect_success 'the source zone is separate from the practice zone' '
	rm -f "$MCR_DB" &&
	printf "[ingest]\ntimezone = America/New_York\n" >"$MCR_CONFIG" &&
	row "2025-07-07 08:00:00" "2025-07-07 08:00:30" 6 "" >ny.csv &&
	mcr-ingest ny.csv >out &&
	grep -q "\"started_at\":\"2025-07-07T12:00:00Z\"" out &&
	grep -q "\"after_hours\":false" out
'

test_expect_success 'holidays and closed days make calls out of hours' '
	rm -f "$MCR_DB" &&
	printf "[hours]\nmon = 08:30-13:00, 14:00-18:00\nholidays = 2025-12-25\n" >"$MCR_CONFIG" &&
	{ row "2025-12-25 10:00:00" "2025-12-25 10:00:30" 7 "";
	  row "2025-12-27 10:00:00" "2025-12-27 10:00:30" 8 "";
	  row "2025-12-22 13:30:00" "2025-12-22 13:30:30" 9 "";
	  row "2025-12-22 14:00:00" "2025-12-22 14:00:30" 10 ""; } >hol.csv &&
	MCR_NOW=2025-12-28T12:00:00Z mcr-ingest hol.csv >out &&
	sql "select caller || \" \" || outcome from calls order by caller" >got &&
	cat >want <<-\EOT &&
	+447400123007 out_of_hours
	+447400123008 out_of_hours
	+447400123009 out_of_hours
	+447400123010 no_answer
	EOT
	test_cmp want got
'
test_done
