/*
 * Unit tests of libmcr: time parsing and zones, opening hours, phone
 * numbers, strings, CDR detection and reading, configuration.  TAP on
 * stdout (tests/t0000-unit.t runs it under prove).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mcr.h"
#include "webhook.h"
#include "tap.h"

static char tmpdir[256];
static char errpath[300];
static int errfd = -1;		/* the real stderr while capturing */
static char errtext[8192];
static char *tmpnames[16];
static int ntmp;

static void
bail(const char *what)
{
	printf("Bail out! %s\n", what);
	exit(1);
}

static void
tmp_init(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/mcr-unit.XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp");
	if (mkdtemp(tmpdir) == NULL)
		bail("cannot create a temporary directory");
	snprintf(errpath, sizeof(errpath), "%s/stderr", tmpdir);
}

/* Write a file in the temporary directory; returns its path. */
static const char *
tmp_file(const char *name, const char *text)
{
	static char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	if ((fp = fopen(path, "w")) == NULL || fputs(text, fp) == EOF ||
	    fclose(fp) == EOF)
		bail("cannot write a temporary file");
	if (ntmp < (int)(sizeof(tmpnames) / sizeof(tmpnames[0])))
		tmpnames[ntmp++] = mcr_xstrdup(path);
	return path;
}

static void
tmp_done(void)
{
	for (int i = 0; i < ntmp; i++) {
		unlink(tmpnames[i]);
		free(tmpnames[i]);
	}
	unlink(errpath);
	rmdir(tmpdir);
}

/* Send stderr to a file until captured() returns what was written. */
static void
capture(void)
{
	fflush(stderr);
	if (errfd == -1 && (errfd = dup(STDERR_FILENO)) == -1)
		bail("dup");
	if (freopen(errpath, "w", stderr) == NULL)
		bail("cannot redirect stderr");
}

static const char *
captured(void)
{
	FILE *fp;
	size_t n = 0;

	fflush(stderr);
	if (dup2(errfd, STDERR_FILENO) == -1)
		bail("cannot restore stderr");
	clearerr(stderr);
	if ((fp = fopen(errpath, "r")) != NULL) {
		n = fread(errtext, 1, sizeof(errtext) - 1, fp);
		fclose(fp);
	}
	errtext[n] = '\0';
	return errtext;
}

/* got contains want. */
static int
like(const char *got, const char *want, const char *name)
{
	int pass = got != NULL && strstr(got, want) != NULL;

	ok(pass, "%s", name);
	if (!pass) {
		printf("#   got: ");
		tap_putstr(got);
		printf("\n#  want: a string containing ");
		tap_putstr(want);
		putchar('\n');
	}
	return pass;
}

/* Seconds of a civil time (UTC, or naive local); days_from_civil is
 * checked against constants before anything relies on it. */
