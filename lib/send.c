/*
 * The recovery message: decide, claim, send, record.
 *
 * A case is claimed in a write transaction (state new -> sending, and a
 * message row in status sending, unique per case and step) before its
 * request leaves; the outcome is recorded in a second one.  A process that
 * dies in between leaves the claim behind, and the next run marks it
 * uncertain: never re-sent automatically.  Rate limits are kept in the same
 * claim transactions, so overlapping runs share them.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "mcr.h"
#include "json.h"
#include "storeint.h"

volatile sig_atomic_t mcr_send_quit;

struct pending {
	int64_t	 case_id;
	time_t	 due;
	char	*extra;			/* keys passed through, or NULL */
};

struct mcr_send {
	struct mcr_store *st;
	const struct mcr_config *cfg;
	FILE	*out;
	int	 dry;
	struct mcr_tz *tz;
	struct mcr_nlists *nl;
	struct mcr_prov *prov[2];	/* by channel, opened when first used */
	int	 tried[2];
	int	 stop;			/* exit status that ended sending, or 0 */
	int	 status;
	time_t	 t0;
	int64_t	 ms0;
	pid_t	 pid;
	struct pending *pend;
	size_t	 npend, cpend;
	int	 defer;			/* messages queued, sent by flush */
	int	 unsure;		/* first messages uncertain in a row */
	int	 storedown;		/* a write failed: no more are tried */
	struct queued *q;
	size_t	 nq;
	struct mcr_buf rec;
	const char *rectype;		/* of message records */
	struct mcr_send_stats stats;
	sqlite3_stmt *s_case, *s_skip, *s_ev, *s_claim, *s_mid, *s_held,
	    *s_rcpt, *s_rate, *s_pat, *s_burst, *s_nbr, *s_done, *s_cdone,
	    *s_reclaim, *s_live, *s_find, *s_new, *s_due, *s_launch,
	    *s_orphan, *s_unq;
};

/* A case as the decision needs it. */
struct kase {
	int64_t	 id;
	char	 caller[20];
	char	 type[12];
	char	 state[20];
	char	 reason[64];
	time_t	 opened, last;
	int	 after_hours;
};

/* What to send: one message of a case. */
struct msg {
	int64_t	 id, case_id;
	const char *step;
	enum mcr_chan chan;
	enum mcr_kind kind;
	char	 to[20];
	char	 type[12];
	struct mcr_buf text;
	char	 pv[8][128];		/* rendered parameters */
	int	 npv;
	int	 attempts;
	int	 reply;			/* of the conversation: case untouched */
	const struct mcr_req *opts;	/* its session and options, or NULL */
};

/*
 * A message queued in the caller's transaction (a reply), with copies of
 * all it points to; sent by mcr_send_flush once that has committed.
 */
struct queued {
	struct msg m;
	struct mcr_req q;
	char	*own[48];
	int	 nown;
	int	 late;			/* older than max_age */
};

#define LIVE	"status = 'queued' OR status = 'sending' OR status = 'sent' OR " \
	"status = 'delivered' OR status = 'read' OR status = 'uncertain'"
#define OPEN	"state = 'new' OR state = 'sending' OR state = 'messaged' OR " \
	"state = 'replied' OR state = 'offered'"

/* Seconds of the run clock: MCR_NOW at the start, then real time. */
static time_t
now(struct mcr_send *s)
{
	return s->t0 + (time_t)((mcr_clock_ms() - s->ms0) / 1000);
}

static int64_t
realms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
nap(int64_t ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR && !mcr_send_quit)
		;
}

static void
worse(struct mcr_send *s, int status)
{
	/* 2 and 75 outrank 1: they say what to do next */
	if (status > s->status)
		s->status = status;
}

struct mcr_send *
mcr_send_new(struct mcr_store *st, const struct mcr_config *cfg, FILE *out,
    int dry)
{
	struct mcr_send *s = mcr_xcalloc(1, sizeof(*s));

	s->st = st;
	s->cfg = cfg;
	s->out = out;
	s->dry = dry;
	s->t0 = mcr_now();
	s->ms0 = mcr_clock_ms();
	s->pid = getpid();
	if ((s->tz = mcr_tz_open(cfg->timezone)) == NULL) {
		free(s);
		return NULL;
	}
	s->nl = mcr_nlists_new(cfg);
	return s;
}

void
mcr_send_free(struct mcr_send *s)
{
	sqlite3_stmt **v[] = { &s->s_case, &s->s_skip, &s->s_ev, &s->s_claim,
	    &s->s_mid, &s->s_held, &s->s_rcpt, &s->s_rate, &s->s_pat,
	    &s->s_burst, &s->s_nbr, &s->s_done, &s->s_cdone, &s->s_reclaim,
	    &s->s_live, &s->s_find, &s->s_new, &s->s_due, &s->s_launch,
	    &s->s_orphan, &s->s_unq };

	if (s == NULL)
		return;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		sqlite3_finalize(*v[i]);
	for (size_t i = 0; i < s->npend; i++)
		free(s->pend[i].extra);
	free(s->pend);
	mcr_send_discard(s);
	free(s->q);
	mcr_prov_close(s->prov[0]);
	mcr_prov_close(s->prov[1]);
	mcr_nlists_free(s->nl);
	mcr_tz_close(s->tz);
	mcr_buf_free(&s->rec);
	free(s);
}

const struct mcr_send_stats *
mcr_send_stats(struct mcr_send *s)
{
	return &s->stats;
}

int
mcr_send_status(struct mcr_send *s)
{
	return s->status;
}

/* Records */

static void
emit(struct mcr_send *s, const char *extra)
{
	if (extra != NULL && *extra != '\0') {
		mcr_buf_add(&s->rec, ",", 1);
		mcr_buf_puts(&s->rec, extra);
	}
	mcr_buf_puts(&s->rec, "}\n");
	fwrite(s->rec.s, 1, s->rec.len, s->out);
	fflush(s->out);
	mcr_buf_reset(&s->rec);
}

static void
rec_skip(struct mcr_send *s, const struct kase *k, const char *reason,
    const char *extra)
{
	struct mcr_buf *b = &s->rec;

	mcr_buf_puts(b, "{");
	mcr_json_kstr(b, "type", "skip");
	mcr_json_knull(b, "id");
	mcr_json_kint(b, "case_id", k->id);
	mcr_json_kstr(b, "to", k->caller[0] ? k->caller : NULL);
	mcr_json_kstr(b, "reason", reason);
	emit(s, extra);
	s->stats.skipped++;
}

static void
rec_msg(struct mcr_send *s, const struct msg *m, const char *provider,
    const char *status, const char *pid, const char *error,
    const char *extra)
{
	struct mcr_buf *b = &s->rec;

	mcr_buf_puts(b, "{");
	mcr_json_kstr(b, "type", m->reply && s->rectype ? s->rectype :
	    "message");
	if (m->id > 0)
		mcr_json_kint(b, "id", m->id);
	else
		mcr_json_knull(b, "id");
	mcr_json_kint(b, "case_id", m->case_id);
	mcr_json_kstr(b, "to", m->to);
	mcr_json_kstr(b, "channel", mcr_chan_name(m->chan));
	mcr_json_kstr(b, "provider", provider);
	mcr_json_kstr(b, "kind", mcr_kind_name(m->kind));
	mcr_json_kstr(b, "status", status);
	mcr_json_kstr(b, "provider_id", pid && *pid ? pid : NULL);
	mcr_json_kstr(b, "error", error && *error ? error : NULL);
	emit(s, extra);
}

/* Store helpers */

