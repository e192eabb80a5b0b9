/*
 * What a patient's reply means.  Deterministic and small: the text is
 * normalised into lower-case ASCII words (the yes and no emoji become
 * words, apostrophes go, times and dates keep their dots, colons and
 * slashes), then read in a fixed order of precedence:
 *
 *   a tapped button for an offer > red flags (urgent) > whole-message
 *   keywords (STOP, START, HELP) > cancel / reschedule > call me back >
 *   a pick among the offers > a day or time (when) > a question or
 *   anything clinical > no > yes > not understood.
 *
 * So "yes, thursday" picks Thursday's slot, "yes please, how much is it?"
 * is a question for staff, and "my face is swollen, can I book?" is urgent.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "mcr.h"
#include "parse.h"

#define MAXTEXT		8192	/* bytes read at a time */
#define MAXWORDS	(MAXTEXT / 2 + 8)

struct words {
	char	 buf[MAXTEXT + 64];
	char	*w[MAXWORDS];
	int	 n;
	int	 qmark;			/* the text asks: it has a '?' */
};

static const char *const inames[MCR_I_N] = { "unknown", "yes", "no", "slot",
	"when", "cancel", "reschedule", "callback", "optout", "optin", "help",
	"question", "urgent" };

const char *
mcr_intent_name(enum mcr_intent i)
{
	return i >= 0 && i < MCR_I_N ? inames[i] : "unknown";
}

/* Normalisation */

static void
put(struct words *s, size_t *o, const char *str)
{
	size_t n = strlen(str);

	if (*o + n + 2 >= sizeof(s->buf))
		return;
	s->buf[(*o)++] = ' ';
	memcpy(s->buf + *o, str, n);
	*o += n;
	s->buf[(*o)++] = ' ';
}

static void
normalise(const char *text, struct words *s)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t o = 0, len = strnlen(text, MAXTEXT);
	char *t;

	s->n = 0;
	for (size_t i = 0; i < len && o + 4 < sizeof(s->buf); i++) {
		unsigned char c = p[i];

		if (c == 0xf0 && i + 3 < len && p[i + 1] == 0x9f) {
			/* 👍 👌 yes, 👎 no; skin tones dropped */
			if (p[i + 2] == 0x91 && (p[i + 3] == 0x8d ||
			    p[i + 3] == 0x8c))
				put(s, &o, "yes");
			else if (p[i + 2] == 0x91 && p[i + 3] == 0x8e)
				put(s, &o, "no");
			else
				s->buf[o++] = ' ';
			i += 3;
			continue;
		}
		if (c == 0xe2 && i + 2 < len) {
			if (p[i + 1] == 0x9c && p[i + 2] == 0x85)
				put(s, &o, "yes");		/* ✅ */
			else if (p[i + 1] == 0x9d && p[i + 2] == 0x8c)
				put(s, &o, "no");		/* ❌ */
			else if (p[i + 1] == 0x80 && (p[i + 2] == 0x99 ||
			    p[i + 2] == 0x98))
				;				/* ’ ‘ */
			else
				s->buf[o++] = ' ';
			i += 2;
			continue;
		}
		if (c >= 0x80) {
			s->buf[o++] = ' ';
			continue;
		}
		if (c == '\'' || c == '`')
			continue;
		if (c == '?')
			s->qmark = 1;
		if (isalnum(c))
			s->buf[o++] = (char)tolower(c);
		else if ((c == ':' || c == '.' || c == '/') && o > 0 &&
		    isdigit((unsigned char)s->buf[o - 1]) && i + 1 < len &&
		    isdigit(p[i + 1]))
			s->buf[o++] = (char)(c == '.' ? ':' : c);
		else if (c == '#' && i + 1 < len && isdigit(p[i + 1]))
			continue;
		else
			s->buf[o++] = ' ';
	}
	s->buf[o] = '\0';
	s->n = 0;
	for (t = strtok(s->buf, " "); t != NULL && s->n < MAXWORDS;
	    t = strtok(NULL, " "))
		s->w[s->n++] = t;
}

/* Matching words */

/* Word w matches pattern p: exact, or a prefix when p ends with '*'. */
static int
wm(const char *w, const char *p)
{
	size_t n = strlen(p);

	if (n > 0 && p[n - 1] == '*')
		return strncmp(w, p, n - 1) == 0;
	return strcmp(w, p) == 0;
}

/* The index where phrase (words, '*' prefixes, '_' any one word) starts. */
static int
at(const struct words *s, const char *phrase, int from)
{
	char pw[16][24];
	int np = 0;
	const char *p = phrase;

	while (*p != '\0' && np < 16) {
		size_t n = strcspn(p, " ");

		if (n > 0 && n < sizeof(pw[0])) {
			memcpy(pw[np], p, n);
			pw[np++][n] = '\0';
		}
		p += n;
		while (*p == ' ')
			p++;
	}
	for (int i = from; i + np <= s->n; i++) {
		int k;

		for (k = 0; k < np; k++)
			if (strcmp(pw[k], "_") != 0 && !wm(s->w[i + k], pw[k]))
				break;
		if (k == np)
			return i;
	}
	return -1;
}

