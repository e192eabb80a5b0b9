/* Opening hours and holidays in the practice time zone. */
#include <stdlib.h>
#include <string.h>

#include "mcr.h"

static int
hhmm(const char **sp, int *min)
{
	const char *s = *sp;
	int h = 0, m = 0, n = 0;

	while (*s == ' ')
		s++;
	while (*s >= '0' && *s <= '9' && n < 2)
		h = h * 10 + (*s++ - '0'), n++;
	if (n == 0 || *s++ != ':')
		return -1;
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return -1;
	m = (s[0] - '0') * 10 + (s[1] - '0');
	s += 2;
	if (h > 24 || m > 59 || (h == 24 && m != 0))
		return -1;
	*min = h * 60 + m;
	while (*s == ' ')
		s++;
	*sp = s;
	return 0;
}

int
mcr_hours_parse_day(struct mcr_hours *h, int d, const char *s,
    const char **why)
{
	int n = 0, from, to;

	while (*s == ' ')
		s++;
	if (strcmp(s, "closed") == 0 || *s == '\0') {
		h->nrange[d] = 0;
		return 0;
	}
	for (;;) {
		if (hhmm(&s, &from) == -1 || *s++ != '-' ||
		    hhmm(&s, &to) == -1) {
			*why = "expected ranges like 08:30-13:00, 14:00-18:00 "
			    "or 'closed'";
			return -1;
		}
		if (to <= from) {
			*why = "a range ends before it starts";
			return -1;
		}
		if (n == 4) {
			*why = "more than four ranges in a day";
			return -1;
		}
		if (n > 0 && from < h->to[d][n - 1]) {
			*why = "ranges overlap or are out of order";
			return -1;
		}
		h->from[d][n] = (short)from;
		h->to[d][n] = (short)to;
		n++;
		if (*s == '\0')
			break;
		if (*s++ != ',') {
			*why = "ranges are separated by commas";
			return -1;
		}
	}
	h->nrange[d] = n;
	return 0;
}

int
mcr_hours_parse_holidays(struct mcr_hours *h, const char *s, const char **why)
{
	char *copy = mcr_xstrdup(s), *p = copy, *tok;
	int64_t naive;
	char day[32];

	free(h->holiday);
	h->holiday = NULL;
	h->nholiday = 0;
	while ((tok = strsep(&p, ",")) != NULL) {
		while (*tok == ' ')
			tok++;
		for (char *e = tok + strlen(tok); e > tok && e[-1] == ' '; e--)
			e[-1] = '\0';
		if (*tok == '\0')
			continue;
		snprintf(day, sizeof(day), "%s 00:00", tok);
		if (strlen(tok) > 12 || mcr_time_parse_naive(day, &naive) == -1) {
			*why = "holidays are dates like 2026-12-25";
			free(copy);
			return -1;
		}
		h->holiday = mcr_xrealloc(h->holiday, (size_t)(h->nholiday + 1) *
		    sizeof(*h->holiday));
		h->holiday[h->nholiday++] = naive / 86400;
	}
	free(copy);
	return 0;
}

static int
holiday(const struct mcr_hours *h, int64_t day)
{
	for (int i = 0; i < h->nholiday; i++)
		if (h->holiday[i] == day)
			return 1;
	return 0;
}

int
mcr_hours_open(const struct mcr_hours *h, struct mcr_tz *z, time_t t)
{
	int64_t l = (int64_t)t + mcr_tz_offset(z, t);
	int64_t day = (l >= 0 ? l : l - 86399) / 86400;
	int min = (int)((l - day * 86400) / 60);
	int wd = (int)(((day % 7) + 11) % 7);	/* 1970-01-01 was Thursday */

	if (holiday(h, day))
		return 0;
	for (int i = 0; i < h->nrange[wd]; i++)
		if (min >= h->from[wd][i] && min < h->to[wd][i])
			return 1;
	return 0;
}

time_t
mcr_hours_next_open(const struct mcr_hours *h, struct mcr_tz *z, time_t t)
{
	int64_t l = (int64_t)t + mcr_tz_offset(z, t);
	int64_t day = (l >= 0 ? l : l - 86399) / 86400;
	int min = (int)((l - day * 86400) / 60);
	int flags;

	if (mcr_hours_open(h, z, t))
		return t;
	for (int k = 0; k <= 366; k++, day++, min = -1) {
		int wd = (int)(((day % 7) + 11) % 7);

		if (holiday(h, day))
			continue;
		for (int i = 0; i < h->nrange[wd]; i++) {
			if (h->to[wd][i] <= min)
				continue;
			if (h->from[wd][i] > min) {
				time_t r = mcr_tz_local(z, day * 86400 +
				    h->from[wd][i] * 60, -1, &flags);

				return r > t ? r : t;
			}
		}
	}
	return -1;
}

void
mcr_hours_clock(int min, char *buf, size_t n)
{
	int h = min / 60 % 24, m = min % 60, h12 = h % 12 ? h % 12 : 12;

	if (m)
		snprintf(buf, n, "%d:%02d%s", h12, m, h < 12 ? "am" : "pm");
	else
		snprintf(buf, n, "%d%s", h12, h < 12 ? "am" : "pm");
}

void
mcr_hours_opens(const struct mcr_hours *hs, struct mcr_tz *tz, time_t t,
    char *buf, size_t n)
{
	static const char *wd[] = { "Sunday", "Monday", "Tuesday",
	    "Wednesday", "Thursday", "Friday", "Saturday" };
	static const char *mon[] = { "January", "February", "March", "April",
	    "May", "June", "July", "August", "September", "October",
	    "November", "December" };
	time_t next = mcr_hours_next_open(hs, tz, t);
	struct tm a, b;
	int64_t da, db;
	char hm[16];

	if (next == -1) {
		mcr_strlcpy(buf, "soon", n);
		return;
	}
	mcr_tz_tm(tz, t, &a);
	mcr_tz_tm(tz, next, &b);
	mcr_hours_clock(b.tm_hour * 60 + b.tm_min, hm, sizeof(hm));
	da = mcr_days_from_civil(a.tm_year + 1900, a.tm_mon + 1, a.tm_mday);
	db = mcr_days_from_civil(b.tm_year + 1900, b.tm_mon + 1, b.tm_mday);
	if (db == da)
		snprintf(buf, n, "today at %s", hm);
	else if (db == da + 1)
		snprintf(buf, n, "tomorrow at %s", hm);
	else if (db - da < 7)
		snprintf(buf, n, "on %s at %s", wd[b.tm_wday], hm);
	else
		snprintf(buf, n, "on %d %s at %s", b.tm_mday, mon[b.tm_mon],
		    hm);
}
