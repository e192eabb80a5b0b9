# Test library: TAP output for prove, a fresh directory per test file.
#
#   . ./lib.sh        (from a tests/tNNNN-*.t file)
#   test_expect_success 'what' 'commands && more commands'
#   test_expect_code 2 'what' 'command'
#   test_cmp expected actual
#   test_done
#
# Each file runs in its own temporary directory with MCR_DB, MCR_CONFIG,
# HOME, TZ, LC_ALL and MCR_NOW set, and the built programs first in PATH.

set -u
TEST_ROOT=$(cd "$(dirname "$0")/.." && pwd)
TESTDATA=$TEST_ROOT/testdata
SHARED=$TEST_ROOT/../shared
PATH=$TEST_ROOT:$TEST_ROOT/tests:$PATH
TRASH=$(mktemp -d "${TMPDIR:-/tmp}/mcr-test.XXXXXX")
trap 'mock_stop; rm -rf "$TRASH"' EXIT
cd "$TRASH" || exit 1
HOME=$TRASH
TZ=UTC
LC_ALL=C
MCR_DB=$TRASH/mcr.db
MCR_CONFIG=$TRASH/mcr.conf
MCR_NOW=2026-01-05T12:00:00Z
export PATH HOME TZ LC_ALL MCR_DB MCR_CONFIG MCR_NOW TESTDATA SHARED
: > "$MCR_CONFIG"

test_count=0
test_failed=0

# make check VALGRIND=1: every program runs under valgrind, and a leak or
# memory error of the project's own code fails the test (exit 99)
if [ -n "${VALGRIND:-}" ]; then
	mkdir -p "$TRASH/.bin"
	for p in mcr-ingest mcr-send mcr-reply mcr-followup mcr-report mcr-admin; do
		cat >"$TRASH/.bin/$p" <<-EOT
		#!/bin/sh
		exec valgrind -q --error-exitcode=99 --leak-check=full \\
		    --show-leak-kinds=definite --errors-for-leak-kinds=definite \\
		    "$TEST_ROOT/$p" "\$@"
		EOT
		chmod +x "$TRASH/.bin/$p"
	done
	PATH=$TRASH/.bin:$PATH
fi

# ast_missed DAY TIME CALLER: an Asterisk row (21 columns) of an inbound
# call rung for 30 s, unanswered
ast_n=0
ast_missed() {
	ast_n=$((ast_n + 1))
	printf '"","%s","200","from-trunk","""x"" <%s>","PJSIP/trunk-%d","PJSIP/201-%d","Dial","PJSIP/201,30","%s %s",,"%s %s",30,0,"NO ANSWER","DOCUMENTATION","1767%06d.%d","","","1767%06d.%d",%d\n' \
	    "$3" "$3" $ast_n $ast_n "$1" "$2" "$1" "$(echo "$2" | sed 's/:00$/:30/')" $ast_n $ast_n $ast_n $ast_n $ast_n
}

# mock_start: the provider APIs on loopback (tests/mock-api), its URL in
# MOCK_URL, its request log in $MOCK_LOG, its modes from $MOCK_CONTROL;
# an SMTP server at $MOCK_SMTP, the mail it takes in $MOCK_MAIL
MOCK_PID=
MOCK_LOG=$TRASH/mock.log
MOCK_CONTROL=$TRASH/mock.control
MOCK_MAIL=$TRASH/mock.mail
mock_start() {
	rm -f "$TRASH/mock.port"
	: >"$MOCK_CONTROL"
	mock-api -p "$TRASH/mock.port" -l "$MOCK_LOG" -c "$MOCK_CONTROL" \
	    -s "$TRASH/mock.smtp" -M "$MOCK_MAIL" &
	MOCK_PID=$!
	i=0
	while [ ! -s "$TRASH/mock.port" ]; do
		i=$((i + 1))
		[ $i -gt 200 ] && { echo "mock-api did not start" >&2; return 1; }
		sleep 0.05
	done
	MOCK_URL=http://127.0.0.1:$(cat "$TRASH/mock.port")
	MOCK_SMTP=smtp://127.0.0.1:$(cat "$TRASH/mock.smtp")
}
mock_stop() {
	[ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null && wait "$MOCK_PID"
	MOCK_PID=
}
# meta_config: $MCR_CONFIG for Riverside Dental on WhatsApp through the
# mock's Cloud API (no rate limits to wait for), then what stdin adds
meta_config() {
	{
		printf '[practice]\nname = Riverside Dental\n'
		printf '[send]\nburst_neighbours = 0\n'
		printf '[whatsapp]\nprovider = meta\napi_base = %s/v21.0\n' \
		    "$MOCK_URL"
		printf 'phone_number_id = 1234567890\nrate = 1000\n'
		printf '[store]\nbusy_timeout = 30000\n'
		cat
	} >"$MCR_CONFIG"
}
# mock_mode MODE...: how the next requests are answered (see mock-api.c)
mock_mode() {
	echo "$*" >"$MOCK_CONTROL"
}
# mock_req EXPR [WHERE]: EXPR of each logged request, in SQL over its JSON
# (value->>'body', value->>'to', ...), one line each
mock_req() {
	[ -s "$MOCK_LOG" ] || return 0
	sqlite3 :memory: "select $1 from json_each('[' || replace(trim(
	    readfile('$MOCK_LOG'), char(10)), char(10), ',') || ']')
	    ${2:+where $2} order by value->>'n'"
}

say() {
	printf '%s\n' "$*"
}

test_ok_() {
	test_count=$((test_count + 1))
	say "ok $test_count - $1"
}

test_fail_() {
	test_count=$((test_count + 1))
	test_failed=$((test_failed + 1))
	say "not ok $test_count - $1"
	printf '%s\n' "$2" | sed 's/^/#	/'
}

test_eval_() {
	# TEST_TRACE=1: show every command, and what out and err held
	[ -n "${TEST_TRACE:-}" ] && { (eval "set -x; $1"); r=$?
		[ $r = 0 ] || head -c 3000 out err 2>/dev/null; return $r; }
	(eval "$1") >"$TRASH/.out" 2>"$TRASH/.err"
}

test_expect_success() {
	if test_eval_ "$2"; then
		test_ok_ "$1"
	else
		test_fail_ "$1" "$2
--- stdout:
$(head -c 2000 "$TRASH/.out")
--- stderr:
$(head -c 2000 "$TRASH/.err")"
	fi
}

# test_expect_code CODE 'what' 'command': the command must exit with CODE.
test_expect_code() {
	want=$1
	shift
	test_eval_ "$2"
	got=$?
	if [ "$got" = "$want" ]; then
		test_ok_ "$1"
	else
		test_fail_ "$1" "$2
exit status $got, expected $want
--- stderr:
$(head -c 2000 "$TRASH/.err")"
	fi
}

test_skip() {
	test_count=$((test_count + 1))
	say "ok $test_count # skip $1"
}

test_cmp() {
	diff -u "$1" "$2"
}

# sql QUERY: run a query on the store, one row a line, '|' between columns.
sql() {
	sqlite3 -batch "$MCR_DB" "$1"
}

test_done() {
	say "1..$test_count"
	[ "$test_failed" -eq 0 ]
}