static int64_t
at(int y, int mo, int d, int h, int mi, int s)
{
	return mcr_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

/* clock.c: civil days, parsing, formatting */

static void
utc_is(const char *s, int64_t want)
{
	time_t t = -12345;
	int rc = mcr_time_parse_utc(s, &t);

	is_int(rc == 0 ? (int64_t)t : -12345, want, "parse_utc '%s'", s);
}

static void
utc_rejects(const char *s)
{
	time_t t;

	is_int(mcr_time_parse_utc(s, &t), -1, "parse_utc rejects '%s'", s);
}

static void
naive_is(const char *s, int64_t want)
{
	int64_t t = -12345;
	int rc = mcr_time_parse_naive(s, &t);

	is_int(rc == 0 ? t : -12345, want, "parse_naive '%s'", s);
}

static void
naive_rejects(const char *s)
{
	int64_t t;

	is_int(mcr_time_parse_naive(s, &t), -1, "parse_naive rejects '%s'", s);
}

static void
test_civil(void)
{
	is_int(mcr_days_from_civil(1970, 1, 1), 0,
	    "days_from_civil 1970-01-01");
	is_int(mcr_days_from_civil(1969, 12, 31), -1,
	    "days_from_civil 1969-12-31");
	is_int(mcr_days_from_civil(2000, 2, 29), 11016,
	    "days_from_civil 2000-02-29");
	is_int(mcr_days_from_civil(2000, 3, 1), 11017,
	    "days_from_civil 2000-03-01");
	is_int(mcr_days_from_civil(2024, 2, 29), 19782,
	    "days_from_civil 2024-02-29");
	is_int(mcr_days_from_civil(2026, 1, 5), 20458,
	    "days_from_civil 2026-01-05");
	is_int(mcr_days_from_civil(1900, 1, 1), -25567,
	    "days_from_civil 1900-01-01");
}

static void
test_time_utc(void)
{
	/* 2026-01-05T09:03:11Z */
	const int64_t t0 = 1767603791;
	/* Tue, 10 Aug 2010 08:02:17 GMT */
	const int64_t t1 = 1281427337;

	utc_is("2026-01-05T09:03:11Z", t0);
	utc_is("2026-01-05T09:03:11z", t0);
	utc_is("2026-01-05 09:03:11Z", t0);
	utc_is("2026-01-05T10:03:11+01:00", t0);
	utc_is("2026-01-05T10:03:11+0100", t0);
	utc_is("2026-01-05T03:33:11-05:30", t0);
	utc_is("2026-01-05T09:03:11+00:00", t0);
	utc_is("2026-01-05T09:03:11.250Z", t0);
	utc_is("2026-01-05T10:03:11.999999+01:00", t0);
	utc_is("2026-01-05 09:03:11 UTC", t0);
	utc_is("Tue, 10 Aug 2010 08:02:17 +0000", t1);
	utc_is("Tue, 10 Aug 2010 08:02:17 GMT", t1);
	utc_is("Tue, 10 Aug 2010 10:02:17 +0200", t1);
	utc_is("Tue, 10 Aug 2010 03:02:17 -0500", t1);
	utc_is("10 Aug 2010 08:02:17 +0000", t1);
	utc_is("1596512941", 1596512941);
	utc_is("0", 0);

	utc_rejects("");
	utc_rejects("garbage");
	utc_rejects("not a time at all");
	utc_rejects("2026-13-05T09:03:11Z");
	utc_rejects("2026-02-30T09:03:11Z");
	utc_rejects("2026-01-05T09:03:11");
	utc_rejects("2026-01-05 09:03");
	utc_rejects("2026-01-05T09:03:11Zjunk");
	utc_rejects("2026-01-05T25:00:00Z");
	utc_rejects("2026-01-05T09:03:11+24:00");
	utc_rejects("Tue, 10 Foo 2010 08:02:17 +0000");
	utc_rejects("Tue, 31 Feb 2010 08:02:17 +0000");
	utc_rejects("1596512941.163");
}

static void
test_time_naive(void)
{
	char buf[21];
	time_t t;

	naive_is("2026-01-05 09:03:11", 1767603791);
	naive_is("2020/05/04 10:53:43", 1588589623);
	naive_is("2026-01-05T09:03", 1767603780);
	naive_is("2026-01-05T09:03:11", 1767603791);
	naive_is(" 2026-01-05 09:03:11 ", 1767603791);
	naive_is("2026-01-05 09:03:11.5", 1767603791);
	naive_is("2024-02-29 12:00", 1709208000);
	naive_is("1970-01-01 00:00:00", 0);

	naive_rejects("2026-01-05 09:03:11x");
	naive_rejects("2026-01-05 09:03:11 junk");
	naive_rejects("2026-01-05T09:03:11Z");
	naive_rejects("2026-01-05T09:03:11+01:00");
	naive_rejects("2026-02-29 10:00");
	naive_rejects("2026-04-31 10:00");
	naive_rejects("2026-00-10 10:00");
	naive_rejects("2026-01-05 24:00");
	naive_rejects("2026-01-05 09:60");
	naive_rejects("2026-01/05 09:03");
	naive_rejects("2026-01-05");
	naive_rejects("");
	naive_rejects("yesterday");

	is_str(mcr_time_fmt(0, buf), "1970-01-01T00:00:00Z", "time_fmt epoch");
	is_str(mcr_time_fmt(1767603791, buf), "2026-01-05T09:03:11Z",
	    "time_fmt 2026-01-05T09:03:11Z");
	is_str(mcr_time_fmt(951782400, buf), "2000-02-29T00:00:00Z",
	    "time_fmt a leap day");
	is_int(mcr_time_parse_utc(mcr_time_fmt(1281427337, buf), &t) == 0 ?
	    (int64_t)t : -1, 1281427337, "time_fmt output parses back");
	is_int(mcr_time_fmt(0, buf) == buf, 1, "time_fmt returns buf");
}

/* clock.c: zones */

static void
test_tz(void)
{
	struct mcr_tz *z, *ny, *u;
	struct tm tm;
	time_t t;
	int flags;
	const char *msg;

	z = mcr_tz_open("Europe/London");
	if (!ok(z != NULL, "tz_open Europe/London"))
		bail("no Europe/London zone (tzdata installed?)");
	is_int(mcr_tz_offset(z, at(2026, 1, 15, 12, 0, 0)), 0,
	    "London offset in January is 0");
	is_int(mcr_tz_offset(z, at(2026, 7, 15, 12, 0, 0)), 3600,
	    "London offset in July is +3600");
	/* the change: 2025-10-26 01:00Z, 2025-03-30 01:00Z */
	is_int(mcr_tz_offset(z, at(2025, 10, 26, 0, 59, 59)), 3600,
	    "London offset a second before the autumn change");
	is_int(mcr_tz_offset(z, at(2025, 10, 26, 1, 0, 0)), 0,
	    "London offset at the autumn change");

	mcr_tz_tm(z, at(2026, 7, 15, 12, 30, 5), &tm);
	is_int(tm.tm_hour, 13, "tz_tm July 12:30Z is 13h local");
	is_int(tm.tm_min, 30, "tz_tm minutes");
	is_int(tm.tm_sec, 5, "tz_tm seconds");
	is_int(tm.tm_mday, 15, "tz_tm day of month");
	is_int(tm.tm_mon, 6, "tz_tm month");
	is_int(tm.tm_year, 126, "tz_tm year");
	is_int(tm.tm_wday, 3, "tz_tm week day (Wednesday)");
	mcr_tz_tm(z, at(2026, 1, 4, 23, 30, 0), &tm);
	is_int(tm.tm_mday * 100 + tm.tm_hour, 423,
	    "tz_tm January 23:30Z stays on the same day");
	mcr_tz_tm(z, at(2026, 7, 4, 23, 30, 0), &tm);
	is_int(tm.tm_mday * 100 + tm.tm_hour, 500,
	    "tz_tm July 23:30Z is 00h on the next day");

	t = mcr_tz_local(z, at(2026, 1, 15, 12, 0, 0), -1, &flags);
	is_int(t, at(2026, 1, 15, 12, 0, 0), "tz_local winter noon");
	is_int(flags, 0, "tz_local winter noon: no flags");
	t = mcr_tz_local(z, at(2026, 7, 15, 13, 0, 0), -1, &flags);
	is_int(t, at(2026, 7, 15, 12, 0, 0), "tz_local summer 13:00 is 12:00Z");
	is_int(flags, 0, "tz_local summer: no flags");
	t = mcr_tz_local(z, at(2026, 7, 15, 13, 20, 0), -1, &flags);
	is_int(t, at(2026, 7, 15, 12, 20, 0),
	    "tz_local summer, same hour again");

	/* the repeated hour: 01:30 is 00:30Z (BST) and 01:30Z (GMT) */
	t = mcr_tz_local(z, at(2025, 10, 26, 1, 30, 0), -1, &flags);
	is_int(flags, MCR_TZ_REPEATED, "tz_local 2025-10-26 01:30: repeated");
	is_int(t, at(2025, 10, 26, 0, 30, 0),
	    "tz_local repeated hour without hint: first reading 00:30Z");
	t = mcr_tz_local(z, at(2025, 10, 26, 1, 30, 0),
	    (time_t)at(2025, 10, 26, 1, 25, 0), &flags);
	is_int(flags, MCR_TZ_REPEATED,
	    "tz_local repeated hour with hint: repeated");
	is_int(t, at(2025, 10, 26, 1, 30, 0),
	    "tz_local repeated hour, hint near the second reading: 01:30Z");
	t = mcr_tz_local(z, at(2025, 10, 26, 1, 30, 0),
	    (time_t)at(2025, 10, 26, 0, 20, 0), &flags);
	is_int(t, at(2025, 10, 26, 0, 30, 0),
	    "tz_local repeated hour, hint near the first reading: 00:30Z");
	t = mcr_tz_local(z, at(2025, 10, 26, 0, 59, 0), -1, &flags);
	is_int(t * 10 + flags, at(2025, 10, 25, 23, 59, 0) * 10,
	    "tz_local 00:59 before the repeated hour: 23:59Z, no flags");
	t = mcr_tz_local(z, at(2025, 10, 26, 2, 0, 0), -1, &flags);
	is_int(t * 10 + flags, at(2025, 10, 26, 2, 0, 0) * 10,
	    "tz_local 02:00 after the repeated hour: 02:00Z, no flags");

	/* the skipped hour: 01:30 on 2025-03-30 never happened */
	t = mcr_tz_local(z, at(2025, 3, 30, 1, 30, 0), -1, &flags);
	is_int(flags, MCR_TZ_SKIPPED, "tz_local 2025-03-30 01:30: skipped");
	is_int(t, at(2025, 3, 30, 1, 30, 0),
	    "tz_local skipped hour read with the offset before: 01:30Z");
	t = mcr_tz_local(z, at(2025, 3, 30, 2, 30, 0), -1, &flags);
	is_int(t * 10 + flags, at(2025, 3, 30, 1, 30, 0) * 10,
	    "tz_local 02:30 after the skipped hour: 01:30Z, no flags");
	t = mcr_tz_local(z, at(2025, 3, 30, 0, 30, 0), -1, &flags);
	is_int(t * 10 + flags, at(2025, 3, 30, 0, 30, 0) * 10,
	    "tz_local 00:30 before the skipped hour: 00:30Z, no flags");

	ny = mcr_tz_open("America/New_York");
	if (ok(ny != NULL, "tz_open America/New_York")) {
		is_int(mcr_tz_offset(ny, at(2026, 1, 15, 12, 0, 0)), -18000,
		    "New York offset in January is -18000");
		t = mcr_tz_local(ny, at(2026, 7, 4, 9, 0, 0), -1, &flags);
		is_int(t * 10 + flags, at(2026, 7, 4, 13, 0, 0) * 10,
		    "New York 2026-07-04 09:00 EDT is 13:00Z");
		t = mcr_tz_local(ny, at(2025, 11, 2, 1, 30, 0), -1, &flags);
		is_int(t * 10 + flags, at(2025, 11, 2, 5, 30, 0) * 10 +
		    MCR_TZ_REPEATED,
		    "New York 2025-11-02 01:30: repeated, first reading "
		    "05:30Z");
		/* London again after New York: the zone switches back */
		is_int(mcr_tz_offset(z, at(2026, 7, 15, 12, 0, 0)), 3600,
		    "London offset after using New York");
		mcr_tz_close(ny);
	}

	u = mcr_tz_open("UTC");
	if (ok(u != NULL, "tz_open UTC")) {
		is_int(mcr_tz_offset(u, at(2026, 7, 15, 12, 0, 0)), 0,
		    "UTC offset is 0");
		mcr_tz_close(u);
	}

	capture();
	ny = mcr_tz_open("Mars/Olympus_Mons");
	msg = captured();
	ok(ny == NULL, "tz_open of an unknown zone gives NULL");
	like(msg, "Mars/Olympus_Mons", "tz_open names the unknown zone");
	mcr_tz_close(ny);

	capture();
	ny = mcr_tz_open("../../etc/passwd");
	captured();
	ok(ny == NULL, "tz_open refuses a path outside the zone database");
	mcr_tz_close(ny);

	/* a directory of the zone database is not a zone */
	capture();
	ny = mcr_tz_open("Europe");
	captured();
	ok(ny == NULL, "tz_open of 'Europe' (a directory) gives NULL");
	mcr_tz_close(ny);

	mcr_tz_close(z);
}

/* hours.c */

static void
test_hours_parse(void)
{
	struct mcr_hours h;
	const char *why;
	struct {
		const char *s, *what;
	} bad[] = {
		{ "13:00-08:30", "a reversed range" },
		{ "08:30-08:30", "an empty range" },
		{ "08:00-12:00, 11:00-14:00", "overlapping ranges" },
		{ "14:00-18:00, 08:00-12:00", "ranges out of order" },
		{ "25:00-26:00", "hours past 24" },
		{ "08:60-09:00", "minute 60" },
		{ "garbage", "garbage" },
		{ "08:00", "a time without a range" },
		{ "08:00-12:00; 13:00-17:00", "a wrong separator" },
		{ "08:00-12:00,", "a trailing comma" },
		{ "07-08, 09-10", "hours without minutes" },
		{ "06:00-07:00, 08:00-09:00, 10:00-11:00, 12:00-13:00, "
		    "14:00-15:00", "five ranges" },
	};

	memset(&h, 0, sizeof(h));
	is_int(mcr_hours_parse_day(&h, 1, "08:30-13:00, 14:00-18:00", &why), 0,
	    "hours_parse_day two ranges");
	is_int(h.nrange[1], 2, "two ranges on Monday");
	is_int(h.from[1][0], 510, "first range from 08:30");
	is_int(h.to[1][0], 780, "first range to 13:00");
	is_int(h.from[1][1], 840, "second range from 14:00");
	is_int(h.to[1][1], 1080, "second range to 18:00");
	is_int(mcr_hours_parse_day(&h, 2, "08:00-24:00", &why), 0,
	    "hours_parse_day a range to 24:00");
	is_int(h.to[2][0], 1440, "24:00 is minute 1440");
	is_int(mcr_hours_parse_day(&h, 3, "9:00-12:00,13:00-17:30", &why), 0,
	    "hours_parse_day one-digit hour, no space after the comma");
	is_int(h.nrange[3] * 10000 + h.from[3][0], 20540,
	    "one-digit hour read as 09:00");
	is_int(mcr_hours_parse_day(&h, 6, "closed", &why), 0,
	    "hours_parse_day 'closed'");
	is_int(h.nrange[6], 0, "'closed' leaves no range");
	is_int(mcr_hours_parse_day(&h, 3, "closed", &why), 0,
	    "hours_parse_day 'closed' over a day with hours");
	is_int(h.nrange[3], 0, "'closed' clears the day's ranges");

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mcr_hours e;

		memset(&e, 0, sizeof(e));
		why = NULL;
		is_int(mcr_hours_parse_day(&e, 1, bad[i].s, &why), -1,
		    "hours_parse_day rejects %s ('%s')", bad[i].what, bad[i].s);
		ok(why != NULL && *why != '\0', "and says why (%s)",
		    why != NULL ? why : "NULL");
	}

	is_int(mcr_hours_parse_holidays(&h, "2026-01-07, 2026-12-25", &why), 0,
	    "hours_parse_holidays two dates");
	is_int(h.nholiday, 2, "two holidays");
	if (h.nholiday == 2) {
		is_int(h.holiday[0], mcr_days_from_civil(2026, 1, 7),
		    "first holiday is 2026-01-07");
		is_int(h.holiday[1], mcr_days_from_civil(2026, 12, 25),
		    "second holiday is 2026-12-25");
	}
	is_int(mcr_hours_parse_holidays(&h, "", &why), 0,
	    "hours_parse_holidays empty list");
	is_int(h.nholiday, 0, "an empty list clears the holidays");
	is_int(mcr_hours_parse_holidays(&h, "2026-12-25 ,2026-12-26", &why), 0,
	    "hours_parse_holidays accepts a space before the comma");
	is_int(h.nholiday, 2, "space before the comma: two holidays");
	why = NULL;
	is_int(mcr_hours_parse_holidays(&h, "2026-12-25, 2026-13-01", &why), -1,
	    "hours_parse_holidays rejects month 13");
	ok(why != NULL, "and says why");
	why = NULL;
	is_int(mcr_hours_parse_holidays(&h, "Christmas", &why), -1,
	    "hours_parse_holidays rejects a word");
	ok(why != NULL, "and says why");
	why = NULL;
	is_int(mcr_hours_parse_holidays(&h, "2026-12-25 09:00", &why), -1,
	    "hours_parse_holidays rejects a time");
	ok(why != NULL, "and says why");
	free(h.holiday);
}

