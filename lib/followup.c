/*
 * Follow-ups for callers who have not answered: the steps of [followup]
 * steps, each a delay after the first message.  Only cases still
 * "messaged" are followed: a reply, a booking, an opt-out, an escalation,
 * a later answered call or a failed first message has moved them on, and
 * that stops the sequence.  Each step is a message of its own step name,
 * claimed like the first one, so overlapping runs and kills never send
 * it twice.  When several steps are due (cron stopped for a while), only
 * the latest is taken: a patient never gets two reminders at once.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "mcr.h"
#include "json.h"
#include "storeint.h"

struct mcr_follow {
	struct mcr_store *st;
	const struct mcr_config *cfg;
	FILE	*out;
	int	 dry;
	struct mcr_send *snd;
	struct mcr_tz *tz;
	struct mcr_buf rec;
	int	 status;
	struct mcr_follow_stats stats;
};

struct fcase {
	int64_t	 id;
	char	 caller[24];
	char	 type[12];
	time_t	 base;			/* the first message was sent */
};

struct mcr_follow *
mcr_follow_new(struct mcr_store *st, const struct mcr_config *cfg,
    FILE *out, int dry)
{
	struct mcr_follow *f = mcr_xcalloc(1, sizeof(*f));

	f->st = st;
	f->cfg = cfg;
	f->out = out;
	f->dry = dry;
	if ((f->tz = mcr_tz_open(cfg->timezone)) == NULL ||
	    (f->snd = mcr_send_new(st, cfg, out, dry)) == NULL) {
		mcr_follow_free(f);
		return NULL;
	}
	return f;
}

void
mcr_follow_free(struct mcr_follow *f)
{
	if (f == NULL)
		return;
	mcr_send_free(f->snd);
	mcr_tz_close(f->tz);
	mcr_buf_free(&f->rec);
	free(f);
}

const struct mcr_follow_stats *
mcr_follow_stats(struct mcr_follow *f)
{
	return &f->stats;
}

int
mcr_follow_status(struct mcr_follow *f)
{
	int s = mcr_send_status(f->snd);

	return s > f->status ? s : f->status;
}

/* May a message go at t: not in quiet hours, not on a closed day. */
static int
allowed(struct mcr_follow *f, time_t t)
{
	const struct mcr_config *c = f->cfg;
	struct tm tm;
	int m;
	int64_t day;

	mcr_tz_tm(f->tz, t, &tm);
	m = tm.tm_hour * 60 + tm.tm_min;
	if (c->quiet_from != c->quiet_to && (c->quiet_from < c->quiet_to ?
	    m >= c->quiet_from && m < c->quiet_to :
	    m >= c->quiet_from || m < c->quiet_to))
		return 0;
	if (c->hours.nrange[tm.tm_wday] == 0)
		return 0;
	day = mcr_days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1,
	    tm.tm_mday);
	for (int i = 0; i < c->hours.nholiday; i++)
		if (c->hours.holiday[i] == day)
			return 0;
	return 1;
}

static int
failed(struct mcr_follow *f)
{
	mcr_store_rollback(f->st);
	if (mcr_store_busy(f->st))
		f->status = MCR_EXIT_TEMP;
	else if (f->status < MCR_EXIT_PART)
		f->status = MCR_EXIT_PART;
	return -1;
}

/* Move the case on from messaged, with its event; 1 moved, 0 not. */
static int
move(struct mcr_follow *f, const struct fcase *k, const char *state,
    const char *reason)
{
	sqlite3_stmt *st;
	int r;

	if (f->dry)
		return 1;
	if (mcr_store_begin(f->st) == -1)
		return failed(f);
	if (sqlite3_prepare_v2(f->st->db, "UPDATE cases SET state = ?1, "
	    "reason = ?2, updated_at = ?3 WHERE id = ?4 AND state = "
	    "'messaged'", -1, &st, NULL) != SQLITE_OK)
		return failed(f);
	sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)mcr_now());
	sqlite3_bind_int64(st, 4, k->id);
	r = sqlite3_step(st);
	sqlite3_finalize(st);
	if (r != SQLITE_DONE)
		return failed(f);
	if ((r = sqlite3_changes(f->st->db)) == 1) {
		if (sqlite3_prepare_v2(f->st->db, "INSERT INTO case_events "
		    "(case_id, at, state, reason) VALUES (?, ?, ?, ?)", -1, &st,
		    NULL) != SQLITE_OK)
			return failed(f);
		sqlite3_bind_int64(st, 1, k->id);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)mcr_now());
		sqlite3_bind_text(st, 3, state, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, reason, -1, SQLITE_STATIC);
		r = sqlite3_step(st) == SQLITE_DONE;
		sqlite3_finalize(st);
		if (!r)
			return failed(f);
		r = 1;
	}
	if (mcr_store_commit(f->st) == -1)
		return failed(f);
	return r;
}