static int
event(struct mcr_send *s, int64_t case_id, const char *state,
    const char *reason)
{
	sqlite3_stmt *st;

	if ((st = store_prep(s->st, &s->s_ev, "INSERT INTO case_events "
	    "(case_id, at, state, reason) VALUES (?, ?, ?, ?)")) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, case_id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)now(s));
	sqlite3_bind_text(st, 3, state, -1, SQLITE_STATIC);
	if (reason != NULL)
		sqlite3_bind_text(st, 4, reason, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return store_failed(s->st, "record case event");
	return 0;
}

/* Move a case from one state to another; 1 moved, 0 not in from, -1. */
static int
casemove(struct mcr_send *s, int64_t id, const char *from, const char *to,
    const char *reason)
{
	sqlite3_stmt *st;

	if ((st = store_prep(s->st, &s->s_skip, "UPDATE cases SET state = ?1,"
	    " reason = ?2, updated_at = ?3 WHERE id = ?4 AND state = ?5")) ==
	    NULL)
		return -1;
	sqlite3_bind_text(st, 1, to, -1, SQLITE_STATIC);
	if (reason != NULL)
		sqlite3_bind_text(st, 2, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)now(s));
	sqlite3_bind_int64(st, 4, id);
	sqlite3_bind_text(st, 5, from, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return store_failed(s->st, "update case");
	if (sqlite3_changes(s->st->db) == 0)
		return 0;
	return event(s, id, to, reason) == -1 ? -1 : 1;
}

static void
colcpy(char *dst, size_t n, sqlite3_stmt *st, int col)
{
	const unsigned char *v = sqlite3_column_text(st, col);

	mcr_strlcpy(dst, v ? (const char *)v : "", n);
}

/* 1 found, 0 no such case, -1 error. */
static int
loadcase(struct mcr_send *s, int64_t id, struct kase *k)
{
	sqlite3_stmt *st;
	int r;

	if ((st = store_prep(s->st, &s->s_case, "SELECT id, caller, "
	    "caller_type, state, reason, opened_at, last_call_at, after_hours"
	    " FROM cases WHERE id = ?")) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	if ((r = sqlite3_step(st)) == SQLITE_DONE)
		return 0;
	if (r != SQLITE_ROW)
		return store_failed(s->st, "read case");
	memset(k, 0, sizeof(*k));
	k->id = sqlite3_column_int64(st, 0);
	colcpy(k->caller, sizeof(k->caller), st, 1);
	colcpy(k->type, sizeof(k->type), st, 2);
	colcpy(k->state, sizeof(k->state), st, 3);
	colcpy(k->reason, sizeof(k->reason), st, 4);
	k->opened = (time_t)sqlite3_column_int64(st, 5);
	k->last = (time_t)sqlite3_column_int64(st, 6);
	k->after_hours = sqlite3_column_int(st, 7);
	sqlite3_reset(st);
	return 1;
}

/* A count from a query bound by bind; -1 on error. */
static long
count(struct mcr_send *s, sqlite3_stmt *st)
{
	long n;

	if (sqlite3_step(st) != SQLITE_ROW)
		return store_failed(s->st, "count");
	n = (long)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return n;
}

/* A robocall-like burst: one number calling on and on, or a block. */
static int
burst(struct mcr_send *s, const struct kase *k)
{
	const struct mcr_config *c = s->cfg;
	sqlite3_stmt *st;
	long n;
	size_t len = strlen(k->caller);

	if (c->burst_calls > 0) {
		if ((st = store_prep(s->st, &s->s_burst, "SELECT count(*) FROM "
		    "calls WHERE started_at BETWEEN ?1 AND ?2 AND caller = ?3 "
		    "AND direction = 'in'")) == NULL)
			return -1;
		sqlite3_bind_int64(st, 1, (sqlite3_int64)(k->last -
		    c->burst_window));
		sqlite3_bind_int64(st, 2, (sqlite3_int64)k->last);
		sqlite3_bind_text(st, 3, k->caller, -1, SQLITE_STATIC);
		if ((n = count(s, st)) < 0)
			return -1;
		if (n >= c->burst_calls)
			return 1;
	}
	if (c->burst_neighbours > 0 && len > 8) {
		/* callers that differ only in their last three digits */
		if ((st = store_prep(s->st, &s->s_nbr, "SELECT count(DISTINCT "
		    "caller) FROM calls WHERE started_at BETWEEN ?1 AND ?2 AND "
		    "missed = 1 AND substr(caller, 1, ?3) = substr(?4, 1, ?3)"))
		    == NULL)
			return -1;
		sqlite3_bind_int64(st, 1, (sqlite3_int64)(k->last -
		    c->burst_window));
		sqlite3_bind_int64(st, 2, (sqlite3_int64)(k->last +
		    c->burst_window));
		sqlite3_bind_int(st, 3, (int)len - 3);
		sqlite3_bind_text(st, 4, k->caller, -1, SQLITE_STATIC);
		if ((n = count(s, st)) < 0)
			return -1;
		if (n >= c->burst_neighbours)
			return 1;
	}
	return 0;
}

/* 1 when the caller has had a message in this episode, 0 not, -1. */
static int
messaged(struct mcr_send *s, const struct kase *k)
{
	sqlite3_stmt *st;
	long n;

	if ((st = store_prep(s->st, &s->s_held, "SELECT count(*) FROM "
	    "messages WHERE to_number = ?1 AND case_id != ?2 AND created_at "
	    ">= ?3 AND (" LIVE ")")) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, k->caller, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, k->id);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)(k->opened -
	    s->cfg->cooldown));
	n = count(s, st);
	return n < 0 ? -1 : n > 0;
}

/*
 * Milliseconds to wait before a message on chan to to may leave, by the
 * per-recipient interval (against messages other than self's own earlier
 * attempts) and the sending number's rate; 0 now.
 */
static int64_t
ratewait(struct mcr_send *s, enum mcr_chan chan, const char *to,
    const struct msg *self)
{
	const struct mcr_config *c = s->cfg;
	const char *cn = mcr_chan_name(chan);
	int rate = chan == MCR_CH_SMS ? c->sms_rate : c->whatsapp_rate;
	int64_t t = realms(), last, wait = 0;
	sqlite3_stmt *st;

	/*
	 * The pair rate limit allows bursts inside a conversation; the
	 * interval is kept between templates, which start one.
	 */
	if (c->recipient_interval > 0 && !(self->opts != NULL &&
	    self->opts->session)) {
		if ((st = store_prep(s->st, &s->s_rcpt, "SELECT max(claim_ms) "
		    "FROM messages WHERE to_number = ? AND channel = ? AND "
		    "NOT (case_id = ? AND step = ?)")) == NULL)
			return -1;
		sqlite3_bind_text(st, 1, to, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, cn, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, self->case_id);
		sqlite3_bind_text(st, 4, self->step, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_ROW)
			return store_failed(s->st, "read rate");
		if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
			last = sqlite3_column_int64(st, 0);
			if (last + c->recipient_interval * 1000LL > t)
				wait = last + c->recipient_interval * 1000LL -
				    t;
		}
		sqlite3_reset(st);
	}
	if ((st = store_prep(s->st, &s->s_rate, "SELECT count(*), "
	    "min(claim_ms) FROM messages WHERE channel = ? AND claim_ms > ?"))
	    == NULL)
		return -1;
	sqlite3_bind_text(st, 1, cn, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, t - 1000);
	if (sqlite3_step(st) != SQLITE_ROW)
		return store_failed(s->st, "read rate");
	if (sqlite3_column_int(st, 0) >= rate) {
		int64_t w = sqlite3_column_int64(st, 1) + 1001 - t;

		if (w > wait)
			wait = w;
	}
	sqlite3_reset(st);
	return wait;
}

/* Wording */

