/*
 * gen-cdr: write an Asterisk cdr_csv Master.csv of a UK dental practice to
 * standard output, for tests and benchmarks.  The same arguments always give
 * the same bytes.
 *
 *	gen-cdr [-s seed] [-n rows] [-c 18|21] [-y start-year]
 *
 * -s	seed (default 1)
 * -n	rows to write (default 100000)
 * -c	columns: 18 (loguniqueid, loguserfield) or 21 (newcdrcolumns too)
 * -y	first year of the log (default 2022); the log starts on 1 January
 *	and runs for as long as the rows last (a million rows: 3.5 years)
 *
 * The practice: open Monday to Friday 08:30-18:00 Europe/London, about 480
 * inbound calls a weekday, busiest on Monday mornings and Friday
 * afternoons, quiet over lunch, a trickle in the evening and at night.  The
 * callers are a population of 50,000 numbers (07400 1xxxxx mobiles, Ofcom
 * drama-range landlines, a few Irish and French mobiles), drawn with a
 * Zipf-like popularity; about 3% of inbound calls are withheld.  How many
 * calls go unanswered rises with the load on reception, to about a quarter
 * at the Monday-morning peak.  Missed callers often ring again, and
 * reception calls some of them back.
 *
 * Inbound calls arrive on PJSIP/trunk (dcontext from-trunk) and go to the
 * ring group 600 (two rows: the trunk's Dial to Local/20x@from-internal;1,
 * and the Local;2 leg's Dial to the phone), the queue 700 (one Queue row),
 * or straight to extension 201.  Unanswered ones end in voicemail (a
 * VoiceMail row, dst vmu201), busy, failed, a queue abandon or an IVR
 * hang-up (BackGround).  Out of hours the caller hears a closed message
 * (Playback) or reaches voicemail.  Extensions 201-209 call patients
 * (dcontext from-internal, out through the trunk) and each other.
 *
 * Rows are in cdr_csv's layout: strings quoted with "" doubled, integers
 * and an empty answer time unquoted, times in Europe/London local time (the
 * repeated October hour happens twice, the skipped March hour never), rows
 * in the order the calls ended.  uniqueid is "<UTC epoch of the start>.<n>";
 * in 18 columns the rows of one call share the trunk channel's uniqueid, in
 * 21 columns each channel has its own and the rows share linkedid.
 * Asterisk restarts every 91 days (counters start again at 0).
 *
 * No libm: floating point is only + - * / so the output does not depend
 * on the C library; build with -ffp-contract=off.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NPOP		50000		/* distinct caller numbers */
#define ZIPF_K		40.0		/* popularity ~ 1 / (rank + K) */
#define IN_PER_DAY	480.0		/* inbound calls, Tuesday-Thursday */
#define OUT_PER_DAY	110.0		/* outbound calls, a weekday */
#define INT_PER_DAY	30.0		/* internal calls, a weekday */
#define SLOT		1800		/* seconds */
#define NSLOT		48
#define OPEN_FROM	17		/* 08:30 */
#define OPEN_TO		36		/* 18:00 */
#define RESTART_DAYS	91

/* Random numbers: xoshiro256** seeded through splitmix64. */
static uint64_t rs[4];

static uint64_t
splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t
rnext(void)
{
	uint64_t r = ((rs[1] * 5) << 7 | (rs[1] * 5) >> 57) * 9;
	uint64_t t = rs[1] << 17;

	rs[2] ^= rs[0];
	rs[3] ^= rs[1];
	rs[1] ^= rs[2];
	rs[0] ^= rs[3];
	rs[2] ^= t;
	rs[3] = rs[3] << 45 | rs[3] >> 19;
	return r;
}

