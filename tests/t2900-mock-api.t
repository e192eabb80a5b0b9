#!/bin/sh
# mock-api: the Meta and Twilio messaging APIs on loopback, its modes,
# its control file and its request log; its SMTP server and mail log.  Nothing here relies on how fast
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
# SMTP (-s, -M) on a server of its own.
# smtp_raw: stdin sent as is to the SMTP port at once, the replies until
# the server closes on stdout (a session ends with QUIT: no waiting)
smtp_raw() {
	perl -MIO::Socket::INET -e '
	    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$ARGV[0]")
		or die "connect: $!\n";
	    binmode $s; binmode STDIN; binmode STDOUT;
	    local $/; my $in = <STDIN>; print $s $in; print <$s> // "";
	' "$SPORT"
}
# smtp_send ARGS...: curl sends a message to the SMTP port
smtp_send() {
	curl -sS --url "smtp://127.0.0.1:$SPORT" --mail-from a@x "$@"
}
# mail_data N: the data of the Nth logged message, a CRLF after it
mail_data() {
	perl -MJSON::PP -ne 'binmode STDOUT; my $j = decode_json($_);
	    print $j->{data}, "\r\n" if $j->{n} == $n;
	    BEGIN { $n = shift }' "$1" mail
}
mails() {
	if test -e mail; then wc -l <mail; else echo 0; fi
}
CR=$(printf "\r")

test_expect_success 'SMTP: -s writes its port before the HTTP one' '
	serve -p port -l hlog -c control -s smtpport -M mail &&
	wait_for "test -s port" &&
	grep -Eq "^[0-9]+$" smtpport && test ! -e smtpport.tmp &&
	test "$(cat smtpport)" != "$(cat port)"
'
SPORT=$(cat smtpport 2>/dev/null)
URL=http://127.0.0.1:$(cat port 2>/dev/null)

test_expect_success 'SMTP: curl sends a message, logged with dots unstuffed' '
	printf "From: a@x\r\nTo: b@y, c@y\r\nSubject: Missed call\r\n\r\nHello,\r\n.a line with a dot\r\n..two\r\n.\r\nend\r\n" >msg.txt &&
	smtp_send --mail-rcpt b@y --mail-rcpt c@y --upload-file msg.txt &&
	test "$(mails)" = 1 &&
	grep -q "^{\"n\":1,\"t_ms\":[0-9]*,\"from\":\"a@x\",\"to\":\[\"b@y\",\"c@y\"\],\"auth\":null,\"data\":\"From: a@x\\\\r\\\\n" mail &&
	grep -Fq "\\r\\nSubject: Missed call\\r\\n" mail &&
	grep -Fq "\\r\\n.a line with a dot\\r\\n..two\\r\\n.\\r\\nend\"}" mail &&
	mail_data 1 >got && test_cmp msg.txt got
'
test_expect_success 'SMTP: --user records the user (PLAIN, PLAIN-IR, LOGIN)' '
	smtp_send --mail-rcpt b@y --user u:p -T msg.txt &&
	smtp_send --mail-rcpt b@y --user v:p --sasl-ir -T msg.txt &&
	smtp_send --mail-rcpt b@y --user w:p --login-options AUTH=LOGIN -T msg.txt &&
	test "$(mails)" = 4 &&
	sed -n "2,4s/.*\"auth\":\"\([^\"]*\)\",.*/\1/p" mail >got &&
	printf "u\nv\nw\n" >want && test_cmp want got
