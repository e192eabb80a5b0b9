#!/bin/sh
# The C unit tests of libmcr (tests/unit-lib.c): TAP straight through.
exec "$(dirname "$0")/unit-lib"
