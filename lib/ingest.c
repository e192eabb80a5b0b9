/*
 * Legs to calls, calls to outcomes, missed callers to recovery cases.
 *
 * Legs are held in memory until their call is settled (no more legs can be
 * expected), then the call is decided and stored.  A call already in the
 * store (legs split over runs) is merged with what is stored and decided
 * again: a missed call later found answered is corrected and its case
 * resolved.  Each row's fingerprint is kept with its call, so reading a row
 * twice changes nothing.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "mcr.h"
#include "json.h"
#include "storeint.h"

#define WINDOW		3600	/* a call's legs lie within this of its start */
#define NPEND		32	/* new calls inserted by one statement */
#define MAXCALL		86400	/* no call lasts longer */

struct call {
	struct call *next;	/* hash chain */
	struct call *anext;	/* alias chain */
	char	*gkey;
	char	*alias;
	int64_t	 off0, line0;	/* earliest row held, for the file position */
	int64_t	 seen_ms;
	char	 caller[40];
	char	 called[40];
	char	 name[64];
	char	 ctx[48];
	char	 chan[48];
	int	 crank;		/* 0 no caller yet, 1 from a helper leg, 2 own */
	int	 normed;	/* ncaller and ncalled hold the numbers */
	struct mcr_number ncaller, ncalled;
	time_t	 cstart;	/* start of the leg the caller came from */
	enum mcr_dir dir;
	time_t	 start, answer, end;
	enum mcr_res res;
	char	 detail[120];
	const char *file;	/* the deciding row: interned file name */
	long	 line;
	int	 flags;		/* F_OPEN, F_FINAL */
	int	 nlegs, caplegs;
	uint64_t *legs;		/* leg0, or allocated past four legs */
	uint64_t leg0[4];
	char	 kbuf[48];	/* gkey, when it fits */
	uint64_t kh;		/* keyhash(gkey) */
	int	 nnew;		/* legs added in this run */
	/* what the store had */
	int64_t	 id;
	char	 old_outcome[24];
	int	 old_missed;
	int64_t	 case_id;
	int	 force;		/* decide even when unfinished */
};

#define F_OPEN	1	/* a leg says the call may go on */
#define F_FINAL	2	/* a leg says how it ended */
#define F_ENDED	4	/* a leg gave an end time or duration */

struct decision {
	enum mcr_dir dir;
	struct mcr_number num;		/* the caller, or for out calls the called */
	char	 caller[24];		/* what is stored */
	char	 called[96];
	int	 outcome;		/* MCR_OUT_NONE: not decided */
	int	 missed;
	int	 after_hours;
	long	 ring_s, talk_s;
	char	 why[640];		/* last: a pending insert copies the rest */
};

struct mcr_ingest {
	struct mcr_store *st;
	const struct mcr_config *cfg;
	struct mcr_tz *tz, *srctz;
	FILE	*out;
	int	 dry, all;
	struct call **tab;
	struct call **atab;
	size_t	 nbucket, nheld;
	time_t	 tlast;
	struct mcr_buf rec;
	struct mcr_ingest_stats stats;
	/* the latest case of each caller whose case is open or resolvable */
	struct ccase *cases;
	size_t	 ncases, capcases;
	int	 casesok;
	int	 dataver;
	char	**optout;		/* sorted */
	size_t	 noptout;
	/* file names of deciding rows, and their ids in the store */
	char	**names;
	int64_t	*nameids;
	int	 nnames;
	int64_t	 nextid;		/* the next call id, in a transaction */
	/*
	 * Looking a new call up in the store is needed only when it could
	 * be there: stored before this run (it starts within WINDOW of the
	 * latest call then stored) or by this run (the Bloom filter says
	 * maybe).
	 */
	time_t	 premax;
	int	 premaxok;
	int	 noskip;		/* look every call up: a key clashed */
	int	 conflict;		/* the last failure was such a clash */
	int	 reloaded;		/* cases_load read the store again */
	unsigned char *bloom;
	FILE	*recfp;			/* records waiting for the commit */
	struct pend {
		struct call *c;
		struct decision d;
		int64_t	 srcid, case_id;
	}	 pend[NPEND];
	int	 npend;
	sqlite3_stmt *s_insn;
	struct pev {
		int64_t	 case_id, call_id;
		time_t	 at;
		const char *state, *reason;
	}	 pev[NPEND];
	int	 npev;
	sqlite3_stmt *s_evn;
	long	 nrec;
	struct mcr_nlists *nl;
	sqlite3_stmt *s_ins, *s_get, *s_upd, *s_case, *s_cins, *s_cjoin;
	sqlite3_stmt *s_cres, *s_ev, *s_und, *s_dv, *s_src, *s_srcget;
	int	 intx;
};

static const char *intern(struct mcr_ingest *, const char *);
static void pend_drop(struct mcr_ingest *);

static const char *outnames[MCR_OUT_N] = { "answered", "no_answer", "busy",
    "failed", "abandoned_queue", "abandoned_ivr", "short_abandon",
    "voicemail", "out_of_hours" };

const char *
mcr_outcome_name(int o)
{
	return o >= 0 && o < MCR_OUT_N ? outnames[o] : NULL;
}

static const char *
dirname_(enum mcr_dir d)
{
	switch (d) {
	case MCR_DIR_IN:
		return "in";
	case MCR_DIR_OUT:
		return "out";
	case MCR_DIR_INTERNAL:
		return "internal";
	default:
		return NULL;
	}
}

static uint64_t
keyhash(const char *s)
{
	return mcr_util_hash(s, strlen(s), 0x6d6372);
}

/* h is keyhash(key): a key is hashed once however often it is looked up. */
static struct call *
findh(struct call **tab, size_t nb, const char *key, uint64_t h, int alias)
{
	struct call *c = tab[h & (nb - 1)];

	for (; c != NULL; c = alias ? c->anext : c->next)
		if (strcmp(alias ? c->alias : c->gkey, key) == 0)
			return c;
	return NULL;
}

static struct call *
find(struct call **tab, size_t nb, const char *key, int alias)
{
	return findh(tab, nb, key, keyhash(key), alias);
}

static void
link_(struct mcr_ingest *g, struct call *c)
{
	size_t h = c->kh & (g->nbucket - 1);

	c->next = g->tab[h];
	g->tab[h] = c;
	if (c->alias != NULL) {
		h = keyhash(c->alias) & (g->nbucket - 1);
		c->anext = g->atab[h];
		g->atab[h] = c;
	}
}

static void
unlink_(struct mcr_ingest *g, struct call *c)
{
	struct call **pp;

	for (pp = &g->tab[c->kh & (g->nbucket - 1)]; *pp != c;
	    pp = &(*pp)->next)
		;
	*pp = c->next;
	if (c->alias != NULL) {
		for (pp = &g->atab[keyhash(c->alias) & (g->nbucket - 1)];
		    *pp != c; pp = &(*pp)->anext)
			;
		*pp = c->anext;
	}
}

/*
 * Calls come and go by the hundred thousand: freed ones are kept for
 * reuse, and small keys and leg lists live inside them.
 */
static struct call *freecalls;
static int nfreecalls;

static struct call *
call_new(const char *gkey, uint64_t kh)
{
	struct call *c = freecalls;
	size_t n = strlen(gkey);

	if (c != NULL) {
		freecalls = c->next;
		nfreecalls--;
		memset(c, 0, sizeof(*c));
	} else
		c = mcr_xcalloc(1, sizeof(*c));
	if (n < sizeof(c->kbuf)) {
		memcpy(c->kbuf, gkey, n + 1);
		c->gkey = c->kbuf;
	} else
		c->gkey = mcr_xstrdup(gkey);
	c->legs = c->leg0;
	c->caplegs = 4;
	c->kh = kh;
	return c;
}

static void
call_free(struct call *c)
{
	if (c->gkey != c->kbuf)
		free(c->gkey);
	free(c->alias);
	if (c->legs != c->leg0)
		free(c->legs);
	if (nfreecalls < 4096) {
		c->next = freecalls;
		freecalls = c;
		nfreecalls++;
	} else
		free(c);
}

