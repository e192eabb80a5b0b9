/*
 * The booking conversation: each message and receipt of a webhook payload
 * once, the patient's reply understood (parse.c), and the answer: slots
 * offered and held, a booking made atomically, urgent advice, an
 * escalation to staff with the transcript, an opt-out or opt-in.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sqlite3.h>

#include "mcr.h"
#include "json.h"
#include "parse.h"
#include "storeint.h"
#include "webhook.h"

#define WINDOW		(24 * 3600)	/* the customer-service window */
#define EPISODE		(30 * 86400)	/* a reply within it joins the case */
#define MAXOFFER	10

struct mcr_conv {
	struct mcr_store *st;
	const struct mcr_config *cfg;
	FILE	*out;
	int	 dry;
	struct mcr_send *snd;
	struct mcr_tz *tz;
	struct mcr_buf rec;
	int	 status;
	struct mcr_conv_stats stats;
	/*
	 * A patient's message is handled in one transaction; what it does
	 * outside the store waits for the commit: the records (held), the
	 * replies (queued by mcr_send), the booking hooks and the staff's
	 * notifications (by row id).
	 */
	int	 hold;
	struct mcr_buf held;
	int64_t	*bk, *esc;
	size_t	 nbk, nesc;
	int	 recovered;		/* 0: recover before the next payload */
	int64_t	 badid;			/* the inbox row failing, and how often */
	int	 badn;
	char	 pend[48];		/* "pending PID TIME": ours to finish */
};

/* The case a message belongs to, as the conversation needs it. */
struct ccase {
	int64_t	 id;
	char	 number[24];
	char	 state[20];
	int	 misses;
	enum mcr_chan chan;
	int64_t	 tid;			/* the inbound message's transcript row */
};

struct slot {
	int64_t	 id;
	time_t	 start, end;
	char	 clinician[64];
	char	 label[48];		/* "Tue 6 Jan 9:30am" */
	char	 bid[24];		/* "slot_42" */
};

struct mcr_conv *
mcr_conv_new(struct mcr_store *st, const struct mcr_config *cfg, FILE *out,
    int dry)
{
	struct mcr_conv *c = mcr_xcalloc(1, sizeof(*c));

	c->st = st;
	c->cfg = cfg;
	c->out = out;
	c->dry = dry;
	snprintf(c->pend, sizeof(c->pend), "pending %ld %lld", (long)getpid(),
	    (long long)time(NULL));
	if ((c->tz = mcr_tz_open(cfg->timezone)) == NULL ||
	    (c->snd = mcr_send_new(st, cfg, out, dry)) == NULL) {
		mcr_conv_free(c);
		return NULL;
	}
	mcr_send_rectype(c->snd, "reply");
	return c;
}

void
mcr_conv_free(struct mcr_conv *c)
{
	if (c == NULL)
		return;
	mcr_send_free(c->snd);
	mcr_tz_close(c->tz);
	mcr_buf_free(&c->rec);
	mcr_buf_free(&c->held);
	free(c->bk);
	free(c->esc);
	free(c);
}

const struct mcr_conv_stats *
mcr_conv_stats(struct mcr_conv *c)
{
	return &c->stats;
}

int
mcr_conv_status(struct mcr_conv *c)
{
	int s = mcr_send_status(c->snd);

	return s > c->status ? s : c->status;
}

static void
worse(struct mcr_conv *c, int status)
{
	if (status > c->status)
		c->status = status;
}

static int
failed(struct mcr_conv *c)
{
	int rc = sqlite3_extended_errcode(c->st->db);

	/* what failed, for the inbox to tell a bad payload (mcr_conv_inbox) */
	if (rc != SQLITE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
		c->st->err = rc;
	mcr_store_rollback(c->st);
	worse(c, mcr_store_busy(c->st) ? MCR_EXIT_TEMP : MCR_EXIT_PART);
	return -1;
}

static void
emit(struct mcr_conv *c)
{
	mcr_buf_puts(&c->rec, "}\n");
	if (c->hold)
		mcr_buf_add(&c->held, c->rec.s, c->rec.len);
	else {
		fwrite(c->rec.s, 1, c->rec.len, c->out);
		fflush(c->out);
	}
	mcr_buf_reset(&c->rec);
}

/* Start a record of type for case cc. */
static struct mcr_buf *
rec(struct mcr_conv *c, const char *type, int64_t id, const struct ccase *cc)
{
	struct mcr_buf *b = &c->rec;

	mcr_buf_reset(b);
	mcr_buf_puts(b, "{");
	mcr_json_kstr(b, "type", type);
	if (id > 0)
		mcr_json_kint(b, "id", id);
	else
		mcr_json_knull(b, "id");
	if (cc != NULL && cc->id > 0)
		mcr_json_kint(b, "case_id", cc->id);
	else
		mcr_json_knull(b, "case_id");
	mcr_json_kstr(b, "number", cc && cc->number[0] ? cc->number : NULL);
	return b;
}

static int
exec1(struct mcr_conv *c, const char *sql, const char *what, int64_t a,
    int64_t b, const char *s1)
{
	sqlite3_stmt *st;
	int r;

	if (sqlite3_prepare_v2(c->st->db, sql, -1, &st, NULL) != SQLITE_OK)
		return store_failed(c->st, what);
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, b);
	if (s1 != NULL)
		sqlite3_bind_text(st, 3, s1, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	sqlite3_finalize(st);
	if (r != SQLITE_DONE && r != SQLITE_ROW)
		return store_failed(c->st, what);
	return sqlite3_changes(c->st->db);
}

static int
event(struct mcr_conv *c, int64_t id, const char *state, const char *reason)
{
	sqlite3_stmt *st;
	int r;

	if (sqlite3_prepare_v2(c->st->db, "INSERT INTO case_events (case_id, "
	    "at, state, reason) VALUES (?, ?, ?, ?)", -1, &st, NULL) !=
	    SQLITE_OK)
		return store_failed(c->st, "record case event");
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)mcr_now());
	sqlite3_bind_text(st, 3, state, -1, SQLITE_STATIC);
	if (reason != NULL)
		sqlite3_bind_text(st, 4, reason, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : store_failed(c->st, "record event");
}

/* Move case cc to state (from any state), with its event; in a txn. */
static int
move(struct mcr_conv *c, struct ccase *cc, const char *state,
    const char *reason)
{
	sqlite3_stmt *st;
	int r;

	if (strcmp(cc->state, state) == 0 && reason == NULL)
		return 0;
	if (sqlite3_prepare_v2(c->st->db, "UPDATE cases SET state = ?, "
	    "reason = ?, updated_at = ? WHERE id = ?", -1, &st, NULL) !=
	    SQLITE_OK)
		return store_failed(c->st, "update case");
	sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
	if (reason != NULL)
		sqlite3_bind_text(st, 2, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)mcr_now());
	sqlite3_bind_int64(st, 4, cc->id);
	r = sqlite3_step(st);
	sqlite3_finalize(st);
	if (r != SQLITE_DONE)
		return store_failed(c->st, "update case");
	mcr_strlcpy(cc->state, state, sizeof(cc->state));
	return event(c, cc->id, state, reason);
}

/* Run move in a transaction of its own. */
static int
move1(struct mcr_conv *c, struct ccase *cc, const char *state,
    const char *reason)
{
	if (mcr_store_begin(c->st) == -1 || move(c, cc, state, reason) == -1 ||
	    mcr_store_commit(c->st) == -1)
		return failed(c);
	return 0;
}