/* Uniform in [0, 1). */
static double
u01(void)
{
	return (double)(rnext() >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform in [0, n). */
static long
rnd(long n)
{
	return (long)((rnext() >> 33) % (uint64_t)n);
}

static int
chance(double p)
{
	return u01() < p;
}

/* Natural logarithm of x > 0 (normal numbers), by the atanh series. */
static double
ln(double x)
{
	uint64_t b;
	double m, t, t2, term, s = 0;
	int e;

	memcpy(&b, &x, sizeof(b));
	e = (int)((b >> 52) & 0x7ff) - 1023;
	b = (b & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL;
	memcpy(&m, &b, sizeof(m));
	if (m > 1.4142135623730951) {
		m *= 0.5;
		e++;
	}
	t = (m - 1) / (m + 1);
	t2 = t * t;
	term = t;
	for (int k = 1; k < 30; k += 2) {
		s += term / k;
		term *= t2;
	}
	return e * 0.69314718055994531 + 2 * s;
}

/* Exponentially distributed with the given mean. */
static double
expo(double mean)
{
	return -mean * ln(1.0 - u01());
}

/* Civil dates and UK summer time (EU rules, 1996 on). */
static int64_t
days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* 0 = Sunday, as struct tm. */
static int
weekday(int64_t days)
{
	int64_t w = (days + 4) % 7;

	return (int)(w < 0 ? w + 7 : w);
}

/* UTC second summer time starts and ends in year y. */
static void
bst_bounds(int y, int64_t *from, int64_t *to)
{
	static int cy = INT_MIN;
	static int64_t cf, ct;
	int64_t d;

	if (y != cy) {
		d = days_from_civil(y, 3, 31);
		cf = (d - weekday(d)) * 86400 + 3600;
		d = days_from_civil(y, 10, 31);
		ct = (d - weekday(d)) * 86400 + 3600;
		cy = y;
	}
	*from = cf;
	*to = ct;
}

/* Offset of Europe/London from UTC at UTC time t. */
static int
ukoff(int64_t t)
{
	int64_t from, to, d = t / 86400 - (t % 86400 < 0);
	int y, m, dd;

	civil_from_days(d, &y, &m, &dd);
	bst_bounds(y, &from, &to);
	return t >= from && t < to ? 3600 : 0;
}

/* A UTC time of a local wall-clock time that is not in a changeover. */
static int64_t
fromlocal(int64_t local)
{
	return local - ukoff(local - 3600);
}

/* "YYYY-MM-DD HH:MM:SS" local time of UTC t into p; returns the end. */
static char *
fmttime(char *p, int64_t t)
{
	int64_t l = t + ukoff(t), d = l / 86400, s = l % 86400;
	int y, m, dd, h, mi, se;

	civil_from_days(d, &y, &m, &dd);
	h = (int)(s / 3600);
	mi = (int)(s / 60 % 60);
	se = (int)(s % 60);
	p[0] = (char)('0' + y / 1000);
	p[1] = (char)('0' + y / 100 % 10);
	p[2] = (char)('0' + y / 10 % 10);
	p[3] = (char)('0' + y % 10);
	p[4] = '-';
	p[5] = (char)('0' + m / 10);
	p[6] = (char)('0' + m % 10);
	p[7] = '-';
	p[8] = (char)('0' + dd / 10);
	p[9] = (char)('0' + dd % 10);
	p[10] = ' ';
	p[11] = (char)('0' + h / 10);
	p[12] = (char)('0' + h % 10);
	p[13] = ':';
	p[14] = (char)('0' + mi / 10);
	p[15] = (char)('0' + mi % 10);
	p[16] = ':';
	p[17] = (char)('0' + se / 10);
	p[18] = (char)('0' + se % 10);
	return p + 19;
}

/* A binary min-heap on (key, seq). */
struct item {
	int64_t	 key;
	uint64_t seq;
	void	*p;
};

struct heap {
	struct item *v;
	size_t	 n, cap;
};

static int
before(const struct item *a, const struct item *b)
{
	return a->key < b->key || (a->key == b->key && a->seq < b->seq);
}

static void *
xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n)) == NULL) {
		fprintf(stderr, "gen-cdr: out of memory\n");
		exit(1);
	}
	return p;
}

static void
hpush(struct heap *h, int64_t key, uint64_t seq, void *p)
{
	size_t i, up;
	struct item it = { key, seq, p };

	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 1024;
		h->v = xrealloc(h->v, h->cap * sizeof(*h->v));
	}
	for (i = h->n++; i > 0; i = up) {
		up = (i - 1) / 2;
		if (!before(&it, &h->v[up]))
			break;
		h->v[i] = h->v[up];
	}
	h->v[i] = it;
}

static struct item
hpop(struct heap *h)
{
	struct item top = h->v[0], last = h->v[--h->n];
	size_t i = 0, c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && before(&h->v[c + 1], &h->v[c]))
			c++;
		if (!before(&h->v[c], &last))
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n > 0)
		h->v[i] = last;
	return top;
}

/* The callers. */
struct person {
	char	 src[20];	/* as the trunk presents it */
	char	 dial[20];	/* as the practice dials it */
	char	 clid[64];	/* "Name" <number> */
};

static struct person *pop;
static double *zcum;
static int *zperm;

static const char *const landline[] = {
	"01214960", "02079460", "01134960", "01144960", "01164960",
	"01174960", "01184960", "01314960", "01414960", "01514960",
	"01614960", "01914980", "02896496", "02920180"
};
#define NLAND	((int)(sizeof(landline) / sizeof(landline[0])))