/* The end of today's opening range around t, "" when closed. */
static void
closesfmt(struct mcr_send *s, time_t t, char *buf, size_t n)
{
	const struct mcr_hours *h = &s->cfg->hours;
	struct tm tm;
	int m, end = -1;

	buf[0] = '\0';
	mcr_tz_tm(s->tz, t, &tm);
	m = tm.tm_hour * 60 + tm.tm_min;
	for (int i = 0; i < h->nrange[tm.tm_wday]; i++)
		if (h->to[tm.tm_wday][i] > m && h->to[tm.tm_wday][i] > end)
			end = h->to[tm.tm_wday][i];
	if (end >= 0)
		mcr_hours_clock(end, buf, n);
}

/*
 * Choose the kind and render the message for case k: the text, and the
 * template's parameters.  -1 on a bad template (reported).
 */
static int
render(struct mcr_send *s, const struct kase *k, struct msg *m)
{
	const struct mcr_config *c = s->cfg;
	char first[64] = "", recall[96] = "", opens[64], closes[16],
	    hm[16], bad[32];
	const struct mcr_list *pl;
	struct mcr_vars v;
	sqlite3_stmt *st;
	struct tm tm;
	time_t t = now(s);

	if ((st = store_prep(s->st, &s->s_pat, "SELECT first_name, recall "
	    "FROM patients WHERE number = ?")) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, k->caller, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		colcpy(first, sizeof(first), st, 0);
		colcpy(recall, sizeof(recall), st, 1);
	}
	sqlite3_reset(st);
	mcr_hours_opens(&s->cfg->hours, s->tz, t, opens, sizeof(opens));
	closesfmt(s, t, closes, sizeof(closes));
	mcr_tz_tm(s->tz, k->last, &tm);
	mcr_hours_clock(tm.tm_hour * 60 + tm.tm_min, hm, sizeof(hm));
	memset(&v, 0, sizeof(v));
	v.practice = c->name;
	v.first_name = first;
	v.name = first[0] ? first : "there";
	v.recall = recall[0] ? recall : "next appointment";
	v.opens = opens;
	v.closes = closes;
	v.time = hm;
	v.emergency = mcr_tpl_emergency(c->type);
	if (m->chan == MCR_CH_SMS)
		m->kind = MCR_K_SMS;
	else if (!mcr_hours_open(&c->hours, s->tz, t))
		m->kind = MCR_K_AFTER_HOURS;
	else if (first[0])
		m->kind = MCR_K_PATIENT;
	else
		m->kind = MCR_K_RECOVERY;
	mcr_buf_reset(&m->text);
	if (mcr_tpl_render(mcr_tpl_text(c, m->kind), &v, &m->text, bad,
	    sizeof(bad)) == -1) {
		mcr_warn("[template.%s] text: unknown variable {%s}",
		    mcr_kind_name(m->kind), bad);
		return -1;
	}
	pl = mcr_tpl_params(c, m->kind);
	m->npv = 0;
	for (int i = 0; i < pl->n && i < 8; i++) {
		struct mcr_buf b = { 0 };
		const char *val = mcr_vars_get(&v, pl->v[i]);

		if (val == NULL) {
			mcr_warn("[template.%s] params: unknown variable %s",
			    mcr_kind_name(m->kind), pl->v[i]);
			return -1;
		}
		mcr_buf_puts(&b, val);
		mcr_strlcpy(m->pv[m->npv++], b.s ? b.s : "", sizeof(m->pv[0]));
		mcr_buf_free(&b);
	}
	return 0;
}

/* Claims */

/*
 * Claim step of case m->case_id, in the open transaction: a new message
 * row, or one an earlier run left for retrying.  1 claimed, 0 the step is
 * taken, -1 error.
 */
static int
claim(struct mcr_send *s, struct msg *m, const char *provider)
{
	sqlite3_stmt *st;
	time_t t = now(s);

	/* queued: written in the caller's transaction, sent after it */
	if ((st = store_prep(s->st, &s->s_claim, "INSERT INTO messages "
	    "(case_id, step, kind, channel, provider, to_number, status, body, "
	    "attempts, claim_pid, claim_ms, created_at, updated_at) VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6, ?11, ?7, ?11 = 'sending', ?8, "
	    "CASE WHEN ?11 = 'sending' THEN ?9 END, ?10, ?10) "
	    "ON CONFLICT (case_id, step) DO UPDATE SET status = ?11, "
	    "kind = ?3, provider = ?5, body = ?7, attempts = attempts + "
	    "(?11 = 'sending'), claim_pid = ?8, claim_ms = CASE WHEN ?11 = "
	    "'sending' THEN ?9 END, updated_at = ?10, error = NULL "
	    "WHERE status = 'retry'")) == NULL)
		return -1;
	sqlite3_bind_text(st, 11, s->defer ? "queued" : "sending", -1,
	    SQLITE_STATIC);
	sqlite3_bind_int64(st, 1, m->case_id);
	sqlite3_bind_text(st, 2, m->step, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, mcr_kind_name(m->kind), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, mcr_chan_name(m->chan), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, provider, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, m->to, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, m->text.s ? m->text.s : "", -1,
	    SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)s->pid);
	sqlite3_bind_int64(st, 9, (sqlite3_int64)realms());
	sqlite3_bind_int64(st, 10, (sqlite3_int64)t);
	if (sqlite3_step(st) != SQLITE_DONE)
		return store_failed(s->st, "claim message");
	if (sqlite3_changes(s->st->db) == 0)
		return 0;
	if ((st = store_prep(s->st, &s->s_mid, "SELECT id, attempts FROM "
	    "messages WHERE case_id = ? AND step = ?")) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, m->case_id);
	sqlite3_bind_text(st, 2, m->step, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		return store_failed(s->st, "read message");
	m->id = sqlite3_column_int64(st, 0);
	m->attempts = sqlite3_column_int(st, 1);
	sqlite3_reset(st);
	return 1;
}

/* Record the end of a message, and move its case, in one transaction. */
static int
finish(struct mcr_send *s, const struct msg *m, const char *status,
    const struct mcr_result *r, const char *cstate, const char *reason)
{
	sqlite3_stmt *st;

	if (mcr_store_begin(s->st) == -1)
		return -1;
	if ((st = store_prep(s->st, &s->s_done, "UPDATE messages SET status "
	    "= ?1, provider_id = coalesce(?2, provider_id), error = ?3, "
	    "sent_at = CASE WHEN ?1 = 'sent' THEN ?4 ELSE sent_at END, "
	    "updated_at = ?4 WHERE id = ?5")) == NULL)
		goto fail;
	sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
	if (r != NULL && r->provider_id[0])
		sqlite3_bind_text(st, 2, r->provider_id, -1, SQLITE_STATIC);
	if (r != NULL && r->error[0])
		sqlite3_bind_text(st, 3, r->error, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)now(s));
	sqlite3_bind_int64(st, 5, m->id);
	if (sqlite3_step(st) != SQLITE_DONE) {
		store_failed(s->st, "record message");
		goto fail;
	}
	if (cstate != NULL && casemove(s, m->case_id, "sending", cstate,
	    reason) == -1)
		goto fail;
	if (mcr_store_commit(s->st) == -1)
		goto fail;
	return 0;
fail:
	mcr_store_rollback(s->st);
	return -1;
}

/*
 * A claim whose process is gone (killed mid-request) is uncertain: the
 * message may have left.  Never sent again; staff see it, and a delivery
 * receipt carrying its id settles it.
 */