static int
has(const struct words *s, const char *phrase)
{
	return at(s, phrase, 0) >= 0;
}

/* Any of a NULL-terminated list of phrases. */
static int
any(const struct words *s, const char *const *v)
{
	for (; *v != NULL; v++)
		if (has(s, *v))
			return 1;
	return 0;
}

/* A word of list a within dist words of a word of list b. */
static int
near(const struct words *s, const char *const *a, const char *const *b,
    int dist)
{
	for (int i = 0; i < s->n; i++)
		for (const char *const *x = a; *x; x++) {
			if (!wm(s->w[i], *x))
				continue;
			for (int j = i - dist; j <= i + dist; j++)
				for (const char *const *y = b; j >= 0 &&
				    j < s->n && *y; y++)
					if (j != i && wm(s->w[j], *y))
						return 1;
		}
	return 0;
}

/* The words without the polite ones, joined: for whole-message keywords. */
static void
core(const struct words *s, char *out, size_t n)
{
	static const char *const filler[] = { "please", "pls", "plz",
	    "thanks", "thank", "you", "thankyou", "x", "xx", "ok", "now",
	    NULL };
	size_t o = 0;

	out[0] = '\0';
	for (int i = 0; i < s->n; i++) {
		int skip = 0;

		for (const char *const *f = filler; *f; f++)
			if (strcmp(s->w[i], *f) == 0)
				skip = 1;
		if (skip)
			continue;
		if (o > 0 && o + 1 < n)
			out[o++] = ' ';
		for (const char *c = s->w[i]; *c && o + 1 < n; c++)
			out[o++] = *c;
	}
	out[o] = '\0';
}

/* Red flags */

struct flag {
	const char *name;
	const char *const *phrases;
};

static const char *const f_chest[] = { "chest pain*", "chest tight*",
	"pain* in my chest", "tight chest", "tightness in my chest",
	"crushing chest", "chest hurts", "heart attack", NULL };
static const char *const f_breath[] = { "cant breath*", "cannot breath*",
	"can not breath*", "difficulty breathing", "trouble breathing",
	"struggling to breath*", "struggling for breath", "short of breath",
	"breathless*", "hard to breath*", "not breathing", "cant get my breath",
	"gasping", NULL };
static const char *const f_bleed[] = { "heavy bleeding", "bleeding heavily",
	"severe bleeding", "bleeding wont stop", "wont stop bleeding",
	"bleeding a lot", "cant stop the bleeding", "cant stop bleeding",
	"bleeding wont stop", "bleeding hasnt stopped", "bleeding non stop",
	"lots of blood", "so much blood", "losing a lot of blood",
	"bleeding badly", "bleeding everywhere", "bleeding loads", NULL };
static const char *const f_swallow[] = { "cant swallow", "cannot swallow",
	"difficulty swallowing", "struggling to swallow", "trouble swallowing",
	"hard to swallow", NULL };
static const char *const f_uncon[] = { "unconscious", "collapsed",
	"passed out", "fainted", "unresponsive", "not responding", "wont wake",
	"cant wake", NULL };
static const char *const f_stroke[] = { "stroke", "face drooping",
	"face is drooping", "drooping face", "slurred", "slurring", NULL };
static const char *const f_fit[] = { "seizure*", "having a fit",
	"had a fit", "having fits", "fitting", "convulsion*", NULL };
static const char *const f_allergy[] = { "anaphyla*", "allergic reaction",
	"throat swelling", "throat is swelling", "throat closing",
	"throat is closing", "epipen", "swollen throat", "throat swollen",
	"tongue swelling", "swollen tongue", NULL };
static const char *const f_head[] = { "head injury", "hit _ head",
	"hit his head", "hit her head", "banged _ head", "banged his head",
	"banged her head", "bumped _ head", NULL };
static const char *const f_suicide[] = { "suicid*", "want to die",
	"kill myself", "overdose*", "end my life", "self harm*", NULL };
static const char *const f_emerg[] = { "emergency", "emergencies",
	"999", "a and e", "ambulance", NULL };
static const char *const f_pain[] = { "severe pain", "unbearable",
	"severe tooth*", "severe ache", "severe jaw*", "really severe",
	"excruciating", "agony", "worst pain", "screaming in pain",
	"extreme pain", "pain is unbearable", "cant cope with the pain", NULL };
static const char *const f_fever[] = { "temperature of 40",
	"temperature of 41", "temp of 40", "temp of 41", "40 degrees",
	"41 degrees", "non blanching", "rash that doesnt fade",
	"rash doesnt fade", "meningitis", "floppy", NULL };