static void
calls_drop(void)
{
	struct call *c;

	while ((c = freecalls) != NULL) {
		freecalls = c->next;
		free(c);
	}
	nfreecalls = 0;
}

static void
grow(struct mcr_ingest *g)
{
	struct call **old = g->tab, *c, *n;
	size_t ob = g->nbucket;

	g->nbucket *= 2;
	g->tab = mcr_xcalloc(g->nbucket, sizeof(*g->tab));
	free(g->atab);
	g->atab = mcr_xcalloc(g->nbucket, sizeof(*g->atab));
	for (size_t i = 0; i < ob; i++)
		for (c = old[i]; c != NULL; c = n) {
			n = c->next;
			link_(g, c);
		}
	free(old);
}

struct mcr_ingest *
mcr_ingest_new(struct mcr_store *st, const struct mcr_config *cfg, FILE *out,
    int dry, int all)
{
	struct mcr_ingest *g = mcr_xcalloc(1, sizeof(*g));

	g->st = st;
	g->cfg = cfg;
	g->out = out;
	g->dry = dry;
	g->all = all;
	if ((g->tz = mcr_tz_open(cfg->timezone)) == NULL ||
	    (g->srctz = mcr_tz_open(cfg->source_tz ? cfg->source_tz :
	    cfg->timezone)) == NULL) {
		mcr_ingest_free(g);
		return NULL;
	}
	g->nbucket = 1024;
	g->tab = mcr_xcalloc(g->nbucket, sizeof(*g->tab));
	g->atab = mcr_xcalloc(g->nbucket, sizeof(*g->atab));
	g->dataver = -1;
	g->nl = mcr_nlists_new(cfg);
	return g;
}

void
mcr_ingest_free(struct mcr_ingest *g)
{
	struct call *c, *n;

	if (g == NULL)
		return;
	for (size_t i = 0; g->tab != NULL && i < g->nbucket; i++)
		for (c = g->tab[i]; c != NULL; c = n) {
			n = c->next;
			call_free(c);
		}
	free(g->tab);
	free(g->atab);
	pend_drop(g);
	calls_drop();
	free(g->cases);
	free(g->bloom);
	for (size_t i = 0; i < g->noptout; i++)
		free(g->optout[i]);
	free(g->optout);
	for (int i = 0; i < g->nnames; i++)
		free(g->names[i]);
	free(g->names);
	free(g->nameids);
	if (g->recfp != NULL)
		fclose(g->recfp);
	if (g->intx)
		mcr_store_rollback(g->st);
	mcr_nlists_free(g->nl);
	mcr_buf_free(&g->rec);
	mcr_tz_close(g->tz);
	mcr_tz_close(g->srctz);
	free(g);
}

const struct mcr_ingest_stats *
mcr_ingest_stats(struct mcr_ingest *g)
{
	return &g->stats;
}

/* Naive local seconds to UTC, counting repeated and skipped hours. */
static time_t
toutc(struct mcr_ingest *g, const struct mcr_leg *l, int64_t t, time_t hint,
    int count)
{
	int flags;
	time_t u;

	if (t < 0)
		return -1;
	if (l->utc)
		return (time_t)t;
	u = mcr_tz_local(g->srctz, t, hint, &flags);
	if (count && (flags & MCR_TZ_REPEATED))
		g->stats.repeated_hour++;
	if (count && (flags & MCR_TZ_SKIPPED))
		g->stats.skipped_hour++;
	return u;
}

static int
hasleg(const uint64_t *legs, int n, uint64_t h)
{
	for (int i = 0; i < n; i++)
		if (legs[i] == h)
			return 1;
	return 0;
}

void
mcr_leg_normalise(struct mcr_leg *l, const struct mcr_config *cfg)
{
	mcr_phone_norm(l->caller ? l->caller : "", cfg->region,
	    cfg->ext_digits, &l->ncaller);
	mcr_phone_norm(l->called ? l->called : "", cfg->region,
	    cfg->ext_digits, &l->ncalled);
	l->normed = 1;
}

int
mcr_ingest_leg(struct mcr_ingest *g, const struct mcr_leg *l,
    const char *file, int64_t off)
{
	struct call *c;
	time_t start, answer, end;
	int rank;
	uint64_t kh;

	g->stats.rows++;
	start = toutc(g, l, l->start, l->hint, 1);
	answer = toutc(g, l, l->answer, start + (l->answer - l->start), 0);
	end = toutc(g, l, l->end, start + (l->end - l->start), 0);
	if (end >= 0 && end < start)
		end = start;
	kh = keyhash(l->gkey);
	if ((c = findh(g->tab, g->nbucket, l->gkey, kh, 0)) == NULL &&
	    (c = findh(g->atab, g->nbucket, l->gkey, kh, 1)) == NULL &&
	    l->alias != NULL &&
	    (c = find(g->tab, g->nbucket, l->alias, 0)) == NULL)
		c = find(g->atab, g->nbucket, l->alias, 1);
	if (c == NULL) {
		if (g->nheld >= g->nbucket)
			grow(g);
		c = call_new(l->gkey, kh);
		if (l->alias != NULL && strcmp(l->alias, l->gkey) != 0)
			c->alias = mcr_xstrdup(l->alias);
		c->start = start;
		c->answer = c->end = -1;
		c->off0 = -1;
		c->res = MCR_RES_NONE;
		c->case_id = -1;
		c->old_missed = -1;
		link_(g, c);
		g->nheld++;
	} else if (hasleg(c->legs, c->nlegs, l->hash)) {
		g->stats.dup++;
		return 0;
	}
	if (c->nlegs == c->caplegs) {
		uint64_t *n = mcr_xmalloc((size_t)c->caplegs * 2 *
		    sizeof(*c->legs));

		memcpy(n, c->legs, (size_t)c->nlegs * sizeof(*c->legs));
		if (c->legs != c->leg0)
			free(c->legs);
		c->legs = n;
		c->caplegs *= 2;
	}
	c->legs[c->nlegs++] = l->hash;
	c->nnew++;
	if (off >= 0 && (c->off0 < 0 || off < c->off0)) {
		c->off0 = off;
		c->line0 = l->line - 1;
	}
	c->seen_ms = mcr_clock_ms();
	if (start < c->start)
		c->start = start;
	if (end > c->end)
		c->end = end;
	if (start > c->end)
		c->end = start;
	if (l->res == MCR_RES_ANSWERED && answer >= 0 &&
	    (c->answer < 0 || answer < c->answer))
		c->answer = answer;
	rank = l->caller == NULL ? 0 : l->primary ? 2 : 1;
	if (rank > c->crank || (rank == c->crank && rank > 0 &&
	    start < c->cstart)) {
		c->crank = rank;
		c->cstart = start;
		mcr_strlcpy(c->caller, l->caller, sizeof(c->caller));
		mcr_strlcpy(c->called, l->called ? l->called : "",
		    sizeof(c->called));
		if (l->normed)		/* converted on the reader thread */
			mcr_strlcpy(c->name, l->caller_name ? l->caller_name :
			    "", sizeof(c->name));
		else
			mcr_utf8_from_cp1252(l->caller_name ? l->caller_name :
			    "", c->name, sizeof(c->name));
		mcr_strlcpy(c->ctx, l->context ? l->context : "",
		    sizeof(c->ctx));
		mcr_strlcpy(c->chan, l->channel ? l->channel : "",
		    sizeof(c->chan));
		c->normed = l->normed;
		if (l->normed) {
			c->ncaller = l->ncaller;
			c->ncalled = l->ncalled;
		}
	}
	if (l->dir != MCR_DIR_UNKNOWN && (l->primary ||
	    c->dir == MCR_DIR_UNKNOWN))
		c->dir = l->dir;
	if (l->res > c->res || c->detail[0] == '\0') {
		if (l->res >= c->res)
			c->res = l->res;
		mcr_strlcpy(c->detail, l->detail, sizeof(c->detail));
		c->file = intern(g, file ? file : "-");
		c->line = (long)l->line;
	}
	c->flags |= l->incomplete ? F_OPEN : 0;
	c->flags |= end >= 0 ? F_ENDED : 0;
	c->flags |= l->res != MCR_RES_NONE ? F_FINAL : 0;
	if (start > g->tlast)
		g->tlast = start;
	return 0;
}

