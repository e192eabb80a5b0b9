#!/bin/sh
# Faults: the disk full under a write (a file-size limit).
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

test_done