static const struct flag flags[] = {
	{ "chest pain", f_chest },
	{ "difficulty breathing", f_breath },
	{ "heavy bleeding", f_bleed },
	{ "difficulty swallowing", f_swallow },
	{ "unconscious", f_uncon },
	{ "stroke signs", f_stroke },
	{ "seizure", f_fit },
	{ "allergic reaction", f_allergy },
	{ "head injury", f_head },
	{ "risk to life", f_suicide },
	{ "severe pain", f_pain },
	{ "high temperature or rash", f_fever },
	{ "emergency", f_emerg },
};

static int
redflag(const struct words *s, char *flag, size_t n)
{
	static const char *const face[] = { "face", "facial", "jaw", "eye",
	    "eyes", "neck", "cheek", "cheeks", NULL };
	static const char *const swell[] = { "swollen", "swelling", "swell*",
	    "puffed", "puffy", NULL };
	static const char *const tooth[] = { "tooth", "teeth", "front",
	    NULL };
	static const char *const out[] = { "knocked", "avulsed", NULL };
	static const char *const temp[] = { "temperature*", "temp", "temps",
	    "fever", NULL };
	static const char *const hot[] = { "40*", "41*", "42*", "104*",
	    "105*", NULL };
	int i;

	for (size_t k = 0; k < sizeof(flags) / sizeof(flags[0]); k++)
		if (any(s, flags[k].phrases)) {
			mcr_strlcpy(flag, flags[k].name, n);
			return 1;
		}
	if (near(s, face, swell, 6)) {
		mcr_strlcpy(flag, "facial swelling", n);
		return 1;
	}
	if (near(s, tooth, out, 4)) {
		mcr_strlcpy(flag, "tooth knocked out", n);
		return 1;
	}
	if (near(s, temp, hot, 3)) {
		mcr_strlcpy(flag, "high temperature or rash", n);
		return 1;
	}
	/* "urgent", but not "not urgent", "nothing urgent", "no rush" */
	for (i = 0; (i = at(s, "urgent*", i)) >= 0; i++) {
		int neg = 0;

		for (int j = i - 2; j < i; j++)
			if (j >= 0 && (strcmp(s->w[j], "not") == 0 ||
			    strcmp(s->w[j], "nothing") == 0 ||
			    strcmp(s->w[j], "isnt") == 0 ||
			    strcmp(s->w[j], "non") == 0 ||
			    strcmp(s->w[j], "no") == 0))
				neg = 1;
		if (!neg) {
			mcr_strlcpy(flag, "urgent", n);
			return 1;
		}
	}
	return 0;
}

/* Days and times */

static const char *const wdays[7][5] = {
	{ "sun", "sunday", NULL },
	{ "mon", "monday", NULL },
	{ "tue", "tues", "tuesday", NULL },
	{ "wed", "weds", "wednesday", NULL },
	{ "thu", "thur", "thurs", "thursday", NULL },
	{ "fri", "friday", NULL },
	{ "sat", "saturday", NULL },
};

static const char *const months[12][3] = {
	{ "jan", "january" }, { "feb", "february" }, { "mar", "march" },
	{ "apr", "april" }, { "may", NULL }, { "jun", "june" },
	{ "jul", "july" }, { "aug", "august" }, { "sep", "september" },
	{ "oct", "october" }, { "nov", "november" }, { "dec", "december" },
};

static int
weekday(const char *w)
{
	for (int d = 0; d < 7; d++)
		for (int k = 0; wdays[d][k] != NULL; k++)
			if (strcmp(w, wdays[d][k]) == 0)
				return d;
	return -1;
}

static int
month(const char *w)
{
	for (int m = 0; m < 12; m++)
		for (int k = 0; k < 2 && months[m][k] != NULL; k++)
			if (strcmp(w, months[m][k]) == 0 || (strlen(w) > 3 &&
			    strcmp(w, "sept") == 0 && m == 8))
				return m;
	return -1;
}

/* A whole number word in [lo, hi], else -1. */
static int
num(const char *w, int lo, int hi)
{
	int v = 0;

	if (*w == '\0' || strlen(w) > 4)
		return -1;
	for (const char *c = w; *c; c++) {
		if (!isdigit((unsigned char)*c))
			return -1;
		v = v * 10 + (*c - '0');
	}
	return v >= lo && v <= hi ? v : -1;
}

/* "12th", "3rd", "1st", "22nd": the day of the month, else -1. */
static int
ordinal(const char *w)
{
	char d[4];
	size_t n = strspn(w, "0123456789");

	if (n == 0 || n > 2 || (strcmp(w + n, "th") != 0 &&
	    strcmp(w + n, "st") != 0 && strcmp(w + n, "nd") != 0 &&
	    strcmp(w + n, "rd") != 0))
		return -1;
	memcpy(d, w, n);
	d[n] = '\0';
	return num(d, 1, 31);
}