static int64_t
transcript(struct mcr_conv *c, const struct ccase *cc, const char *dir,
    const char *body, const char *intent)
{
	sqlite3_stmt *st;
	int r;

	if (sqlite3_prepare_v2(c->st->db, "INSERT INTO transcript (case_id, "
	    "at, dir, channel, body, intent) VALUES (?, ?, ?, ?, ?, ?)", -1,
	    &st, NULL) != SQLITE_OK)
		return store_failed(c->st, "record transcript");
	sqlite3_bind_int64(st, 1, cc->id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)mcr_now());
	sqlite3_bind_text(st, 3, dir, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, mcr_chan_name(cc->chan), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, body, -1, SQLITE_STATIC);
	if (intent != NULL)
		sqlite3_bind_text(st, 6, intent, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	sqlite3_finalize(st);
	if (r != SQLITE_DONE)
		return store_failed(c->st, "record transcript");
	return sqlite3_last_insert_rowid(c->st->db);
}

/* A time as a bound text, for exec1. */
static const char *
nowstr(time_t t)
{
	static char b[24];

	snprintf(b, sizeof(b), "%lld", (long long)t);
	return b;
}

/* "Tue 6 Jan 9:30am" */
static void
label(struct mcr_conv *c, time_t t, char *buf, size_t n)
{
	static const char *wd[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri",
	    "Sat" };
	static const char *mo[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
	    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	int h;

	mcr_tz_tm(c->tz, t, &tm);
	h = tm.tm_hour % 12 ? tm.tm_hour % 12 : 12;
	if (tm.tm_min)
		snprintf(buf, n, "%s %d %s %d:%02d%s", wd[tm.tm_wday],
		    tm.tm_mday, mo[tm.tm_mon], h, tm.tm_min,
		    tm.tm_hour < 12 ? "am" : "pm");
	else
		snprintf(buf, n, "%s %d %s %d%s", wd[tm.tm_wday], tm.tm_mday,
		    mo[tm.tm_mon], h, tm.tm_hour < 12 ? "am" : "pm");
}

/*
 * Send the practice's answer: kind's text with the variables, and options
 * (slots) as buttons or a list on WhatsApp, numbered in the text elsewhere.
 */
static int
answer(struct mcr_conv *c, struct ccase *cc, enum mcr_kind kind,
    const char *slots, const struct slot *opt, int nopt, const char *suffix)
{
	struct mcr_vars v;
	struct mcr_req q;
	struct mcr_buf t = { 0 };
	char bad[32], step[40];
	int meta = cc->chan == MCR_CH_WHATSAPP &&
	    strcmp(c->cfg->whatsapp_provider, "meta") == 0;
	int r;

	if (cc->number[0] == '\0')
		return 0;
	memset(&v, 0, sizeof(v));
	v.practice = c->cfg->name;
	v.name = "there";
	v.emergency = mcr_tpl_emergency(c->cfg->type);
	v.slots = slots ? slots : "";
	if (mcr_tpl_render(mcr_tpl_text(c->cfg, kind), &v, &t, bad,
	    sizeof(bad)) == -1) {
		mcr_warn("[template.%s] text: unknown variable {%s}",
		    mcr_kind_name(kind), bad);
		worse(c, MCR_EXIT_USAGE);
		return 0;
	}
	/* the text numbers the slots ({slots}); WhatsApp adds buttons */
	memset(&q, 0, sizeof(q));
	q.to = cc->number;
	q.kind = kind;
	q.text = t.s;
	q.session = 1;		/* the patient's message opened the window */
	if (meta)
		for (int i = 0; i < nopt && i < MAXOFFER; i++) {
			q.opt_id[i] = opt[i].bid;
			q.opt_title[i] = opt[i].label;
			q.opt_desc[i] = opt[i].clinician;
			q.nopt++;
		}
	snprintf(step, sizeof(step), "r%lld%s", (long long)cc->tid,
	    suffix ? suffix : "");
	if (mcr_store_begin(c->st) == -1 ||
	    transcript(c, cc, "out", t.s, mcr_kind_name(kind)) == -1 ||
	    mcr_store_commit(c->st) == -1) {
		mcr_buf_free(&t);
		return failed(c);
	}
	r = mcr_send_msg(c->snd, &q, cc->id, step, cc->chan);
	mcr_buf_free(&t);
	c->stats.replies++;
	return r;
}

/* The case's conversation as staff read it. */
static void
history(struct mcr_conv *c, int64_t id, struct mcr_buf *b)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(c->st->db, "SELECT at, dir, body FROM "
	    "transcript WHERE case_id = ? ORDER BY id", -1, &st, NULL) !=
	    SQLITE_OK)
		return;
	sqlite3_bind_int64(st, 1, id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		char at[21];
		const unsigned char *body = sqlite3_column_text(st, 2);

		mcr_buf_printf(b, "%s %s: %s\n", mcr_time_fmt((time_t)
		    sqlite3_column_int64(st, 0), at),
		    strcmp((const char *)sqlite3_column_text(st, 1), "in") ==
		    0 ? "patient" : "practice", body ? (const char *)body :
		    "");
	}
	sqlite3_finalize(st);
}

/* Append id to the list *v of *n. */
static void
later(int64_t **v, size_t *n, int64_t id)
{
	*v = mcr_xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = id;
}

/*
 * Hand the case to staff: stored in the transaction, e-mailed and/or
 * hooked once it has committed (tell); acknowledged.
 */
static int
escalate(struct mcr_conv *c, struct ccase *cc, int urgent, const char *why,
    int ack)
{
	struct mcr_buf tr = { 0 }, *b;
	sqlite3_stmt *st;
	int r;

	c->stats.escalations++;
	if (c->dry) {
		b = rec(c, "escalation", 0, cc);
		mcr_json_kbool(b, "urgent", urgent);
		mcr_json_kstr(b, "reason", why);
		mcr_json_knull(b, "notified");
		emit(c);
		return ack ? answer(c, cc, MCR_K_ESCALATION, NULL, NULL, 0,
		    "e") : 0;
	}
	history(c, cc->id, &tr);
	if (mcr_store_begin(c->st) == -1)
		goto fail;
	if (sqlite3_prepare_v2(c->st->db, "INSERT INTO escalations (case_id, "
	    "at, urgent, reason, transcript, notified) VALUES (?, ?, ?, ?, ?, "
	    "?)", -1, &st, NULL) != SQLITE_OK) {
		store_failed(c->st, "record escalation");
		goto fail;
	}
	sqlite3_bind_int64(st, 1, cc->id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)mcr_now());
	sqlite3_bind_int(st, 3, urgent);
	sqlite3_bind_text(st, 4, why, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, tr.s ? tr.s : "", -1, SQLITE_STATIC);
	if (c->cfg->esc_email != NULL || c->cfg->esc_hook != NULL)
		sqlite3_bind_text(st, 6, c->pend, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		store_failed(c->st, "record escalation");
		goto fail;
	}
	later(&c->esc, &c->nesc, sqlite3_last_insert_rowid(c->st->db));
	/* a booking stands: the case stays booked */
	if ((strcmp(cc->state, "booked") != 0 &&
	    move(c, cc, "escalated", why) == -1) ||
	    mcr_store_commit(c->st) == -1)
		goto fail;
	mcr_buf_free(&tr);
	return ack ? answer(c, cc, MCR_K_ESCALATION, NULL, NULL, 0, "e") : 0;
fail:
	mcr_buf_free(&tr);
	return failed(c);
}

/*
 * Tell staff of escalation id, committed: by e-mail and/or the hook, as
 * configured; its record.  0, or -1 on a store error.
 */
