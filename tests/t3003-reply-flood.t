#!/bin/sh
# mcr-reply -l under a stranger's flood: unsigned and wrongly signed
# requests, bodies declared too large, chunked bodies that never end and
# connections that send their headers a byte a second; meanwhile 200
# patients' signed webhooks are each answered 200 at the first try and
# replied to, and nothing of the stranger's is stored.
. "$(dirname "$0")/lib.sh"

MCR_NOW=2026-01-05T10:05:00Z
MCR_META_TOKEN=tok
MCR_META_APP_SECRET=app-secret
export MCR_NOW MCR_META_TOKEN MCR_META_APP_SECRET
mock_start || exit 1

meta_config <<EOT
[reply]
max_body = 65536
EOT
mcr-admin init

i=0
while [ $i -lt 200 ]; do
	printf '{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"contacts":[{"wa_id":"447400300%03d"}],"messages":[{"from":"447400300%03d","id":"wamid.f%d","timestamp":"1767607500","type":"text","text":{"body":"hello"}}]}}]}]}\n' $i $i $i
	i=$((i + 1))
done >signed.jsonl

mcr-reply -v -l 127.0.0.1:0 -p port >listen.out 2>listen.err &
LPID=$!
i=0; while [ ! -s port ] && [ $i -lt 600 ]; do i=$((i + 1)); sleep 0.05; done

test_expect_success 'the flood and 200 signed webhooks at once' '
	flood -p "$(cat port)" -u 1000 -b 50 -c 20 -s 150 -r ready >flood.out &
	fpid=$!
	i=0; while [ ! -f ready ] && [ $i -lt 600 ]; do i=$((i + 1)); sleep 0.05; done
	webhook-load -P port -r 100 -s "$MCR_META_APP_SECRET" -f signed.jsonl -o sent; wrc=$?
	kill -TERM $fpid; wait $fpid; frc=$?
	cat flood.out &&
	test $wrc = 0 && test $frc = 0 &&
	test "$(awk "\$3 == 200" sent | wc -l)" = 200
'
sed 's/^/# flood: /' flood.out
test_expect_success 'the stranger: 403 to every unsigned or forged request, 413 or cut off when too large' '
	grep -qx "status-403 2000" flood.out &&
	grep -qx "status-413 50" flood.out &&
	grep -qx "chunked-cut 20" flood.out &&
	grep -qx "slow-open 150" flood.out &&
	! grep -q "status-200" flood.out
'
test_expect_success 'nothing of the stranger stored' '
	test "$(sql "select count(*) from inbox")" = 200 &&
	test "$(sql "select count(*) from cases where caller = \"+447400999001\"")" = 0
'
test_expect_success 'every patient replied to once' '
	i=0; while [ "$(sql "select count(*) from inbox where done = 0")" != 0 ] && [ $i -lt 1200 ]; do i=$((i + 1)); sleep 0.05; done
	mock_req "value->>'\''to'\''" | sort | uniq -c | awk "\$1 == 1" | wc -l >once &&
	test "$(cat once)" = 200 &&
	test "$(wc -l <"$MOCK_LOG")" = 200
'
kill -TERM $LPID
wait $LPID
echo $? >listen.rc
test_expect_success 'the listener stops cleanly and counts what it refused' '
	cat listen.err >err &&
	test "$(cat listen.rc)" = 0 &&
	grep -q "requests: 200 stored, 2000 refused (bad signature), 70 too large" listen.err
'

test_done