static const char *const first[] = {
	"A", "B", "C", "D", "E", "G", "H", "J", "K", "L", "M", "N", "P", "R",
	"S", "T", "Mrs", "Mr", "Dr", "Zo\xeb", "Ren\xe9" "e", "Se\xe1n"
};
static const char *const last[] = {
	"SMITH", "JONES", "TAYLOR", "BROWN", "WILLIAMS", "WILSON", "JOHNSON",
	"DAVIES", "PATEL", "ROBINSON", "WRIGHT", "THOMPSON", "EVANS",
	"WALKER", "WHITE", "ROBERTS", "GREEN", "HALL", "WOOD", "KHAN",
	"O'BRIEN", "HUGHES", "EDWARDS", "LEWIS", "CLARKE", "AHMED", "SINGH",
	"M\xdcLLER", "NOWAK", "MURPHY"
};

static void
make_population(void)
{
	int nmob = 0, nland = 0, nfor = 0;
	double sum = 0;

	pop = xrealloc(NULL, NPOP * sizeof(*pop));
	zcum = xrealloc(NULL, NPOP * sizeof(*zcum));
	zperm = xrealloc(NULL, NPOP * sizeof(*zperm));
	for (int i = 0; i < NPOP; i++) {
		struct person *p = &pop[i];
		double u = u01();
		char nat[16];

		if (u < 0.71 || (u < 0.99 && nland >= NLAND * 1000)) {
			snprintf(nat, sizeof(nat), "074001%05ld",
			    ((long)nmob * 7919 + 4321) % 100000);
			nmob++;
		} else if (u < 0.99) {
			snprintf(nat, sizeof(nat), "%s%03ld",
			    landline[nland % NLAND],
			    ((long)(nland / NLAND) * 379 + 17) % 1000);
			nland++;
		} else {
			long k = ((long)nfor * 7919 + 1234567) % 10000000;

			if (nfor % 2 == 0) {
				snprintf(p->src, sizeof(p->src), "+35386%07ld",
				    k);
				snprintf(p->dial, sizeof(p->dial),
				    "0035386%07ld", k);
			} else {
				snprintf(p->src, sizeof(p->src), "+336%08ld",
				    k * 7 % 100000000);
				snprintf(p->dial, sizeof(p->dial), "00336%08ld",
				    k * 7 % 100000000);
			}
			nfor++;
			nat[0] = '\0';
		}
		if (nat[0] != '\0') {
			memcpy(p->dial, nat, sizeof(nat));
			if (chance(0.12))
				snprintf(p->src, sizeof(p->src), "+44%s",
				    nat + 1);
			else
				memcpy(p->src, nat, sizeof(nat));
		}
		u = u01();
		if (u < 0.55)
			snprintf(p->clid, sizeof(p->clid), "\"%s\" <%s>",
			    p->src, p->src);
		else if (u < 0.85)
			snprintf(p->clid, sizeof(p->clid), "\"\" <%s>",
			    p->src);
		else
			snprintf(p->clid, sizeof(p->clid), "\"%s %s\" <%s>",
			    first[rnd(sizeof(first) / sizeof(first[0]))],
			    last[rnd(sizeof(last) / sizeof(last[0]))],
			    p->src);
	}
	for (int i = 0; i < NPOP; i++) {
		sum += 1.0 / (i + ZIPF_K);
		zcum[i] = sum;
		zperm[i] = i;
	}
	for (int i = NPOP - 1; i > 0; i--) {
		int j = (int)rnd(i + 1), t = zperm[i];

		zperm[i] = zperm[j];
		zperm[j] = t;
	}
}

/* A caller by popularity. */
static int
pick_person(void)
{
	double u = u01() * zcum[NPOP - 1];
	int lo = 0, hi = NPOP - 1;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (zcum[mid] > u)
			hi = mid;
		else
			lo = mid + 1;
	}
	return zperm[lo];
}

/* When calls come, per half hour from local midnight, Tuesday-Thursday. */
static const double w_mid[NSLOT] = {
	/* 00-06 */ .15, .15, .15, .15, .15, .15, .15, .15, .15, .15, .15, .15,
	/* 06-08 */ .25, .35, .6, 1.0,
	/* 08:00 */ 2.5,
	/* 08:30 */ 9, 10, 9, 8, 7, 6.5, 6, 5,
	/* 12:30 */ 3.5, 3, 4,
	/* 14:00 */ 5.5, 5.5, 5, 5, 4.5, 4.5, 4, 3.5,
	/* 18:00 */ 1.5, .8, .5, .4, .3, .3,
	/* 21:00 */ .2, .2, .15, .15, .15, .15
};

static const double season[12] = {
	1.10, 1.05, 1.0, 1.0, 1.0, .95, .95, .85, 1.05, 1.05, 1.0, .90
};

enum kind { K_IN, K_OUT, K_INT };

struct call {
	int64_t	 start;
	enum kind kind;
	int	 person;	/* -1: draw one */
	int	 redial;	/* how many times this caller has tried */
};