static int
inlist(const struct mcr_list *l, const char *s)
{
	for (int i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

static int
prefixlist(const struct mcr_list *l, const char *s)
{
	for (int i = 0; i < l->n; i++)
		if (strncmp(l->v[i], s, strlen(l->v[i])) == 0)
			return 1;
	return 0;
}

/* Number lists from the config hold E.164 or national forms. */
static int
numlist(struct mcr_ingest *g, const struct mcr_list *l, const char *e164)
{
	struct mcr_number n;

	if (*e164 == '\0')
		return 0;
	for (int i = 0; i < l->n; i++) {
		mcr_phone_norm(l->v[i], g->cfg->region, g->cfg->ext_digits,
		    &n);
		if (strcmp(n.e164, e164) == 0)
			return 1;
	}
	return 0;
}

static void
decide(struct mcr_ingest *g, const struct call *c, struct decision *d)
{
	const struct mcr_config *cfg = g->cfg;
	struct mcr_number callee;
	const char *why = NULL;
	char tail[200] = "";
	int base;

	memset(d, 0, sizeof(*d));
	if (c->normed) {
		d->num = c->ncaller;
		callee = c->ncalled;
	} else {
		mcr_phone_norm(c->crank ? c->caller : "", cfg->region,
		    cfg->ext_digits, &d->num);
		mcr_phone_norm(c->called, cfg->region, cfg->ext_digits,
		    &callee);
	}
	d->dir = c->dir;
	if (d->dir == MCR_DIR_UNKNOWN) {
		if (inlist(&cfg->inbound_contexts, c->ctx) ||
		    prefixlist(&cfg->trunks, c->chan) ||
		    inlist(&cfg->ddis, c->called) || inlist(&cfg->ddis, c->ctx))
			d->dir = MCR_DIR_IN;
		else if (d->num.type == MCR_LT_INTERNAL ||
		    numlist(g, &cfg->own, d->num.e164))
			d->dir = callee.type == MCR_LT_INTERNAL ||
			    callee.type == MCR_LT_INVALID ||
			    callee.type == MCR_LT_WITHHELD ? MCR_DIR_INTERNAL :
			    MCR_DIR_OUT;
		else
			d->dir = MCR_DIR_IN;
	}
	if (d->num.e164[0])
		mcr_strlcpy(d->caller, d->num.e164, sizeof(d->caller));
	else if (d->num.type == MCR_LT_INTERNAL && d->dir != MCR_DIR_IN)
		mcr_strlcpy(d->caller, d->num.ext, sizeof(d->caller));
	mcr_strlcpy(d->called, callee.e164[0] ? callee.e164 : callee.ext[0] ?
	    callee.ext : c->called, sizeof(d->called));
	if (d->dir == MCR_DIR_OUT)
		d->num = callee;	/* the party a case could be about */
	else if (d->dir == MCR_DIR_IN && d->num.type == MCR_LT_INTERNAL)
		d->num.type = MCR_LT_INVALID;	/* cannot be reached */
	d->ring_s = c->answer >= 0 ? c->answer - c->start :
	    (c->flags & F_ENDED) ? c->end - c->start : -1;
	d->talk_s = c->answer >= 0 && c->end >= c->answer ? c->end - c->answer :
	    0;
	if ((c->flags & F_OPEN) && !(c->flags & F_FINAL) && !c->force &&
	    c->start > mcr_now() - cfg->queue_wait) {
		d->outcome = MCR_OUT_NONE;
		return;
	}
	switch (c->res) {
	case MCR_RES_ANSWERED:
		base = MCR_OUT_ANSWERED;
		break;
	case MCR_RES_VOICEMAIL:
		base = MCR_OUT_VOICEMAIL;
		break;
	case MCR_RES_QUEUE:
		base = MCR_OUT_ABANDONED_QUEUE;
		break;
	case MCR_RES_BUSY:
		base = MCR_OUT_BUSY;
		break;
	case MCR_RES_IVR:
		base = MCR_OUT_ABANDONED_IVR;
		break;
	case MCR_RES_FAILED:
		base = MCR_OUT_FAILED;
		break;
	default:
		base = MCR_OUT_NO_ANSWER;
		if ((c->flags & F_OPEN) && !(c->flags & F_FINAL)) {
			base = MCR_OUT_ABANDONED_QUEUE;
			why = "no exit event: the call was lost from the log";
		}
		break;
	}
	d->outcome = base;
	if (d->dir != MCR_DIR_IN) {
		if (g->all)
			snprintf(d->why, sizeof(d->why), "%s:%ld: %s", c->file,
			    c->line, c->detail);
		return;
	}
	d->after_hours = !mcr_hours_open(&cfg->hours, g->tz, c->start);
	if (base == MCR_OUT_ANSWERED) {
		/* only -a writes the why of an answered call */
		if (g->all)
			snprintf(d->why, sizeof(d->why), "%s:%ld: %s", c->file,
			    c->line, c->detail);
		return;
	}
	d->missed = 1;
	if (base != MCR_OUT_VOICEMAIL && d->after_hours) {
		struct tm tm;

		mcr_tz_tm(g->tz, c->start, &tm);
		d->outcome = MCR_OUT_OUT_OF_HOURS;
		strftime(tail, sizeof(tail), "the practice was closed "
		    "(%a %H:%M)", &tm);
	} else if (base == MCR_OUT_VOICEMAIL) {
		d->missed = cfg->voicemail_missed;
		snprintf(tail, sizeof(tail), "voicemail %s", d->missed ?
		    "counts as missed" : "is not counted as missed ([ingest] "
		    "voicemail_missed)");
	} else if (why == NULL && d->ring_s >= 0 &&
	    d->ring_s < cfg->short_abandon &&
	    base != MCR_OUT_BUSY && base != MCR_OUT_FAILED) {
		d->outcome = MCR_OUT_SHORT_ABANDON;
		d->missed = cfg->short_abandon_missed;
		snprintf(tail, sizeof(tail), "over after %ld s, under the "
		    "short-abandon threshold of %d s", d->ring_s,
		    cfg->short_abandon);
	} else if (why == NULL && cfg->ring_threshold > 0 && d->ring_s >= 0 &&
	    d->ring_s < cfg->ring_threshold
	    && base != MCR_OUT_BUSY && base != MCR_OUT_FAILED) {
		d->missed = 0;
		snprintf(tail, sizeof(tail), "rang %ld s, under the ring "
		    "threshold of %d s: not counted as missed", d->ring_s,
		    cfg->ring_threshold);
	} else
		snprintf(tail, sizeof(tail), "no leg reached a person");
	snprintf(d->why, sizeof(d->why), "%s:%ld: %s; %s%s%s", c->file,
	    c->line, c->detail, tail, why ? "; " : "", why ? why : "");
}

/*
 * The latest case of each caller that a call could still join or resolve,
 * kept in memory: one lookup a call instead of one query.  Every change is
 * made with an UPDATE guarded by the state, so a case another program moved
 * on meanwhile is never touched; the map is reloaded when another
 * connection has written to the store (PRAGMA data_version).
 */
enum cstate { CS_OPEN, CS_OPEN_RESOLVABLE, CS_SKIPPED_RESOLVABLE,
    CS_EXPIRED, CS_CLOSED };

/*
 * Keyed by a 64-bit hash of the caller: 32 bytes an entry.  The UPDATEs
 * that act on a case also check its caller, so even two callers sharing a
 * hash could never touch each other's case.
 */
struct ccase {
	uint64_t h;		/* 0: empty */
	int64_t	 id;
	uint32_t opened, last;	/* seconds since the epoch */
	unsigned char st;
};

/*
 * Written with OR, not IN: a constant IN list costs SQLite a temporary
 * table every time the statement runs.
 */
#define OPEN_STATES	"state = 'new' OR state = 'sending' OR " \
	"state = 'messaged' OR state = 'replied' OR state = 'offered' OR " \
	"state = 'skipped'"
#define RESOLVABLE	"state = 'new' OR state = 'messaged' OR " \
	"state = 'replied' OR state = 'offered' OR state = 'expired' OR " \
	"(state = 'skipped' AND (reason = 'landline' OR reason = 'invalid' " \
	"OR reason = 'holdout'))"

static enum cstate
cstate(const char *state, const char *reason)
{
	if (strcmp(state, "new") == 0 || strcmp(state, "messaged") == 0 ||
	    strcmp(state, "replied") == 0 || strcmp(state, "offered") == 0)
		return CS_OPEN_RESOLVABLE;
	if (strcmp(state, "sending") == 0)
		return CS_OPEN;
	if (strcmp(state, "skipped") == 0)
		return reason != NULL && (strcmp(reason, "landline") == 0 ||
		    strcmp(reason, "invalid") == 0 ||
		    strcmp(reason, "holdout") == 0) ? CS_SKIPPED_RESOLVABLE :
		    CS_OPEN;
	if (strcmp(state, "expired") == 0)
		return CS_EXPIRED;
	return CS_CLOSED;
}

static int
isopen(enum cstate st)
{
	return st == CS_OPEN || st == CS_OPEN_RESOLVABLE ||
	    st == CS_SKIPPED_RESOLVABLE;
}

static int
resolvable(enum cstate st)
{
	return st == CS_OPEN_RESOLVABLE || st == CS_SKIPPED_RESOLVABLE ||
	    st == CS_EXPIRED;
}

/* The slot of caller in the open-addressing table, or an empty one. */
static uint64_t
callerhash(const char *caller)
{
	return keyhash(caller) | 1;
}

static struct ccase *
cslot(struct mcr_ingest *g, uint64_t h)
{
	size_t i = (size_t)h & (g->capcases - 1);

	while (g->cases[i].h != 0 && g->cases[i].h != h)
		i = (i + 1) & (g->capcases - 1);
	return &g->cases[i];
}

static void
cset(struct mcr_ingest *g, const char *caller, int64_t id, time_t opened,
    time_t last, enum cstate st)
{
	struct ccase *k;
	uint64_t h = callerhash(caller);

	if (g->ncases + 1 > g->capcases / 10 * 7) {
		struct ccase *old = g->cases;
		size_t ocap = g->capcases;

		g->capcases = ocap ? ocap * 2 : 1024;
		g->cases = mcr_xcalloc(g->capcases, sizeof(*g->cases));
		g->ncases = 0;
		for (size_t i = 0; i < ocap; i++)
			if (old[i].h != 0) {
				*cslot(g, old[i].h) = old[i];
				g->ncases++;
			}
		free(old);
	}
	k = cslot(g, h);
	if (k->h == 0) {
		k->h = h;
		g->ncases++;
	}
	k->id = id;
	k->opened = (uint32_t)opened;
	k->last = (uint32_t)last;
	k->st = (unsigned char)st;
}

static struct ccase *
cget(struct mcr_ingest *g, const char *caller)
{
	struct ccase *k;

	if (g->capcases == 0)
		return NULL;
	k = cslot(g, callerhash(caller));
	return k->h != 0 ? k : NULL;
}

static int
optcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
optedout(struct mcr_ingest *g, const char *e164)
{
	return g->noptout > 0 && bsearch(&e164, g->optout, g->noptout,
	    sizeof(char *), optcmp) != NULL;
}

/* (Re)load cases and opt-outs when another connection changed the store. */
static int
cases_load(struct mcr_ingest *g)
{
	sqlite3_stmt *st;
	int dv;

	if ((st = store_prep(g->st, &g->s_dv, "PRAGMA data_version")) == NULL)
		return -1;
	dv = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_reset(st);
	if (g->casesok && dv == g->dataver)
		return 0;
	g->dataver = dv;
	g->reloaded = 1;
	free(g->cases);
	g->cases = NULL;
	g->ncases = g->capcases = 0;
	if (sqlite3_prepare_v2(g->st->db, "SELECT c.caller, c.id, c.state, "
	    "c.reason, c.opened_at, c.last_call_at FROM cases c JOIN (SELECT "
	    "max(id) AS id FROM cases WHERE caller IS NOT NULL GROUP BY caller)"
	    " m ON m.id = c.id WHERE " OPEN_STATES " OR " RESOLVABLE, -1, &st,
	    NULL) != SQLITE_OK)
		return store_failed(g->st, "read cases");
	while (sqlite3_step(st) == SQLITE_ROW)
		cset(g, (const char *)sqlite3_column_text(st, 0),
		    sqlite3_column_int64(st, 1),
		    (time_t)sqlite3_column_int64(st, 4),
		    (time_t)sqlite3_column_int64(st, 5),
		    cstate((const char *)sqlite3_column_text(st, 2),
		    (const char *)sqlite3_column_text(st, 3)));
	sqlite3_finalize(st);
	for (size_t i = 0; i < g->noptout; i++)
		free(g->optout[i]);
	free(g->optout);
	g->optout = NULL;
	g->noptout = 0;
	if (sqlite3_prepare_v2(g->st->db, "SELECT number FROM optouts ORDER BY"
	    " number", -1, &st, NULL) != SQLITE_OK)
		return store_failed(g->st, "read opt-outs");
	while (sqlite3_step(st) == SQLITE_ROW) {
		g->optout = mcr_xrealloc(g->optout, (g->noptout + 1) *
		    sizeof(char *));
		g->optout[g->noptout++] = mcr_xstrdup((const char *)
		    sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	/* sorted by SQLite's BINARY collation, which is strcmp's order */
	g->casesok = 1;
	return 0;
}

/* A file name kept for the life of the ingest; its store id on demand. */
static const char *
intern(struct mcr_ingest *g, const char *name)
{
	for (int i = 0; i < g->nnames; i++)
		if (strcmp(g->names[i], name) == 0)
			return g->names[i];
	g->names = mcr_xrealloc(g->names, (size_t)(g->nnames + 1) *
	    sizeof(char *));
	g->nameids = mcr_xrealloc(g->nameids, (size_t)(g->nnames + 1) *
	    sizeof(int64_t));
	g->names[g->nnames] = mcr_xstrdup(name);
	g->nameids[g->nnames] = 0;
	return g->names[g->nnames++];
}

static int64_t
sourceid(struct mcr_ingest *g, const char *name)
{
	sqlite3_stmt *st;
	int i;

	for (i = 0; i < g->nnames; i++)
		if (g->names[i] == name || strcmp(g->names[i], name) == 0)
			break;
	if (i == g->nnames) {
		intern(g, name);
		i = g->nnames - 1;
	}
	if (g->nameids[i] > 0)
		return g->nameids[i];
	if ((st = store_prep(g->st, &g->s_src, "INSERT INTO sources (name) "
	    "VALUES (?) ON CONFLICT(name) DO UPDATE SET name = name "
	    "RETURNING id")) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		return store_failed(g->st, "record source file");
	g->nameids[i] = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return g->nameids[i];
}

/*
 * The statement inserting NPEND rows of n columns: head, then
 * (?1, ..., ?n), (?n+1, ..., ?2n), ...  Built and prepared once.
 */
static sqlite3_stmt *
prep_rows(struct mcr_ingest *g, sqlite3_stmt **cache, const char *head, int n)
{
	struct mcr_buf sql = { 0 };
	sqlite3_stmt *st;

	if (*cache != NULL)
		return store_prep_all(g->st, cache, NULL);
	mcr_buf_puts(&sql, head);
	for (int i = 0; i < NPEND; i++)
		for (int k = 1; k <= n; k++)
			mcr_buf_printf(&sql, "%s?%d%s", k > 1 ? ", " : i > 0 ?
			    ", (" : "(", i * n + k, k == n ? ")" : "");
	st = store_prep_all(g->st, cache, sql.s);
	mcr_buf_free(&sql);
	return st;
}

/*
 * Case events are inserted NPEND at a time, like calls.  state and reason
 * are always string constants, so the pending ones keep pointers.
 */
static void
bindev(sqlite3_stmt *st, const struct pev *e, int b)
{
	sqlite3_bind_int64(st, b + 1, e->case_id);
	sqlite3_bind_int64(st, b + 2, (sqlite3_int64)e->at);
	sqlite3_bind_text(st, b + 3, e->state, -1, SQLITE_STATIC);
	if (e->reason != NULL)
		sqlite3_bind_text(st, b + 4, e->reason, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, b + 4);
	sqlite3_bind_int64(st, b + 5, e->call_id);
}

static int
pev_flush(struct mcr_ingest *g)
{
	sqlite3_stmt *st;
	int i;

	if (g->npev == NPEND) {
		st = prep_rows(g, &g->s_evn, "INSERT INTO case_events (case_id, "
		    "at, state, reason, call_id) VALUES ", 5);
		if (st == NULL)
			return -1;
		for (i = 0; i < NPEND; i++)
			bindev(st, &g->pev[i], i * 5);
		if (sqlite3_step(st) != SQLITE_DONE)
			return store_failed(g->st, "record case events");
	} else {
		for (i = 0; i < g->npev; i++) {
			if ((st = store_prep(g->st, &g->s_ev, "INSERT INTO "
			    "case_events (case_id, at, state, reason, call_id) "
			    "VALUES (?, ?, ?, ?, ?)")) == NULL)
				return -1;
			bindev(st, &g->pev[i], 0);
			if (sqlite3_step(st) != SQLITE_DONE)
				return store_failed(g->st, "record case event");
		}
	}
	g->npev = 0;
	return 0;
}

static int
event(struct mcr_ingest *g, int64_t case_id, const char *state,
    const char *reason, int64_t call_id)
{
	struct pev *e = &g->pev[g->npev++];

	e->case_id = case_id;
	e->at = mcr_now();
	e->state = state;
	e->reason = reason;
	e->call_id = call_id;
	return g->npev == NPEND ? pev_flush(g) : 0;
}

/* Why a missed caller is not to be messaged, or NULL. */
static const char *
skipreason(struct mcr_ingest *g, const struct decision *d)
{
	const char *e = d->num.e164, *why;

	switch (d->num.type) {
	case MCR_LT_WITHHELD:
		return "withheld";
	case MCR_LT_INVALID:
	case MCR_LT_INTERNAL:
		return "invalid";
	case MCR_LT_FIXED:
		return "landline";
	default:
		break;
	}
	if ((why = mcr_nlists_check(g->nl, e)) != NULL)
		return why;
	if (optedout(g, e))
		return "opted_out";
	return NULL;
}

/* Open a case for a missed call, or join the caller's open one. */
static int
opencase(struct mcr_ingest *g, const struct call *c, struct decision *d,
    int64_t call_id, int64_t *case_id)
{
	sqlite3_stmt *st;
	const char *reason = skipreason(g, d);
	struct ccase *k;
	int64_t id;

	if (d->num.e164[0] != '\0' && (k = cget(g, d->num.e164)) != NULL &&
	    isopen(k->st) && llabs((long long)c->start - k->last) <=
	    g->cfg->cooldown) {
		if ((st = store_prep(g->st, &g->s_cjoin, "UPDATE cases SET "
		    "calls = calls + 1, last_call_at = max(last_call_at, ?1), "
		    "opened_at = min(opened_at, ?1), after_hours = after_hours "
		    "| ?2, updated_at = ?3 WHERE id = ?4 AND caller = ?5 AND ("
		    OPEN_STATES ")")) == NULL)
			return -1;
		sqlite3_bind_int64(st, 1, (sqlite3_int64)c->start);
		sqlite3_bind_int(st, 2, d->after_hours);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)mcr_now());
		sqlite3_bind_int64(st, 4, k->id);
		sqlite3_bind_text(st, 5, d->num.e164, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			return store_failed(g->st, "join case");
		if (sqlite3_changes(g->st->db) == 1) {
			if (c->start > (time_t)k->last)
				k->last = (uint32_t)c->start;
			if (c->start < (time_t)k->opened)
				k->opened = (uint32_t)c->start;
			*case_id = k->id;
			g->stats.cases_joined++;
			return 0;
		}
		k->st = CS_CLOSED;	/* moved on meanwhile */
	}
	if ((st = store_prep(g->st, &g->s_cins, "INSERT INTO cases (caller, "
	    "caller_type, state, reason, opened_at, last_call_at, after_hours,"
	    " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) == NULL)
		return -1;
	if (d->num.e164[0])
		sqlite3_bind_text(st, 1, d->num.e164, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, mcr_phone_typename(d->num.type), -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(st, 3, reason ? "skipped" : "new", -1,
	    SQLITE_STATIC);
	if (reason)
		sqlite3_bind_text(st, 4, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)c->start);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)c->start);
	sqlite3_bind_int(st, 7, d->after_hours);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)mcr_now());
	if (sqlite3_step(st) != SQLITE_DONE)
		return store_failed(g->st, "open case");
	id = *case_id = sqlite3_last_insert_rowid(g->st->db);
	if (event(g, id, reason ? "skipped" : "new", reason, call_id) == -1)
		return -1;
	if (d->num.e164[0])
		cset(g, d->num.e164, id, c->start, c->start, reason ?
		    cstate("skipped", reason) : CS_OPEN_RESOLVABLE);
	g->stats.cases_opened++;
	if (reason)
		g->stats.skipped_cases++;
	return 0;
}

/* Close a case whose caller got through; k may be NULL. */
static int
resolve(struct mcr_ingest *g, int64_t id, struct ccase *k, const char *caller,
    time_t since, const char *why, int64_t call_id)
{
	sqlite3_stmt *st;

	if ((st = store_prep(g->st, &g->s_cres, "UPDATE cases SET state = "
	    "'resolved_by_call', reason = ?1, updated_at = ?2 WHERE id = ?3 "
	    "AND opened_at <= ?4 AND (?5 IS NULL OR caller = ?5) AND ("
	    RESOLVABLE ")")) == NULL)
		return -1;
	if (caller != NULL)
		sqlite3_bind_text(st, 5, caller, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 1, why, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)mcr_now());
	sqlite3_bind_int64(st, 3, id);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)since);
	if (sqlite3_step(st) != SQLITE_DONE)
		return store_failed(g->st, "resolve case");
	if (sqlite3_changes(g->st->db) == 0)
		return 0;
	if (k != NULL && k->id == id)
		k->st = CS_CLOSED;
	g->stats.cases_resolved++;
	return event(g, id, "resolved_by_call", why, call_id);
}

