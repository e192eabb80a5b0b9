/* The clock (MCR_NOW), time parsing and formatting, time zones. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mcr.h"

int64_t
mcr_days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
mdays(int y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

/* Read exactly n digits. */
static int
digits(const char **sp, int n, int *out)
{
	const char *s = *sp;
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*sp = s + n;
	*out = v;
	return 0;
}

/*
 * "YYYY-MM-DD[ T]HH:MM[:SS[.frac]]" with '-' or '/' in the date.  Leaves
 * *sp after the time.
 */
static int
civil(const char **sp, int64_t *naive)
{
	const char *s = *sp;
	int y, mo, d, h, mi, sec = 0;
	char sep;

	if (digits(&s, 4, &y) == -1)
		return -1;
	sep = *s;
	if (sep != '-' && sep != '/')
		return -1;
	s++;
	if (digits(&s, 2, &mo) == -1 || *s++ != sep || digits(&s, 2, &d) == -1)
		return -1;
	if (*s != ' ' && *s != 'T')
		return -1;
	s++;
	if (digits(&s, 2, &h) == -1 || *s++ != ':' || digits(&s, 2, &mi) == -1)
		return -1;
	if (*s == ':') {
		s++;
		if (digits(&s, 2, &sec) == -1)
			return -1;
		if (*s == '.' || *s == ',') {
			s++;
			while (*s >= '0' && *s <= '9')
				s++;
		}
	}
	if (mo < 1 || mo > 12 || d < 1 || d > mdays(y, mo) || h > 23 ||
	    mi > 59 || sec > 60 || y < 1970 || y > 2999)
		return -1;
	if (sec == 60)
		sec = 59;
	*naive = mcr_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 +
	    sec;
	*sp = s;
	return 0;
}

int
mcr_time_parse_naive(const char *s, int64_t *naive)
{
	while (*s == ' ')
		s++;
	if (civil(&s, naive) == -1)
		return -1;
	while (*s == ' ')
		s++;
	return *s == '\0' ? 0 : -1;
}

static int
month(const char *s)
{
	static const char *mon[] = { "jan", "feb", "mar", "apr", "may", "jun",
	    "jul", "aug", "sep", "oct", "nov", "dec" };

	for (int i = 0; i < 12; i++)
		if (strncasecmp(s, mon[i], 3) == 0)
			return i + 1;
	return 0;
}

/* "Tue, 10 Aug 2010 08:02:17 +0000" */
static int
rfc2822(const char *s, time_t *t)
{
	int d, mo, y, h, mi, sec, oh, om;
	char sign;

	while (isalpha((unsigned char)*s))
		s++;
	if (*s == ',')
		s++;
	while (*s == ' ')
		s++;
	if (digits(&s, 2, &d) == -1) {
		if (digits(&s, 1, &d) == -1)
			return -1;
	}
	if (*s++ != ' ' || (mo = month(s)) == 0)
		return -1;
	s += 3;
	if (*s++ != ' ' || digits(&s, 4, &y) == -1 || *s++ != ' ')
		return -1;
	if (digits(&s, 2, &h) == -1 || *s++ != ':' || digits(&s, 2, &mi) == -1
	    || *s++ != ':' || digits(&s, 2, &sec) == -1 || *s++ != ' ')
		return -1;
	if (strcmp(s, "GMT") == 0 || strcmp(s, "UTC") == 0) {
		oh = om = 0;
		sign = '+';
	} else {
		sign = *s++;
		if ((sign != '+' && sign != '-') || digits(&s, 2, &oh) == -1 ||
		    digits(&s, 2, &om) == -1 || *s != '\0')
			return -1;
	}
	if (mo < 1 || d < 1 || d > mdays(y, mo) || h > 23 || mi > 59 ||
	    sec > 60 || y < 1970)
		return -1;
	*t = (time_t)(mcr_days_from_civil(y, mo, d) * 86400 + h * 3600 +
	    mi * 60 + sec);
	*t -= (sign == '-' ? -1 : 1) * (oh * 3600 + om * 60);
	return 0;
}

int
mcr_time_parse_utc(const char *s, time_t *t)
{
	int64_t naive;
	int oh, om;
	long long v;
	const char *e;

	while (*s == ' ')
		s++;
	if (*s >= '0' && *s <= '9' && mcr_util_num(s, 0, 32503680000LL, &v,
	    &e) == 0) {
		*t = (time_t)v;
		return 0;
	}
	if (isalpha((unsigned char)*s) || (s[0] >= '0' && s[0] <= '9' &&
	    (s[1] == ' ' || s[2] == ' ')))
		return rfc2822(s, t);
	if (civil(&s, &naive) == -1)
		return -1;
	if ((*s == 'Z' || *s == 'z') && s[1] == '\0') {
		*t = (time_t)naive;
		return 0;
	}
	if (*s == ' ' && strcmp(s + 1, "UTC") == 0) {
		*t = (time_t)naive;
		return 0;
	}
	if (*s == '+' || *s == '-') {
		char sign = *s++;

		if (digits(&s, 2, &oh) == -1)
			return -1;
		if (*s == ':')
			s++;
		if (digits(&s, 2, &om) == -1 || *s != '\0' || oh > 23 ||
		    om > 59)
			return -1;
		*t = (time_t)(naive - (sign == '-' ? -1 : 1) *
		    (oh * 3600 + om * 60));
		return 0;
	}
	return -1;
}