static int
reclaim(struct mcr_send *s)
{
	sqlite3_stmt *st;
	int64_t t = realms(), hold;
	struct {
		struct msg m;
		char provider[16];
	} *v = NULL;
	size_t n = 0;
	int rc = 0;

	/* the longest a live sender goes without touching its claim */
	hold = (int64_t)(s->cfg->connect_timeout + s->cfg->timeout + 60) *
	    1000;
	if ((st = store_prep(s->st, &s->s_live, "SELECT id, case_id, step, "
	    "channel, kind, to_number, provider, claim_pid, claim_ms FROM "
	    "messages WHERE status = 'sending'")) == NULL)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		pid_t pid = (pid_t)sqlite3_column_int64(st, 7);
		int64_t ms = sqlite3_column_int64(st, 8);
		int kind;
		char buf[20];

		if (pid == s->pid || ((kill(pid, 0) == 0 || errno == EPERM) &&
		    ms > t - hold))
			continue;
		v = mcr_xrealloc(v, (n + 1) * sizeof(*v));
		memset(&v[n], 0, sizeof(v[n]));
		v[n].m.id = sqlite3_column_int64(st, 0);
		v[n].m.case_id = sqlite3_column_int64(st, 1);
		colcpy(buf, sizeof(buf), st, 3);
		v[n].m.chan = strcmp(buf, "sms") == 0 ? MCR_CH_SMS :
		    MCR_CH_WHATSAPP;
		colcpy(buf, sizeof(buf), st, 4);
		kind = mcr_kind_byname(buf);
		v[n].m.kind = kind < 0 ? MCR_K_RECOVERY : (enum mcr_kind)kind;
		colcpy(v[n].m.to, sizeof(v[n].m.to), st, 5);
		colcpy(v[n].provider, sizeof(v[n].provider), st, 6);
		n++;
	}
	sqlite3_reset(st);
	for (size_t i = 0; i < n; i++) {
		struct mcr_result r;
		char masked[32];

		memset(&r, 0, sizeof(r));
		mcr_strlcpy(r.error, "the sending process stopped before it "
		    "knew the outcome", sizeof(r.error));
		if (s->dry) {
			rec_msg(s, &v[i].m, v[i].provider, "uncertain", NULL,
			    r.error, NULL);
			continue;
		}
		if (finish(s, &v[i].m, "uncertain", &r, "uncertain",
		    "the send was interrupted") == -1) {
			rc = -1;
			break;
		}
		mcr_warn("case %lld: message %lld to %s is uncertain: %s",
		    (long long)v[i].m.case_id, (long long)v[i].m.id,
		    mcr_phone_mask(v[i].m.to, masked, sizeof(masked)),
		    r.error);
		rec_msg(s, &v[i].m, v[i].provider, "uncertain", NULL, r.error,
		    NULL);
		s->stats.uncertain++;
		worse(s, MCR_EXIT_PART);
	}
	free(v);
	return rc;
}

/* The provider of a channel, opened when first needed. */
static struct mcr_prov *
prov(struct mcr_send *s, enum mcr_chan c)
{
	if (!s->tried[c]) {
		s->tried[c] = 1;
		s->prov[c] = mcr_prov_open(s->cfg, c);
		if (s->prov[c] == NULL && (c == MCR_CH_WHATSAPP ||
		    strcmp(s->cfg->sms_provider, "none") != 0)) {
			mcr_warn("cannot send by %s: fix the configuration",
			    mcr_chan_name(c));
			s->stop = MCR_EXIT_USAGE;
			worse(s, MCR_EXIT_USAGE);
		}
	}
	return s->prov[c];
}

static int64_t
backoff(const struct mcr_send *s, const struct mcr_result *r, int attempt)
{
	int64_t base = (int64_t)s->cfg->backoff_ms << (attempt < 5 ?
	    attempt - 1 : 4);

	if (r->retry_after > 0)
		return r->retry_after * 1000LL;
	/* jitter: half to one and a half of the base */
	return base / 2 + (int64_t)(mcr_util_hash(&attempt, sizeof(attempt),
	    (uint64_t)realms() ^ (uint64_t)getpid()) % (uint64_t)base);
}

/* Claim the rate window for the next attempt of m; -1 error. */
static int
retake(struct mcr_send *s, struct msg *m)
{
	sqlite3_stmt *st;
	int64_t w;

	for (;;) {
		if (mcr_store_begin(s->st) == -1)
			return -1;
		if ((w = ratewait(s, m->chan, m->to, m)) < 0)
			goto fail;
		if (w == 0)
			break;
		mcr_store_rollback(s->st);
		nap(w);
	}
	if ((st = store_prep(s->st, &s->s_reclaim, "UPDATE messages SET "
	    "claim_ms = ?, attempts = attempts + 1, updated_at = ? WHERE id = "
	    "? AND status = 'sending'")) == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)realms());
	sqlite3_bind_int64(st, 2, (sqlite3_int64)now(s));
	sqlite3_bind_int64(st, 3, m->id);
	if (sqlite3_step(st) != SQLITE_DONE) {
		store_failed(s->st, "claim message");
		goto fail;
	}
	m->attempts++;
	return mcr_store_commit(s->st);
fail:
	mcr_store_rollback(s->st);
	return -1;
}

static int sendmsg_(struct mcr_send *, struct kase *, struct msg *,
	    const char *);

/* Fall back to SMS for a caller WhatsApp cannot reach; 1 sent, 0 not. */
static int
fallback(struct mcr_send *s, struct kase *k, const char *extra)
{
	struct msg m;
	struct mcr_prov *p;
	int r;
	int64_t w;

	if (strcmp(k->type, "mobile") != 0 ||
	    strcmp(s->cfg->sms_provider, "none") == 0 ||
	    (p = prov(s, MCR_CH_SMS)) == NULL)
		return 0;
	/* opted out since the first message: no SMS either */
	if ((r = mcr_store_optedout(s->st, k->caller)) != 0)
		return r < 0 ? -1 : 0;
	memset(&m, 0, sizeof(m));
	m.case_id = k->id;
	m.step = "sms";
	m.chan = MCR_CH_SMS;
	mcr_strlcpy(m.to, k->caller, sizeof(m.to));
	if (render(s, k, &m) == -1) {
		mcr_buf_free(&m.text);
		return -1;
	}
	for (;;) {
		if (mcr_store_begin(s->st) == -1)
			goto fail;
		if ((w = ratewait(s, MCR_CH_SMS, m.to, &m)) < 0)
			goto rollback;
		if (w == 0)
			break;
		mcr_store_rollback(s->st);
		nap(w);
	}
	if ((r = claim(s, &m, mcr_prov_name(p))) != 1) {
		mcr_store_rollback(s->st);
		mcr_buf_free(&m.text);
		return r;
	}
	if (casemove(s, k->id, "failed", "sending", "falling back to SMS") ==
	    -1 || mcr_store_commit(s->st) == -1)
		goto rollback;
	s->stats.fallback++;
	r = sendmsg_(s, k, &m, extra);
	mcr_buf_free(&m.text);
	return r == -1 ? -1 : 1;
rollback:
	mcr_store_rollback(s->st);
fail:
	mcr_buf_free(&m.text);
	return -1;
}

/* Uncertain sends in a row that stop a run. */
#define UNSURE_STOP	3

/* The state a case moves to, unless the message is a reply. */
#define CS(m, state)	((m)->reply ? NULL : (state))

/*
 * Send a claimed message, with retries in this run, and record the
 * outcome.  Returns 0, or -1 on a store error.
 */