static int
tell(struct mcr_conv *c, int64_t id)
{
	struct mcr_buf subj = { 0 }, body = { 0 }, in = { 0 }, *b;
	struct mcr_buf notified = { 0 };
	struct ccase cc;
	sqlite3_stmt *st;
	char msg[256], masked[32], why[256] = "";
	const char *tr, *nt;
	int urgent, r, mine;

	if (sqlite3_prepare_v2(c->st->db, "SELECT e.case_id, e.urgent, "
	    "e.reason, e.transcript, coalesce(k.caller, ''), e.notified FROM "
	    "escalations e LEFT JOIN cases k ON k.id = e.case_id WHERE e.id = "
	    "?", -1, &st, NULL) != SQLITE_OK)
		return store_failed(c->st, "read escalation");
	sqlite3_bind_int64(st, 1, id);
	if ((r = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return r == SQLITE_DONE ? 0 : store_failed(c->st,
		    "read escalation");
	}
	/* ours to tell (pending), or nothing to tell by (NULL): else done */
	nt = (const char *)sqlite3_column_text(st, 5);
	mine = nt != NULL && strcmp(nt, c->pend) == 0;
	if (nt != NULL && !mine) {
		sqlite3_finalize(st);
		return 0;
	}
	memset(&cc, 0, sizeof(cc));
	cc.id = sqlite3_column_int64(st, 0);
	urgent = sqlite3_column_int(st, 1);
	mcr_strlcpy(why, (const char *)sqlite3_column_text(st, 2),
	    sizeof(why));
	tr = (const char *)sqlite3_column_text(st, 3);
	mcr_strlcpy(cc.number, (const char *)sqlite3_column_text(st, 4),
	    sizeof(cc.number));
	/* staff need the number to call back: it is not masked for them */
	mcr_buf_printf(&subj, "%s%s: %s", urgent ? "URGENT: " : "",
	    cc.number[0] ? cc.number : "a patient without a number", why);
	mcr_buf_printf(&body, "%s\n\nPatient: %s\nCase: %lld\nReason: %s\n"
	    "\nThe conversation so far:\n%s", urgent ? "Urgent: please call "
	    "this patient back now." : "Please get back to this patient.",
	    cc.number[0] ? cc.number : "(no phone number given)",
	    (long long)cc.id, why, tr ? tr : "");
	if (mine && c->cfg->esc_email != NULL) {
		if (mcr_mail_send(c->cfg, subj.s, body.s, msg,
		    sizeof(msg)) == 0)
			mcr_buf_puts(&notified, "email");
		else {
			mcr_warn("case %lld: e-mail to staff failed: %s",
			    (long long)cc.id, msg);
			mcr_buf_puts(&notified, "email failed");
			worse(c, MCR_EXIT_PART);
		}
	}
	b = rec(c, "escalation", id, &cc);
	mcr_json_kbool(b, "urgent", urgent);
	mcr_json_kstr(b, "reason", why);
	if (mine && c->cfg->esc_hook != NULL) {
		mcr_buf_add(&in, b->s, b->len);
		mcr_json_kstr(&in, "transcript", tr ? tr : "");
		mcr_buf_puts(&in, "}\n");
		if (mcr_hook_run(c->cfg->esc_hook, in.s, msg, sizeof(msg)) ==
		    0)
			mcr_buf_printf(&notified, "%shook", notified.len ?
			    ", " : "");
		else {
			mcr_warn("case %lld: escalation hook: %s",
			    (long long)cc.id, msg);
			mcr_buf_printf(&notified, "%shook failed",
			    notified.len ? ", " : "");
			worse(c, MCR_EXIT_PART);
		}
	}
	sqlite3_finalize(st);
	mcr_json_kstr(b, "notified", notified.len ? notified.s : NULL);
	emit(c);
	r = 0;
	if (notified.len > 0 && exec1(c, "UPDATE escalations SET notified = "
	    "?3 WHERE id = ?1 AND ?2 = ?2", "record escalation", id, 0,
	    notified.s) < 0)
		r = -1;
	if (urgent)
		mcr_warn("case %lld: urgent: %s (call %s back)",
		    (long long)cc.id, why, mcr_phone_mask(cc.number, masked,
		    sizeof(masked)));
	mcr_buf_free(&subj);
	mcr_buf_free(&body);
	mcr_buf_free(&in);
	mcr_buf_free(&notified);
	return r;
}

/* Slots */

/* Make slots from the opening hours when the practice imported none. */
static int
generate(struct mcr_conv *c, time_t t)
{
	const struct mcr_hours *h = &c->cfg->hours;
	sqlite3_stmt *st;
	int64_t n = 0;
	int len = c->cfg->slot_length;

	/* the practice's own slots, imported: none are made */
	if (sqlite3_prepare_v2(c->st->db, "SELECT count(*) FROM slots WHERE "
	    "start >= ? AND (type IS NULL OR type != 'generated')", -1, &st,
	    NULL) != SQLITE_OK)
		return store_failed(c->st, "count slots");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)t);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (n > 0)
		return 0;
	/* the horizon rolls forward: each day ahead is made once */
	if (sqlite3_prepare_v2(c->st->db, "INSERT OR IGNORE INTO slots "
	    "(start, end, type) VALUES (?, ?, 'generated')", -1, &st, NULL) !=
	    SQLITE_OK)
		return store_failed(c->st, "make slots");
	/* each day ahead, each opening range, each slot that fits */
	for (int d = 0; d <= c->cfg->slot_days; d++) {
		struct tm tm;
		time_t day = t + (time_t)d * 86400;
		int64_t civil;

		mcr_tz_tm(c->tz, day, &tm);
		civil = mcr_days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1,
		    tm.tm_mday);
		for (int k = 0; k < h->nholiday; k++)
			if (h->holiday[k] == civil)
				goto next;
		for (int r = 0; r < h->nrange[tm.tm_wday]; r++)
			for (int m = h->from[tm.tm_wday][r]; m + len <=
			    h->to[tm.tm_wday][r]; m += len) {
				int fl;
				time_t s = mcr_tz_local(c->tz, civil * 86400 +
				    m * 60, -1, &fl);

				if (s < t)
					continue;
				sqlite3_reset(st);
				sqlite3_bind_int64(st, 1, (sqlite3_int64)s);
				sqlite3_bind_int64(st, 2, (sqlite3_int64)(s +
				    len * 60));
				if (sqlite3_step(st) != SQLITE_DONE) {
					sqlite3_finalize(st);
					return store_failed(c->st,
					    "make slots");
				}
			}
next:		;
	}
	sqlite3_finalize(st);
	return 0;
}

/* Does slot start t fit the patient's wish? */
static int
fits(struct mcr_conv *c, time_t t, const struct mcr_when *w)
{
	struct tm a, b;
	int64_t da, db;
	int m;

	if (w == NULL)
		return 1;
	mcr_tz_tm(c->tz, mcr_now(), &a);
	mcr_tz_tm(c->tz, t, &b);
	da = mcr_days_from_civil(a.tm_year + 1900, a.tm_mon + 1, a.tm_mday);
	db = mcr_days_from_civil(b.tm_year + 1900, b.tm_mon + 1, b.tm_mday);
	if (w->days >= 0 && db - da != w->days)
		return 0;
	if (w->days < 0 && w->week) {
		/* next week: from the coming Monday to the Sunday after */
		int mon = (8 - a.tm_wday) % 7;

		if (mon == 0)
			mon = 7;
		if (db - da < mon || db - da > mon + 6)
			return 0;
	}
	m = b.tm_hour * 60 + b.tm_min;
	if (w->from >= 0 && (m < w->from || m >= w->to))
		return 0;
	/* "at 10": that hour */
	if (w->from < 0 && w->at >= 0 && (m < w->at || m >= w->at + 60))
		return 0;
	return 1;
}

/* A slot from a row of id, start, end, clinician. */
static void
slotrow(struct mcr_conv *c, sqlite3_stmt *st, struct slot *v)
{
	const unsigned char *cl = sqlite3_column_text(st, 3);

	v->id = sqlite3_column_int64(st, 0);
	v->start = (time_t)sqlite3_column_int64(st, 1);
	v->end = (time_t)sqlite3_column_int64(st, 2);
	mcr_strlcpy(v->clinician, cl ? (const char *)cl : "",
	    sizeof(v->clinician));
	label(c, v->start, v->label, sizeof(v->label));
	snprintf(v->bid, sizeof(v->bid), "slot_%lld", (long long)v->id);
}