static void
open_is(const struct mcr_hours *h, struct mcr_tz *z, time_t t, int want,
    const char *what)
{
	is_int(mcr_hours_open(h, z, t), want, "%s %s", want ? "open" :
	    "closed", what);
}

static void
test_hours_open(void)
{
	struct mcr_hours h, never;
	struct mcr_tz *z;
	const char *why;

	if ((z = mcr_tz_open("Europe/London")) == NULL)
		bail("no Europe/London zone");
	memset(&h, 0, sizeof(h));
	for (int d = 1; d <= 5; d++)
		mcr_hours_parse_day(&h, d, "08:30-13:00, 14:00-18:00", &why);
	mcr_hours_parse_holidays(&h, "2026-01-07, 2026-12-25", &why);

	/* Monday 2026-01-05, GMT */
	open_is(&h, z, at(2026, 1, 5, 10, 0, 0), 1, "Monday 10:00");
	open_is(&h, z, at(2026, 1, 5, 13, 30, 0), 0, "Monday 13:30 (lunch)");
	open_is(&h, z, at(2026, 1, 5, 8, 30, 0), 1, "at 08:30 exactly");
	open_is(&h, z, at(2026, 1, 5, 8, 29, 59), 0, "at 08:29:59");
	open_is(&h, z, at(2026, 1, 5, 12, 59, 59), 1, "at 12:59:59");
	open_is(&h, z, at(2026, 1, 5, 13, 0, 0), 0, "at 13:00 exactly");
	open_is(&h, z, at(2026, 1, 5, 14, 0, 0), 1, "at 14:00 exactly");
	open_is(&h, z, at(2026, 1, 5, 18, 0, 0), 0, "at 18:00 exactly");
	open_is(&h, z, at(2026, 1, 5, 8, 0, 0), 0, "Monday 08:00Z in January");
	open_is(&h, z, at(2026, 1, 10, 10, 0, 0), 0, "Saturday 10:00");
	open_is(&h, z, at(2026, 1, 11, 10, 0, 0), 0, "Sunday 10:00");
	open_is(&h, z, at(2026, 1, 7, 10, 0, 0), 0,
	    "on the holiday Wednesday 2026-01-07 10:00");
	open_is(&h, z, at(2026, 1, 8, 10, 0, 0), 1,
	    "the day after the holiday 10:00");
	/* Monday 2026-07-06, BST: local = UTC + 1 */
	open_is(&h, z, at(2026, 7, 6, 8, 0, 0), 1,
	    "Monday 08:00Z in July (09:00 BST)");
	open_is(&h, z, at(2026, 7, 6, 7, 29, 0), 0,
	    "Monday 07:29Z in July (08:29 BST)");
	open_is(&h, z, at(2026, 7, 6, 7, 30, 0), 1,
	    "Monday 07:30Z in July (08:30 BST)");
	open_is(&h, z, at(2026, 7, 6, 12, 0, 0), 0,
	    "Monday 12:00Z in July (13:00 BST)");
	open_is(&h, z, at(2026, 7, 6, 16, 59, 0), 1,
	    "Monday 16:59Z in July (17:59 BST)");
	open_is(&h, z, at(2026, 7, 6, 17, 0, 0), 0,
	    "Monday 17:00Z in July (18:00 BST)");
	open_is(&h, z, at(2026, 7, 5, 23, 30, 0), 0,
	    "Sunday 23:30Z in July (Monday 00:30 BST)");

	is_int(mcr_hours_next_open(&h, z, at(2026, 1, 9, 19, 0, 0)),
	    at(2026, 1, 12, 8, 30, 0),
	    "next_open from Friday evening is Monday 08:30");
	is_int(mcr_hours_next_open(&h, z, at(2026, 7, 10, 18, 0, 0)),
	    at(2026, 7, 13, 7, 30, 0),
	    "next_open from Friday evening in July is Monday 07:30Z");
	is_int(mcr_hours_next_open(&h, z, at(2026, 1, 7, 7, 0, 0)),
	    at(2026, 1, 8, 8, 30, 0),
	    "next_open from a holiday morning is the next day's opening");
	is_int(mcr_hours_next_open(&h, z, at(2026, 12, 24, 19, 0, 0)),
	    at(2026, 12, 28, 8, 30, 0),
	    "next_open over a holiday Friday and the weekend");
	is_int(mcr_hours_next_open(&h, z, at(2026, 1, 5, 13, 30, 0)),
	    at(2026, 1, 5, 14, 0, 0), "next_open from lunch is 14:00");
	is_int(mcr_hours_next_open(&h, z, at(2026, 1, 5, 7, 0, 0)),
	    at(2026, 1, 5, 8, 30, 0), "next_open early morning is 08:30");
	is_int(mcr_hours_next_open(&h, z, at(2026, 1, 5, 10, 0, 0)),
	    at(2026, 1, 5, 10, 0, 0), "next_open when open is now");
	is_int(mcr_hours_next_open(&h, z, at(2026, 1, 5, 18, 0, 0)),
	    at(2026, 1, 6, 8, 30, 0), "next_open at closing is tomorrow");

	memset(&never, 0, sizeof(never));
	is_int(mcr_hours_next_open(&never, z, at(2026, 1, 5, 10, 0, 0)), -1,
	    "next_open with no hours at all is -1");

	free(h.holiday);
	mcr_tz_close(z);
}

/* phone.c */

static void
number_is(const char *raw, const char *e164, enum mcr_ltype type,
    const char *country, int foreign)
{
	struct mcr_number n;

	memset(&n, 0x55, sizeof(n));
	mcr_phone_norm(raw, "GB", 6, &n);
	is_str(mcr_phone_typename(n.type), mcr_phone_typename(type),
	    "phone '%s' is %s", raw, mcr_phone_typename(type));
	is_str(n.e164, e164, "phone '%s' e164", raw);
	if (country != NULL) {
		is_str(n.country, country, "phone '%s' country", raw);
		is_int(n.foreign, foreign, "phone '%s' foreign", raw);
	}
}