time_t
mcr_now(void)
{
	const char *s = getenv("MCR_NOW");
	time_t t;
	int64_t naive;

	if (s != NULL && *s != '\0') {
		if (mcr_time_parse_utc(s, &t) == 0)
			return t;
		if (mcr_time_parse_naive(s, &naive) == 0)
			return (time_t)naive;
	}
	return time(NULL);
}

int64_t
mcr_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *
mcr_time_fmt(time_t t, char buf[21])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || tm.tm_year > 8099 ||
	    strftime(buf, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		mcr_strlcpy(buf, "0000-00-00T00:00:00Z", 21);
	return buf;
}

/*
 * Zones go through the C library's tz code, from one thread only (the
 * reader thread of cdrq.c never touches them); TZ is switched only when
 * another zone is asked for.  Offsets are
 * cached per local hour, as rows come in time order.
 */
struct mcr_tz {
	char	 name[64];
	int64_t	 chour;			/* cached naive hour, or INT64_MIN */
	long	 coff;
	int64_t	 oq;			/* cached UTC quarter hour, or INT64_MIN */
	long	 ooff;
};

static char curzone[64];

static void
usezone(const struct mcr_tz *z)
{
	if (strcmp(curzone, z->name) == 0)
		return;
	setenv("TZ", z->name, 1);
	tzset();
	mcr_strlcpy(curzone, z->name, sizeof(curzone));
}

struct mcr_tz *
mcr_tz_open(const char *name)
{
	struct mcr_tz *z;
	char path[256];
	FILE *fp;

	if (name == NULL || *name == '\0' || strlen(name) >= 64 ||
	    strstr(name, "..") != NULL || name[0] == '/') {
		mcr_warn("bad time zone '%s'", name ? name : "");
		return NULL;
	}
	if (strcmp(name, "UTC") != 0) {
		snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", name);
		char magic[4];

		if ((fp = fopen(path, "rb")) == NULL ||
		    fread(magic, 1, 4, fp) != 4 || memcmp(magic, "TZif", 4)) {
			if (fp != NULL)
				fclose(fp);
			mcr_warn("unknown time zone '%s'", name);
			return NULL;
		}
		fclose(fp);
	}
	z = mcr_xcalloc(1, sizeof(*z));
	mcr_strlcpy(z->name, name, sizeof(z->name));
	z->chour = z->oq = INT64_MIN;
	return z;
}

void
mcr_tz_close(struct mcr_tz *z)
{
	free(z);
}

/*
 * Offsets change only on a quarter hour in every zone there is, so one
 * lookup serves the whole quarter hour.
 */
long
mcr_tz_offset(struct mcr_tz *z, time_t t)
{
	struct tm tm;
	int64_t q = (int64_t)(t >= 0 ? t / 900 : (t - 899) / 900);

	if (q == z->oq)
		return z->ooff;
	if (strcmp(z->name, "UTC") == 0)
		z->ooff = 0;
	else {
		usezone(z);
		localtime_r(&t, &tm);
		z->ooff = tm.tm_gmtoff;
	}
	z->oq = q;
	return z->ooff;
}

void
mcr_tz_tm(struct mcr_tz *z, time_t t, struct tm *tm)
{
	time_t l = t + mcr_tz_offset(z, t);

	gmtime_r(&l, tm);
}

time_t
mcr_tz_local(struct mcr_tz *z, int64_t naive, time_t hint, int *flags)
{
	int64_t hour = naive / 3600;
	long a, b;
	time_t ta, tb;
	int va, vb;

	*flags = 0;
	if (hour == z->chour)
		return (time_t)(naive - z->coff);
	a = mcr_tz_offset(z, (time_t)(naive - 86400));
	b = mcr_tz_offset(z, (time_t)(naive + 86400));
	ta = (time_t)(naive - a);
	tb = (time_t)(naive - b);
	va = mcr_tz_offset(z, ta) == a;
	vb = mcr_tz_offset(z, tb) == b;
	if (a == b || (va && !vb) || (!va && vb)) {
		long o = (a == b || va) ? a : b;

		z->chour = hour;
		z->coff = o;
		return (time_t)(naive - o);
	}
	if (va && vb) {
		*flags = MCR_TZ_REPEATED;
		if (hint != -1) {
			long long da = (long long)ta - hint, db = (long long)tb -
			    hint;

			if (da < 0)
				da = -da;
			if (db < 0)
				db = -db;
			return da <= db ? ta : tb;
		}
		return ta < tb ? ta : tb;
	}
	*flags = MCR_TZ_SKIPPED;
	return ta;
}