/* An hour said without am or pm: 1 to 7 are in the afternoon. */
static int
hour(int h, const char *ampm)
{
	if (ampm != NULL && strcmp(ampm, "pm") == 0)
		return h < 12 ? h + 12 : h;
	if (ampm != NULL && strcmp(ampm, "am") == 0)
		return h == 12 ? 0 : h;
	return h >= 1 && h <= 7 ? h + 12 : h;
}

/*
 * A clock time at word i: "10", "10am", "10 am", "10:30", "10:30pm".
 * Returns minutes from midnight or -1; *used gets the words it took.
 */
static int
clock_at(const struct words *s, int i, int bare, int *used)
{
	const char *w = s->w[i], *ampm = NULL;
	char h[4], m[4], rest[4] = "";
	int hh, mm = 0;
	size_t n = strspn(w, "0123456789");

	*used = 1;
	if (n == 0 || n > 2)
		return -1;
	memcpy(h, w, n);
	h[n] = '\0';
	if (w[n] == ':') {
		size_t k = strspn(w + n + 1, "0123456789");

		if (k != 2)
			return -1;
		memcpy(m, w + n + 1, 2);
		m[2] = '\0';
		mm = num(m, 0, 59);
		mcr_strlcpy(rest, w + n + 3, sizeof(rest));
	} else
		mcr_strlcpy(rest, w + n, sizeof(rest));
	if (strcmp(rest, "am") == 0 || strcmp(rest, "pm") == 0)
		ampm = w + strlen(w) - 2;
	else if (rest[0] != '\0')
		return -1;
	if (ampm == NULL && i + 1 < s->n && (strcmp(s->w[i + 1], "am") == 0 ||
	    strcmp(s->w[i + 1], "pm") == 0)) {
		ampm = s->w[i + 1];
		*used = 2;
	}
	if (ampm == NULL && i + 2 < s->n && strcmp(s->w[i + 1], "o") == 0 &&
	    wm(s->w[i + 2], "clock*"))
		*used = 3;
	else if (ampm == NULL && i + 1 < s->n && wm(s->w[i + 1], "oclock*"))
		*used = 2;
	/* a bare number is a time only when said so */
	if (ampm == NULL && w[n] != ':' && *used == 1 && !bare)
		return -1;
	if ((hh = num(h, 0, 23)) < 0 || mm < 0)
		return -1;
	if (hh > 12 && ampm != NULL)
		return -1;
	return hour(hh, ampm) * 60 + mm;
}

/* A number word ("2", "two") as an hour 1 to 12, else -1. */
static int
hourword(const char *w)
{
	static const char *const names[] = { "one", "two", "three", "four",
	    "five", "six", "seven", "eight", "nine", "ten", "eleven",
	    "twelve", NULL };

	for (int k = 0; names[k]; k++)
		if (strcmp(w, names[k]) == 0)
			return k + 1;
	return num(w, 1, 12);
}

/* Read every day and time said into w; 1 when anything was. */
static int
when(const struct words *s, time_t now, struct mcr_tz *tz,
    struct mcr_when *w)
{
	struct tm tm;
	int64_t today;
	int said = 0, u, t, wd, anytime = 0, thisday = 0;