struct gen {
	int	 cols;
	long	 want, printed;
	struct heap rows, calls;
	uint64_t seq;		/* orders rows and calls with equal times */
	long	 uniq, pjsip, local, cdrseq;
	double	 base_in, base_out, base_int, peak;
	int64_t	 restarted;	/* local day of the last restart */
	int	 yfirst;
};

struct slotinfo {
	int	 dow, open, staffed, holiday, month;
	int64_t	 lday;
	int	 slot;
	double	 w_in, w_out, w_int, load;
};

static int
isholiday(int m, int d)
{
	return (m == 12 && (d == 25 || d == 26)) || (m == 1 && d == 1);
}

static double
w_in(int dow, int holiday, int s)
{
	double w = w_mid[s];

	if (holiday || dow == 0)
		return s >= 20 && s < 34 ? .4 : w_mid[s] < .2 ? w_mid[s] : .2;
	if (dow == 6)
		return s >= 18 && s < 26 ? .6 : s >= 16 && s < 34 ? .3 :
		    w_mid[s] < .2 ? w_mid[s] : .2;
	if (dow == 1)
		w *= s >= 16 && s < 24 ? 1.5 : s >= 24 && s < 36 ? 1.1 : 1;
	if (dow == 5)
		w *= s >= 28 && s < 36 ? 1.4 : s >= 16 && s < 28 ? .95 : 1;
	return w;
}

/* Outbound calls in opening hours: fewer over lunch, most after it. */
static double
w_out(int s)
{
	return s < 25 ? 1.0 : s < 28 ? .4 : s < 35 ? 1.2 : .6;
}

static void
slotinfo(const struct gen *g, int64_t t, struct slotinfo *si)
{
	int64_t l = t + ukoff(t);
	int y, d;

	si->lday = l / 86400;
	si->slot = (int)(l % 86400 / SLOT);
	si->dow = weekday(si->lday);
	civil_from_days(si->lday, &y, &si->month, &d);
	si->holiday = isholiday(si->month, d);
	si->staffed = si->dow >= 1 && si->dow <= 5 && !si->holiday;
	si->open = si->staffed && si->slot >= OPEN_FROM && si->slot < OPEN_TO;
	si->w_in = w_in(si->dow, si->holiday, si->slot) * season[si->month - 1];
	si->w_out = si->w_int = 0;
	if (si->open) {
		si->w_out = w_out(si->slot);
		si->w_int = 1;
	}
	/* load on reception: calls per person answering, against the peak */
	si->load = si->open ? si->w_in / (si->slot >= 25 && si->slot < 28 ?
	    2.0 : 3.0) / g->peak : 0;
	if (si->load > 1)
		si->load = 1;
}

static void
push_call(struct gen *g, int64_t start, enum kind k, int person, int redial)
{
	struct call *c = xrealloc(NULL, sizeof(*c));

	c->start = start;
	c->kind = k;
	c->person = person;
	c->redial = redial;
	hpush(&g->calls, start, g->seq++, c);
}

/* The next opening time (a weekday 08:30) at or after UTC t, plus a wait. */
static int64_t
next_open(const struct gen *g, int64_t t, double wait)
{
	struct slotinfo si;
	int64_t day;

	slotinfo(g, t, &si);
	if (si.open)
		return t + (int64_t)wait;
	day = si.lday + (si.staffed && si.slot < OPEN_FROM ? 0 : 1);
	for (;;) {
		int y, m, d, w = weekday(day);

		civil_from_days(day, &y, &m, &d);
		if (w >= 1 && w <= 5 && !isholiday(m, d))
			break;
		day++;
	}
	return fromlocal(day * 86400 + OPEN_FROM * SLOT) + (int64_t)wait;
}

/* New calls of the half hour from t. */
static void
gen_slot(struct gen *g, int64_t t)
{
	struct slotinfo si;
	double lam[3], x;

	slotinfo(g, t, &si);
	if (si.lday % RESTART_DAYS == 0 && si.slot == 8 &&
	    si.lday != g->restarted) {
		/* 04:00: Asterisk restarted */
		g->uniq = g->pjsip = g->local = g->cdrseq = 0;
		g->restarted = si.lday;
	}
	lam[K_IN] = g->base_in * si.w_in;
	lam[K_OUT] = g->base_out * si.w_out;
	lam[K_INT] = g->base_int * si.w_int;
	for (int k = K_IN; k <= K_INT; k++) {
		if (lam[k] <= 0)
			continue;
		for (x = expo(SLOT / lam[k]); x < SLOT;
		    x += expo(SLOT / lam[k]))
			push_call(g, t + (int64_t)x, (enum kind)k, -1, 0);
	}
}

/* Rows. */
struct row {
	size_t	 len;
	char	 s[];
};

struct rowbuf {
	char	 b[1024];
	char	*p;
};

