#!/bin/sh
# The reply parser (lib/parse.c) over the corpus of patients' replies
# (tests/unit-parse.c, tests/replies.tsv): TAP straight through.
TEST_ROOT=$(cd "$(dirname "$0")/.." && pwd)
exec "$TEST_ROOT/tests/unit-parse" "$TEST_ROOT/tests/replies.tsv"
