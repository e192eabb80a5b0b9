/*
 * Unit tests of the reply parser (lib/parse.c): the corpus of patients'
 * replies in tests/replies.tsv (or argv[1]), one TAP test per line, then a
 * few focused tests of odd input, buttons and zones.  TAP on stdout
 * (tests/t0001-parse.t runs it under prove).
 *
 * The corpus is read with a fixed clock and offers (see its header):
 * now is Monday 5 January 2026 12:00 Europe/London; the offers are
 * Tue 6 Jan 09:30, Tue 6 Jan 14:00, Thu 8 Jan 16:30 and Fri 9 Jan 10:00
 * local, ids slot_11 to slot_14.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "mcr.h"
#include "parse.h"
#include "tap.h"

/* The names the corpus uses, in enum order (mcr_intent_name is checked
 * against them). */
static const char *const names[MCR_I_N] = {
	"unknown", "yes", "no", "slot", "when", "cancel", "reschedule",
	"callback", "optout", "optin", "help", "question", "urgent"
};

#define NOFFER	4
static const char *const offer_ids[NOFFER] = {
	"slot_11", "slot_12", "slot_13", "slot_14"
};
static struct mcr_offer offers[NOFFER];
static struct mcr_tz *london;
static time_t now;

/* Every corpus reading, for the invariants test at the end. */
static int ncorpus;
static int bad_invariants;
static int per_intent[MCR_I_N];