static int
sendmsg_(struct mcr_send *s, struct kase *k, struct msg *m, const char *extra)
{
	struct mcr_prov *p = prov(s, m->chan);
	const char *pn = p ? mcr_prov_name(p) : mcr_chan_name(m->chan);
	struct mcr_req q;
	struct mcr_result r;
	char masked[32];
	int rc;

	memset(&q, 0, sizeof(q));
	q.id = m->id;
	q.case_id = m->case_id;
	q.to = m->to;
	q.kind = m->kind;
	q.text = m->text.s ? m->text.s : "";
	for (int i = 0; i < m->npv; i++)
		q.params[i] = m->pv[i];
	q.nparams = m->npv;
	if (m->opts != NULL) {
		q.session = m->opts->session;
		q.nopt = m->opts->nopt;
		for (int i = 0; i < q.nopt && i < 10; i++) {
			q.opt_id[i] = m->opts->opt_id[i];
			q.opt_title[i] = m->opts->opt_title[i];
			q.opt_desc[i] = m->opts->opt_desc[i];
		}
	}
	mcr_phone_mask(m->to, masked, sizeof(masked));
	for (;;) {
		if (p == NULL) {
			memset(&r, 0, sizeof(r));
			r.cls = MCR_P_STOP;
			mcr_strlcpy(r.error, "no provider", sizeof(r.error));
		} else
			mcr_prov_send(p, &q, &r);
		if ((r.cls == MCR_P_RETRY || r.cls == MCR_P_UNREACHABLE) &&
		    m->attempts < s->cfg->retries && !mcr_send_quit) {
			s->stats.retried++;
			nap(backoff(s, &r, m->attempts));
			if (retake(s, m) == -1)
				return -1;
			continue;
		}
		break;
	}
	if (r.cls != MCR_P_UNCERTAIN && r.cls != MCR_P_RETRY &&
	    r.cls != MCR_P_UNREACHABLE)
		s->unsure = 0;		/* a clear answer */
	switch (r.cls) {
	case MCR_P_SENT:
		if (r.error[0])
			mcr_warn("case %lld: %s", (long long)k->id, r.error);
		r.error[0] = '\0';
		if (finish(s, m, "sent", &r, CS(m, "messaged"), NULL) == -1)
			return -1;
		rec_msg(s, m, pn, "sent", r.provider_id, NULL, extra);
		s->stats.sent++;
		return 0;
	case MCR_P_UNCERTAIN:
		if (finish(s, m, "uncertain", &r, CS(m, "uncertain"),
		    r.error) == -1)
			return -1;
		mcr_warn("case %lld: message to %s is uncertain: %s",
		    (long long)k->id, masked, r.error);
		rec_msg(s, m, pn, "uncertain", NULL, r.error, extra);
		s->stats.uncertain++;
		worse(s, MCR_EXIT_PART);
		/*
		 * A provider that keeps answering nothing clear would leave
		 * every caller uncertain, none of them messaged for sure: the
		 * rest waits for a run when it answers properly.
		 */
		if (!m->reply && ++s->unsure >= UNSURE_STOP) {
			mcr_warn("%s: %d messages in a row without a clear "
			    "answer: the rest waits for the next run", pn,
			    s->unsure);
			s->stop = MCR_EXIT_TEMP;
			worse(s, MCR_EXIT_TEMP);
		}
		return 0;
	case MCR_P_RETRY:
	case MCR_P_UNREACHABLE:
	case MCR_P_STOP:
		/* not sent: the case waits for the next run */
		/* a reply is not left for a later run: it would be late */
		rc = (m->attempts >= s->cfg->max_attempts || (m->reply &&
		    !(m->opts && m->opts->later))) && r.cls != MCR_P_STOP;
		if (finish(s, m, rc || (m->reply && !(m->opts &&
		    m->opts->later)) ? "failed" : "retry", &r,
		    CS(m, rc ? "failed" : "new"), rc ? r.error : NULL) == -1)
			return -1;
		if (r.cls == MCR_P_STOP) {
			mcr_warn("%s refused the message: %s: nothing more is "
			    "sent in this run", pn, r.error);
			s->stop = MCR_EXIT_USAGE;
		} else if (!rc) {
			mcr_warn("%s: %s after %d attempts: the rest waits for "
			    "the next run", pn, r.error, m->attempts);
			s->stop = MCR_EXIT_TEMP;
		}
		worse(s, s->stop ? s->stop : MCR_EXIT_PART);
		rec_msg(s, m, pn, rc || (m->reply && !(m->opts &&
		    m->opts->later)) ? "failed" : "retry", NULL, r.error, extra);
		if (rc)
			s->stats.failed++;
		return 0;
	case MCR_P_OPTOUT:
		if (finish(s, m, "failed", &r, CS(m, "opted_out"), r.error) ==
		    -1)
			return -1;
		if (mcr_store_optout_add(s->st, m->to, pn, now(s)) == -1)
			return -1;
		rec_msg(s, m, pn, "failed", NULL, r.error, extra);
		s->stats.failed++;
		return 0;
	case MCR_P_FALLBACK:
	case MCR_P_FAIL:
		if (finish(s, m, "failed", &r, CS(m, "failed"), r.error) == -1)
			return -1;
		rec_msg(s, m, pn, "failed", NULL, r.error, extra);
		s->stats.failed++;
		if (r.cls == MCR_P_FALLBACK && m->chan == MCR_CH_WHATSAPP &&
		    !m->reply)
			return fallback(s, k, extra) == -1 ? -1 : 0;
		return 0;
	}
	return 0;
}

/* Decisions */

enum verdict { V_SEND, V_SKIP, V_LATER, V_ERR };

/*
 * The decision for case k, in the open transaction: V_SEND, V_LATER with
 * *due, or V_SKIP with *why (and *mark when the case is to be marked).
 */
static enum verdict
decide(struct mcr_send *s, const struct kase *k, const char **why, int *mark,
    time_t *due)
{
	const struct mcr_config *c = s->cfg;
	time_t t = now(s);
	int r;

	*mark = 0;
	if (strcmp(k->state, "new") != 0) {
		if (strcmp(k->state, "skipped") == 0 ||
		    strcmp(k->state, "failed") == 0)
			*why = k->reason[0] ? k->reason : k->state;
		else if (strcmp(k->state, "sending") == 0 ||
		    strcmp(k->state, "messaged") == 0 ||
		    strcmp(k->state, "replied") == 0 ||
		    strcmp(k->state, "offered") == 0 ||
		    strcmp(k->state, "booked") == 0 ||
		    strcmp(k->state, "uncertain") == 0)
			*why = "already_messaged";
		else
			*why = k->state;
		return V_SKIP;
	}
	*mark = 1;
	if (strcmp(k->type, "invalid") == 0 || strcmp(k->type, "other") == 0 ||
	    strcmp(k->type, "internal") == 0) {
		*why = "invalid";
		return V_SKIP;
	}
	if (k->caller[0] == '\0') {
		*why = "withheld";
		return V_SKIP;
	}
	if (strcmp(k->type, "fixed") == 0) {
		*why = "landline";
		return V_SKIP;
	}
	if ((*why = mcr_nlists_check(s->nl, k->caller)) != NULL)
		return V_SKIP;
	if ((r = mcr_store_optedout(s->st, k->caller)) != 0) {
		*why = "opted_out";
		return r < 0 ? V_ERR : V_SKIP;
	}
	if (k->last < t - c->max_age) {
		*why = "stale";
		return V_SKIP;
	}
	if ((r = burst(s, k)) != 0) {
		*why = "robocall";
		return r < 0 ? V_ERR : V_SKIP;
	}
	if ((r = messaged(s, k)) != 0) {
		*why = "already_messaged";
		return r < 0 ? V_ERR : V_SKIP;
	}
	if (k->last + c->send_delay > t) {
		*mark = 0;
		*due = k->last + c->send_delay;
		return V_LATER;
	}
	if (c->holdout > 0 && mcr_util_hash(&k->id, sizeof(k->id),
	    0x686f6c646f7574) % 100 < (uint64_t)c->holdout) {
		*why = "holdout";
		return V_SKIP;
	}
	return V_SEND;
}

/*
 * Decide and act on one case.  Returns 0 done, 1 not due yet (*due set),
 * -1 store error.
 */