static int
resolve_caller(struct mcr_ingest *g, const struct call *c,
    const struct decision *d, int64_t call_id)
{
	struct ccase *k;

	if (d->num.e164[0] == '\0' || (k = cget(g, d->num.e164)) == NULL ||
	    !resolvable(k->st) || (time_t)k->opened > c->start)
		return 0;
	return resolve(g, k->id, k, d->num.e164, c->start, d->dir ==
	    MCR_DIR_IN ?
	    "a later call from the caller was answered" :
	    "the practice called back and was answered", call_id);
}

static void
bindcall(sqlite3_stmt *st, const struct call *c, const struct decision *d,
    int64_t source_id, int64_t case_id, int b)
{
	sqlite3_bind_text(st, b + 1, c->gkey, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, b + 2, dirname_(d->dir), -1, SQLITE_STATIC);
	if (d->caller[0])
		sqlite3_bind_text(st, b + 3, d->caller, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, b + 3);
	/* the caller_type of an outbound call is the practice's side */
	sqlite3_bind_text(st, b + 4, mcr_phone_typename(d->dir == MCR_DIR_OUT ?
	    MCR_LT_INTERNAL : d->num.type), -1, SQLITE_STATIC);
	if (d->num.country[0] && d->dir == MCR_DIR_IN)
		sqlite3_bind_text(st, b + 5, d->num.country, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, b + 5);
	if (c->name[0])
		sqlite3_bind_text(st, b + 6, c->name, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, b + 6);
	if (d->called[0])
		sqlite3_bind_text(st, b + 7, d->called, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, b + 7);
	sqlite3_bind_int64(st, b + 8, (sqlite3_int64)c->start);
	if (c->answer >= 0)
		sqlite3_bind_int64(st, b + 9, (sqlite3_int64)c->answer);
	else
		sqlite3_bind_null(st, b + 9);
	if (c->end >= 0 && (c->flags & F_ENDED))
		sqlite3_bind_int64(st, b + 10, (sqlite3_int64)c->end);
	else
		sqlite3_bind_null(st, b + 10);
	if (d->ring_s >= 0)
		sqlite3_bind_int64(st, b + 11, d->ring_s);
	else
		sqlite3_bind_null(st, b + 11);
	sqlite3_bind_int64(st, b + 12, d->talk_s);
	sqlite3_bind_int(st, b + 13, (int)c->res);
	if (d->outcome != MCR_OUT_NONE)
		sqlite3_bind_text(st, b + 14, outnames[d->outcome], -1,
		    SQLITE_STATIC);
	else
		sqlite3_bind_null(st, b + 14);
	sqlite3_bind_int(st, b + 15, d->missed);
	sqlite3_bind_int(st, b + 16, d->after_hours);
	/* what a person answering looked like is not worth its bytes */
	if (c->res != MCR_RES_ANSWERED && c->detail[0])
		sqlite3_bind_text(st, b + 17, c->detail, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, b + 17);
	sqlite3_bind_int64(st, b + 18, source_id);
	sqlite3_bind_int64(st, b + 19, c->line);
	sqlite3_bind_int(st, b + 20, c->flags);
	sqlite3_bind_blob(st, b + 21, c->legs, c->nlegs * 8, SQLITE_STATIC);
	if (case_id >= 0)
		sqlite3_bind_int64(st, b + 22, case_id);
	else
		sqlite3_bind_null(st, b + 22);
	if (c->alias != NULL)
		sqlite3_bind_text(st, b + 23, c->alias, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, b + 23);
}

