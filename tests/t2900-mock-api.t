#!/bin/sh
# mock-api: the Meta and Twilio messaging APIs on loopback, its modes,
# its control file and its request log.  Nothing here relies on how fast
# the machine is: waits poll with a limit, durations are not asserted.
. "$(dirname "$0")/lib.sh"

META=/v21.0/1234567890/messages
TWILIO=/2010-04-01/Accounts/ACtest/Messages.json

# wait_for CMD: poll up to 10 s for CMD to succeed
wait_for() {
	i=0
	while ! eval "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 100 ] && return 1
		sleep 0.1
	done
}

# serve ARGS...: mock-api in the background; its pid in pid, its exit
# status in rc when it ends (under valgrind with make check VALGRIND=1)
serve() {
	rm -f pid rc port
	sh -c '${VALGRIND:+valgrind -q --error-exitcode=99 --leak-check=full \
	    --show-leak-kinds=definite --errors-for-leak-kinds=definite} \
	    mock-api "$@" & echo $! >pid; wait $!; echo $? >rc' sh "$@" \
	    >server.out 2>server.err &
	wait_for "test -s pid"
}

# stop: TERM the server and wait for its exit status
stop() {
	kill -TERM "$(cat pid)" && wait_for "test -s rc"
}

trap 'test -s rc || kill -TERM "$(cat pid 2>/dev/null)" 2>/dev/null
	rm -rf "$TRASH"' EXIT

# meta BODY / twilio FORM / call METHOD PATH [curl args]: one request;
# the answer in out, its headers in hdr, the HTTP status on stdout
call() {
	m=$1 p=$2
	shift 2
	curl -sS -X "$m" -o out -D hdr -w "%{http_code}" "$@" "$URL$p"
}
meta() {
	call POST "$META" -H "Authorization: Bearer tok" \
	    -H "Content-Type: application/json" --data-binary "$1"
}
twilio() {
	call POST "$TWILIO" -u ACtest:secret --data-binary "$1"
}
control() {
	printf "%s\n" "$1" >control
}
header() {
	grep -i "^$1:" hdr | sed "s/^[^:]*: *//" | tr -d "\r"
}

: >control
serve -p port -l log -c control
wait_for "test -s port"
URL=http://127.0.0.1:$(cat port 2>/dev/null)

test_expect_success 'it writes the port it listens on' '
	grep -Eq "^[0-9]+$" port && test ! -e port.tmp
'
test_expect_success 'GET /health is ok and not logged' '
	test "$(curl -sS "$URL/health")" = ok && test ! -s log
'

test_expect_success 'Meta: a message is accepted with an id, and logged' '
	test "$(meta "{\"messaging_product\":\"whatsapp\",\"to\":\"+447700900001\",\"type\":\"text\",\"text\":{\"body\":\"Hi\"}}")" = 200 &&
	grep -q "^Content-Type: application/json" hdr &&
	grep -Fq "\"messages\":[{\"id\":\"wamid.MOCK1\"}]" out &&
	grep -Fq "\"contacts\":[{\"input\":\"+447700900001\",\"wa_id\":\"447700900001\"}]" out &&
	test "$(wc -l <log)" = 1 &&
	grep -q "^{\"n\":1,\"t_ms\":[0-9]*,\"method\":\"POST\"," log &&
	grep -Fq "\"path\":\"$META\",\"query\":\"\",\"auth\":\"Bearer tok\",\"content_type\":\"application/json\",\"to\":\"+447700900001\"," log &&
	grep -Fq "\"body\":\"{\\\"messaging_product\\\":\\\"whatsapp\\\",\\\"to\\\":\\\"+447700900001\\\"," log &&
	grep -q "\"mode\":\"ok\",\"status\":200}$" log
'
test_expect_success 'Meta: a body without "to" is a 400 with code 100' '
	test "$(meta "{\"type\":\"text\"}")" = 400 &&
	grep -Fq "\"code\":100," out && grep -Fq "(#100) Invalid parameter" out &&
	test "$(meta "not json")" = 400 && grep -Fq "\"code\":100," out &&
	tail -n 1 log | grep -Fq "\"to\":null,\"body\":\"not json\""
'
test_expect_success 'Twilio: a form is accepted with 201 and a message sid' '
	test "$(twilio "To=whatsapp%3A%2B447700900123&From=whatsapp%3A%2B14155238886&Body=Hello+there%21")" = 201 &&
	grep -Eq "^\{\"sid\":\"SM[0-9a-f]{32}\",\"status\":\"queued\"," out &&
	grep -Fq "\"to\":\"whatsapp:+447700900123\",\"from\":\"whatsapp:+14155238886\",\"body\":\"Hello there!\",\"messaging_service_sid\":null,\"account_sid\":\"ACtest\"" out &&
	grep -Fq "\"uri\":\"/2010-04-01/Accounts/ACtest/Messages/SM" out &&
	tail -n 1 log >line &&
	grep -Fq "\"path\":\"$TWILIO\"," line &&
	grep -Fq "\"auth\":\"Basic " line &&
	grep -Fq "\"content_type\":\"application/x-www-form-urlencoded\"" line &&
	grep -Fq "\"to\":\"+447700900123\"," line &&
	grep -Fq "\"body\":\"To=whatsapp%3A%2B447700900123&From=" line &&
	grep -q "\"status\":201}$" line