static void
test_phone(void)
{
	static const char *withheld[] = { "", "anonymous", "Anonymous",
	    "Restricted", "PRIVATE", "Unavailable", "\"anonymous\"",
	    " anonymous ", NULL };
	struct mcr_number a, b;
	char buf[32];
	long before;

	for (int i = 0; withheld[i] != NULL; i++)
		number_is(withheld[i], "", MCR_LT_WITHHELD, NULL, 0);

	number_is("201", "", MCR_LT_INTERNAL, NULL, 0);
	number_is("200100", "", MCR_LT_INTERNAL, NULL, 0);
	number_is("07400123456", "+447400123456", MCR_LT_MOBILE, "GB", 0);
	number_is("+447400123456", "+447400123456", MCR_LT_MOBILE, "GB", 0);
	number_is("+44 (0)121 496 0000", "+441214960000", MCR_LT_FIXED, "GB",
	    0);
	number_is("0121 496 0001", "+441214960001", MCR_LT_FIXED, "GB", 0);
	number_is("tel:+33612345678", "+33612345678", MCR_LT_MOBILE, "FR", 1);
	number_is("whatsapp:+33612345678", "+33612345678", MCR_LT_MOBILE, "FR",
	    1);
	number_is("sip:07400123456@pbx.example", "+447400123456",
	    MCR_LT_MOBILE, "GB", 0);
	number_is("12345678901234567890", "", MCR_LT_INVALID, "", 0);
	number_is("abc", "", MCR_LT_INVALID, "", 0);

	/* the cache: one parse however many times a number comes */
	mcr_phone_reset();
	before = mcr_phone_parses();
	mcr_phone_norm("07400 123457", "GB", 6, &a);
	mcr_phone_norm("07400 123457", "GB", 6, &b);
	is_int(mcr_phone_parses() - before, 1,
	    "the same raw number twice is parsed once");
	is_int(memcmp(&a, &b, sizeof(a)) == 0, 1,
	    "the cached result is identical");
	is_str(b.e164, "+447400123457", "the cached result's e164");
	mcr_phone_norm("07400 123457", "GB", 6, &b);
	is_int(mcr_phone_parses() - before, 1, "a third time: still one parse");
	mcr_phone_norm("anonymous", "GB", 6, &b);
	is_int(mcr_phone_parses() - before, 1,
	    "a withheld marker does not reach the parser");
	mcr_phone_reset();
	mcr_phone_norm("07400 123457", "GB", 6, &b);
	is_int(mcr_phone_parses() - before, 2,
	    "after a reset it is parsed again");
	/* the region is part of the key */
	mcr_phone_norm("0612345678", "FR", 6, &a);
	mcr_phone_norm("0612345678", "GB", 6, &b);
	is_str(a.e164, "+33612345678", "0612345678 in region FR");
	ok(strcmp(a.e164, b.e164) != 0,
	    "the same digits in region GB are not the FR number");
	is_int(a.foreign, 0, "a French number in region FR is not foreign");

	is_str(mcr_phone_mask("+447400123456", buf, sizeof(buf)),
	    "+44 7*** ***456", "phone_mask +447400123456");
	is_str(mcr_phone_mask(NULL, buf, sizeof(buf)), "(none)",
	    "phone_mask NULL");
	is_str(mcr_phone_mask("", buf, sizeof(buf)), "(none)",
	    "phone_mask empty");
	ok(strstr(mcr_phone_mask("+33612345678", buf, sizeof(buf)),
	    "12345") == NULL, "phone_mask hides the middle digits");

	is_str(mcr_phone_typename(MCR_LT_MOBILE), "mobile", "typename mobile");
	is_str(mcr_phone_typename(MCR_LT_WITHHELD), "withheld",
	    "typename withheld");
	is_str(mcr_phone_typename(MCR_LT_INTERNAL), "internal",
	    "typename internal");
	mcr_phone_reset();
}

/* util.c */

static void
test_utf8(void)
{
	char buf[64], small[8];

	is_int(mcr_utf8_valid("plain", 5), 1, "utf8_valid ASCII");
	is_int(mcr_utf8_valid("\xc3\xa9t\xc3\xa9", 5), 1, "utf8_valid 'été'");
	is_int(mcr_utf8_valid("\xe2\x82\xac", 3), 1, "utf8_valid euro sign");
	is_int(mcr_utf8_valid("\xf0\x9f\x98\x80", 4), 1,
	    "utf8_valid a four-byte sequence");
	is_int(mcr_utf8_valid("", 0), 1, "utf8_valid empty");
	is_int(mcr_utf8_valid("\xe9t\xe9", 3), 0, "utf8_valid Latin-1 'été'");
	is_int(mcr_utf8_valid("\xc3\xa9", 1), 0,
	    "utf8_valid a sequence cut by the length");
	is_int(mcr_utf8_valid("a\xc3", 2), 0, "utf8_valid a truncated end");
	is_int(mcr_utf8_valid("\xc0\xaf", 2), 0, "utf8_valid overlong");
	is_int(mcr_utf8_valid("\xe0\x80\xaf", 3), 0,
	    "utf8_valid overlong three bytes");
	is_int(mcr_utf8_valid("\xed\xa0\x80", 3), 0, "utf8_valid surrogate");
	is_int(mcr_utf8_valid("\xf4\x90\x80\x80", 4), 0,
	    "utf8_valid above U+10FFFF");
	is_int(mcr_utf8_valid("\x80", 1), 0, "utf8_valid lone continuation");

	is_str(mcr_utf8_from_cp1252("plain", buf, sizeof(buf)), "plain",
	    "from_cp1252 ASCII unchanged");
	is_str(mcr_utf8_from_cp1252("\xc3\xa9t\xc3\xa9", buf, sizeof(buf)),
	    "\xc3\xa9t\xc3\xa9", "from_cp1252 valid UTF-8 unchanged");
	is_str(mcr_utf8_from_cp1252("\xe9t\xe9", buf, sizeof(buf)),
	    "\xc3\xa9t\xc3\xa9", "from_cp1252 '\\xe9t\\xe9' is 'été'");
	is_str(mcr_utf8_from_cp1252("\x80", buf, sizeof(buf)), "\xe2\x82\xac",
	    "from_cp1252 0x80 is the euro sign");
	is_str(mcr_utf8_from_cp1252("caf\xe9 \x93ok\x94", buf, sizeof(buf)),
	    "caf\xc3\xa9 \xe2\x80\x9cok\xe2\x80\x9d",
	    "from_cp1252 curly quotes");
	is_str(mcr_utf8_from_cp1252("\x81", buf, sizeof(buf)), "\xef\xbf\xbd",
	    "from_cp1252 undefined 0x81 is U+FFFD");
	is_int(mcr_utf8_from_cp1252("x", buf, sizeof(buf)) == buf, 1,
	    "from_cp1252 returns buf");

	/* truncation: small[8] holds 7 bytes */
	is_str(mcr_utf8_from_cp1252("abcdef\xe9", small, sizeof(small)),
	    "abcdef", "from_cp1252 Latin-1 cut before a sequence");
	is_str(mcr_utf8_from_cp1252("\x80\x80\x80", small, sizeof(small)),
	    "\xe2\x82\xac\xe2\x82\xac", "from_cp1252 two euros fit, not three");
	is_str(mcr_utf8_from_cp1252("abcde\xc3\xa9", small, sizeof(small)),
	    "abcde\xc3\xa9", "from_cp1252 valid UTF-8 that just fits");
	is_str(mcr_utf8_from_cp1252("abcdefgh", small, sizeof(small)),
	    "abcdefg", "from_cp1252 ASCII cut at the size");
	mcr_utf8_from_cp1252("abcdef\xc3\xa9", small, sizeof(small));
	is_str(small, "abcdef",
	    "from_cp1252 valid UTF-8 is not cut mid-sequence");
	ok(mcr_utf8_valid(small, strlen(small)),
	    "from_cp1252 truncated output is valid UTF-8");
	mcr_utf8_from_cp1252("abcde\xe2\x82\xac", small, sizeof(small));
	is_str(small, "abcde", "from_cp1252 three-byte sequence not cut");
	is_str(mcr_utf8_from_cp1252("abcd\xe2\x82\xac", small, sizeof(small)),
	    "abcd\xe2\x82\xac",
	    "from_cp1252 three-byte sequence that just fits");
}

static void
num_is(const char *s, long long min, long long max, long long want)
{
	long long v = -424242;
	const char *e = "unset";
	int rc = mcr_util_num(s, min, max, &v, &e);

	is_int(rc == 0 ? v : -424242, want, "util_num '%s'", s);
	ok(rc != 0 || e == NULL, "util_num '%s' leaves errstr NULL", s);
}

static void
num_fails(const char *s, long long min, long long max, const char *why)
{
	long long v = 7;
	const char *e = NULL;

	is_int(mcr_util_num(s, min, max, &v, &e), -1, "util_num rejects '%s'",
	    s != NULL ? s : "NULL");
	is_str(e, why, "util_num '%s' is %s", s != NULL ? s : "NULL", why);
	is_int(v, 7, "util_num '%s' leaves the value", s != NULL ? s : "NULL");
}

