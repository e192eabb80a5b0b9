/*
 * The csv format: any export with a header row, read through a column map
 * from the configuration ([csv] section, or the file named by [ingest] map).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mcr.h"
#include "cdrint.h"

enum { M_ID, M_CALLER, M_CALLED, M_NAME, M_START, M_DATE, M_TIME, M_ANSWER,
    M_END, M_DURATION, M_RING, M_TALK, M_DIRECTION, M_RESULT, M_DDI, M_NCOL };

static const char *colkeys[M_NCOL] = { "id", "caller", "called",
    "caller_name", "start", "date", "time", "answer", "end", "duration",
    "ring", "talk", "direction", "result", "ddi" };

enum { V_IN, V_OUT, V_INTERNAL, V_ANSWERED, V_VOICEMAIL, V_BUSY, V_FAILED,
    V_ABANDONED, V_IVR, V_NOANSWER, V_N };

static const char *valkeys[V_N] = { "in", "out", "internal", "answered",
    "voicemail", "busy", "failed", "abandoned", "ivr", "no_answer" };

struct mcr_csvmap {
	char	*col[M_NCOL];		/* header names */
	struct mcr_list val[V_N];
	char	*timefmt;		/* NULL: ISO or zoneless local */
	char	 delim;
};

struct mcr_csvmap *
mcr_csvmap_new(void)
{
	struct mcr_csvmap *m = mcr_xcalloc(1, sizeof(*m));

	m->delim = ',';
	return m;
}