static void
rb_q(struct rowbuf *r, const char *s)
{
	*r->p++ = '"';
	for (; *s; s++) {
		if (*s == '"')
			*r->p++ = '"';
		*r->p++ = *s;
	}
	*r->p++ = '"';
	*r->p++ = ',';
}

static void
rb_time(struct rowbuf *r, int64_t t)
{
	if (t >= 0) {
		*r->p++ = '"';
		r->p = fmttime(r->p, t);
		*r->p++ = '"';
	}
	*r->p++ = ',';
}

static void
rb_int(struct rowbuf *r, long v, int comma)
{
	r->p += sprintf(r->p, comma ? "%ld," : "%ld", v);
}

struct leg {
	const char *src, *dst, *dcontext, *clid, *chan, *dstchan, *app, *data;
	const char *disp;
	int64_t	 start, answer, end;	/* answer -1: never */
	const char *uniqueid, *linkedid;
};

static void
emit(struct gen *g, const struct leg *l)
{
	struct rowbuf r;
	struct row *w;
	size_t n;

	r.p = r.b;
	rb_q(&r, "");
	rb_q(&r, l->src);
	rb_q(&r, l->dst);
	rb_q(&r, l->dcontext);
	rb_q(&r, l->clid);
	rb_q(&r, l->chan);
	rb_q(&r, l->dstchan);
	rb_q(&r, l->app);
	rb_q(&r, l->data);
	rb_time(&r, l->start);
	rb_time(&r, l->answer);
	rb_time(&r, l->end);
	rb_int(&r, (long)(l->end - l->start), 1);
	rb_int(&r, l->answer >= 0 ? (long)(l->end - l->answer) : 0, 1);
	rb_q(&r, l->disp);
	rb_q(&r, "DOCUMENTATION");
	rb_q(&r, g->cols == 21 ? l->uniqueid : l->linkedid);
	if (g->cols == 21) {
		rb_q(&r, "");
		rb_q(&r, "");
		rb_q(&r, l->linkedid);
		rb_int(&r, g->cdrseq++, 0);
	} else {
		*r.p++ = '"';
		*r.p++ = '"';
	}
	*r.p++ = '\n';
	n = (size_t)(r.p - r.b);
	w = xrealloc(NULL, sizeof(*w) + n);
	w->len = n;
	memcpy(w->s, r.b, n);
	hpush(&g->rows, l->end, g->seq++, w);
}

/* Write the rows that ended by t: no later call can end before them. */
static void
flush_rows(struct gen *g, int64_t t)
{
	while (g->rows.n > 0 && g->rows.v[0].key <= t && g->printed < g->want) {
		struct item it = hpop(&g->rows);
		struct row *w = it.p;

		fwrite(w->s, 1, w->len, stdout);
		free(w);
		g->printed++;
	}
}

static void
newuid(struct gen *g, char *buf, int64_t t)
{
	snprintf(buf, 32, "%lld.%ld", (long long)t, g->uniq++);
}

static void
pjsipchan(struct gen *g, char *buf, const char *peer)
{
	snprintf(buf, 64, "PJSIP/%s-%08lx", peer, g->pjsip++ & 0xffffffffL);
}

/* Seconds a caller lets it ring before hanging up. */
static int64_t
patience(void)
{
	return 1 + (int64_t)expo(18);
}

static int64_t
talktime(void)
{
	int64_t t = 20 + (int64_t)expo(140);

	return t > 3600 ? 3600 : t;
}

static const char *const staffname[] = {
	"Reception 1", "Reception 2", "Reception 3", "Practice Manager",
	"Surgery 1", "Surgery 2", "Surgery 3", "Hygienist", "Treatment Coord"
};

/* An extension 201-209, reception most often. */
static int
pick_ext(void)
{
	double u = u01();

	if (u < 0.6)
		return 201 + (int)rnd(3);
	if (u < 0.7)
		return 204;
	return 205 + (int)rnd(5);
}

/* Whether the caller reached a person, and when the call ended. */
struct result {
	int	 answered;
	int	 gaveup;	/* hung up quickly */
	int	 voicemail;
	int64_t	 end;
};

/* The system answers (an announcement, a menu) and the caller hangs up. */
static void
system_answers(struct gen *g, struct leg *l, const char *ctx, const char *app,
    const char *data, int64_t end, struct result *res)
{
	l->dst = "s";
	l->dcontext = ctx;
	l->dstchan = "";
	l->app = app;
	l->data = data;
	l->answer = l->start;
	l->end = end;
	l->disp = "ANSWERED";
	emit(g, l);
	res->end = l->end;
	res->gaveup = l->end - l->start < 5;
}