	w->days = w->from = w->to = w->at = -1;
	w->week = 0;
	if (tz != NULL)
		mcr_tz_tm(tz, now, &tm);
	else
		gmtime_r(&now, &tm);
	today = mcr_days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1,
	    tm.tm_mday);
	for (int i = 0; i < s->n; i++) {
		const char *x = s->w[i];

		if (strcmp(x, "today") == 0 || strcmp(x, "tonight") == 0) {
			w->days = 0;
			if (x[2] == 'n') {
				w->from = 1020;
				w->to = 1260;
			}
			said = 1;
		} else if (strcmp(x, "tmrw") == 0 ||
		    strcmp(x, "tmr") == 0 || strcmp(x, "tomoz") == 0 ||
		    strcmp(x, "tomorrow") == 0 || strcmp(x, "tommorow") == 0 ||
		    strcmp(x, "tomorow") == 0 || strcmp(x, "tommorrow") == 0) {
			w->days = i >= 2 && strcmp(s->w[i - 1], "after") == 0 &&
			    strcmp(s->w[i - 2], "day") == 0 ? 2 : 1;
			said = 1;
		} else if ((wd = weekday(x)) >= 0 && !(strcmp(x, "sat") == 0 &&
		    i > 0 && strcmp(s->w[i - 1], "i") == 0)) {
			w->days = (wd - tm.tm_wday + 7) % 7;
			if (w->days == 0)
				w->days = 7;	/* today itself is "today" */
			said = 1;
		} else if ((t = ordinal(x)) > 0 || (num(x, 1, 31) > 0 &&
		    ((i + 1 < s->n && month(s->w[i + 1]) >= 0) ||
		    (i > 0 && month(s->w[i - 1]) >= 0)))) {
			int m = -1, d = t > 0 ? t : num(x, 1, 31);
			int y = tm.tm_year + 1900;
			int64_t day;

			if (i + 1 < s->n && (m = month(s->w[i + 1])) < 0 &&
			    i + 2 < s->n && strcmp(s->w[i + 1], "of") == 0)
				m = month(s->w[i + 2]);
			if (m < 0 && i > 0)
				m = month(s->w[i - 1]);
			if (m < 0)
				m = tm.tm_mon;
			day = mcr_days_from_civil(y, m + 1, d);
			if (day < today)
				day = m == tm.tm_mon && t > 0 && month(i + 1 <
				    s->n ? s->w[i + 1] : "") < 0 ?
				    mcr_days_from_civil(m == 11 ? y + 1 : y,
				    m == 11 ? 1 : m + 2, d) :
				    mcr_days_from_civil(y + 1, m + 1, d);
			w->days = (int)(day - today);
			said = 1;
		} else if (strchr(x, '/') != NULL) {
			int d, m;
			char a[4], b[4];
			size_t k = strcspn(x, "/");

			if (k > 0 && k < 3 && strspn(x + k + 1, "0123456789")
			    >= 1 && strspn(x + k + 1, "0123456789") < 3) {
				int64_t day;

				memcpy(a, x, k);
				a[k] = '\0';
				mcr_strlcpy(b, x + k + 1, sizeof(b));
				b[strspn(b, "0123456789")] = '\0';
				d = num(a, 1, 31);
				m = num(b, 1, 12);
				if (d > 0 && m > 0) {
					day = mcr_days_from_civil(tm.tm_year +
					    1900, m, d);
					if (day < today)
						day = mcr_days_from_civil(
						    tm.tm_year + 1901, m, d);
					w->days = (int)(day - today);
					said = 1;
				}
			}
		} else if ((strcmp(x, "morning") == 0 ||
		    wm(x, "afternoon*") || wm(x, "evening*")) && i > 0 &&
		    strcmp(s->w[i - 1], "good") == 0) {
			;	/* a greeting */
		} else if (strcmp(x, "morning") == 0 ||
		    strcmp(x, "mornings") == 0 || (strcmp(x, "am") == 0 &&
		    i > 0 && weekday(s->w[i - 1]) >= 0)) {
			w->from = 480;
			w->to = 720;
			said = 1;
		} else if (wm(x, "afternoon*") || (strcmp(x, "pm") == 0 &&
		    i > 0 && weekday(s->w[i - 1]) >= 0)) {
			w->from = 720;
			w->to = 1020;
			said = 1;
		} else if (wm(x, "evening*") || (strcmp(x, "work") == 0 && i >
		    0 && strcmp(s->w[i - 1], "after") == 0)) {
			w->from = 1020;
			w->to = 1260;
			said = 1;
		} else if (wm(x, "lunch*")) {
			w->from = 720;
			w->to = 840;
			said = 1;
		} else if (strcmp(x, "noon") == 0 || strcmp(x, "midday") == 0) {
			w->at = 720;
			said = 1;
		} else if ((strcmp(x, "anytime") == 0) || (strcmp(x, "any") ==
		    0 && i + 1 < s->n && (strcmp(s->w[i + 1], "time") == 0 ||
		    strcmp(s->w[i + 1], "day") == 0))) {
			anytime = 1;
			said = 1;
		} else if (strcmp(x, "week") == 0 && i > 0 &&
		    strcmp(s->w[i - 1], "next") == 0) {
			w->week = 1;
			said = 1;
		} else if ((strcmp(x, "after") == 0 || strcmp(x, "from") ==
		    0 || strcmp(x, "before") == 0) && i + 1 < s->n &&
		    (t = clock_at(s, i + 1, 1, &u)) >= 0) {
			if (x[0] == 'b') {
				w->from = 0;
				w->to = t;
			} else {
				w->from = t;
				w->to = 1440;
			}
			said = 1;
			i += u;
		} else if (strcmp(x, "between") == 0 && i + 3 < s->n &&
		    (t = clock_at(s, i + 1, 1, &u)) >= 0 &&
		    strcmp(s->w[i + 1 + u], "and") == 0) {
			int u2, t2 = clock_at(s, i + 2 + u, 1, &u2);

			if (t2 > t) {
				w->from = t;
				w->to = t2;
				said = 1;
			}
			i += u;
		} else if (strcmp(x, "half") == 0 && i + 1 < s->n &&
		    (t = hourword(s->w[i + 1])) > 0 &&
		    strcmp(s->w[i + 1], "an") != 0) {
			w->at = hour(t, NULL) * 60 + 30;
			said = 1;
			i++;
		} else if (strcmp(x, "quarter") == 0 && i + 2 < s->n &&
		    (strcmp(s->w[i + 1], "past") == 0 ||
		    strcmp(s->w[i + 1], "to") == 0) &&
		    (t = hourword(s->w[i + 2])) > 0) {
			w->at = hour(t, NULL) * 60 + (s->w[i + 1][0] == 'p' ?
			    15 : -15);
			said = 1;
			i += 2;
		} else if ((t = clock_at(s, i, i > 0 &&
		    (strcmp(s->w[i - 1], "at") == 0 ||
		    strcmp(s->w[i - 1], "the") == 0 ||
		    (i + 2 < s->n && strcmp(s->w[i + 1], "o") == 0)), &u)) >= 0) {
			w->at = t;
			said = 1;
			i += u - 1;
		}
	}
	if (w->at >= 0 && w->from < 0) {
		w->from = w->at;
		w->to = w->at + 60;
	}
	if (anytime && w->from < 0) {
		w->from = 0;
		w->to = 1440;
	}
	/* "this afternoon" */
	for (int i = 0; i + 1 < s->n; i++)
		if (strcmp(s->w[i], "this") == 0 && (strcmp(s->w[i + 1],
		    "morning") == 0 || wm(s->w[i + 1], "afternoon*") ||
		    wm(s->w[i + 1], "evening*")))
			thisday = 1;
	if (thisday && w->days < 0)
		w->days = 0;
	/* "monday after 5" said on a Monday before 5: today */
	if (w->days == 7 && w->from >= 0 && w->to > tm.tm_hour * 60 +
	    tm.tm_min && (w->at < 0 || w->at > tm.tm_hour * 60 + tm.tm_min))
		w->days = 0;
	/* "wednesday next week" */
	if (w->week && w->days >= 0) {
		if (w->days < 7)
			w->days += 7;
		w->week = 0;
	}
	return said;
}