static void
bail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
bail(const char *fmt, ...)
{
	va_list ap;

	fputs("Bail out! ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	exit(1);
}

/* UTC seconds of a local civil time in a zone (NULL: UTC). */
static time_t
local(struct mcr_tz *z, int y, int mo, int d, int h, int mi)
{
	int64_t naive = mcr_days_from_civil(y, mo, d) * 86400 + h * 3600 +
	    mi * 60;
	int flags;

	return z == NULL ? (time_t)naive : mcr_tz_local(z, naive, -1, &flags);
}

static int
intent_byname(const char *s)
{
	for (int i = 0; i < MCR_I_N; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

static const char *
iname(int i)
{
	return i >= 0 && i < MCR_I_N ? names[i] : "(out of range)";
}

/*
 * Parse with the reply first filled with junk, so that a field the parser
 * forgets to set shows.
 */
static void
parse(const char *text, const char *button, const struct mcr_offer *o,
    int n, time_t t, struct mcr_tz *z, struct mcr_reply *r)
{
	memset(r, 0x5a, sizeof(*r));
	mcr_parse_reply(text, button, o, n, t, z, r);
}

/* A text for a test name or diagnostic: one line, '#' escaped for TAP. */
static const char *
shown(const char *s, char *buf, size_t size)
{
	size_t k = 0;

	if (s == NULL)
		return "NULL";
	for (; *s && k + 8 < size; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\n')
			k += snprintf(buf + k, size - k, "\\n");
		else if (c == '\t')
			k += snprintf(buf + k, size - k, "\\t");
		else if (c == '#')
			k += snprintf(buf + k, size - k, "\\#");
		else if (c == '\\')
			k += snprintf(buf + k, size - k, "\\\\");
		else if (c < 0x20 || c == 0x7f)
			k += snprintf(buf + k, size - k, "\\x%02x", c);
		else
			buf[k++] = (char)c;
	}
	if (*s)
		k += snprintf(buf + k, size - k, "...");
	buf[k] = '\0';
	return buf;
}

static void
diag_reading(const struct mcr_reply *r)
{
	char flag[sizeof(r->flag) + 1];

	memcpy(flag, r->flag, sizeof(r->flag));
	flag[sizeof(r->flag)] = '\0';
	diag("   got: %s choice=%d days=%d from=%d to=%d at=%d week=%d "
	    "urgent=%d flag='%s'", iname((int)r->intent), r->choice,
	    r->when.days, r->when.from, r->when.to, r->when.at, r->when.week,
	    r->urgent, flag);
}

/*
 * The contract of parse.h, whatever the text: returns a list of what is
 * wrong in why (empty when all is well).
 */
static int
invariants(const struct mcr_reply *r, int noffers, char *why, size_t size)
{
	const struct mcr_when *w = &r->when;
	size_t k = 0;

	why[0] = '\0';
#define WRONG(cond, msg) do {						\
		if (cond)						\
			k += snprintf(why + k, k < size ? size - k : 0,	\
			    "%s%s", k ? "; " : "", msg);		\
	} while (0)
	WRONG((int)r->intent < 0 || (int)r->intent >= MCR_I_N,
	    "intent out of range");
	WRONG(r->intent == MCR_I_SLOT && (r->choice < 0 ||
	    r->choice >= noffers), "a slot without a valid choice");
	WRONG(r->intent != MCR_I_SLOT && r->choice != -1,
	    "choice set but not a slot");
	WRONG(memchr(r->flag, '\0', sizeof(r->flag)) == NULL,
	    "flag not terminated");
	WRONG(r->urgent != 0 && r->urgent != 1, "urgent not 0 or 1");
	WRONG((r->intent == MCR_I_URGENT) != (r->urgent == 1),
	    "intent urgent and the urgent field disagree");
	WRONG(r->urgent == 1 && r->flag[0] == '\0', "urgent without a flag");
	WRONG(r->urgent == 0 && memchr(r->flag, '\0', sizeof(r->flag)) &&
	    r->flag[0] != '\0', "a flag without urgent");
	WRONG(w->days < -1, "days below -1");
	WRONG(w->from < -1 || w->from > 1440, "from out of range");
	WRONG(w->to < -1 || w->to > 1440, "to out of range");
	WRONG(w->from >= 0 && w->to >= 0 && w->from >= w->to,
	    "an empty window");
	WRONG((w->from < 0) != (w->to < 0), "from without to");
	WRONG(w->at < -1 || w->at >= 1440, "at out of range");
	WRONG(w->week != 0 && w->week != 1, "week not 0 or 1");
#undef WRONG
	return k == 0;
}

static int
same(const struct mcr_reply *a, const struct mcr_reply *b)
{
	return a->intent == b->intent && a->choice == b->choice &&
	    a->when.days == b->when.days && a->when.from == b->when.from &&
	    a->when.to == b->when.to && a->when.at == b->when.at &&
	    a->when.week == b->when.week && a->urgent == b->urgent &&
	    strncmp(a->flag, b->flag, sizeof(a->flag)) == 0;
}

/* Undo the corpus escapes in place: \n \t \r \\ \# \xNN. */
static void
unescape(char *s, int lineno)
{
	char *d = s;

	for (; *s; s++) {
		if (*s != '\\') {
			*d++ = *s;
			continue;
		}
		switch (*++s) {
		case 'n':
			*d++ = '\n';
			break;
		case 't':
			*d++ = '\t';
			break;
		case 'r':
			*d++ = '\r';
			break;
		case '\\':
		case '#':
			*d++ = *s;
			break;
		case 'x':
			if (!isxdigit((unsigned char)s[1]) ||
			    !isxdigit((unsigned char)s[2]))
				bail("line %d: a bad \\x escape", lineno);
			{
				char hex[3] = { s[1], s[2], '\0' };

				*d++ = (char)strtol(hex, NULL, 16);
			}
			s += 2;
			break;
		default:
			bail("line %d: an unknown escape \\%c", lineno,
			    *s ? *s : '0');
		}
	}
	*d = '\0';
}

/* What a corpus line expects; -2: not checked. */
struct want {
	int	 intent;
	int	 choice, days, from, to, at, week;
	const char *flag;
	const char *button;
	int	 nooffers;
};

static int
want_num(const char *v, int lineno, const char *key)
{
	long long n;
	const char *err;

	if (mcr_util_num(v, -1, 100000, &n, &err) == -1)
		bail("line %d: %s=%s is %s", lineno, key, v, err);
	return (int)n;
}

static void
want_parse(char *exp, struct want *w, int lineno)
{
	char *tok, *save = NULL;

	w->choice = w->days = w->from = w->to = w->at = w->week = -2;
	w->flag = w->button = NULL;
	w->nooffers = 0;
	if (exp == NULL)
		return;
	for (tok = strtok_r(exp, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		char *v = strchr(tok, '=');

		if (strcmp(tok, "nooffers") == 0) {
			w->nooffers = 1;
			continue;
		}
		if (v == NULL)
			bail("line %d: an unknown expectation '%s'", lineno,
			    tok);
		*v++ = '\0';
		if (strcmp(tok, "choice") == 0)
			w->choice = want_num(v, lineno, tok);
		else if (strcmp(tok, "days") == 0)
			w->days = want_num(v, lineno, tok);
		else if (strcmp(tok, "from") == 0)
			w->from = want_num(v, lineno, tok);
		else if (strcmp(tok, "to") == 0)
			w->to = want_num(v, lineno, tok);
		else if (strcmp(tok, "at") == 0)
			w->at = want_num(v, lineno, tok);
		else if (strcmp(tok, "week") == 0)
			w->week = want_num(v, lineno, tok);
		else if (strcmp(tok, "flag") == 0 && *v)
			w->flag = v;
		else if (strcmp(tok, "button") == 0 && *v)
			w->button = v;
		else
			bail("line %d: an unknown expectation '%s=%s'", lineno,
			    tok, v);
	}
}

/* One corpus line: one TAP test. */
static void
corpus_line(char *line, int lineno)
{
	char *text, *intent, *exp, *tab, name[200], why[400], expcopy[200];
	struct want w;
	struct mcr_reply r, r2;
	int pass, n;
	const struct mcr_offer *o;

	text = line;
	if ((tab = strchr(text, '\t')) == NULL)
		bail("line %d: no tab after the text", lineno);
	*tab = '\0';
	intent = tab + 1;
	exp = NULL;
	if ((tab = strchr(intent, '\t')) != NULL) {
		*tab = '\0';
		exp = tab + 1;
		if (strchr(exp, '\t') != NULL)
			bail("line %d: more than three fields", lineno);
	}
	if ((w.intent = intent_byname(intent)) == -1)
		bail("line %d: an unknown intent '%s'", lineno, intent);
	snprintf(expcopy, sizeof(expcopy), "%s", exp ? exp : "");
	want_parse(exp, &w, lineno);
	unescape(text, lineno);

	o = w.nooffers ? NULL : offers;
	n = w.nooffers ? 0 : NOFFER;
	parse(text, w.button, o, n, now, london, &r);

	pass = (int)r.intent == w.intent;
	if (w.choice != -2 && r.choice != w.choice)
		pass = 0;
	if (w.days != -2 && r.when.days != w.days)
		pass = 0;
	if (w.from != -2 && r.when.from != w.from)
		pass = 0;
	if (w.to != -2 && r.when.to != w.to)
		pass = 0;
	if (w.at != -2 && r.when.at != w.at)
		pass = 0;
	if (w.week != -2 && r.when.week != w.week)
		pass = 0;
	if (w.flag != NULL && (memchr(r.flag, '\0', sizeof(r.flag)) == NULL ||
	    strcasestr(r.flag, w.flag) == NULL))
		pass = 0;
	ok(pass, "%d: %s", lineno, shown(text, name, sizeof(name)));
	if (!pass) {
		diag("  want: %s%s%s", intent, expcopy[0] ? " " : "",
		    expcopy);
		diag_reading(&r);
	}

	/* the header's contract, and the same reading a second time */
	ncorpus++;
	if ((int)r.intent >= 0 && (int)r.intent < MCR_I_N)
		per_intent[r.intent]++;
	parse(text, w.button, o, n, now, london, &r2);
	if (!invariants(&r, n, why, sizeof(why)) || !same(&r, &r2)) {
		if (bad_invariants++ < 20) {
			diag("line %d: %s: %s", lineno,
			    shown(text, name, sizeof(name)), why[0] ? why :
			    "a second parse reads differently");
			diag_reading(&r);
		}
	}
}

static int
corpus(const char *path)
{
	FILE *fp;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int lineno = 0, tests = 0;
	int wanted[MCR_I_N] = { 0 };

	if ((fp = fopen(path, "r")) == NULL)
		bail("cannot open the corpus %s", path);
	while ((len = getline(&line, &cap, fp)) != -1) {
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' ||
		    line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		{
			/* count the wanted intents before the line is cut */
			char *t1 = strchr(line, '\t'), *t2;
			char iname_[16];
			size_t k;
			int i;

			if (t1 != NULL) {
				t2 = strchr(t1 + 1, '\t');
				k = t2 ? (size_t)(t2 - t1 - 1) :
				    strlen(t1 + 1);
				if (k < sizeof(iname_)) {
					memcpy(iname_, t1 + 1, k);
					iname_[k] = '\0';
					if ((i = intent_byname(iname_)) >= 0)
						wanted[i]++;
				}
			}
		}
		corpus_line(line, lineno);
		tests++;
	}
	if (ferror(fp))
		bail("cannot read the corpus %s", path);
	free(line);
	fclose(fp);
	ok(tests >= 330, "the corpus has at least 330 replies (%d)", tests);
	for (int i = 0; i < MCR_I_N; i++)
		diag("corpus: %3d want %-10s, %3d read so", wanted[i],
		    names[i], per_intent[i]);
	ok(bad_invariants == 0, "every corpus reading keeps the contract of "
	    "parse.h and reads the same twice (%d of %d do not)",
	    bad_invariants, ncorpus);
	return tests;
}

/* A reading with nothing in it. */
static void
nothing(const struct mcr_reply *r, enum mcr_intent want, const char *what)
{
	int pass = r->intent == want && r->choice == -1 &&
	    r->when.days == -1 && r->when.from == -1 && r->when.to == -1 &&
	    r->when.at == -1 && r->when.week == 0 && r->urgent == 0 &&
	    r->flag[0] == '\0';

	ok(pass, "%s: %s, and nothing else set", what, names[want]);
	if (!pass)
		diag_reading(r);
}

static void
test_names(void)
{
	for (int i = 0; i < MCR_I_N; i++)
		is_str(mcr_intent_name((enum mcr_intent)i), names[i],
		    "intent_name %d", i);
}

static void
test_odd(void)
{
	struct mcr_reply r;
	char why[400];
	char *big;
	const size_t kib64 = 64 * 1024;

	parse(NULL, NULL, offers, NOFFER, now, london, &r);
	nothing(&r, MCR_I_UNKNOWN, "NULL text");
	parse(NULL, NULL, NULL, 0, now, london, &r);
	nothing(&r, MCR_I_UNKNOWN, "NULL text, NULL offers");
	parse("", NULL, offers, NOFFER, now, london, &r);
	nothing(&r, MCR_I_UNKNOWN, "empty text");
	parse("  \n\t \r\n ", NULL, offers, NOFFER, now, london, &r);
	nothing(&r, MCR_I_UNKNOWN, "only white space");

	big = mcr_xmalloc(kib64 * 2 + 64);
	memset(big, 'a', kib64);
	big[kib64] = '\0';
	parse(big, NULL, offers, NOFFER, now, london, &r);
	nothing(&r, MCR_I_UNKNOWN, "64 KiB of 'a'");

	/* red flags are looked for in every word, however long the text */
	for (size_t i = 0; i < kib64; i += 2)
		memcpy(big + i, "a ", 2);
	strcpy(big + kib64, "chest pain");
	parse(big, NULL, offers, NOFFER, now, london, &r);
	is_int(r.intent, MCR_I_URGENT,
	    "chest pain after 32768 words is urgent");
	ok(strcasestr(r.flag, "chest") != NULL, "and the flag says chest");
	strcpy(big + kib64, "yes please");
	parse(big, NULL, offers, NOFFER, now, london, &r);
	ok(invariants(&r, NOFFER, why, sizeof(why)) &&
	    r.intent != MCR_I_URGENT, "32768 words then yes: a sane reading, "
	    "not urgent%s%s", why[0] ? ": " : "", why);
	free(big);

	parse("\xff\xfe\xfd\x80\x80", NULL, offers, NOFFER, now, london, &r);
	nothing(&r, MCR_I_UNKNOWN, "invalid UTF-8 bytes");
	parse("\xc0\xaf\xed\xa0\x80\xf8\x88\x80\x80\x80", NULL, offers, NOFFER,
	    now, london, &r);
	nothing(&r, MCR_I_UNKNOWN, "overlong, surrogate and 5-byte UTF-8");
	parse("\xf0\x9f\x91", NULL, offers, NOFFER, now, london, &r);
	nothing(&r, MCR_I_UNKNOWN, "an emoji cut short");
	parse("chest pain \xff\xfe", NULL, offers, NOFFER, now, london, &r);
	is_int(r.intent, MCR_I_URGENT, "chest pain before invalid bytes is "
	    "urgent");
	parse("\x80\x80 heavy bleeding", NULL, offers, NOFFER, now, london,
	    &r);
	is_int(r.intent, MCR_I_URGENT, "heavy bleeding after invalid bytes is "
	    "urgent");
	parse("STOP\x01", NULL, offers, NOFFER, now, london, &r);
	ok(invariants(&r, NOFFER, why, sizeof(why)), "STOP and a control "
	    "byte: a sane reading%s%s", why[0] ? ": " : "", why);
}

static void
test_buttons(void)
{
	struct mcr_reply r;

	parse("Thu 8 Jan 4:30pm", "slot_13", offers, NOFFER, now, london, &r);
	is_int(r.intent, MCR_I_SLOT, "button slot_13: a slot");
	is_int(r.choice, 2, "button slot_13: choice 2");
	parse(NULL, "slot_11", offers, NOFFER, now, london, &r);
	is_int(r.intent, MCR_I_SLOT, "button slot_11 without text: a slot");
	is_int(r.choice, 0, "button slot_11 without text: choice 0");
	parse("", "slot_14", offers, NOFFER, now, london, &r);
	is_int(r.choice, 3, "button slot_14 with empty text: choice 3");
	parse("Book this one", "slot_12", offers, NOFFER, now, london, &r);
	is_int(r.choice, 1, "button slot_12 with other text: choice 1");

	parse(NULL, "slot_99", offers, NOFFER, now, london, &r);
	nothing(&r, MCR_I_UNKNOWN, "button slot_99 matching no offer");
	parse(NULL, "slot_1", offers, NOFFER, now, london, &r);
	nothing(&r, MCR_I_UNKNOWN, "button slot_1 (a prefix of slot_11)");
	parse(NULL, "slot_11", NULL, 0, now, london, &r);
	nothing(&r, MCR_I_UNKNOWN, "button slot_11 with no offers");
	parse(NULL, "", offers, NOFFER, now, london, &r);
	nothing(&r, MCR_I_UNKNOWN, "an empty button id");

	parse("1", NULL, NULL, 0, now, london, &r);
	ok(r.intent != MCR_I_SLOT && r.choice == -1,
	    "'1' with no offers is not a slot");
	parse("thursday", NULL, offers, 2, now, london, &r);
	is_int(r.intent, MCR_I_WHEN,
	    "thursday when only the Tuesday offers are given: when");
	is_int(r.when.days, 3, "and days 3");
}

/* The zone: offers and weekdays are compared in local time. */
static void
test_zones(void)
{
	struct mcr_offer summer[2];
	struct mcr_reply r;
	time_t t;

	/* Monday 6 July 2026 12:00 BST = 11:00Z; offers Tue 7 July */
	t = local(london, 2026, 7, 6, 12, 0);
	is_int(t, mcr_days_from_civil(2026, 7, 6) * 86400 + 11 * 3600,
	    "Mon 6 July 12:00 BST is 11:00Z");
	summer[0].id = "slot_21";
	summer[0].start = local(london, 2026, 7, 7, 9, 30);
	summer[1].id = "slot_22";
	summer[1].start = local(london, 2026, 7, 7, 14, 0);

	parse("9:30", NULL, summer, 2, t, london, &r);
	is_int(r.intent, MCR_I_SLOT, "July: 9:30 (local) is a slot");
	is_int(r.choice, 0, "July: 9:30 is the first offer");
	parse("8:30", NULL, summer, 2, t, london, &r);
	is_int(r.intent, MCR_I_WHEN, "July: 8:30 (the UTC time) is no offer");
	is_int(r.when.at, 510, "July: 8:30 is at 510");
	parse("tomorrow afternoon", NULL, summer, 2, t, london, &r);
	is_int(r.choice, 1, "July: tomorrow afternoon is the 14:00 offer");

	/* 23:30Z on Monday 6 July is 00:30 BST on Tuesday 7 July */
	t = (time_t)(mcr_days_from_civil(2026, 7, 6) * 86400 + 23 * 3600 +
	    30 * 60);
	parse("wednesday", NULL, NULL, 0, t, london, &r);
	is_int(r.when.days, 1, "00:30 BST Tuesday: wednesday is 1 day away");
	parse("wednesday", NULL, NULL, 0, t, NULL, &r);
	is_int(r.when.days, 2, "the same instant in UTC (Monday 23:30): "
	    "wednesday is 2 days away");
	parse("today", NULL, NULL, 0, t, london, &r);
	is_int(r.when.days, 0, "today is 0 days away");

	/* tz NULL: UTC, the same as London in January */
	parse("tomorrow", NULL, NULL, 0, now, NULL, &r);
	is_int(r.intent, MCR_I_WHEN, "zone NULL: tomorrow is a when");
	is_int(r.when.days, 1, "zone NULL: tomorrow is 1 day away");
	parse("2pm", NULL, offers, NOFFER, now, NULL, &r);
	is_int(r.choice, 1, "zone NULL: 2pm is the 14:00 offer in January");
}

int
main(int argc, char *argv[])
{
	const char *path = argc > 1 ? argv[1] : "tests/replies.tsv";

	mcr_util_setprog(argv[0]);
	if ((london = mcr_tz_open("Europe/London")) == NULL)
		bail("no Europe/London zone (tzdata installed?)");
	now = local(london, 2026, 1, 5, 12, 0);
	if (now != 1767614400)
		bail("Monday 5 January 2026 12:00 London is not "
		    "2026-01-05T12:00:00Z");
	offers[0].start = local(london, 2026, 1, 6, 9, 30);
	offers[1].start = local(london, 2026, 1, 6, 14, 0);
	offers[2].start = local(london, 2026, 1, 8, 16, 30);
	offers[3].start = local(london, 2026, 1, 9, 10, 0);
	for (int i = 0; i < NOFFER; i++)
		offers[i].id = offer_ids[i];

	test_names();
	corpus(path);
	test_odd();
	test_buttons();
	test_zones();

	mcr_tz_close(london);
	return done_testing();
}