#define NCOLS	23	/* bound columns of a call; its id is parameter 24 */
#define CALLCOLS "gkey, direction, caller, caller_type, caller_country, " \
	"caller_name, called, started_at, answered_at, ended_at, ring_s, " \
	"talk_s, res, outcome, missed, after_hours, detail, source_id, " \
	"source_line, flags, legs, case_id, alias"

/*
 * Merge what the store holds of c's call into c.  Returns 1 when c brings
 * no row the store does not have, 0 when merged or not stored, -1 on error.
 */
static int
merge_stored(struct mcr_ingest *g, struct call *c)
{
	sqlite3_stmt *st;
	const uint64_t *legs;
	int n, fresh = 0, rc;
	const char *s;

	if ((st = store_prep(g->st, &g->s_get, "SELECT c.id, c.direction, "
	    "c.caller, c.caller_type, c.called, c.started_at, c.answered_at, "
	    "c.ended_at, c.res, c.outcome, c.missed, c.detail, s.name, "
	    "c.source_line, c.flags, c.legs, c.case_id, c.caller_name, "
	    "c.gkey, c.alias FROM calls c LEFT JOIN sources s ON "
	    "s.id = c.source_id WHERE c.gkey = ?1 OR c.alias = ?1 OR "
	    "c.gkey = ?2 OR c.alias = ?2 LIMIT 1")) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, c->gkey, -1, SQLITE_STATIC);
	if (c->alias != NULL)
		sqlite3_bind_text(st, 2, c->alias, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW)
		return rc == SQLITE_DONE ? 0 : store_failed(g->st, "read call");
	legs = sqlite3_column_blob(st, 15);
	n = sqlite3_column_bytes(st, 15) / 8;
	for (int i = c->nlegs - c->nnew; i < c->nlegs; i++)
		if (!hasleg(legs, n, c->legs[i]))
			fresh++;
	if (fresh == 0 && !c->force) {
		sqlite3_reset(st);
		return 1;
	}
	c->id = sqlite3_column_int64(st, 0);
	/* found through the other leg's key: the stored keys stay */
	s = (const char *)sqlite3_column_text(st, 18);
	if (s != NULL && strcmp(s, c->gkey) != 0) {
		const char *a = (const char *)sqlite3_column_text(st, 19);

		if (c->alias == NULL || (a != NULL && strcmp(a, c->alias) != 0)) {
			free(c->alias);
			c->alias = mcr_xstrdup(a != NULL ? a : c->gkey);
		}
		if (c->gkey != c->kbuf)
			free(c->gkey);
		if (strlen(s) < sizeof(c->kbuf)) {
			mcr_strlcpy(c->kbuf, s, sizeof(c->kbuf));
			c->gkey = c->kbuf;
		} else
			c->gkey = mcr_xstrdup(s);
		c->kh = keyhash(c->gkey);
	}
	/* the stored legs first, then the new ones not stored */
	{
		uint64_t *all = mcr_xmalloc((size_t)(n + c->nlegs) * 8);
		int k = n;

		if (n > 0)
			memcpy(all, legs, (size_t)n * 8);
		for (int i = 0; i < c->nlegs; i++)
			if (!hasleg(all, k, c->legs[i]))
				all[k++] = c->legs[i];
		if (c->legs != c->leg0)
			free(c->legs);
		c->legs = all;
		c->nlegs = c->caplegs = k;
	}
	s = (const char *)sqlite3_column_text(st, 1);
	if (c->dir == MCR_DIR_UNKNOWN || c->crank < 2) {
		c->dir = strcmp(s, "in") == 0 ? MCR_DIR_IN : strcmp(s, "out") ==
		    0 ? MCR_DIR_OUT : MCR_DIR_INTERNAL;
	}
	if (c->crank < 2) {
		s = (const char *)sqlite3_column_text(st, 2);
		mcr_strlcpy(c->caller, s ? s : strcmp((const char *)
		    sqlite3_column_text(st, 3), "withheld") == 0 ? "" : "?",
		    sizeof(c->caller));
		s = (const char *)sqlite3_column_text(st, 4);
		mcr_strlcpy(c->called, s ? s : "", sizeof(c->called));
		s = (const char *)sqlite3_column_text(st, 17);
		mcr_strlcpy(c->name, s ? s : "", sizeof(c->name));
		c->crank = 2;
		c->normed = 0;
	}
	if (sqlite3_column_int64(st, 5) < c->start)
		c->start = (time_t)sqlite3_column_int64(st, 5);
	if (sqlite3_column_type(st, 6) != SQLITE_NULL) {
		time_t a = (time_t)sqlite3_column_int64(st, 6);

		if (c->answer < 0 || a < c->answer)
			c->answer = a;
	}
	if (sqlite3_column_type(st, 7) != SQLITE_NULL &&
	    sqlite3_column_int64(st, 7) > c->end)
		c->end = (time_t)sqlite3_column_int64(st, 7);
	if (sqlite3_column_int(st, 8) >= (int)c->res) {
		c->res = (enum mcr_res)sqlite3_column_int(st, 8);
		s = (const char *)sqlite3_column_text(st, 11);
		mcr_strlcpy(c->detail, s ? s : c->res == MCR_RES_ANSWERED ?
		    "a person answered" : "", sizeof(c->detail));
		s = (const char *)sqlite3_column_text(st, 12);
		c->file = intern(g, s ? s : "-");
		c->line = (long)sqlite3_column_int64(st, 13);
	}
	s = (const char *)sqlite3_column_text(st, 9);
	mcr_strlcpy(c->old_outcome, s ? s : "", sizeof(c->old_outcome));
	c->old_missed = sqlite3_column_int(st, 10);
	c->flags |= sqlite3_column_int(st, 14);
	c->case_id = sqlite3_column_type(st, 16) == SQLITE_NULL ? -1 :
	    sqlite3_column_int64(st, 16);
	sqlite3_reset(st);
	return 0;
}