'
test_expect_success 'Twilio: no To is a 400 with code 21604' '
	test "$(twilio "From=%2B14155238886&Body=x")" = 400 &&
	grep -Fq "\"code\":21604,\"message\":\"A '\''To'\'' phone number is required.\"" out &&
	grep -Fq "\"more_info\":\"https://www.twilio.com/docs/errors/21604\",\"status\":400" out
'
test_expect_success 'anything else is a 404, logged with its query' '
	test "$(call GET "/v21.0/other?a=1&b=%2B2")" = 404 &&
	grep -Fq "{\"error\":\"not found\"}" out &&
	tail -n 1 log | grep -Fq "\"method\":\"GET\",\"path\":\"/v21.0/other\",\"query\":\"a=1&b=%2B2\",\"auth\":null,\"content_type\":null,\"to\":null,\"body\":\"\"" &&
	test "$(call GET "$META")" = 404
'
test_expect_success 'a kept-alive connection serves many requests' '
	curl -sS -o /dev/null -o /dev/null -w "%{num_connects}\n" \
	    "$URL/health" "$URL/health" >got &&
	printf "1\n0\n" >want && test_cmp want got
'

test_expect_success 'error:130429 is a Meta throttle, 429' '
	control error:130429 &&
	test "$(meta "{\"to\":\"+447700900001\"}")" = 429 &&
	grep -Fq "{\"error\":{\"message\":\"(#130429) Rate limit hit\",\"type\":\"OAuthException\",\"code\":130429,\"error_data\":{\"messaging_product\":\"whatsapp\",\"details\":" out &&
	grep -Fq "\"fbtrace_id\":\"AmockTrace\"}}" out &&
	tail -n 1 log | grep -q "\"mode\":\"error:130429\",\"status\":429}$"
'
test_expect_success 'error:190 is a 401, error:131000 a 500, others 400' '
	control error:190 &&
	test "$(meta "{\"to\":\"+447700900001\"}")" = 401 &&
	grep -Fq "(#190) Invalid OAuth access token" out &&
	control error:131000 &&
	test "$(meta "{\"to\":\"+447700900001\"}")" = 500 &&
	control error:131026 &&
	test "$(meta "{\"to\":\"+447700900001\"}")" = 400 &&
	grep -Fq "(#131026) Message undeliverable" out &&
	control error:999 &&
	test "$(meta "{\"to\":\"+447700900001\"}")" = 400 &&
	grep -Fq "\"message\":\"(#999) Error\"" out
'
test_expect_success 'error:21610 on a Twilio path is a Twilio 400' '
	control error:21610 &&
	test "$(twilio "To=%2B447700900123&Body=x")" = 400 &&
	grep -Fq "{\"code\":21610,\"message\":\"Attempt to send to unsubscribed recipient\",\"more_info\":\"https://www.twilio.com/docs/errors/21610\",\"status\":400}" out &&
	control error:20429 &&
	test "$(twilio "To=%2B447700900123&Body=x")" = 429 &&
	control error:20003 &&
	test "$(twilio "To=%2B447700900123&Body=x")" = 401
'
test_expect_success 'status:503 is a gateway page' '
	control status:503 &&
	test "$(meta "{\"to\":\"+447700900001\"}")" = 503 &&
	grep -q "^Content-Type: text/html" hdr &&
	grep -Fq "<h1>503 Service Unavailable</h1>" out
'
test_expect_success 'slow:300 still answers ok' '
	control slow:300 &&
	test "$(meta "{\"to\":\"+447700900001\"}")" = 200 &&
	grep -Fq "wamid.MOCK" out &&
	tail -n 1 log | grep -q "\"mode\":\"slow:300\",\"status\":200}$"
'
test_expect_success 'drop closes the connection without an answer' '
	control drop &&
	{ curl -sS -o out -d "{\"to\":\"+447700900001\"}" "$URL$META" 2>err
	  test $? = 52; } &&
	grep -q "Empty reply" err &&
	tail -n 1 log | grep -q "\"mode\":\"drop\",\"status\":0}$"
'
test_expect_success 'garbage is a 200 with truncated JSON' '
	control garbage &&
	test "$(meta "{\"to\":\"+447700900001\"}")" = 200 &&
	printf "%s" "{\"messages\":[{\"id\":" >want && test_cmp want out