'
test_expect_success 'SMTP: the protocol by hand' '
	printf "%s\r\n" "DATA" "RCPT TO:<b@y>" "BOGUS x" "EHLO me" "NOOP" \
	    "MAIL FROM:<a@x> BODY=8BITMIME" "MAIL FROM:<a@x>" "RCPT TO:<>" \
	    "RSET" "DATA" "AUTH LOGIN" "dXNlcg==" "cGFzcw==" \
	    "AUTH PLAIN AHUAcA==" "HELO me" >in &&
	printf "mail from:<>\nrcpt to: <b@y>\nrcpt to:c@y\ndata\n" >>in &&
	printf "line one\n..dot\r\n\n...\n.\n" >>in &&
	printf "QUIT\r\n" >>in &&
	smtp_raw <in >raw &&
	! grep -qv "$CR\$" raw &&
	tr -d "\r" <raw | sed "s/queued as [0-9]*/queued as N/" >got &&
	cat >want <<-\EOF &&
	220 mock ESMTP
	503 bad sequence of commands
	503 bad sequence of commands
	500 unknown command
	250-mock
	250-AUTH PLAIN LOGIN
	250-SIZE 1048576
	250 8BITMIME
	250 ok
	250 ok
	503 bad sequence of commands
	501 syntax: RCPT TO:<address>
	250 ok
	503 bad sequence of commands
	334 VXNlcm5hbWU6
	334 UGFzc3dvcmQ6
	235 authentication succeeded
	503 bad sequence of commands
	250 mock
	250 ok
	250 ok
	250 ok
	354 end data with <CR><LF>.<CR><LF>
	250 ok: queued as N
	221 bye
	EOF
	test_cmp want got &&
	test "$(mails)" = 5 &&
	tail -n 1 mail | grep -Fq "\"from\":\"\",\"to\":[\"b@y\",\"c@y\"],\"auth\":\"user\",\"data\":\"line one\\n.dot\\r\\n\\n..\"}"
'
test_expect_success 'SMTP: AUTH PLAIN on its own line; bad AUTH' '
	printf "%s\r\n" "EHLO me" "AUTH PLAIN" "AHgAeQ==" "QUIT" | smtp_raw >raw &&
	grep -q "^334 $CR\$" raw && grep -q "^235 " raw &&
	printf "%s\r\n" "AUTH PLAIN !!!!" "AUTH CRAM-MD5" "AUTH LOGIN" "*" \
	    "AUTH PLAIN dXNlcg==" "QUIT" | smtp_raw | tr -d "\r" >got &&
	printf "%s\n" "220 mock ESMTP" "501 bad base64" \
	    "504 unrecognized authentication type" "334 VXNlcm5hbWU6" \
	    "501 authentication cancelled" "501 bad PLAIN response" \
	    "221 bye" >want &&
	test_cmp want got
'
test_expect_success 'SMTP: 100 recipients; the 101st is a 452' '
	{ printf "HELO me\r\nMAIL FROM:<a@x>\r\n"
	  i=0; while [ $i -le 100 ]; do printf "RCPT TO:<r%d@y>\r\n" $i
	  i=$((i + 1)); done; printf "QUIT\r\n"; } | smtp_raw >raw &&
	test "$(grep -c "^250 ok" raw)" = 101 &&
	test "$(grep -c "^452 too many recipients" raw)" = 1
'

test_expect_success 'SMTP: smtp=reject is a 554 to MAIL, nothing logged' '
	control smtp=reject &&
	! smtp_send --mail-rcpt b@y -T msg.txt 2>err &&
	printf "HELO me\r\nMAIL FROM:<a@x>\r\nQUIT\r\n" | smtp_raw >raw &&
	grep -q "^554 " raw && test "$(mails)" = 5
'
test_expect_success 'SMTP: smtp=tempfail is a 451 to MAIL' '
	control smtp=tempfail &&
	! smtp_send --mail-rcpt b@y -T msg.txt 2>err &&
	printf "HELO me\r\nMAIL FROM:<a@x>\r\nQUIT\r\n" | smtp_raw >raw &&
	grep -q "^451 " raw && test "$(mails)" = 5
'
test_expect_success 'SMTP: smtp=drop closes after the data, unanswered' '
	control smtp=drop &&
	! smtp_send --mail-rcpt b@y -T msg.txt 2>err &&
	printf "HELO me\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nx\r\n.\r\n" |
	    smtp_raw | tr -d "\r" >got &&
	printf "%s\n" "220 mock ESMTP" "250 mock" "250 ok" "250 ok" \
	    "354 end data with <CR><LF>.<CR><LF>" >want &&
	test_cmp want got && test "$(mails)" = 5