/* The trunk leg then voicemail. */
static void
voicemail(struct gen *g, struct leg *l, int64_t at, const char *box,
    const char *greeting, struct result *res)
{
	char dst[16], data[32];

	snprintf(dst, sizeof(dst), "vmu%s", box);
	snprintf(data, sizeof(data), "%s@default,%s", box, greeting);
	l->dst = dst;
	l->dstchan = "";
	l->app = "VoiceMail";
	l->data = data;
	l->answer = at;
	l->end = at + 6 + (int64_t)expo(25);
	l->disp = "ANSWERED";
	emit(g, l);
	res->voicemail = 1;
	res->end = l->end;
}

static void
inbound(struct gen *g, struct call *c, struct slotinfo *si, struct result *res)
{
	struct person *p = c->person >= 0 ? &pop[c->person] : NULL;
	char uid[32], chan[64], dchan[64], uid2[32], lchan[96], data[160];
	struct leg l;
	int64_t s = c->start, ring;
	int ext;

	memset(res, 0, sizeof(*res));
	memset(&l, 0, sizeof(l));
	newuid(g, uid, s);
	pjsipchan(g, chan, "trunk");
	l.src = p ? p->src : "anonymous";
	l.clid = p ? p->clid : "\"Anonymous\" <anonymous>";
	l.chan = chan;
	l.start = s;
	l.uniqueid = l.linkedid = uid;
	l.dcontext = "from-trunk";

	if (!si->open) {
		if (chance(0.6))
			system_answers(g, &l, "app-announcement-1", "Playback",
			    "custom/surgery-closed", s + 2 + (int64_t)expo(15), res);
		else
			voicemail(g, &l, s + 1, "201", "u", res);
		return;
	}
	if (chance(0.02 + 0.04 * si->load)) {
		/* hung up in the menu */
		system_answers(g, &l, "ivr-1", "BackGround",
		    "custom/welcome-menu", s + 1 + (int64_t)expo(10), res);
		return;
	}
	res->answered = !chance(0.04 + 0.21 * si->load);
	ext = 201 + (int)rnd(3);
	ring = res->answered ? 2 + (int64_t)expo(4 + 10 * si->load) :
	    patience();
	double u = u01();

	if (u < 0.55) {
		/* ring group 600: the trunk dials Local/, Local;2 dials a phone */
		int64_t tmo = 25, e;
		long lc = g->local++ & 0xffffffffL;
		char l2[96];
		struct leg b;

		if (ring >= tmo)
			ring = res->answered ? tmo - 1 : tmo;
		snprintf(lchan, sizeof(lchan),
		    "Local/%d@from-internal-%08lx;1", ext, lc);
		snprintf(l2, sizeof(l2), "Local/%d@from-internal-%08lx;2", ext,
		    lc);
		g->uniq += 2 * 3;	/* a Local pair for each member */
		newuid(g, uid2, s);
		pjsipchan(g, dchan, ext == 201 ? "201" : ext == 202 ? "202" :
		    "203");
		g->uniq += 2;		/* the other members' phones */
		g->pjsip += 2;
		b = l;
		b.dst = ext == 201 ? "201" : ext == 202 ? "202" : "203";
		b.dcontext = "from-internal";
		b.chan = l2;
		b.dstchan = dchan;
		b.app = "Dial";
		snprintf(data, sizeof(data), "PJSIP/%d,,tr", ext);
		b.data = data;
		b.start = s;
		b.uniqueid = uid2;
		e = s + ring + (res->answered ? talktime() : 0);
		b.answer = res->answered ? s + ring : -1;
		b.end = e;
		b.disp = res->answered ? "ANSWERED" : "NO ANSWER";
		emit(g, &b);
		l.dst = "600";
		l.dstchan = lchan;
		l.app = "Dial";
		l.data = "Local/201@from-internal/n&Local/202@from-internal/n&"
		    "Local/203@from-internal/n,25,trM(auto-blkvm)";
		l.answer = b.answer;
		l.end = e;
		l.disp = b.disp;
		emit(g, &l);
		res->end = e;
		if (!res->answered && ring >= tmo)
			voicemail(g, &l, s + tmo, "201", "u", res);
		else
			res->gaveup = !res->answered && ring < 5;
	} else if (u < 0.77) {
		/* queue 700: answered by the queue, a member bridged or not */
		int64_t wait = res->answered ? 2 + (int64_t)expo(10 + 60 *
		    si->load) : 3 + (int64_t)expo(50), tmo = 180;

		l.dst = "700";
		l.app = "Queue";
		l.data = "reception,tr,,,180";
		l.answer = s + 1;
		l.disp = "ANSWERED";
		if (res->answered) {
			if (wait >= tmo)
				wait = tmo - 1;
			pjsipchan(g, dchan, ext == 201 ? "201" : ext == 202 ?
			    "202" : "203");
			g->uniq++;
			l.dstchan = dchan;
			l.end = s + 1 + wait + talktime();
			emit(g, &l);
			res->end = l.end;
		} else {
			l.dstchan = "";
			l.end = s + 1 + (wait < tmo ? wait : tmo);
			emit(g, &l);
			res->end = l.end;
			if (wait >= tmo)
				voicemail(g, &l, l.end, "201", "u", res);
			else
				res->gaveup = wait < 5;
		}
	} else {
		/* direct to reception 201 */
		int64_t tmo = 20;
		double v = u01();

		pjsipchan(g, dchan, "201");
		g->uniq++;
		l.dst = "201";
		l.dstchan = dchan;
		l.app = "Dial";
		l.data = "PJSIP/201,20,tr";
		if (res->answered || v < 0.7) {
			if (ring >= tmo)
				ring = res->answered ? tmo - 1 : tmo;
			l.answer = res->answered ? s + ring : -1;
			l.end = s + ring + (res->answered ? talktime() : 0);
			l.disp = res->answered ? "ANSWERED" : "NO ANSWER";
			emit(g, &l);
			res->end = l.end;
			if (!res->answered && ring >= tmo)
				voicemail(g, &l, l.end, "201", "u", res);
			else
				res->gaveup = !res->answered && ring < 5;
		} else if (v < 0.94) {
			l.answer = -1;
			l.end = s + (int64_t)rnd(3);
			l.disp = "BUSY";
			emit(g, &l);
			res->end = l.end;
			if (chance(0.4))
				voicemail(g, &l, l.end + 1, "201", "b", res);
		} else {
			l.dstchan = "";
			l.answer = -1;
			l.end = s + (int64_t)rnd(2);
			l.disp = "FAILED";
			emit(g, &l);
			res->end = l.end;
		}
	}
}