/* The slots held for the case, soonest first. */
static int
held(struct mcr_conv *c, const struct ccase *cc, struct slot *v, int max)
{
	sqlite3_stmt *st;
	int n = 0;

	if (sqlite3_prepare_v2(c->st->db, "SELECT id, start, end, clinician "
	    "FROM slots WHERE held_by = ? AND held_until >= ? AND booked_by "
	    "IS NULL ORDER BY start, id", -1, &st, NULL) != SQLITE_OK)
		return store_failed(c->st, "read slots");
	sqlite3_bind_int64(st, 1, cc->id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)mcr_now());
	while (n < max && sqlite3_step(st) == SQLITE_ROW)
		slotrow(c, st, &v[n++]);
	sqlite3_finalize(st);
	return n;
}

/* Offer the next free slots that fit, held for the case a while. */
static int
offer(struct mcr_conv *c, struct ccase *cc, const struct mcr_when *w,
    const char *sorry)
{
	struct slot v[MAXOFFER];
	struct mcr_buf list = { 0 }, *b;
	sqlite3_stmt *st, *hold;
	time_t t = mcr_now();
	int n = 0, want = c->cfg->slot_offer;

	if (mcr_store_begin(c->st) == -1 || generate(c, t) == -1)
		return failed(c);
	if (exec1(c, "UPDATE slots SET held_by = NULL, held_until = NULL "
	    "WHERE held_by = ?1 AND booked_by IS NULL AND ?2 = ?2",
	    "release slots", cc->id, 0, NULL) < 0)
		return failed(c);
	if (sqlite3_prepare_v2(c->st->db, "SELECT id, start, end, clinician "
	    "FROM slots WHERE booked_by IS NULL AND start >= ?1 AND (held_by "
	    "IS NULL OR held_until < ?2) ORDER BY start, id LIMIT 5000", -1,
	    &st, NULL) != SQLITE_OK)
		return failed(c);
	if (sqlite3_prepare_v2(c->st->db, "UPDATE slots SET held_by = ?1, "
	    "held_until = ?2 WHERE id = ?3 AND booked_by IS NULL AND (held_by "
	    "IS NULL OR held_until < ?4)", -1, &hold, NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		return failed(c);
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)(t + c->cfg->slot_lead *
	    60));
	sqlite3_bind_int64(st, 2, (sqlite3_int64)t);
	while (n < want && sqlite3_step(st) == SQLITE_ROW) {
		time_t s = (time_t)sqlite3_column_int64(st, 1);

		if (!fits(c, s, w))
			continue;
		sqlite3_reset(hold);
		sqlite3_bind_int64(hold, 1, cc->id);
		sqlite3_bind_int64(hold, 2, (sqlite3_int64)(t +
		    c->cfg->slot_hold * 60));
		sqlite3_bind_int64(hold, 3, sqlite3_column_int64(st, 0));
		sqlite3_bind_int64(hold, 4, (sqlite3_int64)t);
		if (sqlite3_step(hold) == SQLITE_DONE &&
		    sqlite3_changes(c->st->db) == 1)
			n++;
	}
	sqlite3_finalize(st);
	sqlite3_finalize(hold);
	if (n > 0 && move(c, cc, "offered", NULL) == -1)
		return failed(c);
	if (mcr_store_commit(c->st) == -1)
		return failed(c);
	if (n == 0)
		return escalate(c, cc, 0, w != NULL && (w->days >= 0 ||
		    w->from >= 0 || w->at >= 0 || w->week) ? "no free slot at the time asked "
		    "for" : "no free slot to offer", 1);
	n = held(c, cc, v, want);
	for (int i = 0; i < n; i++)
		mcr_buf_printf(&list, "%s%d) %s%s%s", i ? ", " : "", i + 1,
		    v[i].label, v[i].clinician[0] ? " with " : "",
		    v[i].clinician);
	b = rec(c, "offer", 0, cc);
	mcr_json_key(b, "slots");
	mcr_buf_puts(b, "[");
	for (int i = 0; i < n; i++) {
		char at[21];

		mcr_buf_puts(b, i ? ",{" : "{");
		mcr_json_kint(b, "id", v[i].id);
		mcr_json_kstr(b, "start", mcr_time_fmt(v[i].start, at));
		mcr_json_kstr(b, "clinician", v[i].clinician[0] ?
		    v[i].clinician : NULL);
		mcr_buf_puts(b, "}");
	}
	mcr_buf_puts(b, "]");
	emit(c);
	c->stats.offers++;
	/* the slot picked went to someone quicker: say so */
	n = answer(c, cc, sorry != NULL ? MCR_K_TAKEN : MCR_K_OFFER, list.s, v,
	    n, NULL);
	mcr_buf_free(&list);
	return n;
}

/*
 * Slot button, when no slot in v[0..n) has it, read into v[n]: 1 when
 * there is such a slot still ahead, 0 when not, -1 on a store error.
 */
static int
lapsed(struct mcr_conv *c, const char *button, struct slot *v, int n)
{
	sqlite3_stmt *st;
	long long id;
	const char *why;
	int r;

	for (int i = 0; i < n; i++)
		if (strcmp(v[i].bid, button) == 0)
			return 0;
	if (mcr_util_num(button + 5, 1, INT64_MAX, &id, &why) == -1)
		return 0;
	if (sqlite3_prepare_v2(c->st->db, "SELECT id, start, end, clinician "
	    "FROM slots WHERE id = ? AND start > ?", -1, &st, NULL) !=
	    SQLITE_OK)
		return store_failed(c->st, "read slots");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)mcr_now());
	if ((r = sqlite3_step(st)) == SQLITE_ROW)
		slotrow(c, st, &v[n]);
	sqlite3_finalize(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return store_failed(c->st, "read slots");
	return r == SQLITE_ROW;
}

/* Book slot id for the case, atomically: one patient per slot. */
static int
book(struct mcr_conv *c, struct ccase *cc, const struct slot *s)
{
	sqlite3_stmt *st;
	struct mcr_buf what = { 0 };
	time_t t = mcr_now();
	int64_t id = 0;
	int got;

	if (mcr_store_begin(c->st) == -1)
		return failed(c);
	got = exec1(c, "UPDATE slots SET booked_by = ?2, held_by = NULL, "
	    "held_until = NULL WHERE id = ?1 AND booked_by IS NULL AND "
	    "(held_by IS NULL OR held_by = ?2 OR held_until < 0 + ?3) AND "
	    "start > 0 + ?3",
	    "book slot", s->id, cc->id, nowstr(t));
	if (got < 0)
		return failed(c);
	if (got == 1) {
		/* the hook runs once this has committed */
		if (sqlite3_prepare_v2(c->st->db, "INSERT INTO bookings "
		    "(case_id, slot_id, number, at, status, hook) VALUES (?, ?, "
		    "?, ?, 'booked', ?)", -1, &st, NULL) != SQLITE_OK)
			return failed(c);
		sqlite3_bind_int64(st, 1, cc->id);
		sqlite3_bind_int64(st, 2, s->id);
		sqlite3_bind_text(st, 3, cc->number, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)t);
		if (c->cfg->booking_hook != NULL && !c->dry)
			sqlite3_bind_text(st, 5, c->pend, -1, SQLITE_STATIC);
		got = sqlite3_step(st);
		sqlite3_finalize(st);
		if (got != SQLITE_DONE)
			return failed(c);
		id = sqlite3_last_insert_rowid(c->st->db);
		if (exec1(c, "UPDATE slots SET held_by = NULL, held_until = "
		    "NULL WHERE held_by = ?1 AND ?2 = ?2", "release slots",
		    cc->id, 0, NULL) < 0 || move(c, cc, "booked", NULL) == -1)
			return failed(c);
	}
	if (mcr_store_commit(c->st) == -1)
		return failed(c);
	if (id == 0) {
		/* someone was quicker: say so, and offer others */
		c->stats.taken++;
		return offer(c, cc, NULL, "taken");
	}
	c->stats.bookings++;
	later(&c->bk, &c->nbk, id);
	mcr_buf_printf(&what, "%s%s%s", s->label, s->clinician[0] ?
	    " with " : "", s->clinician);
	got = answer(c, cc, MCR_K_BOOKING, what.s, NULL, 0, NULL);
	mcr_buf_free(&what);
	return got;
}