static int
process(struct mcr_send *s, int64_t id, const char *extra, time_t *due)
{
	struct kase k;
	struct msg m;
	struct mcr_prov *p;
	const char *why = NULL;
	int mark, r;
	int64_t w;

	memset(&m, 0, sizeof(m));
	for (;;) {
		if (mcr_store_begin(s->st) == -1)
			return -1;
		if ((r = loadcase(s, id, &k)) != 1) {
			mcr_store_rollback(s->st);
			if (r == 0)
				mcr_warn("case %lld: no such case",
				    (long long)id);
			return r == 0 ? 0 : -1;
		}
		switch (decide(s, &k, &why, &mark, due)) {
		case V_ERR:
			goto fail;
		case V_LATER:
			mcr_store_rollback(s->st);
			return 1;
		case V_SKIP:
			if (mark && !s->dry && casemove(s, k.id, "new",
			    "skipped", why) == -1)
				goto fail;
			if (mcr_store_commit(s->st) == -1)
				goto fail;
			rec_skip(s, &k, why, extra);
			return 0;
		case V_SEND:
			break;
		}
		if (s->stop) {
			/* sending has stopped: the case waits */
			mcr_store_rollback(s->st);
			return 0;
		}
		m.case_id = k.id;
		m.step = "first";
		m.chan = MCR_CH_WHATSAPP;
		mcr_strlcpy(m.to, k.caller, sizeof(m.to));
		mcr_strlcpy(m.type, k.type, sizeof(m.type));
		if (render(s, &k, &m) == -1) {
			s->stop = MCR_EXIT_USAGE;
			worse(s, MCR_EXIT_USAGE);
			mcr_store_rollback(s->st);
			mcr_buf_free(&m.text);
			return 0;
		}
		if (s->dry) {
			mcr_store_rollback(s->st);
			rec_msg(s, &m, s->cfg->whatsapp_provider, "dry_run",
			    NULL, NULL, extra);
			mcr_buf_free(&m.text);
			return 0;
		}
		if ((p = prov(s, MCR_CH_WHATSAPP)) == NULL) {
			mcr_store_rollback(s->st);
			mcr_buf_free(&m.text);
			return 0;
		}
		if ((w = ratewait(s, m.chan, m.to, &m)) < 0)
			goto fail;
		if (w == 0)
			break;
		mcr_store_rollback(s->st);
		mcr_buf_free(&m.text);
		nap(w);
		if (mcr_send_quit)
			return 0;
	}
	if ((r = claim(s, &m, mcr_prov_name(p))) == -1)
		goto fail;
	if (r == 0 || (r = casemove(s, k.id, "new", "sending", NULL)) != 1) {
		if (r == -1)
			goto fail;
		mcr_store_rollback(s->st);
		rec_skip(s, &k, "already_messaged", extra);
		mcr_buf_free(&m.text);
		return 0;
	}
	if (mcr_store_commit(s->st) == -1)
		goto fail;
	r = sendmsg_(s, &k, &m, extra);
	mcr_buf_free(&m.text);
	return r;
fail:
	mcr_store_rollback(s->st);
	mcr_buf_free(&m.text);
	return -1;
}

static void
storefail(struct mcr_send *s)
{
	worse(s, mcr_store_busy(s->st) ? MCR_EXIT_TEMP : MCR_EXIT_PART);
	s->stop = s->stop ? s->stop : s->status;
	s->storedown = 1;
}

static void
hold(struct mcr_send *s, int64_t id, time_t due, const char *extra)
{
	for (size_t i = 0; i < s->npend; i++)
		if (s->pend[i].case_id == id)
			return;
	if (s->npend == s->cpend) {
		s->cpend = s->cpend ? s->cpend * 2 : 16;
		s->pend = mcr_xrealloc(s->pend, s->cpend * sizeof(*s->pend));
	}
	s->pend[s->npend].case_id = id;
	s->pend[s->npend].due = due;
	s->pend[s->npend].extra = extra ? mcr_xstrdup(extra) : NULL;
	s->npend++;
}

int
mcr_send_case(struct mcr_send *s, int64_t id, const char *extra)
{
	time_t due;
	int r;

	if (s->stop)
		return 0;
	if ((r = process(s, id, extra, &due)) == -1) {
		storefail(s);
		return -1;
	}
	if (r == 1)
		hold(s, id, due, extra);
	return 0;
}

int
mcr_send_tick(struct mcr_send *s, int within)
{
	time_t t = now(s);
	int next = -1;

	for (size_t i = 0; i < s->npend && !s->stop && !mcr_send_quit;) {
		struct pending pd = s->pend[i];
		time_t due;
		int r;

		if (pd.due > t) {
			if (pd.due > t + within) {
				i++;
				continue;
			}
			if (next == -1 || pd.due - t < next)
				next = (int)(pd.due - t);
			i++;
			continue;
		}
		s->pend[i] = s->pend[--s->npend];
		r = process(s, pd.case_id, pd.extra, &due);
		if (r == 1)
			hold(s, pd.case_id, due, pd.extra);
		free(pd.extra);
		if (r == -1) {
			storefail(s);
			return -1;
		}
	}
	return s->stop ? -1 : next;
}

int
mcr_send_wait(struct mcr_send *s, int within)
{
	int next;

	while ((next = mcr_send_tick(s, within)) >= 0 && !mcr_send_quit)
		nap(next * 1000LL + 100);
	return s->stop && s->status > 1 ? -1 : 0;
}

int
mcr_send_due(struct mcr_send *s, int within)
{
	sqlite3_stmt *st;
	int64_t *ids = NULL;
	size_t n = 0;

	if (reclaim(s) == -1) {
		storefail(s);
		return -1;
	}
	if ((st = store_prep(s->st, &s->s_due, "SELECT id FROM cases WHERE ("
	    OPEN ") AND state = 'new' ORDER BY last_call_at, id")) == NULL) {
		storefail(s);
		return -1;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		ids = mcr_xrealloc(ids, (n + 1) * sizeof(*ids));
		ids[n++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	for (size_t i = 0; i < n && !s->stop && !mcr_send_quit; i++)
		if (mcr_send_case(s, ids[i], NULL) == -1)
			break;
	free(ids);
	return mcr_send_wait(s, within);
}

int
mcr_send_recover(struct mcr_send *s)
{
	if (reclaim(s) == -1) {
		storefail(s);
		return -1;
	}
	return 0;
}

/* Input records */

/* The keys of missed_call (and call) records: not passed through. */
static const char *const known[] = { "type", "id", "case_id", "caller",
	"caller_type", "caller_country", "caller_name", "called", "direction",
	"started_at", "answered_at", "ended_at", "ring_s", "talk_s", "outcome",
	"missed", "why", "after_hours", "source", NULL };

/* The record's unknown keys as "k":v,... for passing through. */
static char *
extras(json_t *o)
{
	struct mcr_buf b = { 0 };
	const char *key;
	json_t *v;

	json_object_foreach(o, key, v) {
		int i;
		char *s;

		for (i = 0; known[i] != NULL; i++)
			if (strcmp(key, known[i]) == 0)
				break;
		if (known[i] != NULL)
			continue;
		mcr_json_key(&b, key);
		s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		mcr_buf_puts(&b, s ? s : "null");
		free(s);
	}
	return b.s;
}

/* The open case of a caller in this episode, or a new one: its id. */
static int64_t
findcase(struct mcr_send *s, const char *caller, const char *type,
    time_t at, int after_hours)
{
	sqlite3_stmt *st;
	int64_t id = 0;

	if (mcr_store_begin(s->st) == -1)
		return -1;
	if (caller != NULL) {
		if ((st = store_prep(s->st, &s->s_find, "SELECT id FROM cases "
		    "WHERE caller = ?1 AND (" OPEN " OR state = 'skipped') AND "
		    "last_call_at >= ?2 ORDER BY id DESC LIMIT 1")) == NULL)
			goto fail;
		sqlite3_bind_text(st, 1, caller, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)(at -
		    s->cfg->cooldown));
		if (sqlite3_step(st) == SQLITE_ROW)
			id = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	}
	if (id == 0) {
		if ((st = store_prep(s->st, &s->s_new, "INSERT INTO cases "
		    "(caller, caller_type, state, opened_at, last_call_at, "
		    "after_hours, updated_at) VALUES (?, ?, 'new', ?, ?, ?, ?)"))
		    == NULL)
			goto fail;
		if (caller != NULL)
			sqlite3_bind_text(st, 1, caller, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)at);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)at);
		sqlite3_bind_int(st, 5, after_hours);
		sqlite3_bind_int64(st, 6, (sqlite3_int64)now(s));
		if (sqlite3_step(st) != SQLITE_DONE) {
			store_failed(s->st, "open case");
			goto fail;
		}
		id = sqlite3_last_insert_rowid(s->st->db);
		if (event(s, id, "new", "from a missed_call record") == -1)
			goto fail;
	}
	if (mcr_store_commit(s->st) == -1)
		goto fail;
	return id;