static void
test_num(void)
{
	num_is("42", 0, 100, 42);
	num_is("0", 0, 100, 0);
	num_is("100", 0, 100, 100);
	num_is("-5", -10, 10, -5);
	num_is("9223372036854775807", LLONG_MIN, LLONG_MAX, LLONG_MAX);
	num_fails("101", 0, 100, "too large");
	num_fails("-1", 0, 100, "too small");
	num_fails("99999999999999999999", LLONG_MIN, LLONG_MAX, "too large");
	num_fails("-99999999999999999999", LLONG_MIN, LLONG_MAX, "too small");
	num_fails("", 0, 100, "invalid");
	num_fails("12x", 0, 100, "invalid");
	num_fails("x", 0, 100, "invalid");
	num_fails(" 5", 0, 100, "invalid");
	num_fails("+5", 0, 100, "invalid");
	num_fails("-", 0, 100, "invalid");
	num_fails("5 ", 0, 100, "invalid");
	num_fails(NULL, 0, 100, "invalid");
}

static void
test_hash(void)
{
	const char *s = "The quick brown fox";
	uint64_t h = mcr_util_hash(s, strlen(s), 42);

	is_int(mcr_util_hash(s, strlen(s), 42) == h, 1,
	    "util_hash same input, same value");
	ok(mcr_util_hash(s, strlen(s), 43) != h, "util_hash seeds 42 and 43 "
	    "differ");
	ok(mcr_util_hash("abc", 3, 0) != mcr_util_hash("abd", 3, 0),
	    "util_hash 'abc' and 'abd' differ");
	ok(mcr_util_hash("abc", 3, 0) != mcr_util_hash("abc", 2, 0),
	    "util_hash the length counts");
	is_int(mcr_util_hash("abcd", 3, 0) == mcr_util_hash("abc", 3, 0), 1,
	    "util_hash reads only n bytes");
	ok(mcr_util_hash("", 0, 0) != mcr_util_hash("", 0, 1),
	    "util_hash of nothing depends on the seed");
	/* pinned: stored fingerprints must not change between builds */
	is_str(h == 0x58ec72d89cc13f3eULL ? "pinned" : "changed", "pinned",
	    "util_hash 'The quick brown fox' seed 42 is 0x58ec72d89cc13f3e");
	is_str(mcr_util_hash("mcr", 3, 0) == 0xa36599489693da07ULL ? "pinned" :
	    "changed", "pinned",
	    "util_hash 'mcr' seed 0 is 0xa36599489693da07");
}

static void
test_strings(void)
{
	char b4[4], b8[8] = "XXXXXXX";
	struct mcr_buf b = { 0 };
	char *big;
	int good = 1;

	is_int(mcr_strlcpy(b4, "hello", sizeof(b4)), 5,
	    "strlcpy returns the source length");
	is_str(b4, "hel", "strlcpy truncates and terminates");
	is_int(mcr_strlcpy(b8, "hi", sizeof(b8)), 2, "strlcpy short source");
	is_str(b8, "hi", "strlcpy copies a short source");
	is_int(mcr_strlcpy(b8, "1234567", sizeof(b8)), 7, "strlcpy exact fit");
	is_str(b8, "1234567", "strlcpy exact fit copied");
	b4[0] = 'Z';
	is_int(mcr_strlcpy(b4, "hello", 0), 5, "strlcpy size 0");
	is_int(b4[0], 'Z', "strlcpy size 0 writes nothing");
	is_int(mcr_strlcpy(b4, "hello", 1), 5, "strlcpy size 1");
	is_str(b4, "", "strlcpy size 1 gives an empty string");

	mcr_buf_printf(&b, "%d-%s", 42, "x");
	is_str(b.s, "42-x", "buf_printf into an empty buffer");
	is_int((long long)b.len, 4, "buf_printf length");
	for (int i = 0; i < 1000; i++)
		mcr_buf_printf(&b, "%04d,", i);
	is_int((long long)b.len, 4 + 5000, "buf_printf 1000 times: length");
	is_int((long long)strlen(b.s), (long long)b.len,
	    "buf_printf keeps the string terminated");
	ok(b.cap > b.len, "buf_printf capacity above length");
	for (int i = 0; i < 1000 && good; i++) {
		char want[8];

		snprintf(want, sizeof(want), "%04d,", i);
		good = memcmp(b.s + 4 + 5 * i, want, 5) == 0;
	}
	ok(good, "buf_printf 1000 times: content");
	big = mcr_xmalloc(20001);
	memset(big, 'q', 20000);
	big[20000] = '\0';
	mcr_buf_printf(&b, "[%s]", big);
	is_int((long long)b.len, 5004 + 20002,
	    "buf_printf a 20000-byte string");
	ok(b.s[5004] == '[' && b.s[5005] == 'q' && b.s[b.len - 1] == ']' &&
	    b.s[b.len] == '\0', "buf_printf big content");
	mcr_buf_puts(&b, "tail");
	is_str(b.s + b.len - 5, "]tail", "buf_puts after buf_printf");
	mcr_buf_add(&b, "abcdef", 3);
	is_str(b.s + b.len - 4, "labc", "buf_add appends n bytes");
	mcr_buf_reset(&b);
	is_int((long long)b.len, 0, "buf_reset empties");
	is_str(b.s, "", "buf_reset leaves an empty string");
	mcr_buf_printf(&b, "%s", "");
	is_str(b.s, "", "buf_printf of nothing");
	mcr_buf_printf(&b, "%s", "again");
	is_str(b.s, "again", "buf_printf after reset");
	mcr_buf_free(&b);
	ok(b.s == NULL && b.len == 0 && b.cap == 0, "buf_free");
	free(big);
}

/* cdr.c: detection */

#define ROW_ANSWERED	"\"\",\"07400123001\",\"200\",\"from-trunk\"," \
	"\"\"\"Alice Smith\"\" <07400123001>\",\"PJSIP/trunk-00000001\"," \
	"\"PJSIP/201-00000002\",\"Dial\",\"PJSIP/201,30\"," \
	"\"2026-01-05 09:00:00\",\"2026-01-05 09:00:08\"," \
	"\"2026-01-05 09:01:08\",68,60,\"ANSWERED\",\"DOCUMENTATION\"," \
	"\"1767603600.1\",\"\",\"\",\"1767603600.1\",1"
#define ROW_LOCAL	"\"\",\"07400123002\",\"600\",\"from-trunk\"," \
	"\"\"\"Bob\"\" <07400123002>\",\"PJSIP/trunk-00000003\"," \
	"\"Local/201@from-queue-00000001;1\",\"Dial\"," \
	"\"Local/201@from-queue,30\",\"2026-01-05 09:10:00\"," \
	"\"2026-01-05 09:10:05\",\"2026-01-05 09:10:30\",30,25," \
	"\"ANSWERED\",\"DOCUMENTATION\",\"1767604200.3\",\"\",\"\"," \
	"\"1767604200.3\",2"
#define ROW_QUEUED	"\"\",\"07400123002\",\"201\",\"from-queue\"," \
	"\"\"\"Bob\"\" <07400123002>\",\"Local/201@from-queue-00000001;2\"," \
	"\"PJSIP/201-00000004\",\"Dial\",\"PJSIP/201,28\"," \
	"\"2026-01-05 09:10:01\",,\"2026-01-05 09:10:29\",28,0," \
	"\"NO ANSWER\",\"DOCUMENTATION\",\"1767604201.4\",\"\",\"\"," \
	"\"1767604200.3\",3"
#define ROW_VOICEMAIL	"\"\",\"07400123003\",\"vmu202\",\"from-trunk\"," \
	"\"\"\"\"\" <07400123003>\",\"PJSIP/trunk-00000005\",\"\"," \
	"\"VoiceMail\",\"202@default,u\",\"2026-01-05 09:20:00\"," \
	"\"2026-01-05 09:20:20\",\"2026-01-05 09:20:45\",45,25," \
	"\"ANSWERED\",\"DOCUMENTATION\",\"1767604800.5\",\"\",\"\"," \
	"\"1767604800.5\",5"
#define ROW_BADSTART	"\"\",\"07400123004\",\"200\",\"from-trunk\"," \
	"\"\",\"PJSIP/trunk-00000007\",\"PJSIP/201-00000008\",\"Dial\"," \
	"\"PJSIP/201,30\",\"2026-13-05 09:00:00\",\"\"," \
	"\"2026-13-05 09:00:30\",30,0,\"NO ANSWER\",\"DOCUMENTATION\"," \
	"\"1767603900.7\",\"\",\"\",\"1767603900.7\",7"
#define ROW_16		"\"\",\"07400123001\",\"200\",\"from-trunk\"," \
	"\"\"\"Alice Smith\"\" <07400123001>\",\"PJSIP/trunk-00000001\"," \
	"\"PJSIP/201-00000002\",\"Dial\",\"PJSIP/201,30\"," \
	"\"2026-01-05 09:00:00\",\"2026-01-05 09:00:08\"," \
	"\"2026-01-05 09:01:08\",68,60,\"ANSWERED\",\"DOCUMENTATION\""

static void
detect_is(const char *data, enum mcr_fmt want, const char *what)
{
	enum mcr_fmt got = mcr_cdr_detect(data, strlen(data));

	if (!is_int(got, want, "detect %s", what))
		diag("detected %s, want %s", got ? mcr_cdr_fmtname(got) :
		    "none", want ? mcr_cdr_fmtname(want) : "none");
}