/*
 * Booking id, committed: its record, after the booking hook when one is
 * set.  0, or -1 on a store error.
 */
static int
booked(struct mcr_conv *c, int64_t id)
{
	struct mcr_buf in = { 0 }, *b;
	struct ccase cc;
	sqlite3_stmt *st;
	char at[21], why[256], status[16];
	int r, hook;

	if (sqlite3_prepare_v2(c->st->db, "SELECT b.case_id, coalesce("
	    "b.number, ''), b.slot_id, s.start, s.end, coalesce(s.clinician, "
	    "''), b.hook, b.status FROM bookings b JOIN slots s ON s.id = "
	    "b.slot_id WHERE b.id = ?", -1, &st, NULL) != SQLITE_OK)
		return store_failed(c->st, "read booking");
	sqlite3_bind_int64(st, 1, id);
	if ((r = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return r == SQLITE_DONE ? 0 : store_failed(c->st,
		    "read booking");
	}
	memset(&cc, 0, sizeof(cc));
	cc.id = sqlite3_column_int64(st, 0);
	mcr_strlcpy(cc.number, (const char *)sqlite3_column_text(st, 1),
	    sizeof(cc.number));
	hook = c->cfg->booking_hook != NULL && !c->dry &&
	    sqlite3_column_type(st, 6) != SQLITE_NULL &&
	    strcmp((const char *)sqlite3_column_text(st, 6), c->pend) == 0;
	/* a booking or its cancellation: the hook hears of both */
	mcr_strlcpy(status, (const char *)sqlite3_column_text(st, 7),
	    sizeof(status));
	b = rec(c, "booking", id, &cc);
	mcr_json_kint(b, "slot_id", sqlite3_column_int64(st, 2));
	mcr_json_kstr(b, "start", mcr_time_fmt((time_t)sqlite3_column_int64(
	    st, 3), at));
	mcr_json_kstr(b, "end", mcr_time_fmt((time_t)sqlite3_column_int64(st,
	    4), at));
	mcr_json_kstr(b, "clinician", sqlite3_column_bytes(st, 5) ?
	    (const char *)sqlite3_column_text(st, 5) : NULL);
	mcr_json_kstr(b, "practice", c->cfg->name);
	mcr_json_kstr(b, "status", status);
	sqlite3_finalize(st);
	r = 0;
	if (hook) {
		mcr_buf_add(&in, b->s, b->len);
		mcr_buf_puts(&in, "}\n");
		if (mcr_hook_run(c->cfg->booking_hook, in.s, why,
		    sizeof(why)) == -1) {
			mcr_warn("booking %lld: hook: %s", (long long)id, why);
			worse(c, MCR_EXIT_PART);
		}
		if (exec1(c, "UPDATE bookings SET hook = ?3 WHERE id = ?1 AND "
		    "?2 = ?2", "record hook", id, 0, why) < 0)
			r = -1;
		mcr_json_kstr(b, "hook", why);
		mcr_buf_free(&in);
	}
	emit(c);
	return r;
}

/* Cancel the case's booking; 1 cancelled, 0 none, -1 error. */
static int
cancel(struct mcr_conv *c, struct ccase *cc)
{
	sqlite3_stmt *st;
	int64_t *v = NULL;
	size_t n = 0;
	int r;

	/* its record and the booking hook follow the commit (booked) */
	if (mcr_store_begin(c->st) == -1)
		return failed(c);
	if (sqlite3_prepare_v2(c->st->db, "SELECT b.id FROM bookings b JOIN "
	    "slots s ON s.id = b.slot_id WHERE b.case_id = ?1 AND b.status = "
	    "'booked' AND s.start > ?2", -1, &st, NULL) != SQLITE_OK)
		return failed(c);
	sqlite3_bind_int64(st, 1, cc->id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)mcr_now());
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		later(&v, &n, sqlite3_column_int64(st, 0));
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		free(v);
		return failed(c);
	}
	for (size_t i = 0; i < n; i++)
		if (exec1(c, "UPDATE slots SET booked_by = NULL WHERE id = "
		    "(SELECT slot_id FROM bookings WHERE id = ?1) AND ?2 = ?2",
		    "cancel", v[i], 0, NULL) < 0 || exec1(c, "UPDATE bookings "
		    "SET status = 'cancelled', hook = coalesce(?3, hook) WHERE "
		    "id = ?1 AND ?2 = ?2", "cancel", v[i], 0,
		    c->cfg->booking_hook != NULL && !c->dry ? c->pend : NULL) <
		    0) {
			free(v);
			return failed(c);
		}
	if (mcr_store_commit(c->st) == -1) {
		free(v);
		return failed(c);
	}
	for (size_t i = 0; i < n; i++)
		later(&c->bk, &c->nbk, v[i]);
	free(v);
	return n > 0;
}

/* Messages and receipts */

/* The case of a patient's message: the latest in the episode, or new. */
static int
findcase(struct mcr_conv *c, const struct mcr_event *e, struct ccase *cc)
{
	sqlite3_stmt *st;
	time_t t = mcr_now();
	int r;

	if (sqlite3_prepare_v2(c->st->db, cc->number[0] ? "SELECT id, state, "
	    "misses FROM cases WHERE caller = ?1 AND updated_at >= ?2 ORDER "
	    "BY id DESC LIMIT 1" : "SELECT id, state, misses FROM cases WHERE "
	    "user_id = ?3 AND updated_at >= ?2 ORDER BY id DESC LIMIT 1", -1,
	    &st, NULL) != SQLITE_OK)
		return store_failed(c->st, "find case");
	if (cc->number[0])
		sqlite3_bind_text(st, 1, cc->number, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)(t - EPISODE));
	if (!cc->number[0])
		sqlite3_bind_text(st, 3, e->user_id, -1, SQLITE_STATIC);
	if ((r = sqlite3_step(st)) == SQLITE_ROW) {
		cc->id = sqlite3_column_int64(st, 0);
		mcr_strlcpy(cc->state, (const char *)sqlite3_column_text(st,
		    1), sizeof(cc->state));
		cc->misses = sqlite3_column_int(st, 2);
	}
	sqlite3_finalize(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return store_failed(c->st, "find case");
	if (cc->id > 0)
		return 0;
	/* the patient wrote first */
	if (sqlite3_prepare_v2(c->st->db, "INSERT INTO cases (caller, "
	    "caller_type, state, opened_at, last_call_at, updated_at, "
	    "user_id) VALUES (?, ?, 'replied', ?, ?, ?, ?)", -1, &st, NULL) !=
	    SQLITE_OK)
		return store_failed(c->st, "open case");
	if (cc->number[0])
		sqlite3_bind_text(st, 1, cc->number, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, cc->number[0] ? "mobile" : "withheld", -1,
	    SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)t);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)t);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)t);
	if (e->user_id[0])
		sqlite3_bind_text(st, 6, e->user_id, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	sqlite3_finalize(st);
	if (r != SQLITE_DONE)
		return store_failed(c->st, "open case");
	cc->id = sqlite3_last_insert_rowid(c->st->db);
	mcr_strlcpy(cc->state, "replied", sizeof(cc->state));
	return event(c, cc->id, "replied", "the patient wrote first");
}

