#!/bin/sh
# Faults: the disk full under a write (a file-size limit), for mcr-ingest,
# mcr-send (the store, then the outbox) and mcr-reply.
. "$(dirname "$0")/lib.sh"

MCR_NOW=2026-01-01T12:00:00Z
export MCR_NOW

test_expect_success 'the disk full under mcr-ingest: a clear error, the store intact' '
	scripts_gen=$TEST_ROOT/scripts/gen-cdr &&
	"$scripts_gen" -n 20000 -c 21 -y 2026 >big.csv &&
	mcr-admin init &&
	(ulimit -f 200; mcr-ingest big.csv >/dev/null 2>err); test $? = 1 &&
	grep -q "mcr-ingest: .*mcr.db: .*\(disk\|full\|I/O\)" err &&
	test "$(sql "PRAGMA integrity_check")" = ok &&
	mcr-ingest big.csv >/dev/null &&
	test "$(sql "PRAGMA integrity_check")" = ok &&
	test "$(sql "select count(*) from calls")" -gt 10000
'

# lines FILE: 0 when every line of FILE is a whole JSON object
lines() {
	awk '!/^\{.*\}$/ { bad++ } END { exit bad > 0 }' "$1"
}
records() {	# records S N: N missed calls from numbers of series S
	i=0
	while [ $i -lt $2 ]; do
		printf '{"type":"missed_call","caller":"+4474005%02d%03d","caller_type":"mobile","started_at":"2026-01-01T11:5%d:00Z","after_hours":false}\n' \
		    "$1" $i $((i % 10))
		i=$((i + 1))
	done
}
test_expect_success 'the disk full under mcr-send: the outbox keeps whole lines, nothing twice, the rest sent later' '
	cat >"$MCR_CONFIG" <<-EOT &&
	[practice]
	name = Riverside Dental
	[send]
	burst_neighbours = 0
	backoff = 10
	max_age = 10080
	[outbox]
	path = $TRASH/outbox.jsonl
	EOT
	rm -f "$MCR_DB"* && mcr-admin init &&
	i=0 && while [ $i -lt 40 ]; do
		ast_missed 2026-01-01 "11:$((10 + i)):00" "0740050$((1000 + i))" || exit 1
		i=$((i + 1))
	done >calls.csv &&
	mcr-ingest -F asterisk calls.csv >/dev/null &&
	test "$(sql "select count(*) from cases where state = \"new\"")" = 40 &&
	l=$(($(stat -c %s "$MCR_DB") / 512 + 10000)) &&
	head -c $((l * 512 - 3000)) /dev/zero | tr "\0" x >outbox.jsonl &&
	echo >>outbox.jsonl &&
	(ulimit -f $l; mcr-send -s >out 2>err); rc=$?
	cat err &&
	test $rc = 75 &&
	grep -q "outbox.jsonl: \(File too large\|short write\)" err &&
	tail -n +2 outbox.jsonl >sent1 && lines sent1 &&
	test "$(wc -l <sent1)" -gt 0 && test "$(wc -l <sent1)" -lt 40 &&
	test "$(sql "PRAGMA integrity_check")" = ok &&
	mcr-send -s >out 2>err &&
	tail -n +2 outbox.jsonl >sent && lines sent &&
	grep -o "\"to\":\"[^\"]*\"" sent | sort | uniq -d >dup &&
	test ! -s dup &&
	test "$(wc -l <sent)" = 40 &&
	test "$(sql "select count(*) from cases where state = \"messaged\"")" = 40
'
test_expect_success 'the disk full under mcr-reply: stopped with the rest for later, each message handled once' '
	i=0
	while [ $i -lt 60 ]; do
		printf "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"1\",\"changes\":[{\"field\":\"messages\",\"value\":{\"contacts\":[{\"wa_id\":\"447400600%03d\"}],\"messages\":[{\"from\":\"447400600%03d\",\"id\":\"wamid.full%d\",\"timestamp\":\"1\",\"type\":\"text\",\"text\":{\"body\":\"hello\"}}]}}]}]}\n" $i $i $i
		i=$((i + 1))
	done >msgs.jsonl &&
	: >outbox.jsonl &&
	rm -f "$MCR_DB"* && mcr-admin init &&
	s=$(($(stat -c %s "$MCR_DB") / 512 + 40)) &&
	(ulimit -f $s; mcr-reply <msgs.jsonl >out 2>err); rc=$?
	cat err &&
	test $rc != 0 &&
	grep -q "mcr-reply: .*\(disk\|full\|I/O\)" err &&
	test "$(sql "PRAGMA integrity_check")" = ok &&
	n=$(sql "select count(*) from transcript where dir = \"in\" and case_id in (select id from cases where caller like \"+447400600%\")") &&
	test "$n" -lt 60 &&
	mcr-reply <msgs.jsonl >out 2>err &&
	test "$(sql "select count(*) from transcript where dir = \"in\" and case_id in (select id from cases where caller like \"+447400600%\")")" = 60 &&
	lines outbox.jsonl &&
	grep -o "\"to\":\"+447400600[0-9]*\"" outbox.jsonl | sort | uniq -c | awk "\$1 != 1" >notonce &&
	test ! -s notonce &&
	test "$(grep -c "+447400600" outbox.jsonl)" = 60
'

test_done