'
test_expect_success 'retryafter:2 is a 429 with Retry-After' '
	control retryafter:2 &&
	test "$(meta "{\"to\":\"+447700900001\"}")" = 429 &&
	test "$(header Retry-After)" = 2 &&
	grep -Fq "\"code\":130429," out &&
	test "$(twilio "To=%2B447700900123")" = 429 &&
	test "$(header Retry-After)" = 2 &&
	grep -Fq "{\"code\":20429,\"message\":\"Too Many Requests\"," out
'

test_expect_success 'a sequence: the last mode holds' '
	control "error:130429 ok" &&
	for want in 429 200 200; do
		test "$(meta "{\"to\":\"+447700900001\"}")" = $want || exit 1
	done
'
test_expect_success 'a new control file starts its sequence over' '
	control "error:190,error:130429,ok" &&
	test "$(meta "{\"to\":\"+447700900001\"}")" = 401 &&
	test "$(meta "{\"to\":\"+447700900001\"}")" = 429 &&
	test "$(meta "{\"to\":\"+447700900001\"}")" = 200
'
test_expect_success 'NUMBER=MODE is for that number, and uses no sequence' '
	control "+447700900002=error:131026 error:130429 ok
+447700900003=drop" &&
	test "$(meta "{\"to\":\"+447700900002\"}")" = 400 &&
	grep -Fq "\"code\":131026," out &&
	tail -n 1 log | grep -q "\"to\":\"+447700900002\",.*\"mode\":\"error:131026\"" &&
	test "$(meta "{\"to\":\"+447700900001\"}")" = 429 &&
	test "$(meta "{\"to\":\"+447700900002\"}")" = 400 &&
	test "$(meta "{\"to\":\"+447700900001\"}")" = 200 &&
	test "$(twilio "To=whatsapp%3A%2B447700900003")" = 000
'
test_expect_success 'an empty control file means ok' '
	: >control &&
	test "$(meta "{\"to\":\"+447700900002\"}")" = 200
'

test_expect_success 'a body over 1 MiB is a 413; 1 MiB is read' '
	dd if=/dev/zero bs=1024 count=1025 2>/dev/null | tr "\000" x >big &&
	test "$(call POST "$META" --data-binary @big)" = 413 &&
	tail -n 1 log | grep -q "\"status\":413}$" &&
	dd if=/dev/zero bs=1024 count=1024 2>/dev/null | tr "\000" x >big &&
	test "$(call POST "$META" --data-binary @big)" = 400 &&
	test "$(tail -n 1 log | wc -c)" -gt 1048576
'
test_expect_success 'odd bytes are logged as JSON and answered' '
	printf "\377\376\000{\"to\":\"\\\\u0000\"}" >odd &&
	test "$(call POST "$META" --data-binary @odd)" = 400 &&
	test "$(call POST "$META" -d "{\"to\":\"+44\\u0000x\"}")" = 400 &&
	test "$(call POST "$TWILIO" -d "To=%FF%00%2&From=&&=&Body")" = 201 &&
	tail -n 1 log | grep -q "\"status\":201}$" &&
	test "$(curl -sS "$URL/health")" = ok
'
test_expect_success 'a bad mode token is a 500 naming it' '
	control "ok bogus:1" &&
	test "$(meta "{\"to\":\"+447700900001\"}")" = 500 &&
	grep -Fq "bogus:1" out &&
	tail -n 1 log | grep -q "\"mode\":\"bogus:1\",\"status\":500}$" &&
	control "=ok" &&
	test "$(meta "{\"to\":\"+447700900001\"}")" = 500 &&
	control "+447700900001=status:99" &&
	test "$(meta "{\"to\":\"+447700900001\"}")" = 500 &&
	grep -Fq "status:99" out &&
	: >control
'
test_expect_success 'log lines are numbered from 1, one a request' '
	sed "s/^{\"n\":\([0-9]*\),.*/\1/" log >got &&
	awk "{ print NR }" log >want &&
	test_cmp want got
'

test_expect_success 'TERM stops it with exit 0' '
	stop && test "$(cat rc)" = 0 && test ! -s server.err
'

test_expect_success '-m gives the modes when there is no control file' '
	serve -p port2 -l log2 -c none -m "error:130429,ok" &&
	wait_for "test -s port2" &&
	URL=http://127.0.0.1:$(cat port2) &&
	test "$(meta "{\"to\":\"+447700900001\"}")" = 429 &&
	test "$(meta "{\"to\":\"+447700900001\"}")" = 200 &&
	stop && test "$(cat rc)" = 0 && test "$(wc -l <log2)" = 2
'
test_expect_success 'without -p the port goes to stdout' '
	serve &&
	wait_for "test -s server.out" &&
	grep -Eq "^[0-9]+$" server.out &&
	stop && test "$(cat rc)" = 0
'
test_expect_code 2 'an unknown option is a usage error' 'mock-api -x'
test_expect_code 2 'an operand is a usage error' 'mock-api -p port3 extra'
test_expect_code 2 'a bad -m token is a usage error' 'mock-api -m "ok slow:x"'

test_done
