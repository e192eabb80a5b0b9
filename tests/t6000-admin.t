#!/bin/sh
# mcr-admin: init, check, opt-outs, patients.
. "$(dirname "$0")/lib.sh"

test_expect_success 'init creates the store at the current schema' '
	mcr-admin init &&
	test "$(sql "PRAGMA user_version")" = 6 &&
	test "$(sql "PRAGMA journal_mode")" = wal
'
test_expect_success 'init again changes nothing and says nothing' '
	mcr-admin init >out 2>err && test ! -s out && test ! -s err
'
test_expect_success 'init -n creates nothing' '
	mcr-admin -d new.db -n init 2>err && test ! -e new.db &&
	grep -q "would create the store new.db" err
'

test_expect_success 'check passes on the defaults, quietly' '
	mcr-admin check >out 2>err && test ! -s out && test ! -s err
'
test_expect_success 'check -v says what it checked' '
	mcr-admin -v check 2>err && grep -q "store .*: ok" err
'
test_expect_success 'check names bad numbers, a closed week, blocklist lines' '
	cat >"$MCR_CONFIG" <<-\EOT &&
	[hours]
	mon = closed
	tue = closed
	wed = closed
	thu = closed
	fri = closed
	[numbers]
	own = +441214960000, 12
	blocklist = block
	EOT
	printf "07400123903\nnonsense\n" >block &&
	mcr-admin check >out 2>err; test $? = 2 &&
	grep -q "the practice is never open" err &&
	grep -q "\[numbers\] own: .12. is not a valid number" err &&
	grep -q "^mcr-admin: block:2: .nonsense. is not a valid number" err &&
	: >"$MCR_CONFIG"
'
test_expect_code 1 'check without a store says to init' '
	mcr-admin -d none.db check
'
test_expect_code 2 'config errors are usage errors' '
	printf "[practice]\nnom = x\n" >bad.conf && mcr-admin -c bad.conf check
'

test_expect_success 'optout add normalises, list prints JSON lines' '
	mcr-admin -s sms optout add 07400123001 "+44 7400 123002" &&
	mcr-admin optout list >list &&
	test "$(wc -l <list)" = 2 &&
	grep -q "{\"type\":\"optout\",\"id\":\"+447400123001\",\"case_id\":null,\"number\":\"+447400123001\",\"at\":\"2026-01-05T12:00:00Z\",\"source\":\"sms\"}" list &&
	test "$(sql "select count(*) from optouts")" = 2
'
test_expect_success 'optout add twice keeps one entry' '
	mcr-admin optout add 07400123001 && test "$(sql "select count(*) from optouts")" = 2
'
test_expect_success 'an opted-out caller gets a skipped case from ingest' '
	mcr-ingest "$TESTDATA/asterisk-21.csv" >/dev/null &&
	test "$(sql "select reason from cases where caller = \"+447400123002\"")" = opted_out
'
test_expect_success 'optout remove, and a bad number among good ones' '
	mcr-admin optout remove 07400123001 nonsense 2>err; test $? = 1 &&
	grep -q "^mcr-admin: .nonsense.: not a valid phone number$" err &&
	test "$(sql "select count(*) from optouts")" = 1
'
test_expect_success 'removing a number not on the list is reported, masked' '
	mcr-admin optout remove 07400123009 2>err; test $? = 1 &&
	grep -q "^mcr-admin: +44 7\*\*\* \*\*\*009: not on the opt-out list$" err
'
test_expect_success 'optout -n changes nothing' '
	mcr-admin -n optout add 07400123005 2>err &&
	grep -q "would opt out +44 7\*\*\* \*\*\*005" err &&
	test "$(sql "select count(*) from optouts")" = 1
'

