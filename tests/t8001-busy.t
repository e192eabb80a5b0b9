#!/bin/sh
# The store held by another process past the busy timeout: every program
# says so and exits 75, and a later run does the work; nothing is lost.
. "$(dirname "$0")/lib.sh"

MCR_NOW=2026-01-05T19:01:00Z
export MCR_NOW
cat >"$MCR_CONFIG" <<EOT
[store]
busy_timeout = 300
[outbox]
path = $TRASH/outbox.jsonl
EOT
mcr-admin init

# hold: another process writes to the store for a while (until the file
# go is removed), while the command runs
hold() {
	: >go
	rm -f locked
	printf '%s\n' "BEGIN IMMEDIATE;" \
	    "INSERT INTO sources (name) VALUES ('lock');" \
	    ".shell touch locked; while [ -e go ]; do sleep 0.05; done" \
	    "ROLLBACK;" | sqlite3 "$MCR_DB" >/dev/null &
	lock=$!
	i=0
	while [ ! -e locked ] && [ $i -lt 200 ]; do
		i=$((i + 1)); sleep 0.05
	done
	"$@"; s=$?
	rm -f go
	wait $lock
	return $s
}

test_expect_success 'mcr-ingest: exit 75 while the store is held, then all of it' '
	hold mcr-ingest "$TESTDATA/asterisk-21.csv" >out 2>err; test $? = 75 &&
	grep -q "store busy" err &&
	mcr-ingest "$TESTDATA/asterisk-21.csv" >out &&
	test "$(sql "select count(*) from calls")" -gt 0 &&
	test "$(sql "PRAGMA integrity_check")" = ok
'
test_expect_success 'mcr-send: exit 75, then the message goes once' '
	hold mcr-send -s >out 2>err; test $? = 75 &&
	test ! -e outbox.jsonl || test ! -s outbox.jsonl &&
	mcr-send -s >out &&
	test "$(grep -c "\"status\":\"sent\"" out)" = 1 &&
	mcr-send -s >out && test ! -s out
'
test_expect_success 'mcr-followup, mcr-report, mcr-admin: exit 75 too' '
	hold mcr-followup 2>err; test $? = 75 &&
	hold mcr-admin optout add 07400123009 2>err; test $? = 75 &&
	! mcr-admin optout list | grep -q 123009
'

meta() {	# a patient's message, as Meta sends it
	printf '{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"contacts":[{"wa_id":"447400123021"}],"messages":[{"from":"447400123021","id":"wamid.busy1","timestamp":"1","type":"text","text":{"body":"yes please"}}]}}]}]}'
}
test_expect_success 'mcr-reply: exit 75 while the store is held, then the message once' '
	meta >in.json && echo >>in.json &&
	hold mcr-reply <in.json >out 2>err; test $? = 75 &&
	test "$(sql "select count(*) from transcript")" = 0 &&
	mcr-reply <in.json >out &&
	test "$(sql "select count(*) from transcript where dir = \"in\"")" = 1 &&
	test "$(sql "select count(*) from transcript where dir = \"out\"")" = 1 &&
	mcr-reply <in.json >out && test ! -s out &&
	test "$(sql "select count(*) from transcript")" = 2
'
test_expect_success 'the listener: 503 while the store is held, so the provider sends it again; then 200, once' '
	MCR_META_APP_SECRET=s3cret && export MCR_META_APP_SECRET &&
	meta | sed "s/busy1/busy2/; s/yes please/thanks/" >b.json &&
	sig="X-Hub-Signature-256: sha256=$(openssl dgst -sha256 -hmac s3cret <b.json | sed "s/.*= //")"
	mcr-reply -l 127.0.0.1:0 -p port >listen.out 2>listen.err &
	lpid=$!
	i=0; while [ ! -s port ] && [ $i -lt 600 ]; do i=$((i + 1)); sleep 0.05; done
	post() { curl -s -o /dev/null -w "%{http_code}" -X POST --data-binary @b.json -H "$sig" "http://127.0.0.1:$(cat port)/meta" >code; }
	hold post; test "$(cat code)" = 503 &&
	test "$(sql "select count(*) from inbox where payload like \"%busy2%\"")" = 0 &&
	post && test "$(cat code)" = 200 &&
	post && test "$(cat code)" = 200 &&
	i=0; while [ "$(sql "select count(*) from inbox where done = 0")" != 0 ] && [ $i -lt 600 ]; do i=$((i + 1)); sleep 0.05; done
	kill -TERM $lpid; wait $lpid &&
	test "$(sql "select count(*) from transcript where dir = \"in\"")" = 2
'

test_expect_success 'a payload the store refuses for what it holds is set aside after 3 tries, the rest go on' '
	sql "CREATE TRIGGER poison BEFORE INSERT ON transcript WHEN NEW.body = '\''poison pill'\'' BEGIN SELECT RAISE(ABORT, '\''refused'\''); END" &&
	meta | sed "s/busy1/pill/; s/yes please/poison pill/; s/123021/123031/g" >p.json &&
	meta | sed "s/busy1/after/; s/123021/123032/g" >q.json
	MCR_META_APP_SECRET=s3cret && export MCR_META_APP_SECRET && rm -f port
	mcr-reply -l 127.0.0.1:0 -p port >listen.out 2>listen.err &
	lpid=$!
	i=0; while [ ! -s port ] && [ $i -lt 600 ]; do i=$((i + 1)); sleep 0.05; done
	for f in p.json q.json; do
		curl -s -o /dev/null -w "%{http_code}\n" -X POST --data-binary @$f \
		    -H "X-Hub-Signature-256: sha256=$(openssl dgst -sha256 -hmac s3cret <$f | sed "s/.*= //")" \
		    "http://127.0.0.1:$(cat port)/meta"
	done >codes &&
	i=0; while [ "$(sql "select count(*) from inbox where done = 0")" != 0 ] && [ $i -lt 600 ]; do i=$((i + 1)); sleep 0.05; done
	kill -TERM $lpid; wait $lpid
	cat listen.err &&
	test "$(cat codes)" = "200
200" &&
	test "$(sql "select done from inbox where payload like \"%wamid.pill%\"")" = 2 &&
	test "$(sql "select done from inbox where payload like \"%wamid.after%\"")" = 1 &&
	test "$(sql "select count(*) from transcript t join cases k on k.id = t.case_id where k.caller = \"+447400123032\"")" = 2 &&
	grep -q "inbox:[0-9]*: set aside after 3 failures (constraint failed)" listen.err
'

test_done