static void
record(struct mcr_ingest *g, const char *type, int64_t id, int64_t case_id,
    const struct call *c, const struct decision *d)
{
	struct mcr_buf *b = &g->rec;
	const char *out = d->outcome == MCR_OUT_NONE ? NULL :
	    outnames[d->outcome];
	int call = strcmp(type, "call") == 0;
	char src[300];

	mcr_buf_reset(b);
	mcr_buf_puts(b, "{");
	mcr_json_kstr(b, "type", type);
	if (g->dry)
		mcr_json_knull(b, "id");
	else
		mcr_json_kint(b, "id", id);
	if (case_id >= 0 && !g->dry)
		mcr_json_kint(b, "case_id", case_id);
	else
		mcr_json_knull(b, "case_id");
	if (call)
		mcr_json_kstr(b, "direction", dirname_(d->dir));
	mcr_json_kstr(b, "caller", d->caller[0] ? d->caller : NULL);
	mcr_json_kstr(b, "caller_type", mcr_phone_typename(d->dir ==
	    MCR_DIR_OUT ? MCR_LT_INTERNAL : d->num.type));
	mcr_json_kstr(b, "caller_country", d->dir == MCR_DIR_IN &&
	    d->num.country[0] ? d->num.country : NULL);
	mcr_json_kstr(b, "caller_name", c->name[0] ? c->name : NULL);
	mcr_json_kstr(b, "called", d->called[0] ? d->called : NULL);
	mcr_json_ktime(b, "started_at", c->start);
	if (call) {
		mcr_json_ktime(b, "answered_at", c->answer);
		mcr_json_ktime(b, "ended_at", (c->flags & F_ENDED) ? c->end :
		    -1);
	}
	if (d->ring_s >= 0)
		mcr_json_kint(b, "ring_s", d->ring_s);
	else
		mcr_json_knull(b, "ring_s");
	if (call)
		mcr_json_kint(b, "talk_s", d->talk_s);
	mcr_json_kstr(b, "outcome", out);
	if (call)
		mcr_json_kbool(b, "missed", d->missed);
	mcr_json_kstr(b, "why", d->why[0] ? d->why : NULL);
	mcr_json_kbool(b, "after_hours", d->after_hours);
	snprintf(src, sizeof(src), "%s:%ld", c->file, c->line);
	mcr_json_kstr(b, "source", src);
	mcr_buf_puts(b, "}\n");
	if (g->recfp == NULL && (g->recfp = tmpfile()) == NULL) {
		/* no room for a spool: write now, before the commit */
		fwrite(b->s, 1, b->len, g->out);
		return;
	}
	fwrite(b->s, 1, b->len, g->recfp);
	g->nrec++;
}