static void
record(struct mcr_follow *f, const char *type, const struct fcase *k,
    const char *what, const char *val)
{
	struct mcr_buf *b = &f->rec;

	mcr_buf_reset(b);
	mcr_buf_puts(b, "{");
	mcr_json_kstr(b, "type", type);
	mcr_json_knull(b, "id");
	mcr_json_kint(b, "case_id", k->id);
	mcr_json_kstr(b, "to", k->caller);
	mcr_json_kstr(b, what, val);
	mcr_buf_puts(b, "}\n");
	fwrite(b->s, 1, b->len, f->out);
	fflush(f->out);
}

/* The close of the opening range t is in, or -1 when closed at t. */
static int
closing(struct mcr_follow *f, time_t t)
{
	const struct mcr_hours *h = &f->cfg->hours;
	struct tm tm;
	int m;

	if (!mcr_hours_open(h, f->tz, t))
		return -1;
	mcr_tz_tm(f->tz, t, &tm);
	m = tm.tm_hour * 60 + tm.tm_min;
	for (int i = 0; i < h->nrange[tm.tm_wday]; i++)
		if (h->from[tm.tm_wday][i] <= m && m < h->to[tm.tm_wday][i])
			return h->to[tm.tm_wday][i];
	return -1;
}

/* Send step i (a message step) of case k. */
static int
step(struct mcr_follow *f, const struct fcase *k, int i)
{
	const struct mcr_config *c = f->cfg;
	const struct mcr_step *s = &c->steps[i];
	const struct mcr_list *pl;
	struct mcr_vars v;
	struct mcr_req q;
	struct mcr_buf text = { 0 }, pv[8];
	enum mcr_kind kind;
	enum mcr_chan chan;
	char name[16], closes[16], opens[64], bad[32];
	time_t t = mcr_now();
	int end = closing(f, t), r;

	if (s->what == MCR_STEP_SMS) {
		chan = MCR_CH_SMS;
		kind = MCR_K_SMS;
	} else {
		chan = MCR_CH_WHATSAPP;
		/* after closing, say when it opens, not "here until" */
		kind = end >= 0 ? MCR_K_FOLLOWUP : MCR_K_FOLLOWUP_CLOSED;
	}
	closes[0] = '\0';
	if (end >= 0)
		mcr_hours_clock(end, closes, sizeof(closes));
	mcr_hours_opens(&f->cfg->hours, f->tz, t, opens, sizeof(opens));
	memset(&v, 0, sizeof(v));
	v.practice = c->name;
	v.name = "there";
	v.closes = closes;
	v.opens = opens;
	v.emergency = mcr_tpl_emergency(c->type);
	if (mcr_tpl_render(mcr_tpl_text(c, kind), &v, &text, bad,
	    sizeof(bad)) == -1) {
		mcr_warn("[template.%s] text: unknown variable {%s}",
		    mcr_kind_name(kind), bad);
		f->status = MCR_EXIT_USAGE;
		mcr_buf_free(&text);
		return 0;
	}
	memset(&q, 0, sizeof(q));
	memset(pv, 0, sizeof(pv));
	q.to = k->caller;
	q.kind = kind;
	q.text = text.s;
	q.later = 1;		/* an outage: the step waits for the next run */
	pl = mcr_tpl_params(c, kind);
	for (int p = 0; p < pl->n && p < 8; p++) {
		const char *val = mcr_vars_get(&v, pl->v[p]);

		mcr_buf_puts(&pv[p], val ? val : "");
		q.params[q.nparams++] = pv[p].s ? pv[p].s : "";
	}
	snprintf(name, sizeof(name), "f%d", i + 1);
	r = mcr_send_msg(f->snd, &q, k->id, name, chan);
	for (int p = 0; p < 8; p++)
		mcr_buf_free(&pv[p]);
	mcr_buf_free(&text);
	f->stats.sent++;
	return r;
}