fail:
	mcr_store_rollback(s->st);
	return -1;
}

int
mcr_send_line(struct mcr_send *s, const char *line, size_t len,
    const char *where)
{
	json_t *o, *v;
	json_error_t err;
	const char *type, *caller, *ts;
	struct mcr_number num;
	struct kase k;
	char *extra;
	int64_t id = 0;
	time_t at;
	int r, rc = 0;

	if (s->storedown)
		return -1;	/* said once; ingest has the cases */

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len == 0)
		return 0;
	if ((o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &err)) ==
	    NULL || !json_is_object(o)) {
		mcr_warn("%s: not a JSON object%s%s", where, o ? "" : ": ",
		    o ? "" : err.text);
		json_decref(o);
		s->stats.bad++;
		worse(s, MCR_EXIT_PART);
		return -1;
	}
	if ((type = json_string_value(json_object_get(o, "type"))) == NULL ||
	    strcmp(type, "missed_call") != 0) {
		json_decref(o);
		return 0;	/* other records are not for mcr-send */
	}
	s->stats.records++;
	extra = extras(o);
	if (json_is_integer(v = json_object_get(o, "case_id")))
		id = (int64_t)json_integer_value(v);
	if (id > 0) {
		if (mcr_store_begin(s->st) == -1)
			goto storeerr;
		r = loadcase(s, id, &k);
		mcr_store_rollback(s->st);
		if (r == -1)
			goto storeerr;
		if (r == 0)
			id = 0;
	}
	if (id <= 0) {
		ts = json_string_value(json_object_get(o, "started_at"));
		if (ts == NULL || mcr_time_parse_utc(ts, &at) == -1) {
			mcr_warn("%s: started_at: expected an RFC 3339 time",
			    where);
			s->stats.bad++;
			worse(s, MCR_EXIT_PART);
			rc = -1;
			goto done;
		}
		caller = json_string_value(json_object_get(o, "caller"));
		mcr_phone_norm(caller ? caller : "", s->cfg->region,
		    s->cfg->ext_digits, &num);
		if ((id = findcase(s, num.e164[0] ? num.e164 : NULL,
		    mcr_phone_typename(num.type), at,
		    json_is_true(json_object_get(o, "after_hours")))) == -1)
			goto storeerr;
	}
	rc = mcr_send_case(s, id, extra);
	goto done;
storeerr:
	storefail(s);
	rc = -1;
done:
	free(extra);
	json_decref(o);
	return rc;
}

int
mcr_send_stopped(struct mcr_send *s)
{
	return s->stop;
}

/* Keep a copy of str for x, or NULL. */
static const char *
own(struct queued *x, const char *str)
{
	if (str == NULL || x->nown >= (int)(sizeof(x->own) /
	    sizeof(x->own[0])))
		return NULL;
	return x->own[x->nown++] = mcr_xstrdup(str);
}

static void
queued_free(struct queued *x)
{
	for (int i = 0; i < x->nown; i++)
		free(x->own[i]);
	mcr_buf_free(&x->m.text);
}

/* Queue m (claimed as queued) with copies of its request q. */
static void
enqueue(struct mcr_send *s, const struct msg *m, const struct mcr_req *q)
{
	struct queued *x;

	s->q = mcr_xrealloc(s->q, (s->nq + 1) * sizeof(*s->q));
	x = &s->q[s->nq++];
	memset(x, 0, sizeof(*x));
	x->m = *m;
	memset(&x->m.text, 0, sizeof(x->m.text));
	mcr_buf_puts(&x->m.text, m->text.s ? m->text.s : "");
	x->m.step = own(x, m->step);
	x->q = *q;
	x->q.to = x->m.to;
	x->q.text = x->m.text.s;
	for (int i = 0; i < q->nparams && i < 8; i++)
		x->q.params[i] = own(x, q->params[i]);
	for (int i = 0; i < q->nopt && i < 10; i++) {
		x->q.opt_id[i] = own(x, q->opt_id[i]);
		x->q.opt_title[i] = own(x, q->opt_title[i]);
		x->q.opt_desc[i] = own(x, q->opt_desc[i]);
	}
	x->m.opts = &x->q;
}

/* Queued message id fails with why, in the open transaction. */
static int
unqueue(struct mcr_send *s, int64_t id, const char *why)
{
	sqlite3_stmt *st;

	if ((st = store_prep(s->st, &s->s_unq, "UPDATE messages SET status = "
	    "'failed', error = ?, updated_at = ? WHERE id = ? AND status = "
	    "'queued'")) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, why, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)now(s));
	sqlite3_bind_int64(st, 3, id);
	if (sqlite3_step(st) != SQLITE_DONE)
		return store_failed(s->st, "record message");
	return 0;
}

/* Queued message x fails with why, in a transaction of its own. */
static int
unqueue1(struct mcr_send *s, const struct queued *x, const char *why)
{
	char masked[32];

	if (mcr_store_begin(s->st) == -1 || unqueue(s, x->m.id, why) == -1 ||
	    mcr_store_commit(s->st) == -1) {
		mcr_store_rollback(s->st);
		return -1;
	}
	mcr_warn("case %lld: message %lld to %s not sent: %s",
	    (long long)x->m.case_id, (long long)x->m.id,
	    mcr_phone_mask(x->m.to, masked, sizeof(masked)), why);
	worse(s, MCR_EXIT_PART);
	return 0;
}

/*
 * Send queued message x: it becomes a claim like any other once the rate
 * allows, unless the number opted out meanwhile or another process took
 * it.  0, or -1 on a store error.
 */