#define BLOOM_BITS	(1 << 22)	/* 512 KiB: 2% false hits at 500,000 calls */

static void
bloom_add(struct mcr_ingest *g, uint64_t h)
{
	if (g->bloom == NULL)
		g->bloom = mcr_xcalloc(BLOOM_BITS / 8, 1);
	for (int i = 0; i < 4; i++, h = h >> 16 | h << 48) {
		uint32_t b = (uint32_t)(h ^ (h >> 32) * 0x9e3779b1u) &
		    (BLOOM_BITS - 1);

		g->bloom[b / 8] |= (unsigned char)(1 << (b % 8));
	}
}

static int
bloom_has(struct mcr_ingest *g, uint64_t h)
{
	if (g->bloom == NULL)
		return 0;
	for (int i = 0; i < 4; i++, h = h >> 16 | h << 48) {
		uint32_t b = (uint32_t)(h ^ (h >> 32) * 0x9e3779b1u) &
		    (BLOOM_BITS - 1);

		if (!(g->bloom[b / 8] & (1 << (b % 8))))
			return 0;
	}
	return 1;
}

/*
 * New calls are inserted NPEND at a time: one statement, its cursors
 * opened once, instead of NPEND.
 */
/*
 * A new call whose key is stored already: its legs lie further apart than
 * the lookup skipping allows.  Said nothing of: the program reads again
 * with every call looked up (mcr_ingest_restart).
 */
static int
clash(struct mcr_ingest *g, const char *what)
{
	if (!g->noskip && sqlite3_extended_errcode(g->st->db) ==
	    SQLITE_CONSTRAINT_UNIQUE) {
		g->conflict = 1;
		errno = EEXIST;
		return -1;
	}
	return store_failed(g->st, what);
}

static int
pend_flush(struct mcr_ingest *g)
{
	sqlite3_stmt *st;
	int i;

	if (g->npend == NPEND) {
		st = prep_rows(g, &g->s_insn, "INSERT INTO calls (" CALLCOLS
		    ", id) VALUES ", NCOLS + 1);
		if (st == NULL)
			return -1;
		for (i = 0; i < NPEND; i++) {
			struct pend *p = &g->pend[i];

			bindcall(st, p->c, &p->d, p->srcid, p->case_id,
			    i * (NCOLS + 1));
			sqlite3_bind_int64(st, i * (NCOLS + 1) + NCOLS + 1,
			    p->c->id);
		}
		if (sqlite3_step(st) != SQLITE_DONE)
			return clash(g, "store calls");
	} else {
		for (i = 0; i < g->npend; i++) {
			struct pend *p = &g->pend[i];

			if ((st = store_prep(g->st, &g->s_ins, "INSERT INTO "
			    "calls (id, " CALLCOLS ") VALUES (?24, ?1, ?2, ?3, "
			    "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,"
			    " ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)")) == NULL)
				return -1;
			bindcall(st, p->c, &p->d, p->srcid, p->case_id, 0);
			sqlite3_bind_int64(st, NCOLS + 1, p->c->id);
			if (sqlite3_step(st) != SQLITE_DONE)
				return clash(g, "store call");
		}
	}
	for (i = 0; i < g->npend; i++) {
		bloom_add(g, g->pend[i].c->kh);
		if (g->pend[i].c->alias != NULL)
			bloom_add(g, keyhash(g->pend[i].c->alias));
		call_free(g->pend[i].c);
	}
	g->npend = 0;
	return 0;
}

static int
inpend(const struct mcr_ingest *g, const struct call *c)
{
	for (int i = 0; i < g->npend; i++)
		if (g->pend[i].c == c)
			return 1;
	return 0;
}

/* Forget the pending inserts (after a failure: the batch rolls back). */
static void
pend_drop(struct mcr_ingest *g)
{
	for (int i = 0; i < g->npend; i++)
		call_free(g->pend[i].c);
	g->npend = 0;
}

/* Decide a settled call and store it; the heart of ingest. */
static int
persist(struct mcr_ingest *g, struct call *c)
{
	struct decision d;
	sqlite3_stmt *st;
	int64_t case_id = -1, srcid;
	int r, changed, wasmissed, isnew;

	if (c->id == 0 && (c->force || g->noskip || !g->premaxok ||
	    c->start <= g->premax + MAXCALL || bloom_has(g, c->kh) ||
	    (c->alias != NULL && bloom_has(g, keyhash(c->alias))))) {
		if ((r = merge_stored(g, c)) == -1)
			return -1;
		if (r == 1) {
			g->stats.dup += c->nnew;
			return 0;
		}
	}
	isnew = c->id == 0;
	decide(g, c, &d);
	if ((srcid = sourceid(g, c->file)) == -1)
		return -1;
	if (isnew) {
		c->id = g->nextid++;
		wasmissed = 0;
		changed = 1;
	} else {
		const char *o = d.outcome == MCR_OUT_NONE ? "" :
		    outnames[d.outcome];

		wasmissed = c->old_missed == 1;
		changed = strcmp(o, c->old_outcome) != 0 || d.missed !=
		    c->old_missed;
		case_id = c->case_id;
	}
	if (d.outcome != MCR_OUT_NONE && d.missed && !wasmissed &&
	    case_id < 0 && opencase(g, c, &d, c->id, &case_id) == -1)
		return -1;
	if (isnew) {
		/* stored with the next ones, in one statement */
		struct pend *p = &g->pend[g->npend++];

		p->c = c;
		memcpy(&p->d, &d, offsetof(struct decision, why));
		p->srcid = srcid;
		p->case_id = case_id;
		g->stats.calls++;
	} else {
		if ((st = store_prep(g->st, &g->s_upd, "UPDATE calls SET ("
		    CALLCOLS ") = (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
		    " ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)"
		    " WHERE id = ?24")) == NULL)
			return -1;
		bindcall(st, c, &d, srcid, case_id, 0);
		sqlite3_bind_int64(st, NCOLS + 1, c->id);
		if (sqlite3_step(st) != SQLITE_DONE)
			return store_failed(g->st, "update call");
		g->stats.updated++;
	}
	if (d.outcome == MCR_OUT_NONE) {
		g->stats.pending++;
		if (isnew && g->npend == NPEND && pend_flush(g) == -1)
			return -1;
		return isnew;
	}
	if (isnew || changed)
		g->stats.by_outcome[d.outcome]++;
	if (d.missed && !wasmissed) {
		g->stats.missed++;
		record(g, "missed_call", c->id, case_id, c, &d);
	} else if (wasmissed && !d.missed) {
		g->stats.corrected++;
		if (case_id >= 0 && resolve(g, case_id, NULL, NULL, c->start,
		    d.outcome == MCR_OUT_ANSWERED ? "the call was found "
		    "answered by a later row" : "a later row shows the call "
		    "was not missed", c->id) == -1)
			return -1;
	}
	if (d.outcome == MCR_OUT_ANSWERED && (d.dir == MCR_DIR_IN ||
	    d.dir == MCR_DIR_OUT) && (isnew || changed) &&
	    resolve_caller(g, c, &d, c->id) == -1)
		return -1;
	if (g->all && changed)
		record(g, "call", c->id, case_id, c, &d);
	if (isnew && g->npend == NPEND && pend_flush(g) == -1)
		return -1;
	return isnew;
}