/* 1 when key was seen before; else it is marked seen (in the txn). */
static int
seen(struct mcr_conv *c, const char *key)
{
	int r = exec1(c, "INSERT OR IGNORE INTO seen (key, at) VALUES (?3, "
	    "?1 + ?2)", "dedupe", (int64_t)mcr_now(), 0, key);

	return r < 0 ? -1 : r == 0;
}

static int
converse(struct mcr_conv *c, const struct mcr_event *e)
{
	struct ccase cc;
	struct mcr_number num;
	struct mcr_reply r;
	struct mcr_offer offers[MAXOFFER];
	struct slot sl[MAXOFFER];
	struct mcr_buf *b, key = { 0 };
	char raw[40];
	const char *text = e->text ? e->text : "";
	int n, opted, dup;

	memset(&cc, 0, sizeof(cc));
	cc.chan = e->chan;
	if (e->from[0]) {
		/* Meta gives digits without the plus */
		snprintf(raw, sizeof(raw), "%s%s", e->from[0] != '+' &&
		    strcmp(e->provider, "meta") == 0 ? "+" : "", e->from);
		mcr_phone_norm(raw, c->cfg->region, 0, &num);
		mcr_strlcpy(cc.number, num.e164, sizeof(cc.number));
	}
	if (mcr_store_begin(c->st) == -1)
		return failed(c);
	mcr_buf_printf(&key, "in:%s:%s", e->provider, e->id);
	dup = e->id[0] ? seen(c, key.s) : 0;
	mcr_buf_free(&key);
	if (dup != 0) {
		mcr_store_commit(c->st);
		if (dup == 1)
			c->stats.dups++;
		return dup < 0 ? failed(c) : 0;
	}
	if (cc.number[0] == '\0' && e->user_id[0] == '\0') {
		mcr_store_commit(c->st);
		mcr_warn("a message with neither a number nor a user id: "
		    "ignored");
		return 0;
	}
	if (findcase(c, e, &cc) == -1)
		return failed(c);
	/* the parse needs the offers: read them in the same transaction */
	n = held(c, &cc, sl, MAXOFFER);
	/*
	 * A button of an offer whose hold lapsed: the slot is still picked,
	 * and booked when free, or the patient hears it has gone.
	 */
	if (n >= 0 && n < MAXOFFER && strncmp(e->button, "slot_", 5) == 0 &&
	    lapsed(c, e->button, sl, n) == 1)
		n++;
	for (int i = 0; i < n; i++) {
		offers[i].id = sl[i].bid;
		offers[i].start = sl[i].start;
	}
	mcr_parse_reply(e->other ? NULL : text, e->button[0] ? e->button :
	    NULL, offers, n < 0 ? 0 : n, mcr_now(), c->tz, &r);
	if ((cc.tid = transcript(c, &cc, "in", e->other ? "(a message "
	    "without text)" : text, mcr_intent_name(r.intent))) == -1)
		return failed(c);
	if (exec1(c, "UPDATE cases SET last_in_at = ?2, channel = ?3, "
	    "user_id = coalesce(user_id, nullif(?4, '')) WHERE id = ?1",
	    "update case", cc.id, (int64_t)mcr_now(), mcr_chan_name(e->chan))
	    < 0)
		return failed(c);
	if (e->user_id[0])
		exec1(c, "UPDATE cases SET user_id = ?3 WHERE id = ?1 AND "
		    "user_id IS NULL AND ?2 = ?2", "update case", cc.id, 0,
		    e->user_id);
	if (strcmp(cc.state, "new") == 0 || strcmp(cc.state, "sending") == 0 ||
	    strcmp(cc.state, "messaged") == 0 ||
	    strcmp(cc.state, "uncertain") == 0 ||
	    strcmp(cc.state, "failed") == 0 ||
	    strcmp(cc.state, "expired") == 0 ||
	    strcmp(cc.state, "skipped") == 0)
		if (move(c, &cc, "replied", NULL) == -1)
			return failed(c);
	opted = cc.number[0] ? mcr_store_optedout(c->st, cc.number) : 0;
	if (opted < 0 || mcr_store_commit(c->st) == -1)
		return failed(c);
	c->stats.messages++;
	b = rec(c, "inbound", cc.tid, &cc);
	mcr_json_kstr(b, "channel", mcr_chan_name(e->chan));
	mcr_json_kstr(b, "provider_id", e->id[0] ? e->id : NULL);
	mcr_json_kstr(b, "intent", mcr_intent_name(r.intent));
	if (r.urgent)
		mcr_json_kstr(b, "flag", r.flag);
	emit(c);

	if (cc.number[0] == '\0')
		/* a username without a number: a person must answer */
		return escalate(c, &cc, r.urgent, r.urgent ? r.flag :
		    "wrote without a phone number", 0);
	if (r.intent != MCR_I_UNKNOWN && cc.misses > 0)
		exec1(c, "UPDATE cases SET misses = 0 WHERE id = ?1 AND ?2 = ?2",
		    "count", cc.id, 0, NULL);
	/* a bare CANCEL from a booked patient is about the booking */
	if (r.intent == MCR_I_OPTOUT && strcmp(cc.state, "booked") == 0 &&
	    strncasecmp(text + strspn(text, " "), "cancel", 6) == 0 &&
	    text[strspn(text, " ") + 6 + strspn(text + strspn(text, " ") + 6,
	    " .!")] == '\0')
		r.intent = MCR_I_CANCEL;
	if (cc.chan == MCR_CH_SMS && strcmp(c->cfg->sms_provider, "none") ==
	    0 && !opted)
		/* nothing to answer SMS with: a person must */
		return escalate(c, &cc, r.urgent, r.urgent ? r.flag :
		    "wrote by SMS, and no SMS provider is set to answer", 0);
	if (strcmp(cc.state, "booked") == 0 && (r.intent == MCR_I_WHEN ||
	    r.intent == MCR_I_SLOT))
		/* a second appointment, or a change: a person decides */
		return escalate(c, &cc, 0, "booked already, asks about another "
		    "time", 1);
	if (opted && r.intent != MCR_I_OPTIN) {
		/* nothing is sent to them; a person may answer */
		if (r.urgent)
			return escalate(c, &cc, 1, r.flag, 0);
		return 0;
	}
	switch (r.intent) {
	case MCR_I_URGENT:
		if (answer(c, &cc, MCR_K_URGENT, NULL, NULL, 0, "u") == -1)
			return -1;
		return escalate(c, &cc, 1, r.flag[0] ? r.flag : "urgent", 0);
	case MCR_I_OPTOUT:
		if (mcr_store_begin(c->st) == -1 ||
		    mcr_store_optout_add(c->st, cc.number, "reply",
		    mcr_now()) == -1 ||
		    exec1(c, "UPDATE slots SET held_by = NULL WHERE held_by = "
		    "?1 AND ?2 = ?2", "release", cc.id, 0, NULL) < 0 ||
		    move(c, &cc, "opted_out", NULL) == -1 ||
		    mcr_store_commit(c->st) == -1)
			return failed(c);
		b = rec(c, "optout", 0, &cc);
		emit(c);
		return answer(c, &cc, MCR_K_OPTOUT, NULL, NULL, 0, NULL);
	case MCR_I_OPTIN:
		if (mcr_store_begin(c->st) == -1 ||
		    mcr_store_optout_remove(c->st, cc.number) == -1 ||
		    move(c, &cc, "replied", NULL) == -1 ||
		    mcr_store_commit(c->st) == -1)
			return failed(c);
		b = rec(c, "optin", 0, &cc);
		emit(c);
		return answer(c, &cc, MCR_K_OPTIN, NULL, NULL, 0, NULL);
	case MCR_I_HELP:
		return answer(c, &cc, MCR_K_HELP, NULL, NULL, 0, NULL);
	case MCR_I_SLOT:
		if (r.choice >= 0 && r.choice < n)
			return book(c, &cc, &sl[r.choice]);
		return offer(c, &cc, NULL, NULL);
	case MCR_I_YES:
		if (strcmp(cc.state, "booked") == 0)
			return 0;	/* "ok thanks" after a booking */
		return offer(c, &cc, NULL, NULL);
	case MCR_I_WHEN:
		return offer(c, &cc, &r.when, NULL);
	case MCR_I_RESCHEDULE:
		if (cancel(c, &cc) == -1)
			return -1;
		return offer(c, &cc, r.when.days >= 0 || r.when.from >= 0 ||
		    r.when.at >= 0 || r.when.week ? &r.when : NULL, NULL);
	case MCR_I_CANCEL:
	case MCR_I_NO:
		if (r.intent == MCR_I_CANCEL && cancel(c, &cc) == -1)
			return -1;
		if (exec1(c, "UPDATE slots SET held_by = NULL WHERE held_by = "
		    "?1 AND booked_by IS NULL AND ?2 = ?2", "release", cc.id, 0,
		    NULL) < 0 || move1(c, &cc, "declined", NULL) == -1)
			return -1;
		return answer(c, &cc, MCR_K_DECLINED, NULL, NULL, 0, NULL);
	case MCR_I_CALLBACK:
		return escalate(c, &cc, 0, "asked to be called back", 1);
	case MCR_I_QUESTION:
		return escalate(c, &cc, 0, "a question for the practice", 1);
	case MCR_I_UNKNOWN:
		if (exec1(c, "UPDATE cases SET misses = misses + 1 WHERE id = "
		    "?1 AND ?2 = ?2", "count", cc.id, 0, NULL) < 0)
			return failed(c);
		if (cc.misses + 1 >= 2)
			return escalate(c, &cc, 0, "not understood twice", 1);
		return answer(c, &cc, MCR_K_CLARIFY, NULL, NULL, 0, NULL);
	}
	return 0;
}