static int
launch(struct mcr_send *s, struct queued *x)
{
	sqlite3_stmt *st;
	struct kase k;
	int64_t w;
	int r;

	/* its copies point into x, which may have moved */
	x->m.opts = &x->q;
	x->q.to = x->m.to;
	x->q.text = x->m.text.s;
	for (;;) {
		if (mcr_store_begin(s->st) == -1)
			return -1;
		if (x->m.kind != MCR_K_OPTOUT &&
		    (r = mcr_store_optedout(s->st, x->m.to)) != 0) {
			if (r < 0 || unqueue(s, x->m.id, "opted out before "
			    "it was sent") == -1)
				goto fail;
			return mcr_store_commit(s->st);
		}
		if ((w = ratewait(s, x->m.chan, x->m.to, &x->m)) < 0)
			goto fail;
		if (w == 0)
			break;
		mcr_store_rollback(s->st);
		nap(w);
	}
	if ((st = store_prep(s->st, &s->s_launch, "UPDATE messages SET "
	    "status = 'sending', claim_pid = ?, claim_ms = ?, attempts = "
	    "attempts + 1, updated_at = ? WHERE id = ? AND status = 'queued' "
	    "RETURNING attempts")) == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)s->pid);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)realms());
	sqlite3_bind_int64(st, 3, (sqlite3_int64)now(s));
	sqlite3_bind_int64(st, 4, x->m.id);
	if ((r = sqlite3_step(st)) == SQLITE_ROW)
		x->m.attempts = sqlite3_column_int(st, 0);
	else if (r != SQLITE_DONE) {
		store_failed(s->st, "claim message");
		goto fail;
	}
	sqlite3_reset(st);
	if (mcr_store_commit(s->st) == -1)
		goto fail;
	if (r != SQLITE_ROW)
		return 0;		/* taken by another process */
	memset(&k, 0, sizeof(k));
	k.id = x->m.case_id;
	mcr_strlcpy(k.caller, x->m.to, sizeof(k.caller));
	mcr_strlcpy(k.type, "mobile", sizeof(k.type));
	return sendmsg_(s, &k, &x->m, NULL);
fail:
	mcr_store_rollback(s->st);
	return -1;
}

void
mcr_send_defer(struct mcr_send *s, int on)
{
	s->defer = on;
}

int
mcr_send_flush(struct mcr_send *s)
{
	int rc = 0;

	/*
	 * After a store error the rest stays queued, for mcr_send_orphans;
	 * when sending stopped, it fails, as it would have unqueued.
	 */
	for (size_t i = 0; i < s->nq; i++) {
		if (rc == 0 && (s->stop ? unqueue1(s, &s->q[i], "sending "
		    "stopped") : launch(s, &s->q[i])) == -1)
			rc = -1;
		queued_free(&s->q[i]);
	}
	s->nq = 0;
	return rc;
}

void
mcr_send_discard(struct mcr_send *s)
{
	for (size_t i = 0; i < s->nq; i++)
		queued_free(&s->q[i]);
	s->nq = 0;
}

int
mcr_send_orphans(struct mcr_send *s)
{
	sqlite3_stmt *st;
	struct queued *v = NULL;
	size_t n = 0;
	int rc = 0;

	if (s->dry || s->nq > 0)
		return 0;
	if ((st = store_prep(s->st, &s->s_orphan, "SELECT id, case_id, step, "
	    "channel, kind, to_number, body, claim_pid, created_at FROM "
	    "messages WHERE status = 'queued' ORDER BY id")) == NULL)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		pid_t pid = (pid_t)sqlite3_column_int64(st, 7);
		time_t at = (time_t)sqlite3_column_int64(st, 8);
		struct queued *x;
		char buf[20];
		int kind;

		/* another live process sends its own, unless it is late */
		if (pid != s->pid && (kill(pid, 0) == 0 || errno == EPERM) &&
		    at >= now(s) - s->cfg->max_age)
			continue;
		v = mcr_xrealloc(v, (n + 1) * sizeof(*v));
		x = &v[n++];
		memset(x, 0, sizeof(*x));
		x->m.id = sqlite3_column_int64(st, 0);
		x->m.case_id = sqlite3_column_int64(st, 1);
		x->m.step = own(x, (const char *)sqlite3_column_text(st, 2));
		colcpy(buf, sizeof(buf), st, 3);
		x->m.chan = strcmp(buf, "sms") == 0 ? MCR_CH_SMS :
		    MCR_CH_WHATSAPP;
		colcpy(buf, sizeof(buf), st, 4);
		kind = mcr_kind_byname(buf);
		x->m.kind = kind < 0 ? MCR_K_CLARIFY : (enum mcr_kind)kind;
		colcpy(x->m.to, sizeof(x->m.to), st, 5);
		mcr_buf_puts(&x->m.text, (const char *)sqlite3_column_text(st,
		    6));
		x->m.reply = 1;
		/* the text alone: it numbers any slots it offers */
		x->q.to = x->m.to;
		x->q.kind = x->m.kind;
		x->q.text = x->m.text.s;
		x->q.session = 1;
		x->late = at < now(s) - s->cfg->max_age;
	}
	sqlite3_reset(st);
	/* an answer hours late would confuse more than help: staff call */
	for (size_t i = 0; i < n; i++) {
		if (rc == 0 && (s->stop ? unqueue1(s, &v[i], "sending "
		    "stopped") : v[i].late ? unqueue1(s, &v[i], "too late: "
		    "the process that queued it stopped") : launch(s, &v[i])) ==
		    -1)
			rc = -1;
		queued_free(&v[i]);
	}
	free(v);
	return rc;
}

int
mcr_send_msg(struct mcr_send *s, const struct mcr_req *q, int64_t case_id,
    const char *step, enum mcr_chan chan)
{
	struct kase k;
	struct msg m;
	struct mcr_prov *p;
	int64_t w;
	int r;

	if (s->stop)
		return 0;
	memset(&k, 0, sizeof(k));
	memset(&m, 0, sizeof(m));
	k.id = case_id;
	mcr_strlcpy(k.caller, q->to, sizeof(k.caller));
	mcr_strlcpy(k.type, "mobile", sizeof(k.type));
	m.case_id = case_id;
	m.step = step;
	m.chan = chan;
	m.kind = q->kind;
	m.reply = 1;
	m.opts = q;
	mcr_strlcpy(m.to, q->to, sizeof(m.to));
	mcr_buf_puts(&m.text, q->text ? q->text : "");
	for (int i = 0; i < q->nparams && i < 8; i++)
		mcr_strlcpy(m.pv[m.npv++], q->params[i], sizeof(m.pv[0]));
	if (s->dry) {
		rec_msg(s, &m, chan == MCR_CH_SMS ? s->cfg->sms_provider :
		    s->cfg->whatsapp_provider, "dry_run", NULL, NULL, NULL);
		mcr_buf_free(&m.text);
		return 0;
	}
	if ((p = prov(s, chan)) == NULL) {
		mcr_buf_free(&m.text);
		return 0;
	}
	for (;;) {
		if (mcr_store_begin(s->st) == -1)
			goto fail;
		/* opted out meanwhile: only the confirmation goes */
		if (q->kind != MCR_K_OPTOUT &&
		    (r = mcr_store_optedout(s->st, q->to)) != 0) {
			if (r < 0)
				goto rollback;
			mcr_buf_free(&m.text);
			return mcr_store_commit(s->st);
		}
		/* a queued message waits for the rate when it is sent */
		if (s->defer || (w = ratewait(s, chan, m.to, &m)) == 0)
			break;
		if (w < 0)
			goto rollback;
		mcr_store_rollback(s->st);
		nap(w);
	}
	if ((r = claim(s, &m, mcr_prov_name(p))) == -1)
		goto rollback;
	if (mcr_store_commit(s->st) == -1)
		goto fail;
	if (r == 0 || s->defer) {
		if (r == 1)
			enqueue(s, &m, q);
		mcr_buf_free(&m.text);
		return 0;
	}
	r = sendmsg_(s, &k, &m, NULL);
	mcr_buf_free(&m.text);
	return r;
rollback:
	mcr_store_rollback(s->st);
fail:
	mcr_buf_free(&m.text);
	return -1;
}

void
mcr_send_rectype(struct mcr_send *s, const char *type)
{
	s->rectype = type;
}

int
mcr_send_fallback(struct mcr_send *s, int64_t case_id)
{
	struct kase k;
	int r;

	if (mcr_store_begin(s->st) == -1)
		return -1;
	r = loadcase(s, case_id, &k);
	mcr_store_rollback(s->st);
	if (r != 1 || strcmp(k.state, "failed") != 0)
		return r == -1 ? -1 : 0;
	return fallback(s, &k, NULL) == -1 ? -1 : 0;
}