# patients.csv: 5 rows; 1004 has no valid number (reported, skipped);
# the landline 1005 is kept (a returning patient may still be called
# back).  First names only: "Carol Ann" is stored as "Carol".
test_expect_success 'import-patients keeps the good rows, reports the bad' '
	mcr-admin import-patients "$TESTDATA/patients.csv" 2>err; test $? = 1 &&
	grep -q "patients.csv:5: .not a number. is not a valid phone number" err &&
	sql "select number || \"|\" || coalesce(first_name, \"\") || \"|\" ||
	    coalesce(recall, \"\") from patients order by number" >got &&
	cat >want <<-\EOT &&
	+441214960001|Eve|check-up
	+447400123001|Alice|check-up
	+447400123002|Bob|
	+447400123003|Carol|hygienist
	EOT
	test_cmp want got
'
test_expect_success 'import again updates, never duplicates' '
	mcr-admin import-patients "$TESTDATA/patients.csv" 2>/dev/null;
	test "$(sql "select count(*) from patients")" = 4
'
test_expect_code 2 'a file without a number column is refused' '
	printf "name,age\nx,1\n" >p.csv && mcr-admin import-patients p.csv
'
test_expect_code 2 'an unknown command is a usage error' 'mcr-admin frobnicate'
test_expect_code 2 '-h prints the usage' 'mcr-admin -h'
test_expect_success 'check: every template renders, with known variables' '
	printf "[template.recovery]\ntext = Hi {nmae}\nparams = practice, when\n[template.offer]\ntext = {slots}\n" >t.conf &&
	mcr-admin -c t.conf check 2>err; test $? = 2 &&
	grep -q "^mcr-admin: t.conf:1: \[template.recovery\]: text: unknown variable {nmae}" err &&
	grep -q "t.conf:1: \[template.recovery\]: params: unknown variable when" err &&
	test "$(wc -l <err)" = 2
'
test_expect_success 'check: a text over the channel limit' '
	l=$(printf "%0110d" 0) &&
	printf "[template.recovery]\ntext = $l\n" >t.conf &&
	for i in 1 2 3 4 5 6 7 8 9; do printf "  $l\n"; done >>t.conf &&
	printf "[template.sms]\ntext = $l\n" >>t.conf &&
	for i in 1 2 3 4 5 6 7 8 9; do printf "\t$l\n"; done >>t.conf &&
	mcr-admin -c t.conf check 2>err; test $? = 2 &&
	grep -q "\[template.recovery\]: text: 1109 characters with sample values: at most 1024" err &&
	! grep -q "template.sms" err &&
	printf "[practice]\nname = x\n  more\n" >t.conf &&
	mcr-admin -c t.conf check 2>err; test $? = 2 &&
	grep -q "t.conf:3: only a template.s text goes on over indented lines" err
'
test_expect_success 'check: meta needs a template name per first-message kind and a token' '
	printf "[whatsapp]\nprovider = meta\nphone_number_id = 1\n[template.recovery]\nname = a\n" >t.conf &&
	MCR_META_TOKEN= mcr-admin -c t.conf check 2>err; test $? = 2 &&
	grep -q "\[template.after_hours\]: no name" err &&
	grep -q "\[template.patient\]: no name" err &&
	! grep -q "template.recovery" err &&
	grep -q "set MCR_META_TOKEN or a token_file" err &&
	grep -q "\[template.followup\]: no name" err &&
	printf "[template.after_hours]\nname = b\n[template.patient]\nname = c\n[template.followup]\nname = d\n[template.followup_closed]\nname = e\n" >>t.conf &&
	MCR_META_TOKEN=x mcr-admin -c t.conf check 2>err &&
	test ! -s err
'
test_expect_success 'check: twilio needs content templates, an account, a sender' '
	printf "[whatsapp]\nprovider = twilio\n[sms]\nprovider = twilio\n" >t.conf &&
	MCR_TWILIO_TOKEN=x mcr-admin -c t.conf check 2>err; test $? = 2 &&
	grep -q "\[template.recovery\]: no content_sid" err &&
	grep -q "\[twilio\] account_sid is not set" err
'

test_expect_success 'purge: who the callers were goes, the counts stay' '
	rm -f "$MCR_DB" && : >"$MCR_CONFIG" &&
	MCR_NOW=2026-01-05T20:00:00Z mcr-ingest "$TESTDATA/asterisk-21.csv" >/dev/null &&
	mcr-admin optout add 07400123001 &&
	MCR_NOW=2026-06-01T00:00:00Z mcr-report -p 2026-01-05..2026-01-05 -o json >before.json &&
	cp "$MCR_DB" keep.db &&
	MCR_NOW=2026-06-01T00:00:00Z mcr-admin -n purge --older-than 90 2>err &&
	grep -q "would purge [0-9]* rows older than 90 days" err &&
	test "$(sql "select count(*) from calls where caller is not null")" != 0 &&
	MCR_NOW=2026-06-01T00:00:00Z mcr-admin purge --older-than 90 &&
	test "$(sql "select count(*) from calls where caller is not null or caller_name is not null")" = 0 &&
	test "$(sql "select count(*) from cases where caller is not null")" = 0 &&
	test "$(sql "select count(*) from optouts")" = 1 &&
	MCR_NOW=2026-06-01T00:00:00Z mcr-report -p 2026-01-05..2026-01-05 -o json >after.json &&
	sed "s/\"repeat_callers\":{[^}]*}//" before.json >b && sed "s/\"repeat_callers\":{[^}]*}//" after.json >a &&
	test_cmp b a
'
test_expect_success 'purge keeps what is younger' '
	cp keep.db "$MCR_DB" && rm -f "$MCR_DB-wal" "$MCR_DB-shm" &&
	MCR_NOW=2026-01-06T00:00:00Z mcr-admin purge --older-than 30 &&
	test "$(sql "select count(*) from calls where caller is null")" = "$(sqlite3 keep.db "select count(*) from calls where caller is null")"
'
test_expect_code 2 'purge wants --older-than and a number of days' '
	mcr-admin purge --older-than soon
'
test_expect_success 'backup: an online copy, checked' '
	mcr-admin backup copy.db &&
	test "$(sqlite3 copy.db "PRAGMA integrity_check")" = ok &&
	test "$(sqlite3 copy.db "select count(*) from calls")" = "$(sql "select count(*) from calls")" &&
	mcr-admin backup copy.db 2>err; test $? = 2 && grep -q "copy.db: exists" err
'

test_done