static void
vlist_free(struct mcr_list *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void
mcr_csvmap_free(struct mcr_csvmap *m)
{
	if (m == NULL)
		return;
	for (int i = 0; i < M_NCOL; i++)
		free(m->col[i]);
	for (int i = 0; i < V_N; i++)
		vlist_free(&m->val[i]);
	free(m->timefmt);
	free(m);
}

static void
vlist_set(struct mcr_list *l, const char *s)
{
	char *copy = mcr_xstrdup(s), *p = copy, *tok;

	vlist_free(l);
	while ((tok = strsep(&p, ",")) != NULL) {
		char *e;

		while (*tok == ' ')
			tok++;
		e = tok + strlen(tok);
		while (e > tok && e[-1] == ' ')
			*--e = '\0';
		if (*tok == '\0')
			continue;
		l->v = mcr_xrealloc(l->v, (size_t)(l->n + 1) * sizeof(char *));
		l->v[l->n++] = mcr_xstrdup(tok);
	}
	free(copy);
}

int
mcr_csvmap_set(struct mcr_csvmap *m, const char *k, const char *v,
    const char **why)
{
	for (int i = 0; i < M_NCOL; i++)
		if (strcmp(k, colkeys[i]) == 0) {
			free(m->col[i]);
			m->col[i] = mcr_xstrdup(v);
			return 0;
		}
	for (int i = 0; i < V_N; i++)
		if (strcmp(k, valkeys[i]) == 0) {
			vlist_set(&m->val[i], v);
			return 0;
		}
	if (strcmp(k, "time_format") == 0) {
		free(m->timefmt);
		m->timefmt = mcr_xstrdup(v);
		return 0;
	}
	if (strcmp(k, "delimiter") == 0) {
		if (strcmp(v, "tab") == 0)
			m->delim = '\t';
		else if (strlen(v) == 1 && strchr(",;|", v[0]) != NULL)
			m->delim = v[0];
		else {
			*why = "expected , ; | or tab";
			return -1;
		}
		return 0;
	}
	return 1;
}

int
mcr_csvmap_check(const struct mcr_csvmap *m, const char **why)
{
	if (m->col[M_CALLER] == NULL) {
		*why = "the map needs 'caller' (the column of the calling number)";
		return -1;
	}
	if (m->col[M_START] == NULL && m->col[M_DATE] == NULL) {
		*why = "the map needs 'start' (or 'date' and 'time')";
		return -1;
	}
	if (m->col[M_RESULT] == NULL && m->col[M_ANSWER] == NULL &&
	    m->col[M_TALK] == NULL) {
		*why = "the map needs 'result', 'answer' or 'talk' to tell "
		    "answered calls";
		return -1;
	}
	if (m->col[M_RESULT] != NULL && m->val[V_ANSWERED].n == 0) {
		*why = "with 'result' the map needs 'answered' (the values that "
		    "mean a person answered)";
		return -1;
	}
	return 0;
}

char
cdr_csvmap_delim(const struct mcr_csvmap *m)
{
	return m->delim;
}

static int
inlist(const struct mcr_list *l, const char *s)
{
	for (int i = 0; i < l->n; i++)
		if (strcasecmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

static int
num(const char **sp, int max, int *v)
{
	const char *s = *sp;
	int n = 0;

	*v = 0;
	while (n < max && isdigit((unsigned char)*s))
		*v = *v * 10 + (*s++ - '0'), n++;
	*sp = s;
	return n > 0 ? 0 : -1;
}

/*
 * A zoneless date and time by a strftime-like pattern: %d %m %Y %y %H %I
 * %M %S %p %b and literal characters.
 */
static int
bypattern(const char *fmt, const char *s, int64_t *naive)
{
	static const char *mon[] = { "jan", "feb", "mar", "apr", "may", "jun",
	    "jul", "aug", "sep", "oct", "nov", "dec" };
	int y = -1, mo = -1, d = -1, h = 0, mi = 0, sec = 0, pm = -1;

	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			if (*s++ != *fmt)
				return -1;
			continue;
		}
		switch (*++fmt) {
		case 'd':
			if (num(&s, 2, &d))
				return -1;
			break;
		case 'm':
			if (num(&s, 2, &mo))
				return -1;
			break;
		case 'Y':
			if (num(&s, 4, &y))
				return -1;
			break;
		case 'y':
			if (num(&s, 2, &y))
				return -1;
			y += 2000;
			break;
		case 'H':
		case 'I':
			if (num(&s, 2, &h))
				return -1;
			break;
		case 'M':
			if (num(&s, 2, &mi))
				return -1;
			break;
		case 'S':
			if (num(&s, 2, &sec))
				return -1;
			break;
		case 'p':
			if (strncasecmp(s, "am", 2) == 0)
				pm = 0;
			else if (strncasecmp(s, "pm", 2) == 0)
				pm = 1;
			else
				return -1;
			s += 2;
			break;
		case 'b':
			for (mo = 0; mo < 12; mo++)
				if (strncasecmp(s, mon[mo], 3) == 0)
					break;
			if (mo++ == 12)
				return -1;
			s += 3;
			break;
		case '%':
			if (*s++ != '%')
				return -1;
			break;
		default:
			return -1;
		}
	}
	while (*s == ' ')
		s++;
	if (*s != '\0' || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 ||
	    h > 23 || mi > 59 || sec > 60)
		return -1;
	if (pm == 1 && h < 12)
		h += 12;
	else if (pm == 0 && h == 12)
		h = 0;
	*naive = mcr_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 +
	    sec;
	return 0;
}

static int
mtime(struct mcr_cdr *r, const struct mcr_csvmap *m, struct mcr_leg *l,
    const char *s, int64_t *t, const char *what)
{
	if (m->timefmt == NULL || *s == '\0')
		return cdr_when(r, l, s, t, what);
	if (bypattern(m->timefmt, s, t) == 0)
		return 0;
	return cdr_bad(r, "bad %s time '%.40s' for time_format '%s'", what, s,
	    m->timefmt);
}

#define MF(i)	mf(r, idx, (i))

static const char *
mf(struct mcr_cdr *r, const int *idx, int i)
{
	const char *v = idx[i] >= 0 ? cdr_field(r, idx[i]) : "";

	if (*v == '\0' && idx[M_NCOL + i] >= 0)
		v = cdr_field(r, idx[M_NCOL + i]);
	return v;
}

int
cdr_parse_csv(struct mcr_cdr *r, struct mcr_leg *l)
{
	struct mcr_csvmap *m = cdr_config(r)->csv;
	int *idx = cdr_cols(r);
	const char *res, *dir;
	char *gk, *s, both[96];
	size_t n;
	long talk, dur, ring;

	if (m == NULL)
		return cdr_bad(r, "the csv format needs a column map: a [csv] "
		    "section or [ingest] map in the configuration");
	if (!*cdr_hdr(r)) {
		for (int i = 0; i < M_NCOL; i++) {
			char name[128], *alt;

			idx[i] = idx[M_NCOL + i] = -1;
			if (m->col[i] == NULL)
				continue;
			/* "A | B": column A, or B where A is empty */
			mcr_strlcpy(name, m->col[i], sizeof(name));
			if ((alt = strchr(name, '|')) != NULL) {
				char *e = alt;

				while (e > name && e[-1] == ' ')
					e--;
				*e = '\0';
				alt++;
				while (*alt == ' ')
					alt++;
			}
			for (int c = 0; c < cdr_nfields(r); c++) {
				if (strcasecmp(cdr_field(r, c), name) == 0)
					idx[i] = c;
				else if (alt != NULL &&
				    strcasecmp(cdr_field(r, c), alt) == 0)
					idx[M_NCOL + i] = c;
			}
			if (idx[i] == -1 || (alt != NULL && idx[M_NCOL + i] ==
			    -1))
				return cdr_bad(r, "header has no column '%s' "
				    "(the map's %s)", idx[i] == -1 ? name : alt,
				    colkeys[i]);
		}
		*cdr_hdr(r) = 1;
		return 0;
	}
	if (m->col[M_START] != NULL)
		s = (char *)MF(M_START);
	else {
		snprintf(both, sizeof(both), "%s %s", MF(M_DATE), MF(M_TIME));
		s = both;
	}
	if (mtime(r, m, l, s, &l->start, "start") != 0)
		return -1;
	if (l->start < 0)
		return cdr_bad(r, "empty start time");
	if (mtime(r, m, l, MF(M_ANSWER), &l->answer, "answer") != 0 ||
	    mtime(r, m, l, MF(M_END), &l->end, "end") != 0)
		return -1;
	dur = cdr_hms(MF(M_DURATION));
	talk = cdr_hms(MF(M_TALK));
	ring = cdr_hms(MF(M_RING));
	if (l->end < 0 && dur >= 0)
		l->end = l->start + dur;
	if (l->end < 0 && ring >= 0)
		l->end = l->start + ring + (talk > 0 ? talk : 0);
	gk = cdr_scratch(r, 0, &n);
	if (idx[M_ID] >= 0 && *MF(M_ID))
		snprintf(gk, n, "csv:%s", MF(M_ID));
	else
		snprintf(gk, n, "csv:%s|%s", MF(M_CALLER), s);
	l->gkey = gk;
	l->caller = MF(M_CALLER);
	l->called = MF(M_CALLED);
	l->caller_name = *MF(M_NAME) ? MF(M_NAME) : NULL;
	l->context = MF(M_DDI);
	l->primary = 1;
	dir = MF(M_DIRECTION);
	if (idx[M_DIRECTION] >= 0) {
		if (inlist(&m->val[V_IN], dir))
			l->dir = MCR_DIR_IN;
		else if (inlist(&m->val[V_OUT], dir))
			l->dir = MCR_DIR_OUT;
		else if (inlist(&m->val[V_INTERNAL], dir))
			l->dir = MCR_DIR_INTERNAL;
		else if (m->val[V_IN].n > 0)
			return cdr_bad(r, "direction '%.30s' is not in the map",
			    dir);
	}
	res = MF(M_RESULT);
	if (idx[M_RESULT] >= 0) {
		static const struct { int v; enum mcr_res res; } order[] = {
			{ V_ANSWERED, MCR_RES_ANSWERED },
			{ V_VOICEMAIL, MCR_RES_VOICEMAIL },
			{ V_BUSY, MCR_RES_BUSY }, { V_FAILED, MCR_RES_FAILED },
			{ V_ABANDONED, MCR_RES_QUEUE }, { V_IVR, MCR_RES_IVR },
			{ V_NOANSWER, MCR_RES_NOANSWER }
		};
		size_t i;

		for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
			if (inlist(&m->val[order[i].v], res))
				break;
		if (i == sizeof(order) / sizeof(order[0])) {
			if (m->val[V_NOANSWER].n > 0)
				return cdr_bad(r, "result '%.30s' is not in "
				    "the map", res);
			l->res = MCR_RES_NOANSWER;
		} else
			l->res = order[i].res;
	} else
		l->res = l->answer >= 0 || talk > 0 ? MCR_RES_ANSWERED :
		    MCR_RES_NOANSWER;
	if (l->res == MCR_RES_ANSWERED) {
		if (l->answer < 0)
			l->answer = ring >= 0 ? l->start + ring : (l->end >= 0
			    && talk >= 0 ? l->end - talk : l->start);
	} else
		l->answer = -1;
	snprintf(l->detail, sizeof(l->detail), "%s %s", idx[M_RESULT] >= 0
	    ? "result" : "talk time", idx[M_RESULT] >= 0 ? res : talk > 0 ?
	    "above zero" : "zero");
	return 1;
}