static void
outbound(struct gen *g, struct call *c, struct result *res)
{
	struct person *p = &pop[c->person >= 0 ? c->person : pick_person()];
	char uid[32], chan[64], dchan[64], ext[8], clid[48], data[64];
	struct leg l;
	int e = pick_ext();
	double u = u01();
	int64_t s = c->start, ring = 3 + (int64_t)expo(9);

	memset(res, 0, sizeof(*res));
	memset(&l, 0, sizeof(l));
	snprintf(ext, sizeof(ext), "%d", e);
	snprintf(clid, sizeof(clid), "\"%s\" <%d>", staffname[e - 201], e);
	newuid(g, uid, s);
	pjsipchan(g, chan, ext);
	pjsipchan(g, dchan, "trunk");
	g->uniq++;
	snprintf(data, sizeof(data), "PJSIP/%s@trunk,300,T", p->dial);
	l.src = ext;
	l.dst = p->dial;
	l.dcontext = "from-internal";
	l.clid = clid;
	l.chan = chan;
	l.dstchan = dchan;
	l.app = "Dial";
	l.data = data;
	l.start = s;
	l.uniqueid = l.linkedid = uid;
	if (u < 0.72) {
		l.answer = s + ring;
		l.end = l.answer + talktime();
		l.disp = "ANSWERED";
		res->answered = 1;
	} else if (u < 0.92) {
		l.answer = -1;
		l.end = s + (ring > 45 ? 45 : ring + (int64_t)expo(15));
		l.disp = "NO ANSWER";
	} else if (u < 0.97) {
		l.answer = -1;
		l.end = s + 1 + (int64_t)rnd(3);
		l.disp = "BUSY";
	} else {
		l.answer = -1;
		l.end = s + (int64_t)rnd(2);
		l.disp = "FAILED";
	}
	emit(g, &l);
	res->end = l.end;
}

static void
internal(struct gen *g, struct call *c)
{
	char uid[32], chan[64], dchan[64], a[8], b[8], clid[48], data[32];
	struct leg l;
	int ea = pick_ext(), eb;
	double u = u01();
	int64_t s = c->start, ring = 2 + (int64_t)expo(5);

	do
		eb = pick_ext();
	while (eb == ea);
	memset(&l, 0, sizeof(l));
	snprintf(a, sizeof(a), "%d", ea);
	snprintf(b, sizeof(b), "%d", eb);
	snprintf(clid, sizeof(clid), "\"%s\" <%d>", staffname[ea - 201], ea);
	snprintf(data, sizeof(data), "PJSIP/%d,30,tr", eb);
	newuid(g, uid, s);
	pjsipchan(g, chan, a);
	pjsipchan(g, dchan, b);
	g->uniq++;
	l.src = a;
	l.dst = b;
	l.dcontext = "from-internal";
	l.clid = clid;
	l.chan = chan;
	l.dstchan = dchan;
	l.app = "Dial";
	l.data = data;
	l.start = s;
	l.uniqueid = l.linkedid = uid;
	if (u < 0.85) {
		l.answer = s + ring;
		l.end = l.answer + 5 + (int64_t)expo(60);
		l.disp = "ANSWERED";
	} else if (u < 0.97) {
		l.answer = -1;
		l.end = s + (ring > 30 ? 30 : ring + (int64_t)expo(10));
		l.disp = "NO ANSWER";
	} else {
		l.answer = -1;
		l.end = s + (int64_t)rnd(2);
		l.disp = "BUSY";
	}
	emit(g, &l);
}