/* Offers */

static void
local(time_t t, time_t now, struct mcr_tz *tz, int *days, int *min)
{
	struct tm a, b;

	if (tz != NULL) {
		mcr_tz_tm(tz, now, &a);
		mcr_tz_tm(tz, t, &b);
	} else {
		gmtime_r(&now, &a);
		gmtime_r(&t, &b);
	}
	*days = (int)(mcr_days_from_civil(b.tm_year + 1900, b.tm_mon + 1,
	    b.tm_mday) - mcr_days_from_civil(a.tm_year + 1900, a.tm_mon + 1,
	    a.tm_mday));
	*min = b.tm_hour * 60 + b.tm_min;
}

/* A pick by position: "2", "#2", "option 2", "the second", "2nd one". */
static int
position(const struct words *s, int noffers)
{
	static const char *const ords[] = { "first", "second", "third",
	    "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
	    "tenth", NULL };
	static const char *const skip[] = { "the", "one", "option", "number",
	    "no", "please", "pls", "yes", "ok", "thanks", "go", "for", "with",
	    "slot", "time", "ill", "take", "i", "will", "can", "do", "that",
	    "id", "like", "yeah", "choose", "pick", "want", "opt", NULL };
	int pick = -1, other = 0;

	for (int i = 0; i < s->n; i++) {
		const char *x = s->w[i];
		int v = -1, sk = 0;

		for (int k = 0; ords[k]; k++)
			if (strcmp(x, ords[k]) == 0)
				v = k + 1;
		if (strcmp(x, "last") == 0)
			v = noffers;
		if (v < 0 && (v = num(x, 1, 99)) < 0)
			v = ordinal(x);
		if (v > 0) {
			if (pick >= 0)
				return -2;	/* two numbers: not a pick */
			pick = v;
			continue;
		}
		for (int k = 0; skip[k]; k++)
			if (strcmp(x, skip[k]) == 0)
				sk = 1;
		if (!sk)
			other = 1;
	}
	if (pick < 0 || other)
		return -1;
	return pick >= 1 && pick <= noffers ? pick - 1 : -2;
}

/* The one offer the day and time said fit, -1 none, -2 several. */
static int
fitting(const struct mcr_when *w, const struct mcr_offer *o, int n,
    time_t now, struct mcr_tz *tz)
{
	int found = -1, d, m;

	for (int i = 0; i < n; i++) {
		local(o[i].start, now, tz, &d, &m);
		if (w->days >= 0 && d != w->days)
			continue;
		if (w->at >= 0 ? m != w->at : w->from >= 0 &&
		    (m < w->from || m >= w->to))
			continue;
		if (found != -1)
			return -2;
		found = i;
	}
	return found;
}

/* The rest of the reading */