/*
 * What a committed message did outside the store: its records, the
 * replies, the booking hooks, the staff told.  0, or -1 on a store error.
 */
static int
settle(struct mcr_conv *c)
{
	int r = 0;

	if (c->held.len > 0) {
		fwrite(c->held.s, 1, c->held.len, c->out);
		fflush(c->out);
	}
	mcr_buf_reset(&c->held);
	/*
	 * The patient's answer first: speed is what books.  What fails here
	 * stays pending in the store, ours, and is tried again before the
	 * next payload (recover).
	 */
	if (mcr_send_flush(c->snd) == -1)
		r = -1;
	for (size_t i = 0; i < c->nbk; i++)
		if (booked(c, c->bk[i]) == -1)
			r = -1;
	for (size_t i = 0; i < c->nesc; i++)
		if (tell(c, c->esc[i]) == -1)
			r = -1;
	c->nbk = c->nesc = 0;
	if (r == -1) {
		c->recovered = 0;
		return failed(c);
	}
	return 0;
}

/*
 * A patient's message, handled in one transaction: a process stopped at
 * any point either did nothing, and the message is handled again from the
 * inbox, or committed it all, its replies queued (mcr_send_orphans) and its
 * hooks and notifications pending (recover).
 */
static int
message(struct mcr_conv *c, const struct mcr_event *e)
{
	int r;

	if (mcr_store_begin(c->st) == -1)
		return failed(c);
	c->hold = 1;
	mcr_send_defer(c->snd, 1);
	if ((r = converse(c, e)) != -1 && mcr_store_commit(c->st) == -1)
		r = failed(c);
	c->hold = 0;
	mcr_send_defer(c->snd, 0);
	if (r == -1) {
		mcr_store_rollback(c->st);
		mcr_send_discard(c->snd);
		mcr_buf_reset(&c->held);
		c->nbk = c->nesc = 0;
		worse(c, mcr_store_busy(c->st) ? MCR_EXIT_TEMP : MCR_EXIT_PART);
		return -1;
	}
	return settle(c);
}

/*
 * What a stopped process committed and did not finish: booking hooks,
 * staff notifications and queued replies.  Once a run, before its first
 * payload.
 */
static int
recover(struct mcr_conv *c)
{
	static const char *const q[][2] = {
		{ "SELECT id, hook FROM bookings WHERE hook LIKE 'pending %'",
		  "UPDATE bookings SET hook = ?1 WHERE id = ?2 AND hook = ?3" },
		{ "SELECT id, notified FROM escalations WHERE notified LIKE "
		  "'pending %'", "UPDATE escalations SET notified = ?1 WHERE "
		  "id = ?2 AND notified = ?3" },
	};
	time_t now = time(NULL);

	if (c->recovered || c->dry)
		return 0;
	for (int k = 0; k < 2; k++) {
		struct { int64_t id; char was[48]; } *v = NULL;
		int64_t *mine = NULL;
		size_t n = 0, nm = 0;
		sqlite3_stmt *st;
		int r = 0;

		/* read first: the take-overs write */
		if (sqlite3_prepare_v2(c->st->db, q[k][0], -1, &st, NULL) !=
		    SQLITE_OK)
			return store_failed(c->st, "read what is pending");
		while ((r = sqlite3_step(st)) == SQLITE_ROW) {
			v = mcr_xrealloc(v, (n + 1) * sizeof(*v));
			v[n].id = sqlite3_column_int64(st, 0);
			mcr_strlcpy(v[n].was, (const char *)sqlite3_column_text(
			    st, 1), sizeof(v[n].was));
			n++;
		}
		sqlite3_finalize(st);
		r = r == SQLITE_DONE ? 0 : store_failed(c->st,
		    "read what is pending");
		for (size_t i = 0; i < n && r == 0; i++) {
			long pid = 0;
			long long t = 0;

			if (strcmp(v[i].was, c->pend) == 0) {
				later(&mine, &nm, v[i].id);
				continue;
			}
			/*
			 * Another live process finishes its own, unless it
			 * has had an hour (its number may be another's now).
			 */
			sscanf(v[i].was, "pending %ld %lld", &pid, &t);
			if (pid > 0 && pid != (long)getpid() && t > now - 3600 &&
			    (kill((pid_t)pid, 0) == 0 || errno == EPERM))
				continue;
			/* taken over, so that one process does it */
			if (sqlite3_prepare_v2(c->st->db, q[k][1], -1, &st,
			    NULL) != SQLITE_OK) {
				r = store_failed(c->st, "take over");
				break;
			}
			sqlite3_bind_text(st, 1, c->pend, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, v[i].id);
			sqlite3_bind_text(st, 3, v[i].was, -1, SQLITE_STATIC);
			if (sqlite3_step(st) != SQLITE_DONE)
				r = store_failed(c->st, "take over");
			else if (sqlite3_changes(c->st->db) == 1)
				later(&mine, &nm, v[i].id);
			sqlite3_finalize(st);
		}
		for (size_t i = 0; i < nm && r == 0; i++)
			r = k == 0 ? booked(c, mine[i]) : tell(c, mine[i]);
		free(v);
		free(mine);
		if (r == -1)
			return -1;
	}
	if (mcr_send_orphans(c->snd) == -1)
		return -1;
	c->recovered = 1;
	return 0;
}

static int
rank(const char *s)
{
	static const char *v[] = { "queued", "sending", "uncertain", "retry",
	    "sent", "delivered", "read", NULL };

	for (int i = 0; v[i] != NULL; i++)
		if (strcmp(s, v[i]) == 0)
			return i;
	return -1;
}