static void
test_detect(void)
{
	detect_is(ROW_ANSWERED "\n" ROW_QUEUED "\n", MCR_FMT_ASTERISK,
	    "an asterisk Master.csv row (21 columns)");
	detect_is(ROW_16 "\n", MCR_FMT_ASTERISK,
	    "an asterisk Master.csv row (16 columns)");
	detect_is(ROW_ANSWERED "\r\n", MCR_FMT_ASTERISK,
	    "an asterisk row with CRLF");
	detect_is("1596512941|1596512941.163|support|NONE|ENTERQUEUE||7000|1\n",
	    MCR_FMT_QUEUE, "a queue_log line");
	detect_is("calldate,clid,src,dst,dcontext,channel,dstchannel,lastapp,"
	    "lastdata,duration,billsec,disposition,amaflags,accountcode,"
	    "uniqueid,userfield,did,cnum,cnam,outbound_cnum,outbound_cnam,"
	    "dst_cnam,recordingfile,linkedid,peeraccount,sequence\n"
	    "2026-01-05 09:00:00,\"\"\"Alice\"\" <07400123001>\",07400123001,"
	    "200,from-trunk,PJSIP/trunk-1,PJSIP/201-2,Dial,\"PJSIP/201,30\","
	    "68,60,ANSWERED,3,,1767603600.1,,01214960000,,,,,,,"
	    "1767603600.1,,1\n", MCR_FMT_FREEPBX,
	    "a FreePBX CDR report header");
	detect_is("\"AmitSIPUser\",\"1000\",\"1002\",\"default\","
	    "\"2017-07-09 10:34:14\",\"2017-07-09 10:34:25\","
	    "\"2017-07-09 10:34:38\",\"24\",\"13\",\"NORMAL_CLEARING\","
	    "\"e852a435-b155-40e6-8ca4-68cd98e8f62d\","
	    "\"f2f39a06-5ced-41ba-ad01-cf71d936908c\",\"1000\",\"G722\","
	    "\"G722\"\n", MCR_FMT_FREESWITCH, "a FreeSWITCH row (15 fields)");
	detect_is("\xef\xbb\xbf" "Call 9744,00000171DEE41BB3_2501,00:05:15,"
	    "2020/05/04 10:53:43,2020/05/04 10:53:43,2020/05/04 10:58:59,"
	    "TerminatedByDst,0611360468,Ext.610,10000,610,610,ReplacedDst,"
	    "Ext.185,185,,,,,\"Chain: 0611360468,Ext.610,Ext.185,\",External,"
	    "Internal,Internal,from disp,to disp,fin disp,\r\n",
	    MCR_FMT_3CX, "a 3CX row after a UTF-8 BOM");
	detect_is("Sid,Parent Call Sid,Date Created,From,To,Status,Direction,"
	    "Start Time,End Time,Duration\n", MCR_FMT_TWILIO,
	    "a Twilio call log header");
	detect_is("{\"type\":\"call\",\"id\":\"c1\","
	    "\"caller\":\"+447400123456\","
	    "\"started_at\":\"2026-01-05T09:00:00Z\"}\n", MCR_FMT_JSONL,
	    "a JSON line");
	detect_is("\n\n" ROW_ANSWERED "\n", MCR_FMT_ASTERISK,
	    "an asterisk row after blank lines");
	detect_is("hello world\n", MCR_FMT_NONE, "'hello world' is none");
	detect_is("a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p\n", MCR_FMT_NONE,
	    "16 letters are none");
	is_int(mcr_cdr_detect("", 0), MCR_FMT_NONE, "detect an empty buffer");
	is_int(mcr_cdr_detect("\xef\xbb\xbf", 3), MCR_FMT_NONE,
	    "detect a lone BOM");

	for (int f = MCR_FMT_ASTERISK; f <= MCR_FMT_JSONL; f++) {
		const char *n = mcr_cdr_fmtname((enum mcr_fmt)f);

		is_int(n != NULL ? (int)mcr_cdr_fmtbyname(n) : -1, f,
		    "fmtbyname(fmtname(%d)) = %d ('%s')", f, f, n ? n : "NULL");
	}
	is_str(mcr_cdr_fmtname(MCR_FMT_NONE), NULL, "fmtname NONE is NULL");
	is_str(mcr_cdr_fmtname(MCR_FMT_ASTERISK), "asterisk",
	    "fmtname asterisk");
	is_str(mcr_cdr_fmtname(MCR_FMT_QUEUE), "asterisk-queue",
	    "fmtname asterisk-queue");
	is_int(mcr_cdr_fmtbyname("nonesuch"), MCR_FMT_NONE,
	    "fmtbyname of an unknown name");
	is_int(mcr_cdr_fmtbyname(""), MCR_FMT_NONE, "fmtbyname empty");
	ok(strstr(mcr_cdr_fmtlist(), "freeswitch") != NULL,
	    "fmtlist names freeswitch");
}

/* cdr.c: the Asterisk reader over an in-memory file */

struct rd {
	FILE	*fp;
	struct mcr_cdr *r;
};

static int
rd_open(struct rd *d, const char *text, const char *name,
    const struct mcr_config *c)
{
	d->fp = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
	if (d->fp == NULL)
		bail("fmemopen");
	d->r = mcr_cdr_open(MCR_FMT_ASTERISK, d->fp, name, c, 0);
	return d->r != NULL;
}

static void
rd_close(struct rd *d)
{
	mcr_cdr_close(d->r);
	fclose(d->fp);
}