/* 1 when step i of the case has a message already (whatever became of it). */
static int
taken(struct mcr_follow *f, const struct fcase *k, int i)
{
	sqlite3_stmt *st;
	char name[16];
	int r;

	snprintf(name, sizeof(name), "f%d", i + 1);
	if (sqlite3_prepare_v2(f->st->db, "SELECT 1 FROM messages WHERE "
	    "case_id = ? AND step = ? AND status != 'retry'", -1, &st, NULL) !=
	    SQLITE_OK)
		return store_failed(f->st, "read messages");
	sqlite3_bind_int64(st, 1, k->id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	sqlite3_finalize(st);
	return r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : -1;
}

static int
follow(struct mcr_follow *f, const struct fcase *k)
{
	const struct mcr_config *c = f->cfg;
	time_t t = mcr_now();
	int i, r;

	/* the latest step that is due; none: not yet */
	for (i = c->nsteps - 1; i >= 0; i--)
		if (k->base + c->steps[i].delay <= t)
			break;
	if (i < 0)
		return 0;
	if ((r = mcr_store_optedout(f->st, k->caller)) != 0) {
		if (r < 0)
			return failed(f);
		if (move(f, k, "opted_out", "on the opt-out list") == 1)
			record(f, "skip", k, "reason", "opted_out");
		return 0;
	}
	if (c->steps[i].what == MCR_STEP_EXPIRE) {
		if ((r = move(f, k, "expired", "no reply: on the call-back "
		    "list")) == 1) {
			record(f, "expired", k, "reason", "no reply: on the "
			    "call-back list");
			f->stats.expired++;
		}
		return r < 0 ? -1 : 0;
	}
	if ((r = taken(f, k, i)) != 0)
		return r < 0 ? failed(f) : 0;
	if (c->steps[i].what == MCR_STEP_SMS &&
	    (strcmp(k->type, "mobile") != 0 ||
	    strcmp(c->sms_provider, "none") == 0))
		return 0;	/* no SMS to send: the next step will come */
	if (!allowed(f, t)) {
		f->stats.waiting++;
		return 0;	/* quiet hours or a closed day: later */
	}
	return step(f, k, i);
}

int
mcr_follow_run(struct mcr_follow *f)
{
	sqlite3_stmt *st;
	struct fcase *v = NULL;
	size_t n = 0;
	int r = 0;

	if (mcr_send_recover(f->snd) == -1)
		return failed(f);
	if (sqlite3_prepare_v2(f->st->db, "SELECT c.id, c.caller, "
	    "c.caller_type, min(m.sent_at) FROM cases c JOIN messages m ON "
	    "m.case_id = c.id AND (m.step = 'first' OR m.step = 'sms') AND "
	    "m.sent_at IS NOT NULL WHERE (c.state = 'new' OR c.state = "
	    "'sending' OR c.state = 'messaged' OR c.state = 'replied' OR "
	    "c.state = 'offered') AND c.state = 'messaged' AND c.caller IS NOT "
	    "NULL GROUP BY c.id ORDER BY c.id", -1, &st, NULL) != SQLITE_OK)
		return store_failed(f->st, "read cases");
	while (sqlite3_step(st) == SQLITE_ROW) {
		v = mcr_xrealloc(v, (n + 1) * sizeof(*v));
		memset(&v[n], 0, sizeof(v[n]));
		v[n].id = sqlite3_column_int64(st, 0);
		mcr_strlcpy(v[n].caller, (const char *)sqlite3_column_text(st,
		    1), sizeof(v[n].caller));
		mcr_strlcpy(v[n].type, (const char *)sqlite3_column_text(st,
		    2), sizeof(v[n].type));
		v[n].base = (time_t)sqlite3_column_int64(st, 3);
		n++;
	}
	sqlite3_finalize(st);
	for (size_t i = 0; i < n && !mcr_send_quit &&
	    !mcr_send_stopped(f->snd); i++) {
		f->stats.cases++;
		if ((r = follow(f, &v[i])) == -1)
			break;
	}
	free(v);
	return r;
}