'
test_expect_success 'smtp= is not an HTTP mode and not in the sequence' '
	control "smtp=reject error:130429 ok" &&
	test "$(meta "{\"to\":\"+447700900001\"}")" = 429 &&
	! smtp_send --mail-rcpt b@y -T msg.txt 2>err &&
	test "$(meta "{\"to\":\"+447700900001\"}")" = 200 &&
	test "$(meta "{\"to\":\"smtp\"}")" = 200 &&
	sed "s/.*\"mode\":\"\([^\"]*\)\".*/\1/" hlog >got &&
	printf "error:130429\nok\nok\n" >want && test_cmp want got
'
test_expect_success 'a bad smtp= token is an HTTP 500 and a 451 to MAIL' '
	control "smtp=bogus" &&
	test "$(meta "{\"to\":\"+447700900001\"}")" = 500 &&
	grep -Fq "smtp=bogus" out &&
	printf "HELO me\r\nMAIL FROM:<a@x>\r\nQUIT\r\n" | smtp_raw >raw &&
	grep -q "^451 mock: bad mode token \"smtp=bogus\"" raw &&
	control smtp=ok &&
	smtp_send --mail-rcpt b@y -T msg.txt && test "$(mails)" = 6 &&
	: >control
'

test_expect_success 'SMTP: 1 MiB of data is taken, 1 MiB + 1 is a 552' '
	dd if=/dev/zero bs=1024 count=1024 2>/dev/null | tr "\000" x >big &&
	smtp_send --mail-rcpt b@y -T big &&
	smtp_send --mail-rcpt b@y -T - <big &&
	test "$(mails)" = 8 &&
	test "$(tail -n 1 mail | wc -c)" -gt 1048576 &&
	printf y >>big &&
	! smtp_send --mail-rcpt b@y -T big 2>err &&
	! smtp_send --mail-rcpt b@y -T - <big 2>err &&
	{ printf "HELO me\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n"
	  cat big; printf "\r\n.\r\nNOOP\r\nQUIT\r\n"; } | smtp_raw >raw &&
	tr -d "\r" <raw | tail -n 3 >got &&
	printf "%s\n" "552 message exceeds fixed maximum message size" \
	    "250 ok" "221 bye" >want && test_cmp want got &&
	printf "MAIL FROM:<a@x> SIZE=1048577\r\nQUIT\r\n" | smtp_raw >raw &&
	grep -q "^552 " raw &&
	test "$(mails)" = 8
'
test_expect_success 'SMTP: a 2 MiB message is refused, by SIZE or by reading' '
	dd if=/dev/zero bs=1024 count=2048 2>/dev/null | tr "\000" x >big &&
	! smtp_send --mail-rcpt b@y -T big 2>err &&
	! smtp_send --mail-rcpt b@y -T - <big 2>err &&
	test "$(mails)" = 8 &&
	smtp_send --mail-rcpt b@y -T msg.txt && test "$(mails)" = 9
'
test_expect_success 'SMTP: messages are numbered from 1, one a line' '
	sed "s/^{\"n\":\([0-9]*\),.*/\1/" mail >got &&
	awk "{ print NR }" mail >want &&
	test_cmp want got
'
test_expect_success 'SMTP: TERM stops it with connections open' '
	perl -MIO::Socket::INET -e '"'"'
	    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$ARGV[0]")
		or die; $| = 1; print scalar <$s>; print $s "HELO me\r\n";
	    print scalar <$s>; print $s "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n";
	    print $s "DATA\r\nhalf a message\r\n"; 1 while <$s>;
	    print "closed\n";'"'"' "$SPORT" >idle &
	wait_for "grep -q \"^250 mock\" idle" &&
	stop && test "$(cat rc)" = 0 && test ! -s server.err &&
	wait_for "grep -q ^closed idle" && test "$(mails)" = 9
'
test_expect_success 'SMTP: without -M messages are taken and not logged' '
	serve -p port -s smtpport &&
	wait_for "test -s port" && SPORT=$(cat smtpport) &&
	smtp_send --mail-rcpt b@y -T msg.txt &&
	stop && test "$(cat rc)" = 0 && test ! -s server.err
'

test_expect_code 2 'an unknown option is a usage error' 'mock-api -x'
test_expect_code 2 'an operand is a usage error' 'mock-api -p port3 extra'
test_expect_code 2 'a bad -m token is a usage error' 'mock-api -m "ok slow:x"'
test_expect_code 2 'a bad smtp= in -m is a usage error' 'mock-api -m smtp=x'

test_done