static void
test_cdr(const struct mcr_config *c)
{
	struct rd d;
	struct mcr_leg l;
	const char *msg;
	int rc;

	/* one answered row */
	ok(rd_open(&d, ROW_ANSWERED "\n", "Master.csv", c), "cdr_open");
	is_int(mcr_cdr_next(d.r, &l, 0), 1, "cdr_next reads the answered row");
	is_str(l.gkey, "ast:1767603600.1", "gkey is ast: and the linkedid");
	is_str(l.caller, "07400123001", "caller is src");
	is_str(l.caller_name, "Alice Smith", "caller name from clid");
	is_str(l.called, "200", "called is dst");
	is_str(l.context, "from-trunk", "context is dcontext");
	is_str(l.channel, "PJSIP/trunk-00000001", "channel");
	is_int(l.start, at(2026, 1, 5, 9, 0, 0), "start in naive seconds");
	is_int(l.utc, 0, "times are local (not utc)");
	is_int(l.answer, at(2026, 1, 5, 9, 0, 8), "answer = end - billsec");
	is_int(l.end, at(2026, 1, 5, 9, 1, 8), "end");
	is_int(l.hint, 1767603600, "hint from the uniqueid");
	is_int(l.primary, 1, "the trunk leg is primary");
	is_int(l.res, MCR_RES_ANSWERED,
	    "Dial ANSWERED to PJSIP/201 with billsec is answered");
	is_int(l.line, 1, "leg line 1");
	is_int(mcr_cdr_legoffset(d.r), 0, "leg offset 0");
	is_int(mcr_cdr_next(d.r, &l, 0), 0, "then the end");
	is_int(mcr_cdr_offset(d.r), (long long)strlen(ROW_ANSWERED) + 1,
	    "offset after the row");
	is_int(mcr_cdr_line(d.r), 1, "one line consumed");
	rd_close(&d);

	ok(rd_open(&d, ROW_LOCAL "\n", "Master.csv", c), "cdr_open (Local)");
	is_int(mcr_cdr_next(d.r, &l, 0), 1, "cdr_next reads the Local row");
	is_int(l.res, MCR_RES_NONE, "Dial answered by a Local/ channel says "
	    "nothing");
	is_int(l.answer, -1, "and has no answer time");
	rd_close(&d);

	ok(rd_open(&d, ROW_VOICEMAIL "\n", "Master.csv", c),
	    "cdr_open (VoiceMail)");
	is_int(mcr_cdr_next(d.r, &l, 0), 1, "cdr_next reads the VoiceMail row");
	is_int(l.res, MCR_RES_VOICEMAIL, "lastapp VoiceMail is voicemail");
	is_int(l.answer, -1, "voicemail is not a person answering");
	is_str(l.caller_name, NULL, "an empty clid name gives NULL");
	rd_close(&d);

	ok(rd_open(&d, ROW_16 "\n", "Master.csv", c), "cdr_open (16 columns)");
	is_int(mcr_cdr_next(d.r, &l, 0), 1, "cdr_next reads a 16-column row");
	is_str(l.caller, "07400123001", "16 columns: caller");
	is_int(l.start, at(2026, 1, 5, 9, 0, 0), "16 columns: start");
	is_int(l.res, MCR_RES_ANSWERED, "16 columns: answered");
	ok(l.gkey != NULL && strncmp(l.gkey, "ast:", 4) == 0,
	    "16 columns: an ast: gkey without a linkedid");
	rd_close(&d);

	/* a partial last line waits for final */
	ok(rd_open(&d, ROW_ANSWERED "\n" ROW_VOICEMAIL, "Master.csv", c),
	    "cdr_open (partial last line)");
	is_int(mcr_cdr_next(d.r, &l, 0), 1, "the complete row is read");
	is_int(mcr_cdr_next(d.r, &l, 0), 0,
	    "the partial last line is not returned without final");
	is_int(mcr_cdr_offset(d.r), (long long)strlen(ROW_ANSWERED) + 1,
	    "the partial line is not consumed");
	is_int(mcr_cdr_line(d.r), 1, "nor counted");
	is_int(mcr_cdr_next(d.r, &l, 1), 1,
	    "the partial last line is returned with final");
	is_int(l.res, MCR_RES_VOICEMAIL, "and it is the voicemail row");
	is_int(l.line, 2, "on line 2");
	is_int(mcr_cdr_legoffset(d.r), (long long)strlen(ROW_ANSWERED) + 1,
	    "its row starts after the first");
	is_int(mcr_cdr_next(d.r, &l, 1), 0, "then the end");
	is_int(mcr_cdr_offset(d.r), (long long)strlen(ROW_ANSWERED "\n"
	    ROW_VOICEMAIL), "everything consumed");
	rd_close(&d);

	/* a bad start time: wrong format on the first row, bad row after */
	ok(rd_open(&d, ROW_BADSTART "\n" ROW_ANSWERED "\n", "bad.csv", c),
	    "cdr_open (bad first row)");
	capture();
	rc = mcr_cdr_next(d.r, &l, 0);
	msg = captured();
	is_int(rc, -2, "a bad start time on the first row gives -2");
	like(msg, "bad.csv:1: ", "the message has name:line");
	like(msg, "2026-13-05 09:00:00", "the message quotes the time");
	rd_close(&d);

	ok(rd_open(&d, ROW_ANSWERED "\n" ROW_BADSTART "\n" ROW_VOICEMAIL "\n",
	    "bad.csv", c), "cdr_open (bad second row)");
	is_int(mcr_cdr_next(d.r, &l, 0), 1, "a good first row");
	capture();
	rc = mcr_cdr_next(d.r, &l, 0);
	msg = captured();
	is_int(rc, -1, "a bad start time after a good row gives -1");
	like(msg, "bad.csv:2: ", "the message has name:line");
	like(msg, "start", "the message says which time");
	is_int(mcr_cdr_next(d.r, &l, 0), 1, "reading goes on after a bad row");
	is_int(l.res * 10 + (int)l.line, MCR_RES_VOICEMAIL * 10 + 3,
	    "the row after the bad one is read (voicemail, line 3)");
	is_int(mcr_cdr_next(d.r, &l, 0), 0, "then the end");
	rd_close(&d);

	/* CRLF line endings */
	ok(rd_open(&d, ROW_QUEUED "\r\n" ROW_ANSWERED "\r\n", "crlf.csv", c),
	    "cdr_open (CRLF)");
	is_int(mcr_cdr_next(d.r, &l, 0), 1, "CRLF: first row");
	is_str(l.gkey, "ast:1767604200.3",
	    "CRLF: gkey from the linkedid (last field read as a sequence)");
	is_int(l.start, at(2026, 1, 5, 9, 10, 1), "CRLF: start");
	is_int(l.res, MCR_RES_NOANSWER, "CRLF: NO ANSWER to PJSIP/201");
	is_int(l.primary, 0, "CRLF: a Local/ channel is not primary");
	is_int(mcr_cdr_next(d.r, &l, 0), 1, "CRLF: second row");
	is_str(l.gkey, "ast:1767603600.1", "CRLF: second gkey");
	is_str(l.caller, "07400123001", "CRLF: second caller");
	is_int(l.res, MCR_RES_ANSWERED, "CRLF: answered");
	is_int(mcr_cdr_next(d.r, &l, 0), 0, "CRLF: then the end");
	rd_close(&d);
}

/* config.c */

static void
test_config(void)
{
	struct mcr_config *c;
	const char *p, *msg;
	char want[600];

	unsetenv("MCR_DB");
	unsetenv("MCR_CONFIG");

	p = tmp_file("comments.conf", "; only comments\n# and blank lines\n\n"
	    "   ; indented\n");
	c = mcr_config_load(p);
	if (ok(c != NULL, "config_load a file of comments")) {
		is_str(c->file, p, "config file name kept");
		is_str(c->name, "the practice", "default name");
		is_int(c->type, MCR_DENTAL, "default type dental");
		is_str(mcr_config_clinic(c->type), "dental", "clinic name");
		is_str(c->timezone, "Europe/London", "default zone");
		is_str(c->region, "GB", "default region");
		is_str(c->currency, "GBP", "default currency");
		is_int(c->ext_digits, 6, "default extension digits");
		is_str(c->store_path, "/var/lib/mcr/mcr.db", "default store");
		is_int(c->busy_timeout_ms, 5000, "default busy timeout");
		is_int(c->hours.nrange[1] * 10000 + c->hours.from[1][0], 10510,
		    "default Monday opens 08:30");
		is_int(c->hours.to[1][0], 1080, "default Monday closes 18:00");
		is_int(c->hours.nrange[0] + c->hours.nrange[6], 0,
		    "default weekend closed");
		is_int(c->cooldown, 86400, "default cooldown a day");
		is_str(c->format, NULL, "default format: detect");
		ok(c->inbound_contexts.n > 0 &&
		    strcmp(c->inbound_contexts.v[0], "from-trunk") == 0,
		    "default inbound contexts");
		mcr_config_free(c);
	}

	p = tmp_file("unknown.conf", "[practice]\nname = Smile Dental\n"
	    "colour = blue\n");
	capture();
	c = mcr_config_load(p);
	msg = captured();
	ok(c == NULL, "config_load with an unknown key fails");
	snprintf(want, sizeof(want), "%s:3: unknown key", p);
	like(msg, want, "the message is FILE:LINE: unknown key");
	like(msg, "colour", "the message names the key");
	mcr_config_free(c);

	p = tmp_file("badvalue.conf", "[practice]\ntype = vet\n");
	capture();
	c = mcr_config_load(p);
	msg = captured();
	ok(c == NULL, "config_load with type = vet fails");
	snprintf(want, sizeof(want), "%s:2: ", p);
	like(msg, want, "the bad value message has FILE:LINE");
	like(msg, "vet", "the message quotes the value");
	mcr_config_free(c);

	p = tmp_file("section.conf", "[nonesuch]\nkey = 1\n");
	capture();
	c = mcr_config_load(p);
	msg = captured();
	ok(c == NULL, "config_load with an unknown section fails");
	like(msg, "unknown section", "the message says unknown section");
	mcr_config_free(c);

	p = tmp_file("badhours.conf", "[hours]\nmon = 13:00-08:00\n");
	capture();
	c = mcr_config_load(p);
	msg = captured();
	ok(c == NULL, "config_load with reversed hours fails");
	snprintf(want, sizeof(want), "%s:2: ", p);
	like(msg, want, "the hours message has FILE:LINE");
	mcr_config_free(c);

	snprintf(want, sizeof(want), "%s/absent.conf", tmpdir);
	capture();
	c = mcr_config_load(want);
	msg = captured();
	ok(c == NULL, "config_load of a missing file fails");
	like(msg, "absent.conf", "the message names the file");
	mcr_config_free(c);

	p = tmp_file("hours.conf", "[practice]\ntype = gp\nregion = FR\n"
	    "\n[hours]\nmon = 08:00-12:00\nsat = 09:00-12:00\n"
	    "holidays = 2026-12-25\n[ingest]\nformat = freeswitch\n"
	    "cooldown = 48\n");
	c = mcr_config_load(p);
	if (ok(c != NULL, "config_load with [hours]")) {
		is_int(c->hours.nrange[1], 1, "mon = 08:00-12:00: one range");
		is_int(c->hours.from[1][0], 480, "mon opens 08:00");
		is_int(c->hours.to[1][0], 720, "mon closes 12:00");
		is_int(c->hours.nrange[6], 1, "sat has hours");
		is_int(c->hours.from[2][0], 510, "tue keeps the default");
		is_int(c->hours.nholiday, 1, "one holiday");
		is_int(c->type, MCR_GP, "type = gp");
		is_str(c->region, "FR", "region = FR");
		is_str(c->format, "freeswitch", "format = freeswitch");
		is_int(c->cooldown, 48 * 3600, "cooldown in hours");
		mcr_config_free(c);
	}

	/* MCR_CONFIG names the file when none is given */
	setenv("MCR_CONFIG", p, 1);
	c = mcr_config_load(NULL);
	if (ok(c != NULL, "config_load(NULL) reads $MCR_CONFIG")) {
		is_str(c->file, p, "the file from $MCR_CONFIG");
		is_int(c->hours.from[1][0], 480, "its hours applied");
		mcr_config_free(c);
	}
	unsetenv("MCR_CONFIG");

	p = tmp_file("store.conf", "[store]\npath = /srv/mcr/practice.db\n");
	c = mcr_config_load(p);
	if (ok(c != NULL, "config_load with [store] path")) {
		is_str(c->store_path, "/srv/mcr/practice.db", "[store] path");
		mcr_config_free(c);
	}
	setenv("MCR_DB", "/tmp/elsewhere.db", 1);
	c = mcr_config_load(p);
	if (ok(c != NULL, "config_load with [store] path and MCR_DB")) {
		is_str(c->store_path, "/tmp/elsewhere.db",
		    "MCR_DB overrides [store] path");
		mcr_config_free(c);
	}
	setenv("MCR_DB", "", 1);
	c = mcr_config_load(p);
	if (ok(c != NULL, "config_load with an empty MCR_DB")) {
		is_str(c->store_path, "/srv/mcr/practice.db",
		    "an empty MCR_DB is ignored");
		mcr_config_free(c);
	}
	unsetenv("MCR_DB");
}