/* A delivery receipt: the message's status; uncertain ones settled. */
static int
receipt(struct mcr_conv *c, const struct mcr_event *e)
{
	sqlite3_stmt *st;
	struct mcr_buf key = { 0 }, *b;
	struct ccase cc;
	char cur[16], step[16];
	int64_t mid = 0;
	int dup, r, fallback = 0;

	memset(&cc, 0, sizeof(cc));
	if (mcr_store_begin(c->st) == -1)
		return failed(c);
	mcr_buf_printf(&key, "st:%s:%s:%s", e->provider, e->id, e->status);
	dup = seen(c, key.s);
	mcr_buf_free(&key);
	if (dup != 0) {
		mcr_store_commit(c->st);
		if (dup == 1)
			c->stats.dups++;
		return dup < 0 ? failed(c) : 0;
	}
	if (sqlite3_prepare_v2(c->st->db, "SELECT id, case_id, status, "
	    "to_number, step FROM messages WHERE id = ?1 OR (?1 = 0 AND "
	    "provider_id = ?2) LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return failed(c);
	sqlite3_bind_int64(st, 1, e->mcr_id);
	sqlite3_bind_text(st, 2, e->id, -1, SQLITE_STATIC);
	if ((r = sqlite3_step(st)) == SQLITE_ROW) {
		mid = sqlite3_column_int64(st, 0);
		cc.id = sqlite3_column_int64(st, 1);
		mcr_strlcpy(cur, (const char *)sqlite3_column_text(st, 2),
		    sizeof(cur));
		mcr_strlcpy(cc.number, (const char *)sqlite3_column_text(st,
		    3), sizeof(cc.number));
		mcr_strlcpy(step, (const char *)sqlite3_column_text(st, 4),
		    sizeof(step));
	}
	sqlite3_finalize(st);
	if (mid == 0) {
		mcr_store_commit(c->st);
		c->stats.unknown++;
		return 0;	/* not ours, or from before the store */
	}
	c->stats.receipts++;
	if (strcmp(e->status, "failed") == 0 ? rank(cur) < 5 :
	    rank(e->status) > rank(cur)) {
		if (sqlite3_prepare_v2(c->st->db, "UPDATE messages SET status "
		    "= ?1, provider_id = coalesce(provider_id, ?2), error = "
		    "coalesce(?3, error), updated_at = ?4, sent_at = CASE WHEN "
		    "?1 = 'failed' THEN sent_at ELSE coalesce(sent_at, ?4) END "
		    "WHERE id = ?5", -1,
		    &st, NULL) != SQLITE_OK)
			return failed(c);
		sqlite3_bind_text(st, 1, e->status, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, e->id, -1, SQLITE_STATIC);
		if (e->error[0])
			sqlite3_bind_text(st, 3, e->error, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)mcr_now());
		sqlite3_bind_int64(st, 5, mid);
		r = sqlite3_step(st);
		sqlite3_finalize(st);
		if (r != SQLITE_DONE)
			return failed(c);
		/* the first message's receipt moves its case */
		if (strcmp(step, "first") == 0 || strcmp(step, "sms") == 0) {
			int fail = strcmp(e->status, "failed") == 0;

			if (exec1(c, fail ? "UPDATE cases SET state = 'failed', "
			    "reason = ?3 WHERE id = ?1 AND (state = 'messaged' "
			    "OR state = 'uncertain') AND ?2 = ?2" : "UPDATE "
			    "cases SET state = 'messaged', reason = NULL WHERE "
			    "id = ?1 AND state = 'uncertain' AND ?2 = ?2",
			    "settle case", cc.id, 0, e->error[0] ? e->error :
			    e->status) == 1 && event(c, cc.id, fail ? "failed" :
			    "messaged", fail ? e->error : "a receipt settled "
			    "the uncertain send") == -1)
				return failed(c);
			fallback = fail && strcmp(step, "first") == 0 &&
			    mcr_prov_classify(e->provider, 400, e->code) ==
			    MCR_P_FALLBACK;
		}
	}
	if (mcr_store_commit(c->st) == -1)
		return failed(c);
	b = rec(c, "status", mid, &cc);
	mcr_json_kstr(b, "status", e->status);
	mcr_json_kstr(b, "was", cur);
	mcr_json_kstr(b, "provider_id", e->id[0] ? e->id : NULL);
	mcr_json_kstr(b, "error", e->error[0] ? e->error : NULL);
	emit(c);
	if (fallback && mcr_send_fallback(c->snd, cc.id) == -1)
		return failed(c);
	return 0;
}

int
mcr_conv_payload(struct mcr_conv *c, const char *kind, const char *body,
    size_t len, const char *where)
{
	struct mcr_events ev;
	char why[160];
	int r = 0;

	if (!c->recovered && recover(c) == -1)
		return -2;

	if ((strcmp(kind, "twilio") == 0 ? mcr_events_twilio(body, len, &ev,
	    why, sizeof(why)) : mcr_events_meta(body, len, &ev, why,
	    sizeof(why))) == -1) {
		mcr_warn("%s: %s", where, why);
		c->stats.bad++;
		worse(c, MCR_EXIT_PART);
		return -1;
	}
	for (int i = 0; i < ev.n && r == 0; i++)
		r = ev.v[i].type == MCR_EV_MESSAGE ? message(c, &ev.v[i]) :
		    receipt(c, &ev.v[i]);
	mcr_events_free(&ev);
	return r == -1 ? -2 : 0;
}

/*
 * Whether the payload of inbox row id, which the store just refused, is
 * to be set aside: refused three times in a row for what it holds (a
 * constraint, a value too big), not for the store's state (busy, full, an
 * I/O error), it would hold up all the ones behind it.  It stays in the
 * inbox, done = 2, for staff.
 */
static int
poison(struct mcr_conv *c, int64_t id, const char *where)
{
	int e = c->st->err & 0xff;

	if (e != SQLITE_CONSTRAINT && e != SQLITE_TOOBIG &&
	    e != SQLITE_MISMATCH && e != SQLITE_RANGE) {
		c->badid = 0;
		return 0;
	}
	if (c->badid != id) {
		c->badid = id;
		c->badn = 0;
	}
	if (++c->badn < 3)
		return 0;
	if (exec1(c, "UPDATE inbox SET done = 2 WHERE id = ?1 AND ?2 = ?2",
	    "set aside", id, 0, NULL) < 0)
		return 0;
	mcr_warn("%s: set aside after %d failures (%s): it stays in the inbox "
	    "with done = 2", where, c->badn, sqlite3_errstr(c->st->err));
	worse(c, MCR_EXIT_PART);
	c->badid = 0;
	return 1;
}

int
mcr_conv_inbox(struct mcr_conv *c)
{
	sqlite3_stmt *st;
	int n = 0;

	if (!c->recovered && recover(c) == -1)
		return -1;
	for (;;) {
		int64_t id;
		char *kind, *body, where[32];
		int r;

		if (sqlite3_prepare_v2(c->st->db, "SELECT id, kind, payload "
		    "FROM inbox WHERE done = 0 ORDER BY id LIMIT 1", -1, &st,
		    NULL) != SQLITE_OK)
			return store_failed(c->st, "read inbox");
		if ((r = sqlite3_step(st)) != SQLITE_ROW) {
			sqlite3_finalize(st);
			if (r != SQLITE_DONE)
				return store_failed(c->st, "read inbox");
			return n;
		}
		id = sqlite3_column_int64(st, 0);
		kind = mcr_xstrdup((const char *)sqlite3_column_text(st, 1));
		body = mcr_xstrdup((const char *)sqlite3_column_text(st, 2));
		sqlite3_finalize(st);
		snprintf(where, sizeof(where), "inbox:%lld", (long long)id);
		c->st->err = 0;
		r = mcr_conv_payload(c, kind, body, strlen(body), where);
		free(kind);
		free(body);
		if (r == -2) {
			if (!poison(c, id, where))
				return -1;	/* the store: try again later */
			continue;
		}
		if (exec1(c, "UPDATE inbox SET done = 1 WHERE id = ?1 AND "
		    "?2 = ?2", "mark inbox", id, 0, NULL) < 0)
			return -1;
		n++;
	}
}