static void
process(struct gen *g, struct call *c)
{
	struct slotinfo si;
	struct result res;

	switch (c->kind) {
	case K_IN:
		slotinfo(g, c->start, &si);
		if (c->person < 0 && !chance(0.03))
			c->person = pick_person();
		inbound(g, c, &si, &res);
		if (res.answered || c->person < 0 || c->redial >= 4)
			break;
		/* they try again; reception rings some back */
		if (!si.open) {
			if (chance(0.5))
				push_call(g, next_open(g, res.end, 60 +
				    expo(1800)), K_IN, c->person,
				    c->redial + 1);
			else if (res.voicemail && chance(0.8))
				push_call(g, next_open(g, res.end, 300 +
				    expo(3600)), K_OUT, c->person, 0);
			break;
		}
		if (chance(res.gaveup ? 0.3 : 0.5))
			push_call(g, res.end + 30 + (int64_t)expo(res.gaveup ?
			    300 : 900), K_IN, c->person, c->redial + 1);
		else if (chance(res.voicemail ? 0.8 : 0.4))
			push_call(g, next_open(g, res.end + 120 +
			    (int64_t)expo(2400), 60 + expo(1800)), K_OUT,
			    c->person, 0);
		break;
	case K_OUT:
		outbound(g, c, &res);
		break;
	case K_INT:
		internal(g, c);
		break;
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: gen-cdr [-s seed] [-n rows] [-c 18|21] "
	    "[-y start-year]\n");
	exit(2);
}

static long
num(const char *s, long lo, long hi)
{
	char *e;
	long v;

	errno = 0;
	v = strtol(s, &e, 10);
	if (*s == '\0' || *e != '\0' || errno != 0 || v < lo || v > hi) {
		fprintf(stderr, "gen-cdr: bad number '%s' (%ld to %ld)\n", s,
		    lo, hi);
		exit(2);
	}
	return v;
}

int
main(int argc, char *argv[])
{
	struct gen g;
	uint64_t seed = 1, x;
	int64_t t;
	double sum = 0, sumout = 0, peak = 0;
	int ch;
	static char obuf[1 << 20];

	memset(&g, 0, sizeof(g));
	g.want = 100000;
	g.cols = 18;
	g.yfirst = 2022;
	g.restarted = -1;
	while ((ch = getopt(argc, argv, "c:n:s:y:")) != -1) {
		switch (ch) {
		case 'c':
			g.cols = (int)num(optarg, 18, 21);
			if (g.cols != 18 && g.cols != 21)
				usage();
			break;
		case 'n':
			g.want = num(optarg, 0, LONG_MAX);
			break;
		case 's':
			seed = (uint64_t)num(optarg, 0, LONG_MAX);
			break;
		case 'y':
			g.yfirst = (int)num(optarg, 1996, 2200);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	x = seed;
	for (int i = 0; i < 4; i++)
		rs[i] = splitmix(&x);
	make_population();
	for (int s = 0; s < NSLOT; s++) {
		double w;

		sum += w_mid[s];
		w = w_in(1, 0, s) / (s >= 25 && s < 28 ? 2.0 : 3.0);
		if (s >= OPEN_FROM && s < OPEN_TO) {
			sumout += w_out(s);
			if (w > peak)
				peak = w;
		}
	}
	g.peak = peak;
	g.base_in = IN_PER_DAY / sum;
	g.base_out = OUT_PER_DAY / sumout;
	g.base_int = INT_PER_DAY / (OPEN_TO - OPEN_FROM);
	t = days_from_civil(g.yfirst, 1, 1) * 86400;
	while (g.printed < g.want) {
		struct item it;

		if (g.calls.n == 0 || g.calls.v[0].key >= t) {
			gen_slot(&g, t);
			t += SLOT;
			continue;
		}
		it = hpop(&g.calls);
		flush_rows(&g, it.key);
		if (g.printed < g.want)
			process(&g, it.p);
		free(it.p);
	}
	while (g.rows.n > 0)
		free(hpop(&g.rows).p);
	while (g.calls.n > 0)
		free(hpop(&g.calls).p);
	free(g.rows.v);
	free(g.calls.v);
	free(pop);
	free(zcum);
	free(zperm);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "gen-cdr: write error: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}