static int
question(const struct words *s)
{
	static const char *const qw[] = { "how", "what", "when", "where",
	    "why", "who", "which", "can", "could", "do", "does", "is", "are",
	    "will", "would", "should", "whats", "wheres", "hows", "whens",
	    "have", "has", "did", NULL };
	static const char *const clinical[] = { "toothache", "tooth ache",
	    "tooth hurts", "temperature", "fever", "crown", "filling",
	    "prescription*", "results", "rash", "sore*", "infection",
	    "infected", "chipped", "broken", "broke", "abscess", "cough*",
	    "headache", "pain*", "painful", "hurts", "hurting", "ache*",
	    "sick", "vomit*", "dizzy", "bleeding", "bleed*", "lump",
	    "swelling", "swollen", "wisdom", "gum*", "sensitive", "cracked",
	    "fell out", "came out", "medication", "tablets", "antibiotics",
	    "injection", "blood test", "smear", "vaccin*", "jab", "x ray",
	    "xray", "invisalign", "whitening", "braces", "denture*", "nhs",
	    "price*", "cost*", "how much", "info", "information", "implant*",
	    "inhaler", "blood pressure", "run out", "ran out", "more about",
	    NULL };

	if (s->qmark)
		return 1;
	if (s->n > 1)
		for (const char *const *q = qw; *q; q++)
			if (strcmp(s->w[0], *q) == 0)
				return 1;
	return any(s, clinical);
}

static int
no(const struct words *s)
{
	static const char *const v[] = { "no thanks", "no thank*",
	    "not now", "not at the moment", "not interested", "all good",
	    "not right now", "not just now", "maybe later", "wrong number",
	    "na thanks", "nah thanks", "no ta", "not for now", "later thanks",
	    "sorted", "already booked", "already got", "dont need",
	    "no need", "no longer", "not needed", "nevermind", "never mind",
	    "im ok", "im fine", "were fine", "not necessary", NULL };

	if (s->n > 0 && (strcmp(s->w[0], "no") == 0 || wm(s->w[0], "noo*") ||
	    strcmp(s->w[0], "nope") == 0 || strcmp(s->w[0], "nah") == 0 ||
	    strcmp(s->w[0], "naw") == 0 || strcmp(s->w[0], "na") == 0) &&
	    !(s->n > 1 && (strcmp(s->w[1], "problem") == 0 ||
	    strcmp(s->w[1], "worries") == 0 || strcmp(s->w[1], "rush") ==
	    0)))
		return 1;
	return any(s, v);
}

static int
yes(const struct words *s)
{
	static const char *const v[] = { "yes", "yess*", "yse", "ys", "yeah",
	    "yeh", "yep", "yup", "ya", "yea", "yah", "ye", "ok", "okay",
	    "okey", "okie", "k", "kk", "sure", "please", "pls", "plz",
	    "go ahead", "book", "book me", "booking", "great", "perfect",
	    "lovely", "sounds good", "definitely", "absolutely", "fine",
	    "brilliant", "cool", "alright", "aye", "yas", "yesss", "y",
	    "no problem", "no worries", "go on", "love to", "id like",
	    "would like", "appointment", "this week", "asap", "soon*",
	    "available", "go for it", "check up", "checkup", NULL };

	return any(s, v);
}

/*
 * A red flag in the rest of a long text: it is read for meaning only as
 * far as the first window, but for red flags to its end, window by
 * window, each overlapping the last so that no phrase is cut.
 */
static int
later(const char *text, char *flag, size_t n)
{
	struct words w;
	size_t len = strlen(text), off = MAXTEXT - 256;

	for (; off < len; off += MAXTEXT - 256) {
		w.qmark = 0;
		/* start at a word */
		while (off < len && text[off] != ' ' && text[off] != '\n')
			off++;
		normalise(text + off, &w);
		if (redflag(&w, flag, n))
			return 1;
	}
	return 0;
}

void
mcr_parse_reply(const char *text, const char *button,
    const struct mcr_offer *offers, int noffers, time_t now,
    struct mcr_tz *tz, struct mcr_reply *r)
{
	static const char *const optout[] = { "stop", "stopall", "stop all",
	    "unsubscribe", "end", "quit", "revoke", "optout", "opt out",
	    "cancel", "stop sending me these", "stop sending me messages",
	    "stop sending these", "stop sending", "stop messaging me",
	    "stop texting me", "stop contacting me", "dont message me again",
	    "dont message me", "dont text me", "dont contact me",
	    "remove me", "unsubscribe me", "remove me from your list",
	    "stop it", NULL };
	static const char *const optin[] = { "start", "unstop", "start again",
	    "resume", "subscribe", "opt in", "optin", NULL };
	static const char *const help[] = { "help", "info", NULL };
	static const char *const cancelv[] = { "cancel my", "cancel the",
	    "cancel it", "cancel appointment", "to cancel", "cant make it",
	    "cannot make it", "cant come", "wont make it", "cant attend",
	    "unable to attend", "unable to make it", "cancel my appointment",
	    "need to cancel", "want to cancel", "like to cancel",
	    "wont be able to make", "wont be able to come", "unable to come",
	    "cant make my", "not be able to make", "not be able to come",
	    "wont be able to attend", "cant do my", NULL };
	static const char *const resched[] = { "reschedule", "re schedule",
	    "rearrange", "re arrange", "change my appointment",
	    "change the appointment", "change it", "move my appointment",
	    "move it", "different time", "different day", "another time",
	    "another day", "change the time", "change time", "swap",
	    "postpone", "bring it forward", "rebook", "re book",
	    "change my booking", "change the booking", "change booking",
	    "move my booking", "move the booking", NULL };
	static const char *const callback[] = { "call me", "ring me",
	    "phone me", "give me a call", "give me a ring", "call back",
	    "ring back", "call me back", "speak to someone", "speak to a",
	    "talk to someone", "talk to a", "speak to somebody",
	    "rather speak", "rather talk", "can you call", "could you call",
	    "can someone call", "please call", "call me please",
	    "give me a bell", "phone call", "a call back", "callback", NULL };
	static const char *const bookme[] = { "book me", "book in",
	    "book an", "get me in", "fit me in", "make an appointment",
	    "squeeze me in", NULL };
	static const char *const priceq[] = { "how much", "cost*", "price*",
	    NULL };
	static const char *const unsure[] = { "not sure", "unsure", "dunno",
	    "dont know", "no idea", NULL };
	struct words s;
	char c[256];
	int p;