static void
test_signatures(void)
{
	static const char body[] =
	    "{\"object\":\"whatsapp_business_account\",\"entry\":[]}";
	static const char tw[] = "CallSid=CA1234567890ABCDE&Caller=%2B14158675309"
	    "&Digits=1234&From=%2B14158675309&To=%2B18005551212";
	static const char url[] = "https://mycompany.com/myapp.php?foo=1&bar=2";
	struct mcr_form f;

	ok(mcr_sig_meta("app-secret", body, strlen(body), "sha256="
	    "d3e4f9da0ce6c71ab3dba55929b8eeeee2455349e534924ead19f98d143e904f"),
	    "meta: the signature of the raw body");
	ok(mcr_sig_meta("app-secret", body, strlen(body), "sha256="
	    "D3E4F9DA0CE6C71AB3DBA55929B8EEEEE2455349E534924EAD19F98D143E904F"),
	    "meta: in capitals too");
	ok(!mcr_sig_meta("app-secret", body, strlen(body) - 1, "sha256="
	    "d3e4f9da0ce6c71ab3dba55929b8eeeee2455349e534924ead19f98d143e904f"),
	    "meta: a byte less is refused");
	ok(!mcr_sig_meta("other", body, strlen(body), "sha256="
	    "d3e4f9da0ce6c71ab3dba55929b8eeeee2455349e534924ead19f98d143e904f"),
	    "meta: another secret is refused");
	ok(!mcr_sig_meta("app-secret", body, strlen(body), NULL) &&
	    !mcr_sig_meta("app-secret", body, strlen(body), "sha256=") &&
	    !mcr_sig_meta("app-secret", body, strlen(body), "d3e4f9"),
	    "meta: missing or short signatures are refused");
	ok(mcr_sig_twilio("12345", url, tw, strlen(tw),
	    "RSOYDt4T1cUTdK1PDd93/VVr8B8="), "twilio: the published vector");
	ok(!mcr_sig_twilio("12345", "https://mycompany.com/myapp.php?foo=1",
	    tw, strlen(tw), "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
	    "twilio: another URL is refused");
	ok(mcr_sig_twilio("12345", "https://mycompany.com:443/myapp.php?foo=1&"
	    "bar=2", tw, strlen(tw), "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
	    "twilio: the URL with its port also verifies");
	ok(!mcr_sig_twilio("12345", url, tw, strlen(tw) - 1,
	    "RSOYDt4T1cUTdK1PDd93/VVr8B8="), "twilio: a changed body is refused");
	ok(mcr_form_parse("a=1&b=x+y%21&c=", 15, &f) == 0 && f.n == 3 &&
	    strcmp(mcr_form_get(&f, "b"), "x y!") == 0 &&
	    strcmp(mcr_form_get(&f, "c"), "") == 0, "form: decoded");
	mcr_form_free(&f);
	ok(mcr_form_parse("novalue", 7, &f) == -1, "form: a pair without =");
}

static void
test_templates(void)
{
	struct mcr_vars v;
	struct mcr_buf b = { 0 };
	char bad[32] = "";

	memset(&v, 0, sizeof(v));
	v.practice = "Riverside Dental";
	v.name = "Sarah";
	ok(mcr_tpl_render("Hi {name}, {practice}.", &v, &b, bad,
	    sizeof(bad)) == 0, "render: two variables");
	is_str(b.s, "Hi Sarah, Riverside Dental.", "render: the text");
	mcr_buf_reset(&b);
	ok(mcr_tpl_render("{ {} {x y} {name", &v, &b, bad, sizeof(bad)) == 0,
	    "render: braces that name nothing stay as they are");
	is_str(b.s, "{ {} {x y} {name", "render: kept verbatim");
	mcr_buf_reset(&b);
	ok(mcr_tpl_render("{when}", &v, &b, bad, sizeof(bad)) == -1,
	    "render: an unknown variable fails");
	is_str(bad, "when", "render: and is named");
	mcr_buf_reset(&b);
	ok(mcr_tpl_render("{recall}.", &v, &b, bad, sizeof(bad)) == 0 &&
	    strcmp(b.s, ".") == 0, "render: an unset variable is empty");
	mcr_buf_free(&b);
	for (int k = 0; k < MCR_K_N; k++)
		is_int(mcr_kind_byname(mcr_kind_name(k)), k, "kind %s by name",
		    mcr_kind_name(k));
	is_int(mcr_kind_byname("recover"), -1, "kind: an unknown name");
}

static void
test_classify(void)
{
	static const struct {
		const char *p;
		int	 http;
		long	 code;
		enum mcr_pres want;
	} t[] = {
		{ "meta", 429, 130429, MCR_P_RETRY },
		{ "meta", 429, 131056, MCR_P_RETRY },
		{ "meta", 503, 131016, MCR_P_RETRY },
		{ "meta", 500, 131000, MCR_P_RETRY },
		{ "meta", 400, 131026, MCR_P_FALLBACK },
		{ "meta", 400, 131049, MCR_P_FALLBACK },
		{ "meta", 400, 131050, MCR_P_OPTOUT },
		{ "meta", 401, 190, MCR_P_STOP },
		{ "meta", 403, 200, MCR_P_STOP },
		{ "meta", 400, 368, MCR_P_STOP },
		{ "meta", 400, 131031, MCR_P_STOP },
		{ "meta", 400, 131042, MCR_P_STOP },
		{ "meta", 400, 131048, MCR_P_STOP },
		{ "meta", 400, 132000, MCR_P_STOP },
		{ "meta", 400, 132001, MCR_P_STOP },
		{ "meta", 400, 100, MCR_P_FAIL },
		{ "meta", 400, 131030, MCR_P_FAIL },
		{ "twilio", 429, 20429, MCR_P_RETRY },
		{ "twilio", 400, 63018, MCR_P_RETRY },
		{ "twilio", 400, 63016, MCR_P_FALLBACK },
		{ "twilio", 400, 21610, MCR_P_OPTOUT },
		{ "twilio", 401, 20003, MCR_P_STOP },
		{ "twilio", 400, 21211, MCR_P_FAIL },
		{ "twilio", 400, 21614, MCR_P_FAIL },
		{ "meta", 502, 0, MCR_P_RETRY },
		{ "meta", 429, 0, MCR_P_RETRY },
		{ "twilio", 401, 0, MCR_P_STOP },
		{ "twilio", 404, 0, MCR_P_STOP },
		{ "twilio", 400, 0, MCR_P_FAIL },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		is_int(mcr_prov_classify(t[i].p, t[i].http, t[i].code),
		    t[i].want, "classify %s HTTP %d code %ld", t[i].p,
		    t[i].http, t[i].code);
}

static void
test_secret(void)
{
	const char *p = tmp_file("token", "  tok-123  \nsecond line\n");
	char *s;

	setenv("MCR_TEST_TOKEN", "from-env", 1);
	s = mcr_config_secret("MCR_TEST_TOKEN", p, "token");
	is_str(s, "from-env", "secret: the environment first");
	free(s);
	unsetenv("MCR_TEST_TOKEN");
	chmod(p, 0644);
	ok(mcr_config_secret("MCR_TEST_TOKEN", p, "token") == NULL,
	    "secret: a file readable by others is refused");
	chmod(p, 0600);
	s = mcr_config_secret("MCR_TEST_TOKEN", p, "token");
	is_str(s, "tok-123", "secret: the first line, without blanks");
	free(s);
	ok(mcr_config_secret("MCR_TEST_TOKEN", NULL, "token") == NULL,
	    "secret: neither is an error");
}

int
main(int argc, char *argv[])
{
	struct mcr_config *c;

	(void)argc;
	mcr_util_setprog(argv[0]);
	tmp_init();

	test_civil();
	test_time_utc();
	test_time_naive();
	test_tz();
	test_hours_parse();
	test_hours_open();
	test_phone();
	test_utf8();
	test_num();
	test_hash();
	test_strings();
	test_detect();
	test_config();
	test_templates();
	test_classify();
	test_secret();
	test_signatures();

	unsetenv("MCR_DB");
	unsetenv("MCR_CONFIG");
	c = mcr_config_load(tmp_file("reader.conf", "# defaults\n"));
	if (c == NULL)
		bail("cannot load a configuration for the readers");
	test_cdr(c);
	mcr_config_free(c);

	tmp_done();
	return done_testing();
}
