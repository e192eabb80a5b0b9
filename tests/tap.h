/*
 * A small TAP producer for the C unit tests, read by prove(1).
 *
 *	ok(cond, "name %d", i);
 *	is_int(got, want, "name");
 *	is_str(got, want, "name");	(either may be NULL)
 *	return done_testing();
 *
 * Each check prints "ok N - name" or "not ok N - name"; a failed
 * comparison adds "#   got: ..." and "#  want: ..." lines.  done_testing()
 * prints the plan "1..N" and returns 1 when a check failed, else 0.
 */
#ifndef TAP_H
#define TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n;
static int tap_failed;

static inline void
tap_vresult(int pass, const char *fmt, va_list ap)
{
	tap_n++;
	if (!pass)
		tap_failed++;
	printf("%sok %d - ", pass ? "" : "not ", tap_n);
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
}

/* A string for a diagnostic: quoted, control and high bytes as \xNN. */
static inline void
tap_putstr(const char *s)
{
	if (s == NULL) {
		fputs("NULL", stdout);
		return;
	}
	putchar('\'');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\r')
			fputs("\\r", stdout);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	putchar('\'');
}

static inline void
diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static inline void
diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static inline int
ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static inline int
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vresult(cond, fmt, ap);
	va_end(ap);
	return cond;
}

static inline int
is_int(long long got, long long want, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static inline int
is_int(long long got, long long want, const char *fmt, ...)
{
	va_list ap;
	int pass = got == want;

	va_start(ap, fmt);
	tap_vresult(pass, fmt, ap);
	va_end(ap);
	if (!pass) {
		printf("#   got: %lld\n#  want: %lld\n", got, want);
		fflush(stdout);
	}
	return pass;
}

static inline int
is_str(const char *got, const char *want, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static inline int
is_str(const char *got, const char *want, const char *fmt, ...)
{
	va_list ap;
	int pass;

	if (got == NULL || want == NULL)
		pass = got == want;
	else
		pass = strcmp(got, want) == 0;
	va_start(ap, fmt);
	tap_vresult(pass, fmt, ap);
	va_end(ap);
	if (!pass) {
		fputs("#   got: ", stdout);
		tap_putstr(got);
		fputs("\n#  want: ", stdout);
		tap_putstr(want);
		putchar('\n');
		fflush(stdout);
	}
	return pass;
}

static inline int
done_testing(void)
{
	printf("1..%d\n", tap_n);
	if (tap_failed > 0)
		printf("# failed %d of %d\n", tap_failed, tap_n);
	fflush(stdout);
	return tap_failed > 0;
}

#endif