	memset(r, 0, sizeof(*r));
	r->intent = MCR_I_UNKNOWN;
	r->choice = -1;
	r->when.days = r->when.from = r->when.to = r->when.at = -1;
	if (offers == NULL)
		noffers = 0;
	if (button != NULL && *button != '\0') {
		for (int i = 0; i < noffers; i++)
			if (offers[i].id != NULL &&
			    strcmp(button, offers[i].id) == 0) {
				r->intent = MCR_I_SLOT;
				r->choice = i;
				return;
			}
		if (strcasecmp(button, "yes") == 0 ||
		    strcasecmp(button, "book") == 0) {
			r->intent = MCR_I_YES;
			return;
		}
		if (strcasecmp(button, "no") == 0) {
			r->intent = MCR_I_NO;
			return;
		}
		if (strcasecmp(button, "call") == 0 ||
		    strcasecmp(button, "call_me") == 0) {
			r->intent = MCR_I_CALLBACK;
			return;
		}
		if (strcasecmp(button, "stop") == 0) {
			r->intent = MCR_I_OPTOUT;
			return;
		}
	}
	s.n = s.qmark = 0;
	normalise(text != NULL ? text : "", &s);
	if (redflag(&s, r->flag, sizeof(r->flag)) || (text != NULL &&
	    later(text, &r->flag[0], sizeof(r->flag)))) {
		r->intent = MCR_I_URGENT;
		r->urgent = 1;
		when(&s, now, tz, &r->when);
		return;
	}
	core(&s, c, sizeof(c));
	for (const char *const *k = optout; *k; k++)
		if (strcmp(c, *k) == 0) {
			r->intent = MCR_I_OPTOUT;
			return;
		}
	for (const char *const *k = optin; *k; k++)
		if (strcmp(c, *k) == 0) {
			r->intent = MCR_I_OPTIN;
			return;
		}
	for (const char *const *k = help; *k; k++)
		if (strcmp(c, *k) == 0) {
			r->intent = MCR_I_HELP;
			return;
		}
	p = when(&s, now, tz, &r->when);
	if (any(&s, resched)) {
		r->intent = MCR_I_RESCHEDULE;
		return;
	}
	if (any(&s, cancelv)) {
		r->intent = MCR_I_CANCEL;
		return;
	}
	if (any(&s, callback) && !(s.n > 0 && (strcmp(s.w[0], "why") == 0 ||
	    strcmp(s.w[0], "who") == 0 || strcmp(s.w[0], "what") == 0))) {
		r->intent = MCR_I_CALLBACK;
		return;
	}
	if (noffers > 0) {
		int k = position(&s, noffers);

		if (k >= 0) {
			r->intent = MCR_I_SLOT;
			r->choice = k;
			return;
		}
		if (k == -2 && !p)
			return;		/* a number that picks nothing */
		if (p && (k = fitting(&r->when, offers, noffers, now,
		    tz)) >= 0 && (r->when.days >= 0 || r->when.at >= 0 ||
		    (r->when.from >= 0 && r->when.to - r->when.from < 1440))) {
			r->intent = MCR_I_SLOT;
			r->choice = k;
			return;
		}
	}
	if (p && !(r->when.from == 0 && r->when.to == 1440 &&
	    r->when.days < 0 && !r->when.week)) {
		r->intent = MCR_I_WHEN;
		return;
	}
	if (!s.qmark && any(&s, bookme) && !any(&s, priceq)) {
		r->intent = MCR_I_YES;
		return;
	}
	if (question(&s)) {
		r->intent = MCR_I_QUESTION;
		return;
	}
	if (no(&s)) {
		r->intent = MCR_I_NO;
		return;
	}
	if (any(&s, unsure))
		return;
	if (yes(&s) || p) {
		r->intent = MCR_I_YES;
		return;
	}
}