static int
settled(const struct mcr_ingest *g, const struct call *c, int quiet_ms,
    int64_t now_ms)
{
	time_t last;

	if (quiet_ms == MCR_FLUSH_ALL)
		return 1;
	if (quiet_ms >= 0)
		return now_ms - c->seen_ms >= quiet_ms;
	last = c->end > c->start ? c->end : c->start;
	return last < g->tlast - WINDOW || c->start > g->tlast + WINDOW;
}

static int
bystart(const void *a, const void *b)
{
	const struct call *x = *(struct call *const *)a;
	const struct call *y = *(struct call *const *)b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return strcmp(x->gkey, y->gkey);
}

/* Open the batch's transaction and read what it needs once. */
static int
begin(struct mcr_ingest *g)
{
	sqlite3_stmt *st;

	if (g->intx)
		return 0;
	if (mcr_store_begin(g->st) == -1)
		return -1;
	g->intx = 1;
	g->reloaded = 0;
	if (cases_load(g) == -1)
		return -1;
	if (g->reloaded) {
		/* the first batch, or another program wrote meanwhile */
		if (sqlite3_prepare_v2(g->st->db, "SELECT max(started_at) FROM "
		    "calls", -1, &st, NULL) != SQLITE_OK)
			return store_failed(g->st, "read calls");
		g->premax = sqlite3_step(st) == SQLITE_ROW &&
		    sqlite3_column_type(st, 0) != SQLITE_NULL ?
		    (time_t)sqlite3_column_int64(st, 0) : 0;
		g->premaxok = 1;
		sqlite3_finalize(st);
	}
	if (sqlite3_prepare_v2(g->st->db, "SELECT coalesce(max(id), 0) + 1 "
	    "FROM calls", -1, &st, NULL) != SQLITE_OK)
		return store_failed(g->st, "read call ids");
	g->nextid = sqlite3_step(st) == SQLITE_ROW ?
	    sqlite3_column_int64(st, 0) : 1;
	sqlite3_finalize(st);
	return 0;
}

/* Copy the spooled records out, after a commit (or a dry rollback). */
static void
spill(struct mcr_ingest *g)
{
	char buf[65536];
	size_t n;

	if (g->recfp == NULL || g->nrec == 0)
		return;
	rewind(g->recfp);
	while ((n = fread(buf, 1, sizeof(buf), g->recfp)) > 0)
		fwrite(buf, 1, n, g->out);
	rewind(g->recfp);
	if (ftruncate(fileno(g->recfp), 0) == -1)
		mcr_warn("record spool: %s", strerror(errno));
	g->nrec = 0;
}

int
mcr_ingest_flush(struct mcr_ingest *g, int quiet_ms, const char *path,
    const struct mcr_filepos *pos, int commit)
{
	struct call *c, **v;
	struct mcr_filepos p;
	int64_t now_ms = mcr_clock_ms();
	size_t n = 0;

	for (size_t i = 0; i < g->nbucket; i++)
		for (c = g->tab[i]; c != NULL; c = c->next)
			n += settled(g, c, quiet_ms, now_ms);
	if (n == 0 && (!commit || (pos == NULL && !g->intx)))
		return 0;
	if (begin(g) == -1)
		goto fail;
	/* in time order: a call can resolve the case of an earlier one */
	v = mcr_xmalloc((n ? n : 1) * sizeof(*v));
	n = 0;
	for (size_t i = 0; i < g->nbucket; i++)
		for (c = g->tab[i]; c != NULL; c = c->next)
			if (settled(g, c, quiet_ms, now_ms))
				v[n++] = c;
	qsort(v, n, sizeof(*v), bystart);
	for (size_t i = 0; i < n; i++) {
		int r;

		unlink_(g, v[i]);
		g->nheld--;
		r = persist(g, v[i]);
		if (r == 0)
			call_free(v[i]);	/* else a pending insert has it */
		if (r == -1) {
			if (!inpend(g, v[i]))
				call_free(v[i]);
			while (++i < n) {
				unlink_(g, v[i]);
				g->nheld--;
				call_free(v[i]);
			}
			free(v);
			goto fail;
		}
	}
	free(v);
	if (pend_flush(g) == -1 || pev_flush(g) == -1)
		goto fail;
	if (!commit)
		return 0;
	if (pos != NULL) {
		p = *pos;
		for (size_t i = 0; i < g->nbucket; i++)
			for (c = g->tab[i]; c != NULL; c = c->next)
				if (c->off0 >= 0 && c->off0 < p.offset) {
					p.offset = c->off0;
					p.line = c->line0;
				}
		if (mcr_store_filepos_set(g->st, path, &p) == -1)
			goto fail;
	}
	g->intx = 0;
	if (g->dry)
		mcr_store_rollback(g->st);
	else if (mcr_store_commit(g->st) == -1)
		goto fail;
	spill(g);
	return 0;
fail:
	pend_drop(g);
	g->npev = 0;
	g->intx = 0;
	mcr_store_rollback(g->st);
	if (g->recfp != NULL) {
		rewind(g->recfp);
		if (ftruncate(fileno(g->recfp), 0) == -1)
			mcr_warn("record spool: %s", strerror(errno));
	}
	g->nrec = 0;
	g->casesok = 0;
	return -1;
}

size_t
mcr_ingest_held(struct mcr_ingest *g)
{
	return g->nheld;
}

int
mcr_ingest_sweep(struct mcr_ingest *g)
{
	sqlite3_stmt *st;
	struct call *c;
	int rc;

	if ((st = store_prep(g->st, &g->s_und, "SELECT gkey FROM calls WHERE"
	    " outcome IS NULL AND started_at < ?")) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)(mcr_now() -
	    g->cfg->queue_wait));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);

		if (find(g->tab, g->nbucket, k, 0) != NULL)
			continue;
		if (g->nheld >= g->nbucket)
			grow(g);
		c = call_new(k, keyhash(k));
		c->start = (time_t)INT64_MAX / 2;
		c->answer = c->end = -1;
		c->off0 = -1;
		c->case_id = -1;
		c->force = 1;
		link_(g, c);
		g->nheld++;
	}
	if (rc != SQLITE_DONE)
		return store_failed(g->st, "read undecided calls");
	sqlite3_reset(st);
	return 0;
}

int
mcr_ingest_conflict(struct mcr_ingest *g)
{
	return g->conflict;
}

void
mcr_ingest_restart(struct mcr_ingest *g)
{
	struct call *c, *n;

	for (size_t i = 0; i < g->nbucket; i++) {
		for (c = g->tab[i]; c != NULL; c = n) {
			n = c->next;
			call_free(c);
		}
		g->tab[i] = g->atab[i] = NULL;
	}
	g->nheld = 0;
	g->noskip = 1;
	g->conflict = 0;
}
