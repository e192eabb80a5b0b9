#!/bin/sh
# The fuzz targets over the inputs kept in fuzz/regress/: the corpus each
# target reached, minimised (TARGET.b64, one input a line), and any input
# that once crashed a parser (TARGET/, one a file).  Under make check
# SANITIZE=1 a memory error in any of them fails the test.
. "$(dirname "$0")/lib.sh"

REG=$TEST_ROOT/fuzz/regress
for t in cdr webhook reply config record conv; do
	test_expect_success "fuzz-$t: every kept input runs clean" '
		set -- "$REG/$t.b64" &&
		n=$(grep -c . "$REG/$t.b64") &&
		if [ -d "$REG/$t" ]; then
			for f in "$REG/$t"/*; do
				[ -f "$f" ] && set -- "$@" "$f" && n=$((n + 1))
			done
		fi
		test "$n" -gt 100 &&
		fuzz-$t "$@" >out 2>/dev/null &&
		test "$(cat out)" = "$n"
	'
done

test_done
